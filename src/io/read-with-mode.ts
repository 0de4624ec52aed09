/**
 * A local file's bytes with its permission bits, from one open. Where a
 * mode guards a secret (key secret, state with keys), the mode checked must
 * be that of the bytes read: a stat and a read by path could see two files.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
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

/** readFileWithMode for the few callers that must stay synchronous (option parsing); also one open. */
export function readFileWithModeSync(path: string): FileWithMode {
  const fd = openSync(path, 'r');
  try {
    return { data: readFileSync(fd), mode: fstatSync(fd).mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a file that holds a secret (keys, a key secret, credentials) can be
 * read by others than its owner: any group or other permission bit, as ssh
 * judges a private key. Callers refuse such a file, naming it and the mode.
 */
export function secretExposed(mode: number): boolean {
  return (mode & 0o077) !== 0;
}

/** Permission bits as people write them for chmod: `0644`. */
export function octalMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}
