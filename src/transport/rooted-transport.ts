/**
 * A transport whose node paths live under a directory prefix: a simulated
 * node (test/harness) keeps its "/" in `<root>/` because every simulated node
 * shares one machine's filesystem. Wraps any transport, so the SSH transport
 * itself is the production one, unchanged; only the test harness's
 * ESDC_OVERLAY_SIM_ROOTS turns this on (sim-roots.ts), never the state.
 *
 * Commands: an absolute argv[0] is mapped under the root, and a bare name is
 * looked up first in the root's /usr/sbin, /usr/bin, /sbin (through `env
 * PATH=...`), so `sysinfo` or `svcadm` reach the node's simulated commands.
 */
import { posix } from 'node:path';
import type { StageContent } from '../byte-chunks.js';
import { TransportError, type ExecResult, type FileContent, type FileInfo, type LineStream, type ReadOptions, type StageOptions, type StreamOptions, type Transport } from './transport.js';

export class RootedTransport implements Transport {
  readonly node: string;
  readonly target: string;
  readonly runId: string;

  constructor(private readonly inner: Transport, readonly root: string) {
    this.node = inner.node;
    this.runId = inner.runId;
    this.target = `${inner.target} (root ${root})`;
  }

  /** `/usbkey/config` → `<root>/usbkey/config`. */
  map(path: string): string {
    return posix.join(this.root, posix.normalize(`/${path}`));
  }

  readFile(path: string, timeoutMs: number, opts?: ReadOptions): Promise<FileContent | undefined> {
    return this.inner.readFile(this.map(path), timeoutMs, opts);
  }

  stat(path: string, timeoutMs: number): Promise<FileInfo | undefined> {
    return this.inner.stat(this.map(path), timeoutMs);
  }

  stage(path: string, content: StageContent, opts: StageOptions, timeoutMs: number): Promise<void> {
    return this.inner.stage(this.map(path), content, opts, timeoutMs);
  }

  commit(path: string, timeoutMs: number): Promise<void> {
    return this.inner.commit(this.map(path), timeoutMs);
  }

  link(existing: string, path: string, timeoutMs: number): Promise<boolean> {
    return this.inner.link(this.map(existing), this.map(path), timeoutMs);
  }

  rename(from: string, to: string, timeoutMs: number): Promise<boolean> {
    return this.inner.rename(this.map(from), this.map(to), timeoutMs);
  }

  list(dir: string, timeoutMs: number): Promise<string[] | undefined> {
    return this.inner.list(this.map(dir), timeoutMs);
  }

  remove(path: string, timeoutMs: number): Promise<void> {
    return this.inner.remove(this.map(path), timeoutMs);
  }

  private argv(argv: readonly string[]): string[] {
    const [cmd, ...args] = argv;
    const path = ['/usr/sbin', '/usr/bin', '/sbin'].map((d) => this.map(d)).join(':');
    const mapped = cmd !== undefined && cmd.startsWith('/') ? this.map(cmd) : cmd;
    return ['env', `PATH=${path}:/usr/bin:/bin`, `ESDC_SIM_ROOT=${this.root}`, ...(mapped === undefined ? [] : [mapped]), ...args];
  }

  exec(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    return this.inner.exec(this.argv(argv), timeoutMs);
  }

  stream(argv: readonly string[], onLine: (line: string) => void, opts: StreamOptions): Promise<LineStream> {
    if (!this.inner.stream) return Promise.reject(new TransportError(this.node, 'this transport cannot stream a command', { code: 'StreamUnsupported' }));
    return this.inner.stream(this.argv(argv), onLine, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
