/**
 * One node's ARP-table writes, one at a time: a request that comes while a
 * write runs is merged into the next (the latest saved state, the union of
 * rules), so a node that hangs holds back only its own tables, never the
 * batch or the other nodes (docs/daemon.md#tables).
 */
import type { Model } from '../model/model.js';
import type { Transport } from '../transport/transport.js';
import { emptyTableResult, writeTables, type TableOptions, type TableResult } from './tables.js';

export interface WriteRequest {
  model: Model;
  rules: Set<string>;
  /** Check every table of the node, not only `rules`. */
  all: boolean;
}

export class NodeWriter {
  private pending: WriteRequest | undefined;
  private current: Promise<void> | undefined;
  private waiters: Array<(r: TableResult) => void> = [];

  constructor(
    readonly node: string,
    private readonly transport: () => Transport | undefined,
    private readonly opts: TableOptions,
    private readonly onDone: (node: string, r: TableResult) => void,
  ) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Queues a write; resolves with the result of the run that includes it. */
  request(req: WriteRequest): Promise<TableResult> {
    if (this.pending) {
      this.pending = { model: req.model, rules: new Set([...this.pending.rules, ...req.rules]), all: this.pending.all || req.all };
    } else this.pending = req;
    const result = new Promise<TableResult>((res) => this.waiters.push(res));
    this.current ??= this.drain();
    return result;
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const req = this.pending;
      this.pending = undefined;
      const waiters = this.waiters.splice(0);
      const t = this.transport();
      let r: TableResult;
      if (!t) {
        // Not connected: its resync will ask for every table again.
        r = emptyTableResult();
      } else {
        r = await writeTables(req.model, { rules: req.rules, nodes: req.all ? new Set([this.node]) : new Set() }, new Map([[this.node, t]]), this.opts);
      }
      this.onDone(this.node, r);
      for (const w of waiters) w(r);
    }
    this.current = undefined;
  }
}
