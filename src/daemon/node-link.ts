/**
 * One node as the daemon sees it: an SSH connection, the resync (`vmadm
 * lookup -j`, plus `sysinfo` for facts that changed) and the event stream
 * (`vmadm events -jr`), reconnected with exponential backoff and jitter
 * whenever any of it fails (docs/daemon.md#connections).
 *
 * Order at every (re)connect: subscribe to events first and wait for the
 * stream's ready line, then run the lookup, then hand over the events that
 * came meanwhile. Each event carries the VM's whole object (or its deletion),
 * so replaying them on a lookup taken later still ends at the node's state:
 * nothing changed between subscribe and lookup is lost.
 */
import { parseSysinfo, type NodeFacts } from '../discovery/sysinfo.js';
import { parseEventLine, MAX_EVENT_LINE, type VmEvent } from '../inventory/events.js';
import { parseLookup, type VmObservation } from '../inventory/observation.js';
import type { Logger } from '../log.js';
import type { Node } from '../model/model.js';
import { formatIssue } from '../errors.js';
import { checkExec, TransportError, type LineStream, type Transport } from '../transport/transport.js';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface LinkCounters {
  events: number;
  malformed: number;
  unknown: number;
  connects: number;
  failures: number;
}

export interface LinkStatus {
  state: LinkState;
  /** When the link entered its state (ISO). */
  since: string;
  last_resync: string | null;
  last_error: string | null;
  counters: LinkCounters;
}

export interface LinkHandlers {
  /** A full view of the node's VMs (resync). */
  onResync(node: string, vms: Map<string, VmObservation>, facts: NodeFacts | undefined): void;
  /** One create/modify/delete, with the time it was received (performance.now()). */
  onEvent(node: string, ev: Extract<VmEvent, { kind: 'upsert' | 'delete' }>, receivedAt: number): void;
  /** The link lost its view of the node (disconnected) or changed state. */
  onState(node: string, status: LinkStatus): void;
}

export interface LinkOptions {
  open: (node: Node) => Promise<Transport>;
  log: Logger;
  /** Per command (lookup, sysinfo) and for opening the stream. */
  timeoutMs: number;
  /** How long the ready line may take after subscribing. */
  readyTimeoutMs: number;
  backoff: { minMs: number; maxMs: number };
  /** Randomness for the jitter (tests). */
  random?: () => number;
}

export const EVENTS_ARGV = ['vmadm', 'events', '-jr'] as const;
export const LOOKUP_ARGV = ['vmadm', 'lookup', '-j'] as const;

