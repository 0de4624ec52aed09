/**
 * SHA-256 of the daemon's rendered tables off the event loop
 * (docs/arp-deltas.md#hashing-off-the-event-loop): a patch must carry the
 * hash of each node's new table, and every node's table differs (it leaves
 * out the node's own NICs), so a move hashes every table once (~1.8 ms for
 * 2.5 MB). On the event loop that is ~0.9 s for 500 nodes before the last
 * node's patch leaves, with the SSH traffic of all of them waiting behind it.
 *
 * A table's bytes are slices of one text per (rule, PDC)
 * (src/files-config/arp-table.ts `arpTableText`), kept in shared memory: a
 * hash request is the list of slices (offsets into the shared text, a few
 * bytes each), not the table. The thread that hashes reads the same bytes;
 * nothing is copied. Slices not in shared memory travel as copies when they
 * are small (the table's braces); a table with more such bytes is hashed here
 * at once. A worker that fails is not used again: its requests and every
 * later one are hashed here, so the hash never depends on the worker.
 */
import { sha256HexChunks } from '../sha256.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** One slice of a table: in shared memory (offset and length), or a small copy. */
type Piece = { sab: SharedArrayBuffer; off: number; len: number } | Uint8Array;

/** Bytes outside shared memory a request may copy; a table with more is hashed on the event loop. */
const MAX_COPIED = 64 * 1024;

/** The worker: CommonJS evaluated in its own thread (no module file, so it runs from the bundle, dist and the sources alike). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, pieces }) => {
  const h = createHash('sha256');
  for (const p of pieces) h.update(p instanceof Uint8Array ? p : new Uint8Array(p.sab, p.off, p.len));
  parentPort.postMessage({ id, sha256: h.digest('hex') });
});
`;

/** `chunks` as a request, or undefined when too many of their bytes are outside shared memory. */
function piecesOf(chunks: readonly Uint8Array[]): Piece[] | undefined {
  const pieces: Piece[] = [];
  let copied = 0;
  for (const c of chunks) {
    if (c.buffer instanceof SharedArrayBuffer) {
      pieces.push({ sab: c.buffer, off: c.byteOffset, len: c.byteLength });
      continue;
    }
    copied += c.byteLength;
    if (copied > MAX_COPIED) return undefined;
    // A copy of the slice alone (a view would carry its whole underlying buffer along).
    pieces.push(c.slice());
  }
  return pieces;
}

/**
 * Worker threads that hash byte slices in shared memory. Requests go to the
 * worker with the fewest in flight; a worker is held referenced only while it
 * has requests, so an idle pool keeps no process alive.
 */
export class HashPool {
  private readonly workers: Array<{ w: Worker; inFlight: number }> = [];
  private readonly pending = new Map<number, { chunks: readonly Uint8Array[]; done: (sha: string) => void; worker: number }>();
  private next = 0;
  private broken = false;
  /** Requests hashed by a worker (tests, benchmarks). */
  offThread = 0;

  constructor(private readonly size = defaultPoolSize()) {}

  /** The SHA-256 (hex) of the concatenation of `chunks`, the same as hashing them in order here. */
  sha256(chunks: readonly Uint8Array[]): Promise<string> {
    const pieces = this.broken || this.size < 1 ? undefined : piecesOf(chunks);
    if (!pieces) return Promise.resolve(sha256HexChunks(chunks));
    const index = this.pick();
    if (index === undefined) return Promise.resolve(sha256HexChunks(chunks));
    const slot = this.workers[index]!;
    const id = this.next++;
    return new Promise((done) => {
      this.pending.set(id, { chunks, done, worker: index });
      if (slot.inFlight++ === 0) slot.w.ref();
      slot.w.postMessage({ id, pieces });
    });
  }

  /** Ends the workers; requests still in flight are hashed here. */
  async close(): Promise<void> {
    this.broken = true;
    const ws = this.workers.splice(0);
    this.rescue();
    await Promise.all(ws.map((s) => s.w.terminate()));
  }

  private pick(): number | undefined {
    if (this.workers.length < this.size) {
      try {
        this.workers.push(this.start());
      } catch {
        this.broken = true;
        return undefined;
      }
    }
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.workers[i]!.inFlight < this.workers[best]!.inFlight) best = i;
    return best;
  }

  private start(): { w: Worker; inFlight: number } {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; sha256: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.offThread++;
      const slot = this.workers[p.worker];
      if (slot && --slot.inFlight === 0) slot.w.unref();
      p.done(m.sha256);
    });
    const fail = (): void => {
      if (this.broken) return;
      this.broken = true;
      this.rescue();
    };
    w.on('error', fail);
    w.on('exit', fail);
    return { w, inFlight: 0 };
  }

  /** Every request not answered yet, hashed here. */
  private rescue(): void {
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const p of left) p.done(sha256HexChunks(p.chunks));
  }
}

/** Cores beyond the event loop's, at most four (one on a 2-core machine). */
function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
