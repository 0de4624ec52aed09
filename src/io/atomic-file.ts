/**
 * Whole-or-nothing file replacement: write a temporary file beside the
 * target, fsync it, rename it over the target, fsync the directory. A crash
 * at any point leaves either the old file or the new one, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type FileContent = string | Uint8Array | Iterable<string> | AsyncIterable<string>;

export interface AtomicWriteOptions {
  /** Permission bits of the new file (applied after the umask, so exact). */
  mode: number;
  /** Create missing parent directories with this mode. */
  mkdirMode?: number;
}

/** Name of the temporary file for `target`; hidden, unique per process and call. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `content` to a new temporary file with `mode`, fsynced. Returns its path. */
export async function writeTempFile(target: string, content: FileContent, opts: AtomicWriteOptions): Promise<string> {
  if (opts.mkdirMode !== undefined) await mkdir(dirname(target), { recursive: true, mode: opts.mkdirMode });
  const tmp = tempPathFor(target);
  const fh = await open(tmp, 'wx', opts.mode);
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      await fh.writeFile(content);
    } else {
      // Batch small chunks: a table is produced as many short strings.
      let buf = '';
      for await (const chunk of content as AsyncIterable<string>) {
        buf += chunk;
        if (buf.length >= 1 << 16) {
          await fh.write(buf);
          buf = '';
        }
      }
      if (buf !== '') await fh.write(buf);
    }
    await fh.chmod(opts.mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return tmp;
}

/** Renames a finished temporary file over its target and makes the rename durable. */
export async function commitTempFile(tmp: string, target: string): Promise<void> {
  await rename(tmp, target);
  await fsyncDir(dirname(target));
}

export async function writeFileAtomic(target: string, content: FileContent, opts: AtomicWriteOptions): Promise<void> {
  const tmp = await writeTempFile(target, content, opts);
  try {
    await commitTempFile(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export { chmod };
