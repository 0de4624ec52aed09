/**
 * The shape of a small generated installation (bench/generate-installation.ts)
 * for property tests: the readers' and caches' tests draw states from it.
 */
import fc from 'fast-check';

export const installationSpec = fc.record({
  nodes: fc.integer({ min: 1, max: 12 }),
  pdcs: fc.integer({ min: 1, max: 4 }),
  rules: fc.integer({ min: 1, max: 4 }),
  nics: fc.integer({ min: 0, max: 60 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  adminoverlay: fc.boolean(),
});