/** Delay before reconnect attempt `n` (1-based): exponential, capped, with half of it random so nodes spread out. */
export function backoffDelay(attempt: number, b: { minMs: number; maxMs: number }, random: () => number): number {
  const full = Math.min(b.maxMs, b.minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class NodeLink {
  private stopped = false;
  private transport: Transport | undefined;
  private stream: LineStream | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  readonly status: LinkStatus;

  constructor(
    readonly node: Node,
    private readonly handlers: LinkHandlers,
    private readonly opts: LinkOptions,
  ) {
    this.status = {
      state: 'connecting',
      since: new Date().toISOString(),
      last_resync: null,
      last_error: null,
      counters: { events: 0, malformed: 0, unknown: 0, connects: 0, failures: 0 },
    };
  }

  /** The open transport while connected (the daemon writes tables through it). */
  get connected(): Transport | undefined {
    return this.status.state === 'connected' ? this.transport : undefined;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Cancels the stream and closes the connection; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.cancel();
    this.wake?.();
    await this.transport?.close().catch(() => undefined);
    await this.loop;
    this.setState('stopped');
  }

  private setState(state: LinkState, error?: string): void {
    if (this.status.state !== state) {
      this.status.state = state;
      this.status.since = new Date().toISOString();
    }
    if (error !== undefined) this.status.last_error = error;
    this.handlers.onState(this.node.name, this.status);
  }

  private async run(): Promise<void> {
    const log = this.opts.log.child({ node: this.node.name });
    const random = this.opts.random ?? Math.random;
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.session(log);
        attempt = 0; // it ran; the next failure starts the backoff afresh
      } catch (err) {
        if (this.stopped) break;
        this.status.counters.failures++;
        const message = (err as Error)?.message ?? String(err);
        log.warn({ error: message }, 'node link down');
        this.setState('disconnected', message);
      } finally {
        this.stream = undefined;
        const t = this.transport;
        this.transport = undefined;
        await t?.close().catch(() => undefined);
      }
      if (this.stopped) break;
      if (this.status.state === 'connected') this.setState('disconnected', this.status.last_error ?? 'event stream ended');
      attempt++;
      const delay = backoffDelay(attempt, this.opts.backoff, random);
      log.debug({ delay_ms: delay, attempt }, 'reconnecting after a delay');
      await new Promise<void>((res) => {
        const timer = setTimeout(res, delay);
        this.wake = () => {
          clearTimeout(timer);
          res();
        };
      });
      this.wake = undefined;
    }
  }

  /** One connection's life: resolves or rejects when it is over. */
  private async session(log: Logger): Promise<void> {
    this.setState('connecting');
    const t = await this.opts.open(this.node);
    this.transport = t;
    if (this.stopped) return;
    if (!t.stream) throw new TransportError(this.node.name, 'the transport cannot stream vmadm events', { code: 'StreamUnsupported' });
    // Events that arrive before the resync are held, then replayed on top of it (docs/daemon.md#what-it-reads-from-each-node).
    const early: Array<{ ev: VmEvent; at: number }> = [];
    let live = false;
    let readyResolve: () => void = () => undefined;
    const ready = new Promise<void>((res) => (readyResolve = res));
    const stream = await t.stream(
      EVENTS_ARGV,
      (line) => {
        const ev = parseEventLine(line, this.node.name);
        if (ev.kind === 'ready') readyResolve();
        else if (live) this.deliver(ev, performance.now(), log);
        else early.push({ ev, at: performance.now() });
      },
      { openTimeoutMs: this.opts.timeoutMs, maxLineLength: MAX_EVENT_LINE },
    );
    this.stream = stream;
    await this.awaitReady(stream, ready);
    const { vms, facts } = await this.resync(t, log);
    this.status.counters.connects++;
    this.status.last_resync = new Date().toISOString();
    this.handlers.onResync(this.node.name, new Map(vms.map((vm) => [vm.uuid, vm])), facts);
    live = true;
    for (const e of early.splice(0)) this.deliver(e.ev, e.at, log);
    this.setState('connected');
    log.info({ vms: vms.length, target: t.target }, 'node resynced; following vmadm events');
    const end = await stream.done;
    if (end.reason === 'cancelled' && this.stopped) return;
    throw new TransportError(
      this.node.name,
      end.reason === 'closed' ? 'connection lost' : `vmadm events -jr ended (exit ${end.code ?? 'none'}${lastLine(end.stderr)})`,
      { code: 'EventsEnded' },
    );
  }

  /** One parsed event line: counted, and handed on when it is a VM's. */
  private deliver(ev: VmEvent, at: number, log: Logger): void {
    switch (ev.kind) {
      case 'ready':
        return;
      case 'malformed':
        this.status.counters.malformed++;
        log.warn({ issues: ev.issues.map(formatIssue) }, 'malformed vmadm event line skipped');
        return;
      case 'unknown':
        this.status.counters.unknown++;
        log.debug({ type: ev.type }, 'vmadm event of an unknown type skipped');
        return;
      default:
        this.status.counters.events++;
        log.debug({ type: ev.kind === 'upsert' ? ev.type : 'delete', vm: ev.kind === 'upsert' ? ev.vm.uuid : ev.uuid, state: ev.kind === 'upsert' ? ev.vm.state : undefined }, 'vmadm event');
        this.handlers.onEvent(this.node.name, ev, at);
    }
  }

  /** Waits for the stream's ready line (bounded); a stream that ends or stays silent first is cancelled and fails the session. */
  private async awaitReady(stream: LineStream, ready: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      stream.done.then(() => 'ended' as const),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), this.opts.readyTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') return;
    stream.cancel();
    const end = outcome === 'ended' ? await stream.done : undefined;
    throw new TransportError(
      this.node.name,
      outcome === 'timeout' ? `vmadm events -jr gave no ready line within ${this.opts.readyTimeoutMs} ms` : `vmadm events -jr ended before its ready line (exit ${end?.code ?? 'none'}${lastLine(end?.stderr)})`,
      { code: 'EventsNotReady' },
    );
  }

  /** The node's whole VM list (a bad one fails the session) and its facts (only reported: unreadable is logged, not fatal). */
  private async resync(t: Transport, log: Logger): Promise<{ vms: VmObservation[]; facts: NodeFacts | undefined }> {
    const lookup = checkExec(this.node.name, [...LOOKUP_ARGV], await t.exec(LOOKUP_ARGV, this.opts.timeoutMs));
    const parsed = parseLookup(json(lookup.stdout) ?? lookup.stdout, this.node.name);
    if (!parsed.ok) throw new TransportError(this.node.name, `vmadm lookup -j: ${parsed.issues.map(formatIssue).join('; ')}`, { code: 'BadLookup' });
    let facts: NodeFacts | undefined;
    try {
      const sys = await t.exec(['sysinfo'], this.opts.timeoutMs);
      if (sys.code === 0) facts = parseSysinfo(json(sys.stdout), `${this.node.name}: sysinfo`);
    } catch (err) {
      // Facts are only reported; a node whose sysinfo fails still has its VMs followed.
      log.warn({ error: (err as Error).message }, 'sysinfo unreadable; node facts not checked');
    }
    return { vms: parsed.vms, facts };
  }
}

/** `: <the last line of stderr>`, or nothing when there is none. */
function lastLine(stderr: string | undefined): string {
  return stderr ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : '';
}
