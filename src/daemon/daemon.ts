/**
 * `esdc-overlay daemon`: the live inventory (docs/daemon.md). One NodeLink
 * per node feeds a per-node view of its VMs; changes are batched (debounced
 * from the first event), merged into the state's `vnics` in one store
 * transaction, and only then are the ARP tables that changed written, from
 * the state as saved. When the store cannot be written, the views are kept,
 * the batch is retried, and nothing is applied.
 *
 * Because a batch merges whole views (not event deltas), a batch that failed
 * and runs again, or one that also saw later events, reaches the same result.
 */
import { EventEmitter } from 'node:events';
import { compareFacts } from '../discovery/facts.js';
import type { NodeFacts } from '../discovery/sysinfo.js';
import { affectedRules, mergeInventory, type MergeReport, type MergeResult } from '../inventory/merge.js';
import type { VmObservation } from '../inventory/observation.js';
import type { VmEvent } from '../inventory/events.js';
import type { Logger } from '../log.js';
import type { Model, Node } from '../model/model.js';
import type { ArpTableOwner } from '../model/state.js';
import type { Lease, Store } from '../store/store.js';
import { transact } from '../operations/transact.js';
import { loadState, type LoadedSnapshot } from '../operations/warnings.js';
import { formatIssue } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import { NodeLink, type LinkStatus } from './node-link.js';
import { emptyDaemonStatus, writeDaemonStatus, writeStandbyStatus, type DaemonStatus } from './status.js';
import { NodeWriter } from './node-writer.js';
import { recordDegraded } from './degraded.js';
import { DeltaState } from './delta.js';
import type { TableResult } from './tables.js';
import { tableAsks } from './table-asks.js';
import { batchLogFields, batchSummary, recordMerge, summariseWrites, type BatchTables, type SettledWrites } from './batch-report.js';


export interface InventoryDaemonOptions {
  store: Store;
  open: (node: Node) => Promise<Transport>;
  log: Logger;
  statusPath: string;
  /** Per command or file operation on a node, and for each store attempt's wait. */
  timeoutMs: number;
  /** A batch runs this long after its first event (default 250). */
  debounceMs?: number;
  readyTimeoutMs?: number;
  backoff?: { minMs: number; maxMs: number };
  concurrency?: number;
  /** How long a batch waits for the nodes' table writes before it logs and goes on (default 5000). */
  batchWaitMs?: number;
  /**
   * The lease that makes this the installation's one daemon (docs/daemon.md#one-daemon), checked
   * before each save and before each round of table writes; none in tests that run one daemon.
   */
  lease?: Lease;
}

/** The exit status when the lease was lost: the service restarts the daemon, which stands by until it can lead (EX_TEMPFAIL). */
export const EXIT_LEASE_LOST = 75;

/** What sysinfo says that the state does not (reported by `daemon status`, never applied); the comparison is `verify`'s too. */
export function factsDiffer(node: Node, facts: NodeFacts): string[] {
  return compareFacts(node, facts).map((c) => `${c.field}: state ${c.state}, node ${c.node}`);
}

function targetKey(n: Node): string {
  return JSON.stringify([n.ssh, n.adminIp, n.externalIp]);
}

/** `danube`: the daemon records vnics and writes no table (Danube's management server does). */
export function arpTableOwner(model: Model): ArpTableOwner {
  return model.defaults.arpTables;
}

/** A batch's share of what changed, taken from the daemon when it starts. */
interface PendingBatch {
  /** When the batch's first event came (performance.now()), if any did. */
  started: number | undefined;
  /** The nodes whose views changed, sorted. */
  nodes: string[];
  /** The nodes resynced since the last batch: every table of theirs is checked. */
  resynced: Set<string>;
}

/** A batch's merge as saved. */
interface SavedBatch {
  report: MergeReport;
  /** The model as saved: the tables are written from it. */
  model: Model;
  committedAt: number;
}

