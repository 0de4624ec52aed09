/** Paths tests share: the repository root, the built CLI, fixtures. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The single-file bundle (npm run build:bundle). */
export const BUNDLE = join(REPO, 'dist', 'esdc-overlay.mjs');
/**
 * The CLI the process-level tests run: dist/ by default, the bundle when the
 * "bundle" vitest project sets ESDC_OVERLAY_CLI_ENTRY (vitest.config.ts).
 */
export const CLI = process.env.ESDC_OVERLAY_CLI_ENTRY || join(REPO, 'dist', 'esdc-overlay.js');
export const FIXTURES = join(REPO, 'test', 'fixtures');
export const EXAMPLE = join(REPO, 'examples', 'two-sites.yaml');
