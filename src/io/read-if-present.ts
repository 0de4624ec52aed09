/**
 * A local text file's content, or undefined when it does not exist; any
 * other error (permissions, a directory) is thrown. For status files that
 * are absent until their writer first runs.
 */
import { readFile } from 'node:fs/promises';

export async function readTextIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
