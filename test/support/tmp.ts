/** Temporary directories that remove themselves after the test. */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { EXAMPLE } from './paths.js';

export async function tempDir(prefix = 'esdc-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A private copy of examples/two-sites.yaml to mutate. */
export async function exampleCopy(name = 'state.yaml'): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, name);
  await copyFile(EXAMPLE, path);
  return path;
}
