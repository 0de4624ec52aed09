/**
 * The local transport: the node is this machine (the agent converging its
 * own node). Files through node:fs with fsync and rename; commands through
 * execFile (argv, no shell).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isChunks, type ByteChunks, type StageContent } from '../byte-chunks.js';
import { fsyncDir } from '../io/atomic-file.js';
import {
  checkReadable,
  MAX_READ_BYTES,
  newRunId,
  stagedPath,
  TransportError,
  withTimeout,
  type ExecResult,
  type FileContent,
  type FileInfo,
  type ReadOptions,
  type StageOptions,
  type Transport,
} from './transport.js';

/** Most buffers one writev(2) takes (IOV_MAX on Linux and illumos). */
const WRITEV_MAX = 1024;

/**
 * Writes the chunks in order from the file's offset, without joining them
 * (src/byte-chunks.ts): writev, IOV_MAX buffers a call, again from where a
 * short write stopped.
 */
async function writeChunks(fh: FileHandle, chunks: ByteChunks): Promise<void> {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    const batch = rest.slice(0, WRITEV_MAX);
    let { bytesWritten } = await fh.writev(batch);
    if (bytesWritten <= 0) throw new Error('writev wrote nothing');
    let i = 0;
    while (i < batch.length && bytesWritten >= batch[i]!.length) bytesWritten -= batch[i++]!.length;
    rest = i < batch.length ? [batch[i]!.subarray(bytesWritten), ...rest.slice(i + 1)] : rest.slice(batch.length);
  }
}

export class LocalTransport implements Transport {
  readonly node: string;
  readonly target = 'local';
  readonly runId: string;

  constructor(node: string, runId: string = newRunId()) {
    this.node = node;
    this.runId = runId;
  }

  private wrap(what: string, err: unknown): TransportError {
    return new TransportError(this.node, `${what}: ${(err as Error).message}`, { cause: err });
  }

  async readFile(path: string, timeoutMs: number, opts: ReadOptions = {}): Promise<FileContent | undefined> {
    const maxBytes = opts.maxBytes ?? MAX_READ_BYTES;
    const work = async (): Promise<FileContent> => {
      checkReadable(this.node, path, await lstat(path), maxBytes);
      // O_NONBLOCK: a FIFO swapped in after the lstat fails the fstat check below instead of blocking the open.
      const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const st = await fh.stat();
        checkReadable(this.node, path, st, maxBytes);
        // Up to the size fstat gave (checked against the limit), or end of file if it shrank meanwhile.
        const buf = Buffer.allocUnsafe(Math.min(st.size, opts.prefixBytes ?? st.size));
        let total = 0;
        while (total < buf.length) {
          const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
          if (bytesRead === 0) break;
          total += bytesRead;
        }
        return { data: buf.subarray(0, total), mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      } finally {
        await fh.close();
      }
    };
    try {
      return await withTimeout(this.node, `reading ${path}`, timeoutMs, work());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err instanceof TransportError ? err : this.wrap(`reading ${path}`, err);
    }
  }

  async stat(path: string, timeoutMs: number): Promise<FileInfo | undefined> {
    try {
      const st = await withTimeout(this.node, `stat ${path}`, timeoutMs, lstat(path));
      return { mode: st.mode & 0o7777, size: st.size, isFile: st.isFile() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err instanceof TransportError ? err : this.wrap(`stat ${path}`, err);
    }
  }

  async stage(path: string, content: StageContent, opts: StageOptions, timeoutMs: number): Promise<void> {
    const staged = stagedPath(path, this.runId);
    const work = async (): Promise<void> => {
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      // Never reuse a leftover staged file: its mode may be wider than a secret's.
      await unlink(staged).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      const fh = await open(staged, 'wx', opts.mode);
      try {
        if (isChunks(content)) await writeChunks(fh, content);
        else await fh.writeFile(content);
        await fh.chmod(opts.mode);
        await fh.sync();
      } finally {
        await fh.close();
      }
    };
    try {
      await withTimeout(this.node, `writing ${staged}`, timeoutMs, work());
    } catch (err) {
      throw err instanceof TransportError ? err : this.wrap(`writing ${staged}`, err);
    }
  }

  async commit(path: string, timeoutMs: number): Promise<void> {
    try {
      await withTimeout(this.node, `renaming ${stagedPath(path, this.runId)}`, timeoutMs, (async () => {
        await rename(stagedPath(path, this.runId), path);
        await fsyncDir(dirname(path));
      })());
    } catch (err) {
      throw err instanceof TransportError ? err : this.wrap(`renaming ${stagedPath(path, this.runId)} to ${path}`, err);
    }
  }

  async link(existing: string, path: string, timeoutMs: number): Promise<boolean> {
    try {
      await withTimeout(this.node, `linking ${path}`, timeoutMs, (async () => {
        await link(existing, path);
        await fsyncDir(dirname(path));
      })());
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err instanceof TransportError ? err : this.wrap(`linking ${existing} to ${path}`, err);
    }
  }

  async rename(from: string, to: string, timeoutMs: number): Promise<boolean> {
    try {
      await withTimeout(this.node, `renaming ${from}`, timeoutMs, rename(from, to));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err instanceof TransportError ? err : this.wrap(`renaming ${from} to ${to}`, err);
    }
  }

  async list(dir: string, timeoutMs: number): Promise<string[] | undefined> {
    try {
      return await withTimeout(this.node, `listing ${dir}`, timeoutMs, readdir(dir));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err instanceof TransportError ? err : this.wrap(`listing ${dir}`, err);
    }
  }

  async remove(path: string, timeoutMs: number): Promise<void> {
    try {
      await withTimeout(this.node, `removing ${path}`, timeoutMs, unlink(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof TransportError ? err : this.wrap(`removing ${path}`, err);
    }
  }

  exec(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new TransportError(this.node, 'empty command');
    return new Promise((resolve) => {
      execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: unknown; killed?: boolean }) | null;
        const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
        const why = e && typeof e.code === 'string' ? `${e.message}\n` : e?.killed ? `timed out after ${timeoutMs} ms\n` : '';
        resolve({ code, stdout, stderr: `${stderr}${why}` });
      });
    });
  }

  async close(): Promise<void> {}
}

