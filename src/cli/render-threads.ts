/**
 * `render --threads N` (docs/operations.md#render-threads): the main thread
 * renders the first share of the nodes (in name order), each worker thread
 * (src/cli/render-worker.ts) a later share, all into the one temporary
 * directory writeTree renames into place once every part is written. A
 * worker starts before the state is loaded (its own start overlaps the
 * load), gets the validated document (a structured clone), builds its own
 * model and render context, and gives back what it wrote and the warnings
 * it found. The keys agree across parts: the `--key-secret`, or else one
 * random secret made by the command for all of them.
 *
 * Not the default: on the 2-core machine of issue 20 a second thread cost
 * ~0.5 s more CPU (its isolate, modules, model, the keys of pairs split
 * between threads, a second heap's collector) for ~0.1 s off the main
 * thread's, so a 200-node render was not faster (bench/RESULTS.md, fourth
 * pass). It is for a machine with idle cores.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EsdcError, InternalError, type ValidationIssue } from '../errors.js';
import type { StateDoc } from '../model/state.js';
import type { WriteTreeResult } from '../io/write-tree.js';

/** What one worker renders. Secrets travel by message, never argv or environment. */
export interface RenderPartRequest {
  doc: StateDoc;
  /** The nodes of this part, by name. */
  nodes: string[];
  /** The temporary directory of the tree (writeTree's). */
  tmp: string;
  keySecret?: Uint8Array;
  randomSecret?: Uint8Array;
}

/** A worker's messages: one `node` per node written, then `done` or `failed`. */
export type RenderPartMessage =
  | { kind: 'node'; node: string }
  | { kind: 'done'; result: WriteTreeResult; warnings: ValidationIssue[] }
  | { kind: 'failed'; error: { esdc: boolean; message: string; code?: string; exitStatus?: number } };

const WORKER_URL = new URL('./render-worker.js', import.meta.url);

/** Whether the worker's module is beside this one as JavaScript (not in the one-file bundle, nor the sources run by tsx). */
export function workerAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/**
 * `names` (in render order) cut into `threads` consecutive parts: the first,
 * the main thread's, MAIN_WEIGHT times an even share (it renders while the
 * workers still build their models), the others the rest evenly.
 * Consecutive parts keep the warnings in the order one thread finds them.
 */
export function splitNodes(names: readonly string[], threads: number): string[][] {
  if (threads <= 1 || names.length < 2) return [[...names]];
  const first = Math.min(names.length - 1, Math.max(1, Math.round((names.length * MAIN_WEIGHT) / threads)));
  const parts: string[][] = [names.slice(0, first)];
  const rest = names.slice(first);
  const workers = Math.min(threads - 1, rest.length);
  for (let i = 0; i < workers; i++) {
    parts.push(rest.slice(Math.floor((i * rest.length) / workers), Math.floor(((i + 1) * rest.length) / workers)));
  }
  return parts;
}

/**
 * The main thread's share against a worker's: with two threads it renders
 * 65 % of the nodes (of 55, 65 and 75 %, 65 gave the lowest wall time, 200
 * nodes; bench/RESULTS.md, issue 20 fourth pass).
 */
export const MAIN_WEIGHT = 1.3;

/**
 * One worker thread, started before the state is loaded so that its own
 * start (isolate, modules) overlaps the main thread's load; it waits for its
 * request. `close` ends one that turned out not to be needed.
 */
export class RenderWorker {
  private readonly worker: Worker;
  private readonly exited: Promise<number>;
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_URL);
    this.worker.on('error', (err) => {
      this.failure ??= err;
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
  }

  /** Renders `req`; settles with what the worker wrote and the warnings it found. */
  run(req: RenderPartRequest, onNode: (node: string) => void): Promise<{ result: WriteTreeResult; warnings: ValidationIssue[] }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      this.worker.on('message', (m: RenderPartMessage) => {
        if (m.kind === 'node') onNode(m.node);
        else if (!settled) {
          settled = true;
          if (m.kind === 'done') resolve({ result: m.result, warnings: m.warnings });
          else reject(revived(m.error));
        }
      });
      void this.exited.then((code) => {
        if (settled) return;
        settled = true;
        reject(this.failure ?? new InternalError(`render worker exited with code ${code} before it finished`));
      });
      this.worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * State files from this size up start a worker before they are loaded (the
 * 200-node, 10,000-NIC state of issue 20 is 1.7 MB; a 64-node one with a
 * few NICs per node well under this): below, the render may well stay on one
 * thread, and a worker started for nothing costs ~0.1 s of CPU.
 */
export const EARLY_WORKER_FROM_BYTES = 256 * 1024;

/** A worker's error as the main thread reports it: typed errors keep their code and exit status. */
function revived(e: { esdc: boolean; message: string; code?: string; exitStatus?: number }): Error {
  if (e.esdc) return new EsdcError(e.message, { ...(e.code === undefined ? {} : { code: e.code }), ...(e.exitStatus === undefined ? {} : { exitStatus: e.exitStatus }) });
  return Object.assign(new Error(`in a render worker: ${e.message}`), e.code === undefined ? {} : { code: e.code });
}

/** A worker's error as a message (an Error itself would lose its code and class on the way). */
export function failedMessage(err: unknown): RenderPartMessage {
  const e = err as Error & { code?: unknown; exitStatus?: unknown };
  return {
    kind: 'failed',
    error: {
      esdc: err instanceof EsdcError,
      message: e?.message ?? String(err),
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      ...(typeof e?.exitStatus === 'number' ? { exitStatus: e.exitStatus } : {}),
    },
  };
}
