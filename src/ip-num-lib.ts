/**
 * The `ip-num` package (CommonJS, some 20 files its index re-exports),
 * loaded with a plain require. Imported as an ES module, Node scans the
 * source of each of those files for its export names before running them:
 * 30-60 ms of CPU at every start that reads a state, against ~11 ms for the
 * require (bench/RESULTS.md, "No-op apply: the CLI's per-node work").
 * Its own module so the bundle build can swap the require for one esbuild
 * follows (scripts/build-bundle.mjs), as for src/yaml-lib.ts.
 */
import { createRequire } from 'node:module';

const lib = createRequire(import.meta.url)('ip-num') as typeof import('ip-num');

export const { IPv4CidrRange, IPv4Mask, RangedSet, Validator } = lib;
