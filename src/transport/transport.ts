/**
 * How the tool reaches a node's files and commands. The executor (src/apply)
 * works only through this interface, so the same plan/apply/verify code runs
 * over SSH (head node → compute nodes), locally (the agent), and under a
 * root prefix (simulated nodes that share one machine's filesystem).
 *
 * Every operation takes a timeout; paths are absolute paths on the node.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { StageContent } from '../byte-chunks.js';
import { EsdcError } from '../errors.js';

export interface ExecResult {
  /** Exit status; null when the command died of a signal or the channel closed early. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A file's bytes with the mode they were read under (one open, so the two agree). */
export interface FileContent {
  data: Buffer;
  /** Permission bits only (& 0o7777). */
  mode: number;
  /** Last modification, by the node's clock, in ms (second resolution over SFTP). */
  mtimeMs: number;
}

/** Largest file read from a node by default (64 MiB): our biggest, an ARP table of a large rule, is well below. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

export interface ReadOptions {
  /** Refuse a file larger than this many bytes (default MAX_READ_BYTES). */
  maxBytes?: number;
  /**
   * Read only the first `prefixBytes` bytes (a file of any size is then
   * accepted up to maxBytes): enough to tell a bundle's version without
   * reading its files (src/apply/read-actual.ts).
   */
  prefixBytes?: number;
}

/** What lstat says of a path: enough to trust a file whose hash matched without reading it. */
export interface FileInfo {
  /** Permission bits only (& 0o7777). */
  mode: number;
  size: number;
  /** A regular file (not a link, FIFO, directory...). */
  isFile: boolean;
}

export interface StageOptions {
  mode: number;
}

