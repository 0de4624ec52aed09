/**
 * A transport that logs each remote operation: at debug the node, the
 * operation (the command or the path) and how long it took; at trace also
 * the bytes moved. Never content: what is staged may be a key file, so only
 * its size is logged, and a command line is logged as given (no key ever
 * travels in argv; keys are written as files).
 */
import { contentBytes, type StageContent } from '../byte-chunks.js';
import type { Logger } from '../log.js';
import { redactText } from '../redact.js';
import type { ExecResult, FileContent, ReadOptions, StageOptions, Transport } from './transport.js';

export function loggedTransport(t: Transport, log: Logger): Transport {
  // Off below debug: the fleet's transports stay as they are, with no cost per call.
  if (!log.isLevelEnabled('debug')) return t;
  const trace = log.isLevelEnabled('trace');
  async function timed<T>(op: string, what: string, run: () => Promise<T>, size?: (r: T) => Record<string, number>): Promise<T> {
    const started = performance.now();
    try {
      const r = await run();
      const ms = Math.round(performance.now() - started);
      log.debug({ node: t.node, op, ms, ...(trace && size ? size(r) : {}) }, `${t.node}: ${op} ${redactText(what)} (${ms} ms)`);
      return r;
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      log.debug({ node: t.node, op, ms, failed: true }, `${t.node}: ${op} ${redactText(what)} failed after ${ms} ms`);
      throw err;
    }
  }
  return {
    get node() {
      return t.node;
    },
    get target() {
      return t.target;
    },
    get runId() {
      return t.runId;
    },
    readFile: (path: string, timeoutMs: number, opts?: ReadOptions) =>
      timed('read', path, () => t.readFile(path, timeoutMs, opts), (r: FileContent | undefined) => ({ bytes_read: r?.data.length ?? 0 })),
    stat: (path: string, timeoutMs: number) => timed('stat', path, () => t.stat(path, timeoutMs)),
    stage: (path: string, content: StageContent, opts: StageOptions, timeoutMs: number) =>
      timed('stage', path, () => t.stage(path, content, opts, timeoutMs), () => ({ bytes_written: contentBytes(content) })),
    commit: (path, timeoutMs) => timed('commit', path, () => t.commit(path, timeoutMs)),
    link: (existing, path, timeoutMs) => timed('link', `${existing} -> ${path}`, () => t.link(existing, path, timeoutMs)),
    rename: (from, to, timeoutMs) => timed('rename', `${from} -> ${to}`, () => t.rename(from, to, timeoutMs)),
    list: (dir, timeoutMs) => timed('list', dir, () => t.list(dir, timeoutMs)),
    remove: (path, timeoutMs) => timed('remove', path, () => t.remove(path, timeoutMs)),
    exec: (argv: readonly string[], timeoutMs: number) =>
      timed('exec', argv.join(' '), () => t.exec(argv, timeoutMs), (r: ExecResult) => ({ bytes_read: Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr) })),
    close: () => t.close(),
  };
}