export class InventoryDaemon {
  readonly status: DaemonStatus = emptyDaemonStatus();
  /** Emits `batch` (the status' last batch) after every batch, for tests and benchmarks. */
  readonly events = new EventEmitter();
  private model: Model | undefined;
  private readonly links = new Map<string, NodeLink>();
  private readonly views = new Map<string, Map<string, VmObservation>>();
  private readonly dirty = new Set<string>();
  private readonly resynced = new Set<string>();
  private readonly tableRetry = new Set<string>();
  private readonly writers = new Map<string, NodeWriter>();
  /** Table hashes and recent states, for patches (docs/arp-deltas.md). */
  private readonly delta = new DeltaState();
  private firstEventAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private leaseLost = false;
  private storeFailures = 0;
  private statusWrite: Promise<void> = Promise.resolve();

  constructor(private readonly opts: InventoryDaemonOptions) {}

  get owner(): ArpTableOwner {
    return this.status.arp_tables;
  }

  /** Loads the state (retrying while the store is down) and connects to every node. */
  async start(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const snap = await this.load();
        this.adopt(snap.model);
        break;
      } catch (err) {
        this.storeDown(err);
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
    this.writeStatus();
  }

  /** SIGHUP: the state again; links for new nodes, none for removed ones, new links for changed targets. */
  async reload(): Promise<void> {
    const snap = await this.load();
    this.adopt(snap.model);
    this.opts.log.info({ nodes: this.links.size, arp_tables: this.owner }, 'configuration reloaded');
    this.schedule();
  }

  /** The state as every command loads it, its model's warnings logged once per load. */
  private load(): Promise<LoadedSnapshot> {
    return loadState(this.opts.store, 'warn', (issues) => {
      for (const i of issues) this.opts.log.warn({ path: i.path }, formatIssue(i));
    });
  }

  private adopt(model: Model): void {
    const old = this.model;
    this.model = model;
    this.status.arp_tables = arpTableOwner(model);
    this.markStore(true);
    for (const n of model.nodes) {
      const had = old?.nodeByName.get(n.name);
      const link = this.links.get(n.name);
      if (link && had && targetKey(had) === targetKey(n)) continue;
      if (link) void this.dropLink(n.name);
      // A link replaced (SIGHUP, new target) may still report while it stops: only the current one counts.
      const current = (): boolean => this.links.get(n.name) === fresh;
      const fresh: NodeLink = new NodeLink(n, {
        onResync: (node, vms, facts) => current() && this.onResync(node, vms, facts),
        onEvent: (node, ev, at) => current() && this.onEvent(node, ev, at),
        onState: (node, st) => current() && this.onState(node, st),
      }, {
        open: this.opts.open,
        log: this.opts.log,
        timeoutMs: this.opts.timeoutMs,
        readyTimeoutMs: this.opts.readyTimeoutMs ?? 30_000,
        backoff: this.opts.backoff ?? { minMs: 1000, maxMs: 30_000 },
      });
      this.links.set(n.name, fresh);
      fresh.start();
    }
    for (const name of [...this.links.keys()]) if (!model.nodeByName.has(name)) void this.dropLink(name);
  }

  private async dropLink(name: string): Promise<void> {
    const link = this.links.get(name);
    this.links.delete(name);
    this.views.delete(name);
    this.delta.drop(name);
    delete this.status.nodes[name];
    delete this.status.node_facts_changed[name];
    await link?.stop();
  }

  private onResync(node: string, vms: Map<string, VmObservation>, facts: NodeFacts | undefined): void {
    this.views.set(node, vms);
    this.dirty.add(node);
    this.resynced.add(node);
    const n = this.model?.nodeByName.get(node);
    if (n && facts) this.status.node_facts_changed[node] = factsDiffer(n, facts);
    this.firstEventAt ??= performance.now();
    this.schedule();
  }

  private onEvent(node: string, ev: Extract<VmEvent, { kind: 'upsert' | 'delete' }>, at: number): void {
    const view = this.views.get(node);
    if (!view) return;
    if (ev.kind === 'upsert') view.set(ev.vm.uuid, ev.vm);
    else view.delete(ev.uuid);
    this.dirty.add(node);
    this.firstEventAt ??= at;
    this.schedule();
  }

