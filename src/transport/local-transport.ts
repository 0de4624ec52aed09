/**
 * The local transport: the node is this machine (the agent converging its
 * own node). Files through node:fs with fsync and rename; commands through
 * execFile (argv, no shell).
 */
import { execFile } from 'node:child_process';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../io/atomic-file.js';
import { readFileWithMode } from '../io/read-with-mode.js';
import {
  stagedPath,
  TransportError,
  withTimeout,
  type ExecResult,
  type FileContent,
  type StageOptions,
  type Transport,
} from './transport.js';

export class LocalTransport implements Transport {
  readonly node: string;
  readonly target = 'local';

  constructor(node: string) {
    this.node = node;
  }

  private wrap(what: string, err: unknown): TransportError {
    return new TransportError(this.node, `${what}: ${(err as Error).message}`, { cause: err });
  }

  async readFile(path: string, timeoutMs: number): Promise<FileContent | undefined> {
    try {
      return await withTimeout(this.node, `reading ${path}`, timeoutMs, readFileWithMode(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap(`reading ${path}`, err);
    }
  }

  async stage(path: string, content: string | Buffer, opts: StageOptions, timeoutMs: number): Promise<void> {
    const staged = stagedPath(path);
    const work = async (): Promise<void> => {
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      // Never reuse a leftover staged file: its mode may be wider than a secret's.
      await unlink(staged).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      const fh = await open(staged, 'wx', opts.mode);
      try {
        await fh.writeFile(content);
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
      await withTimeout(this.node, `renaming ${stagedPath(path)}`, timeoutMs, (async () => {
        await rename(stagedPath(path), path);
        await fsyncDir(dirname(path));
      })());
    } catch (err) {
      throw err instanceof TransportError ? err : this.wrap(`renaming ${stagedPath(path)} to ${path}`, err);
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

