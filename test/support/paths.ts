/** Paths tests share: the repository root, the built CLI, fixtures. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO, 'dist', 'esdc-overlay.js');
export const FIXTURES = join(REPO, 'test', 'fixtures');
export const EXAMPLE = join(REPO, 'examples', 'two-sites.yaml');