export interface Transport {
  /** The node, for messages. */
  readonly node: string;
  /** Where it is reached, e.g. `root@10.0.0.1:22`, for messages. */
  readonly target: string;
  /** This run's id on the node: in its staged names (stagedPath) and its node lock. */
  readonly runId: string;
  /**
   * The file's bytes and mode, or undefined when it does not exist. Only a
   * regular file is read (a FIFO would block the reader for good) and only
   * up to `maxBytes`: anything else is a TransportError naming node, path
   * and what was found, before any byte is read.
   */
  readFile(path: string, timeoutMs: number, opts?: ReadOptions): Promise<FileContent | undefined>;
  /** lstat: mode, size and kind of what is at `path` (not followed if a link), or undefined when nothing is. */
  stat(path: string, timeoutMs: number): Promise<FileInfo | undefined>;
  /**
   * Writes `content` to `stagedPath(path, runId)` with its final mode, creating
   * missing parent directories (0755); chunks are written one after another,
   * never joined into one buffer (src/byte-chunks.ts). The target is
   * untouched. Owners are set by the executor with the node's own `chown`
   * (src/apply/execute.ts).
   */
  stage(path: string, content: StageContent, opts: StageOptions, timeoutMs: number): Promise<void>;
  /** Renames a staged file over its target, atomically. */
  commit(path: string, timeoutMs: number): Promise<void>;
  /**
   * Makes `path` a second name of the file at `existing` (a hard link), only
   * if nothing is at `path`: false when something is. Atomic, so a file
   * written whole under another name appears at `path` whole or not at all.
   */
  link(existing: string, path: string, timeoutMs: number): Promise<boolean>;
  /** Renames `from` to `to`, replacing `to` atomically; false when `from` does not exist. */
  rename(from: string, to: string, timeoutMs: number): Promise<boolean>;
  /** The names in a directory (no `.` or `..`), or undefined when it does not exist. */
  list(dir: string, timeoutMs: number): Promise<string[] | undefined>;
  /** Removes a file (staged or not); a missing file is not an error. */
  remove(path: string, timeoutMs: number): Promise<void>;
  /** Runs argv on the node (no shell unless the transport needs one; then every word is quoted). */
  exec(argv: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /**
   * Runs a long-lived command (`vmadm events -jr`) and hands over its stdout
   * line by line. Opening the channel is bounded by `openTimeoutMs`; the stream
   * itself may stay idle forever (a dead peer is found by SSH keepalives).
   * Only transports that keep a connection implement it (the daemon's).
   */
  stream?(argv: readonly string[], onLine: (line: string) => void, opts: StreamOptions): Promise<LineStream>;
  close(): Promise<void>;
}

/** A fresh run id: 12 hex digits. */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Where a file is staged before commit (docs/operations.md#apply): a dotfile beside the target, named
 * for the run. A dotfile, because the platform concatenates by glob: Danube's
 * 010-ipf-restore.sh cats `ls -1 ipf.d/ipf.conf*` into /etc/ipf/ipf.conf
 * (erigones/esdc-factory ansible/files/archives/opt-custom/etc/rc-pre-network.d/010-ipf-restore.sh:45,54),
 * and a glob's `*` never matches a leading dot, so a staged leftover is never
 * loaded at boot. Named for the run, so two writers (apply and the node's
 * agent) never take each other's staged files for their own.
 */
export function stagedPath(path: string, runId: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.esdc-new-${runId}`);
}

const STAGED_NAME = /^\.(.+)\.esdc-new-[0-9a-f]{12}$/;
/** How versions before the run-named dotfile staged: `<name>.esdc-new`. */
const LEGACY_STAGED_NAME = /^(.+)\.esdc-new$/;

/** The target a staged file's name stands for (this or an earlier version's naming), or undefined for any other name. */
export function stagedTarget(path: string): string | undefined {
  const base = posix.basename(path);
  const m = STAGED_NAME.exec(base) ?? LEGACY_STAGED_NAME.exec(base);
  return m ? posix.join(posix.dirname(path), m[1]!) : undefined;
}

/** Refuses what readFile must not read: not a regular file, or larger than the limit. */
export function checkReadable(node: string, path: string, st: { isFile(): boolean; isFIFO?(): boolean; isDirectory?(): boolean; isSymbolicLink?(): boolean; size: number }, maxBytes: number): void {
  if (!st.isFile()) {
    const kind = st.isFIFO?.() ? 'a FIFO' : st.isDirectory?.() ? 'a directory' : st.isSymbolicLink?.() ? 'a symbolic link' : 'not a regular file';
    throw new TransportError(node, `${path} is ${kind}; only regular files are read (nothing was read)`, { code: 'NotRegularFile' });
  }
  if (st.size > maxBytes) {
    throw new TransportError(node, `${path} is ${st.size} bytes, above the limit of ${maxBytes} bytes for a file read from a node (nothing was read)`, {
      code: 'FileTooLarge',
    });
  }
}

export interface StreamOptions {
  openTimeoutMs: number;
  /** A longer line is handed over cut at this length + 1, so its parser can refuse it. */
  maxLineLength: number;
}

export interface StreamEnd {
  /** `exit`: the command ended; `cancelled`: by cancel(); `closed`: the connection went. */
  reason: 'exit' | 'cancelled' | 'closed';
  code: number | null;
  /** The last few KiB of stderr, for messages. */
  stderr: string;
}

export interface LineStream {
  /** Settles once, when the stream ends for any reason; never rejects. */
  done: Promise<StreamEnd>;
  /** Closes the channel; the remote command sees its stdin end. */
  cancel(): void;
}

/** Splits chunks into lines (\n, a trailing \r dropped); an overlong line is cut at max + 1 characters. */
export class LineSplitter {
  private buf = '';
  private skipping = false;
  constructor(private readonly onLine: (line: string) => void, private readonly max: number) {}

  push(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      this.take(chunk.slice(start, nl), true);
      start = nl + 1;
    }
    this.take(chunk.slice(start), false);
  }

  private take(part: string, ends: boolean): void {
    if (!this.skipping) {
      this.buf += part;
      if (this.buf.length > this.max) {
        this.onLine(this.buf.slice(0, this.max + 1));
        this.buf = '';
        this.skipping = !ends;
        return;
      }
    }
    if (ends) {
      if (!this.skipping) this.onLine(this.buf.endsWith('\r') ? this.buf.slice(0, -1) : this.buf);
      this.buf = '';
      this.skipping = false;
    }
  }
}

/** A node could not be reached, or an operation on it failed or timed out. */
export class TransportError extends EsdcError {
  readonly node: string;
  constructor(node: string, message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(`${node}: ${message}`, { code: opts.code ?? 'TransportFailed', cause: opts.cause });
    this.node = node;
  }
}

/** The host key a node presented is not the one known_hosts has, or none is known. */
export class HostKeyError extends TransportError {}

/** Runs `op` with a deadline; `onTimeout` may abort the underlying work. */
export function withTimeout<T>(
  node: string,
  what: string,
  timeoutMs: number,
  op: Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new TransportError(node, `${what} timed out after ${timeoutMs} ms`, { code: 'Timeout' }));
    }, timeoutMs);
  });
  return Promise.race([op, deadline]).finally(() => clearTimeout(timer));
}

/** Throws unless a command exited 0; the message names the command and its stderr. */
export function checkExec(node: string, argv: readonly string[], r: ExecResult): ExecResult {
  if (r.code === 0) return r;
  const err = r.stderr.trim().split('\n').slice(-3).join(' / ');
  throw new TransportError(
    node,
    `${argv.join(' ')} failed (${r.code === null ? 'no exit status' : `exit ${r.code}`})${err ? `: ${err}` : ''}`,
    { code: 'CommandFailed' },
  );
}