  private onState(node: string, st: LinkStatus): void {
    // A node we cannot see is unknown: its entries stay as they are until it is back and resynced.
    if (st.state !== 'connected') this.views.delete(node);
    this.status.nodes[node] = st; // the link's live record: counters move without a state change
    this.writeStatus();
  }

  private schedule(delayMs = this.opts.debounceMs ?? 250): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.batch().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    }, delayMs);
  }

  private markStore(ok: boolean, error?: string): void {
    if (this.status.store.ok !== ok) this.status.store.since = new Date().toISOString();
    this.status.store.ok = ok;
    this.status.store.last_error = ok ? null : (error ?? null);
    if (ok) this.storeFailures = 0;
  }

  private storeDown(err: unknown): void {
    this.storeFailures++;
    this.status.counters.store_failures++;
    const message = (err as Error)?.message ?? String(err);
    this.markStore(false, message);
    this.opts.log.error({ error: message }, 'store unavailable; keeping the in-memory view and retrying');
    this.writeStatus();
  }

  /**
   * False (and `lease-lost` emitted, which stops the daemon) once the lease
   * is not ours: another daemon may lead by now, so this one saves and
   * writes nothing more.
   */
  private async leading(): Promise<boolean> {
    if (!this.opts.lease) return true;
    if (this.leaseLost) return false;
    try {
      await this.opts.lease.assertHeld();
      return true;
    } catch (err) {
      this.leaseLost = true;
      this.events.emit('lease-lost', (err as Error)?.message ?? String(err));
      return false;
    }
  }

  /**
   * One batch: the views merged into the state in one save, then (this
   * daemon leading, and the tables its own) the changed tables written, then
   * the batch reported. Each step below is one of these; the lease is checked
   * before the save and again before the writes (docs/daemon.md#one-daemon).
   */
  private async batch(): Promise<void> {
    if (!this.model || (this.dirty.size === 0 && this.tableRetry.size === 0)) return;
    if (!(await this.leading())) return;
    const pending = this.takePending();
    const saved = await this.saveViews(pending);
    if (!saved) return;
    recordMerge(this.status, saved.report);
    const tables = this.owner === 'esdc-overlay' && (await this.leading()) ? await this.writeBatchTables(saved.model, saved.report, pending.resynced) : undefined;
    this.reportBatch(pending, saved, tables);
  }

  /** What the batch is for: the nodes changed since the last one (and those resynced), taken, so later events start the next. */
  private takePending(): PendingBatch {
    const started = this.firstEventAt;
    this.firstEventAt = undefined;
    const nodes = [...this.dirty].sort();
    this.dirty.clear();
    const resynced = new Set(this.resynced);
    this.resynced.clear();
    return { started, nodes, resynced };
  }

  /**
   * The views merged into the state's `vnics` in one store transaction; the
   * model as saved is adopted. Undefined when the store failed: then the
   * batch is put back and retried later (saveFailed).
   */
  private async saveViews(pending: PendingBatch): Promise<SavedBatch | undefined> {
    let merged: MergeResult;
    let model: Model;
    try {
      const out = await transact(this.opts.store, (snap) => {
        const rules = new Map(snap.model.rules.map((r) => [r.name, new Set(r.nodes)]));
        const reservedMacs = new Set((snap.model.adminOverlay?.members ?? []).map((m) => m.mac));
        const m = mergeInventory({ vnics: snap.doc.vnics ?? [], views: this.views, rules, reservedMacs });
        return { doc: m.changed ? { ...snap.doc, vnics: m.vnics } : snap.doc, result: m };
      });
      merged = out.result;
      model = out.snapshot.model;
      this.model = model;
      this.status.arp_tables = arpTableOwner(model);
      this.markStore(true);
    } catch (err) {
      this.saveFailed(pending, err);
      return undefined;
    }
    return { report: merged.report, model, committedAt: performance.now() };
  }

  /** Nothing recorded, so nothing applied: the same views are merged again later, after a backoff. */
  private saveFailed(pending: PendingBatch, err: unknown): void {
    for (const n of pending.nodes) this.dirty.add(n);
    for (const n of pending.resynced) this.resynced.add(n);
    this.firstEventAt ??= pending.started;
    this.storeDown(err);
    this.status.last_batch = { ...this.emptyBatch(pending.nodes), error: (err as Error)?.message ?? String(err) };
    this.events.emit('batch', this.status.last_batch);
    this.schedule(Math.min(30_000, 500 * 2 ** Math.min(this.storeFailures, 6)));
  }

  /**
   * The tables the merge changed, asked of the connected nodes' writers
   * (every table of a node resynced or to retry). A node that hangs holds
   * back only itself: the batch waits a bounded while, then goes on.
   */
  private async writeBatchTables(model: Model, report: MergeReport, resynced: ReadonlySet<string>): Promise<{ tables: BatchTables; appliedAt: number | undefined }> {
    const all = new Set([...resynced, ...this.tableRetry]);
    this.tableRetry.clear();
    const asks = tableAsks(model, affectedRules(report), all, (node) => Boolean(this.links.get(node)?.connected));
    const runs = asks.map((a) => this.writer(a.node).request({ model, rules: a.rules, all: a.all }));
    const waitMs = this.opts.batchWaitMs ?? 5000;
    const settled = await Promise.race([
      Promise.all(runs).then((results) => ({ results, complete: true })),
      new Promise<SettledWrites>((res) => setTimeout(() => res({ results: [], complete: false }), waitMs).unref()),
    ]);
    const appliedAt = settled.complete ? performance.now() : undefined;
    return { tables: summariseWrites(settled, waitMs), appliedAt };
  }

  /** The batch into the status (last_batch), the log and the `batch` event. */
  private reportBatch(pending: PendingBatch, saved: SavedBatch, written: { tables: BatchTables; appliedAt: number | undefined } | undefined): void {
    const ms = (t: number | undefined): number | null => (pending.started === undefined || t === undefined ? null : Math.round(t - pending.started));
    const times = { eventToCommitMs: ms(saved.committedAt), eventToAppliedMs: ms(written?.appliedAt) };
    this.status.last_batch = batchSummary(new Date().toISOString(), pending.nodes, saved.report, written?.tables, times);
    this.opts.log.info(batchLogFields(pending.nodes, saved.report, written?.tables, this.owner, times), 'batch');
    this.writeStatus();
    this.events.emit('batch', this.status.last_batch);
  }

  private writer(node: string): NodeWriter {
    let w = this.writers.get(node);
    if (!w) {
      w = new NodeWriter(node, () => this.links.get(node)?.connected, { timeoutMs: this.opts.timeoutMs, concurrency: 1, delta: this.delta }, (n, r) => this.tablesDone(n, r));
      this.writers.set(node, w);
    }
    return w;
  }

  private tablesDone(node: string, r: TableResult): void {
    const c = this.status.counters;
    for (const paths of r.written.values()) c.tables_written += paths.length;
    for (const sent of r.sent.values()) {
      c.tables_patched = (c.tables_patched ?? 0) + sent.patched.length;
      c.patch_fallbacks = (c.patch_fallbacks ?? 0) + sent.fallbacks.length;
      c.bytes_sent = (c.bytes_sent ?? 0) + sent.bytes;
      for (const f of sent.fallbacks) this.opts.log.info({ node, path: f.path, reason: f.reason }, 'patch refused; the whole table was sent');
    }
    this.status.tables_missing = [...this.status.tables_missing.filter((m) => !m.startsWith(`${node}:`)), ...r.missing.map((m) => `${m.node}:${m.path}`)];
    recordDegraded(this.status, r, this.opts.log);
    if (r.failed.size > 0) {
      c.table_failures++;
      this.opts.log.warn({ node, error: r.failed.get(node) }, 'ARP tables not written; retrying with the next batch');
      this.tableRetry.add(node);
      this.schedule(5000);
    } else if (r.written.size > 0) {
      const sent = r.sent.get(node);
      this.opts.log.debug({ node, tables: r.written.get(node), bytes_sent: sent?.bytes ?? 0, patched: sent?.patched.length ?? 0 }, 'ARP tables written');
    }
    this.writeStatus();
  }

  private emptyBatch(nodes: string[]): DaemonStatus['last_batch'] & object {
    return { at: new Date().toISOString(), nodes, added: 0, removed: 0, moved: 0, changed: 0, tables_written: 0, event_to_commit_ms: null, event_to_applied_ms: null, error: null };
  }

  /** Status writes are serialised; a failed write is logged, never fatal. */
  private writeStatus(): void {
    const snapshot = structuredClone(this.status);
    this.statusWrite = this.statusWrite
      .then(() => writeDaemonStatus(this.opts.statusPath, snapshot))
      .catch((err: unknown) => this.opts.log.error({ error: (err as Error).message }, 'cannot write the daemon status'));
  }

  /** SIGTERM: the batch in progress finishes; then every stream is cancelled and the status says stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await Promise.all([...this.writers.values()].map((w) => w.idle()));
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    await this.delta.close();
    this.status.state = 'stopped';
    this.status.stopped_at = new Date().toISOString();
    this.writeStatus();
    await this.statusWrite;
  }

}

/**
 * Runs until SIGTERM or SIGINT (SIGHUP reloads); resolves with the exit
 * status. First it takes the store's daemon lease, standing by (writing
 * nothing) while another daemon holds it; losing the lease later stops it
 * with EXIT_LEASE_LOST.
 */
