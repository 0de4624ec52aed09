/**
 * The package version, from the bundle when running as one file, else from
 * package.json. `--version` also names the Node it runs on: on a SmartOS
 * global zone that Node is whatever the operator installed (docs/node-on-smartos.md).
 */
import { readFileSync } from 'node:fs';
import { EMBEDDED } from './embedded.js';
import { packageRoot } from './paths.js';

export function packageVersion(): string {
  if (EMBEDDED) return EMBEDDED.version;
  const pkg = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

/** What `esdc-overlay --version` prints, e.g. "esdc-overlay 0.1.0 (node v18.20.4)". */
export function versionLine(): string {
  return `esdc-overlay ${packageVersion()} (node ${process.version})`;
}

/** The line `versionLine` printed, parsed back (what `verify` reads from a node); null if it is not one. */
export function parseVersionLine(text: string): { version: string; node: string } | null {
  const m = /^esdc-overlay (\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?) \(node (v\d+\.\d+\.\d+)\)$/.exec(text.trim());
  return m ? { version: m[1]!, node: m[2]! } : null;
}
