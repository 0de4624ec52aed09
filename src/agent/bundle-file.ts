/**
 * Where the one-file bundle that `agent deploy` copies to the nodes comes
 * from: the running program itself when it is the bundle, else
 * dist/esdc-overlay.mjs of this checkout (npm run build:bundle), or a file
 * named with --bundle.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMBEDDED } from '../embedded.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';

export function bundlePath(explicit?: string): string {
  if (explicit !== undefined) return explicit;
  // In the bundle every module is one file: this module's URL is the bundle's.
  if (EMBEDDED) return fileURLToPath(import.meta.url);
  return join(packageRoot(), 'dist', 'esdc-overlay.mjs');
}

/** The bundle's text; refuses a file that is missing or is not a bundle of this tool. */
export async function readBundle(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`bundle ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): build it with npm run build:bundle, or name it with --bundle FILE`);
  }
  if (!text.startsWith('#!/usr/bin/env node\n') || !text.includes('esdc-overlay')) {
    throw new UsageError(`${path} is not an esdc-overlay bundle (npm run build:bundle makes one)`);
  }
  return text;
}
