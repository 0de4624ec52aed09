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
/** The node that runs it: this one, or the oldest supported (ESDC_OVERLAY_CLI_NODE, the "bundle-old-node" project). */
export const CLI_NODE = process.env.ESDC_OVERLAY_CLI_NODE || process.execPath;
/** An older Node to run the bundle under (scripts/old-node.sh), when this machine has one. */
export const OLD_NODE = process.env.ESDC_OVERLAY_OLD_NODE || undefined;
export const FIXTURES = join(REPO, 'test', 'fixtures');
export const EXAMPLE = join(REPO, 'examples', 'two-sites.yaml');
