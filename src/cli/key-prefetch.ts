/**
 * Render-only keys derived ahead on a helper thread (docs/operations.md#keys-derived-ahead).
 * A 200-node render over 4 PDCs derives 15,000 keys (two HMAC-SHA-512 each,
 * src/ipsec/render-keys.ts): ~0.1 s of the main thread. The helper derives
 * them in the order the render reaches them (node by node, in name order,
 * each node's pairs with the nodes after it), and the main thread takes a
 * key when the helper has it, else derives it itself as before. It never
 * waits for the helper, so the helper can only save time, and a key is a
 * function of the secret and the pair, so whoever derives it gives the same
 * bytes (test/render/key-prefetch.test.ts).
 *
 * Memory stays bounded: the helper stays at most LEAD nodes ahead of the
 * render, and the main thread drops a node's keys once the render has
 * passed it (a second end still finds its key in RenderKeys' own pending
 * keys, or derives it). The helper is an `eval` worker with no module of
 * ours, so it starts in a few milliseconds, also from the one-file bundle.
 */
import { receiveMessageOnPort, MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Model } from '../model/model.js';
import { HKDF_SALT } from '../ipsec/render-keys.js';

/** Nodes the helper may be ahead of the render. */
const LEAD = 16;

/** Indices into the shared control words. */
const CONSUMED = 0; // the node the render is at (the helper skips nodes before it)
const STOP = 1; // 1: the render is done; the helper stops
const WAITING = 2; // 1 while the helper waits for the render (so the render wakes it only then)

/**
 * The helper's code: HKDF-SHA-512 as src/ipsec/render-keys.ts's
 * deriveRenderKey (extract once, then T1 | T2 per pair), for each node the
 * pairs with the later nodes of other PDCs, as one buffer of 128-byte keys.
 */
const HELPER = `
const { workerData } = require('node:worker_threads');
const { createHmac } = require('node:crypto');
const { port, ctrl, lead } = workerData;
const c = new Int32Array(ctrl);
port.once('message', ({ secret, salt, names, pdcs }) => {
  try {
    const prk = createHmac('sha512', salt).update(secret).digest();
    const one = Buffer.of(1);
    const two = Buffer.of(2);
    for (let i = 0; i < names.length; i++) {
      for (;;) {
        if (Atomics.load(c, ${STOP}) === 1) return;
        const at = Atomics.load(c, ${CONSUMED});
        if (i - at < lead) break;
        Atomics.store(c, ${WAITING}, 1);
        Atomics.wait(c, ${CONSUMED}, at, 1000);
        Atomics.store(c, ${WAITING}, 0);
      }
      if (i < Atomics.load(c, ${CONSUMED})) continue;
      let count = 0;
      for (let j = i + 1; j < names.length; j++) if (pdcs[j] !== pdcs[i]) count++;
      const out = new Uint8Array(count * 128);
      let k = 0;
      for (let j = i + 1; j < names.length; j++) {
        if (pdcs[j] === pdcs[i]) continue;
        const info = Buffer.from(names[i] + '\\u0000' + names[j], 'utf8');
        const t1 = createHmac('sha512', prk).update(info).update(one).digest();
        const t2 = createHmac('sha512', prk).update(t1).update(info).update(two).digest();
        out.set(t1, k * 128);
        out.set(t2, k * 128 + 64);
        k++;
      }
      port.postMessage({ i, keys: out }, [out.buffer]);
    }
  } finally {
    // Done: the render reads what is queued; the port no longer keeps this thread alive.
    port.unref();
  }
});
`;

export class KeyPrefetch {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ctrl: Int32Array;
  private index = new Map<string, number>();
  private pdcOf: string[] = [];
  /** Per node: how many nodes of its PDC come before it. */
  private pdcRank: number[] = [];
  /** Per PDC: its nodes' indices, ascending. */
  private pdcNodes = new Map<string, number[]>();
  private readonly batches = new Map<number, Buffer>();
  private at = 0;
  private started = false;
  private closed = false;
  /** Keys served, for the tests and the benchmark's notes. */
  served = 0;

  /** Starts the helper thread; it waits for `begin`. Before the state is read, so its start overlaps the read. */
  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const ctrl = new SharedArrayBuffer(12);
    this.ctrl = new Int32Array(ctrl);
    this.worker = new Worker(HELPER, { eval: true, workerData: { port: port2, ctrl, lead: LEAD }, transferList: [port2] });
    this.worker.unref();
    // The helper is an optimisation: its failure leaves the render to derive every key itself.
    this.worker.on('error', () => undefined);
  }

  /**
   * The render's nodes (all of the model, in its name order) and secret: the
   * helper derives the keys of every pair across PDCs, first end first.
   */
  begin(model: Model, secret: Buffer): void {
    const names = model.nodes.map((n) => n.name);
    this.pdcOf = model.nodes.map((n) => n.pdc);
    names.forEach((n, i) => this.index.set(n, i));
    this.pdcOf.forEach((p, i) => {
      const list = this.pdcNodes.get(p) ?? [];
      this.pdcRank[i] = list.length;
      list.push(i);
      this.pdcNodes.set(p, list);
    });
    this.started = true;
    this.port.postMessage({ secret: Uint8Array.from(secret), salt: HKDF_SALT, names, pdcs: this.pdcOf });
  }

  /** The key of the pair `a`, `b` (in code-point order) if the helper has it; never waits. */
  keyOf(a: string, b: string): string | undefined {
    if (!this.started || this.closed) return undefined;
    const i = this.index.get(a);
    const j = this.index.get(b);
    if (i === undefined || j === undefined || i >= j || this.pdcOf[i] === this.pdcOf[j]) return undefined;
    this.advance(i);
    this.drain();
    const keys = this.batches.get(i);
    if (keys === undefined) return undefined;
    // The pair's place among i's later peers: the nodes between them, less those of i's own PDC.
    const samePdcBetween = countBelow(this.pdcNodes.get(this.pdcOf[i]!)!, j) - this.pdcRank[i]! - 1;
    const rank = j - i - 1 - samePdcBetween;
    if ((rank + 1) * 128 > keys.length) return undefined;
    this.served++;
    return keys.toString('hex', rank * 128, (rank + 1) * 128);
  }

  /** Stops the helper (the render is done or failed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.notify(this.ctrl, CONSUMED);
    this.batches.clear();
    this.port.close();
    void this.worker.terminate();
  }

  /** The render is at node `i`: earlier nodes' keys are dropped, and the helper may go LEAD nodes past it. */
  private advance(i: number): void {
    if (i <= this.at) return;
    for (const k of this.batches.keys()) if (k < i) this.batches.delete(k);
    this.at = i;
    Atomics.store(this.ctrl, CONSUMED, i);
    // A wake-up only when the helper waits: each one costs this thread a switch on a busy machine. (The helper
    // sets WAITING before it waits on CONSUMED's old value: either it sees the new value, or this sees WAITING.)
    if (Atomics.load(this.ctrl, WAITING) === 1) Atomics.notify(this.ctrl, CONSUMED);
  }

  /** Takes what the helper has sent so far, without waiting. */
  private drain(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const { i, keys } = m.message as { i: number; keys: Uint8Array };
      if (i >= this.at) this.batches.set(i, Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength));
    }
  }
}

/** How many entries of the ascending `list` are below `x`. */
function countBelow(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
