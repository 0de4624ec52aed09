/**
 * Where the package's own files are (templates/, package.json), found by
 * walking up from this module: the same code runs from src/ under vitest and
 * from dist/src/ when built, at different depths.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('esdc-overlay: cannot find the package root (package.json beside templates/)');
    dir = up;
  }
}

export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}