export async function runInventoryDaemon(opts: InventoryDaemonOptions, signals: NodeJS.EventEmitter = process): Promise<number> {
  const waiting = new AbortController();
  const stopWaiting = (): void => waiting.abort();
  signals.on('SIGTERM', stopWaiting);
  signals.on('SIGINT', stopWaiting);
  let lease: Lease | undefined;
  try {
    lease = await opts.store.lead('daemon', {
      signal: waiting.signal,
      onWait: (holder) => {
        opts.log.info({ leader: holder }, 'another daemon leads this installation; standing by');
        void writeStandbyStatus(opts.statusPath, holder).catch((err: unknown) => opts.log.error({ error: (err as Error).message }, 'cannot write the daemon status'));
      },
    });
  } finally {
    signals.off('SIGTERM', stopWaiting);
    signals.off('SIGINT', stopWaiting);
  }
  if (!lease) {
    opts.log.info('stopped while standing by');
    return 0;
  }
  try {
    return await runLeading({ ...opts, lease }, lease, signals);
  } finally {
    await lease.release();
  }
}

async function runLeading(opts: InventoryDaemonOptions, lease: Lease, signals: NodeJS.EventEmitter): Promise<number> {
  const daemon = new InventoryDaemon(opts);
  let stopping: Promise<number> | undefined;
  const onHup = (): void => {
    void daemon.reload().catch((err: unknown) => opts.log.error({ error: (err as Error).message }, 'configuration not reloaded; keeping the running one'));
  };
  const result = new Promise<number>((resolve) => {
    const stop = (why: Record<string, string>, message: string, code: number): void => {
      if (stopping) return;
      if (code === 0) opts.log.info(why, message);
      else opts.log.error(why, message);
      stopping = daemon.stop().then(() => code);
      void stopping.then((c) => {
        signals.off('SIGHUP', onHup);
        signals.off('SIGTERM', onTerm);
        signals.off('SIGINT', onInt);
        opts.log.info('daemon stopped');
        resolve(c);
      });
    };
    const onTerm = (): void => stop({ signal: 'SIGTERM' }, 'stopping after the current batch', 0);
    const onInt = (): void => stop({ signal: 'SIGINT' }, 'stopping after the current batch', 0);
    const onLost = (reason: string): void => stop({ reason }, 'the daemon lease was lost: another daemon may lead now; stopping (no further save or table write)', EXIT_LEASE_LOST);
    void lease.lost.then(onLost);
    daemon.events.on('lease-lost', onLost);
    signals.on('SIGHUP', onHup);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
  });
  await daemon.start();
  opts.log.info({ nodes: daemon.status.nodes ? Object.keys(daemon.status.nodes).length : 0, arp_tables: daemon.owner, status: opts.statusPath }, 'daemon started');
  return result;
}
