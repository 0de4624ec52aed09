/**
 * How the tool reaches a node's files and commands. The executor (src/apply)
 * works only through this interface, so the same plan/apply/verify code runs
 * over SSH (head node → compute nodes), locally (the agent), and under a
 * root prefix (simulated nodes that share one machine's filesystem).
 *
 * Every operation takes a timeout; paths are absolute paths on the node.
 */
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
}

export interface StageOptions {
  mode: number;
}

export interface Transport {
  /** The node, for messages. */
  readonly node: string;
  /** Where it is reached, e.g. `root@10.0.0.1:22`, for messages. */
  readonly target: string;
  /** The file's bytes and mode, or undefined when it does not exist. */
  readFile(path: string, timeoutMs: number): Promise<FileContent | undefined>;
  /**
   * Writes `content` to `stagedPath(path)` with its final mode, creating
   * missing parent directories (0755). The target is untouched. Owners are
   * set by the executor with the node's own `chown` (src/apply/execute.ts).
   */
  stage(path: string, content: string | Buffer, opts: StageOptions, timeoutMs: number): Promise<void>;
  /** Renames a staged file over its target, atomically. */
  commit(path: string, timeoutMs: number): Promise<void>;
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

/** Where a file is staged before commit (docs/operations.md#apply). */
export function stagedPath(path: string): string {
  return `${path}.esdc-new`;
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

