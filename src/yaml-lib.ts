/**
 * The `yaml` package (a CommonJS build of some 80 files), loaded
 * synchronously and only when a text needs it: a YAML document to keep or
 * save, or a state that is neither JSON nor plain YAML. A JSON state and a
 * plain-YAML one are read without it, so a no-op apply no longer compiles
 * it at start (bench/RESULTS.md, "Issue 20, fourth pass"). Its own module so
 * the bundle build can swap the require for one esbuild follows
 * (scripts/build-bundle.mjs), as for src/log-pretty.ts.
 */
import { createRequire } from 'node:module';

export type YamlLib = typeof import('yaml');

let lib: YamlLib | undefined;

export function yamlLib(): YamlLib {
  return (lib ??= createRequire(import.meta.url)('yaml') as YamlLib);
}
