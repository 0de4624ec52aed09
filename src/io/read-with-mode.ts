/**
 * A local file's bytes with its permission bits, from one open. Where a
 * mode guards a secret (key secret, state with keys), the mode checked must
 * be that of the bytes read: a stat and a read by path could see two files.
 */
import { open } from 'node:fs/promises';

export interface FileWithMode {
  data: Buffer;
  /** Permission bits only (& 0o7777). */
  mode: number;
}

/** Rejects with the fs error (`code` ENOENT, EACCES, EISDIR...) when the file cannot be read. */
export async function readFileWithMode(path: string): Promise<FileWithMode> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    return { data: await fh.readFile(), mode: st.mode & 0o7777 };
  } finally {
    await fh.close();
  }
}
