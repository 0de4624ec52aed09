/**
 * One line of `vmadm events -jr` → a typed event. Pure; never throws: a line
 * that is not JSON, or not an event we know, is a result the daemon logs,
 * counts and skips.
 *
 * The format, from smartos-live:
 * - src/vm/sbin/vmadm.js:727-806 (`do_events`): with -j each event is printed
 *   as `JSON.stringify(ev)` on one line; with -r one extra "ready" event is
 *   printed first, once the stream is subscribed.
 * - src/vm/node_modules/vminfod/vminfod.js:305-350: create and modify events
 *   carry `type`, `date`, `zonename`, `uuid` and the full VM object `vm`
 *   (modify also `changes`); delete carries no `vm`.
 * - src/vm/node_modules/vminfod/vminfod.js:1034-1039 and client.js:509-534: the
 *   ready event carries `vms`, which VM.js (src/vm/node_modules/VM.js:19560-19565,
 *   `parseReady: true`) turns into an object keyed by zonename before vmadm prints it.
 */
import type { ValidationIssue } from '../errors.js';
import { matches, UUID } from '../syntax/patterns.js';
import { parseVmObject, type VmObservation } from './observation.js';

export type VmEvent =
  /** The stream is subscribed; later events are relative to it. */
  | { kind: 'ready'; date: string }
  /** A VM was created or modified: its whole new observation. */
  | { kind: 'upsert'; type: 'create' | 'modify'; date: string; vm: VmObservation }
  | { kind: 'delete'; date: string; uuid: string }
  /** Well-formed, but of a type we do not know: skipped, counted. */
  | { kind: 'unknown'; type: string }
  /** Not JSON, or an event whose fields are bad: skipped, counted. */
  | { kind: 'malformed'; issues: ValidationIssue[] };

/** Longest line we parse: a VM object is a few KiB; a ready event of a full node ~1 MiB. */
export const MAX_EVENT_LINE = 16 * 1024 * 1024;

const TYPE = /^[a-z_-]{1,32}$/;

function bad(path: string, message: string, value?: unknown): VmEvent {
  return { kind: 'malformed', issues: [{ path, message, ...(value !== undefined ? { value } : {}) }] };
}

export function parseEventLine(line: string, node: string): VmEvent {
  if (line.length > MAX_EVENT_LINE) return bad('', `is longer than ${MAX_EVENT_LINE} characters`);
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch (err) {
    return bad('', `is not JSON: ${(err as Error).message}`);
  }
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return bad('', 'is not an event object');
  const e = ev as { type?: unknown; date?: unknown; zonename?: unknown; uuid?: unknown; vm?: unknown };
  if (typeof e.type !== 'string' || !TYPE.test(e.type)) return bad('type', 'is not an event type', e.type);
  if (typeof e.date !== 'string' || !Number.isFinite(Date.parse(e.date))) return bad('date', 'is not a date', e.date);
  const date = e.date;
  switch (e.type) {
    case 'ready':
      return { kind: 'ready', date };
    case 'create':
    case 'modify': {
      const r = parseVmObject(e.vm, node, 'vm');
      if (!r.ok) return { kind: 'malformed', issues: r.issues };
      // The event names its VM twice; they must agree, or we would file NICs under the wrong VM.
      if (typeof e.zonename !== 'string' || e.zonename.toLowerCase() !== r.vm.uuid) return bad('zonename', `is not the VM's uuid ${r.vm.uuid}`, e.zonename);
      return { kind: 'upsert', type: e.type, date, vm: r.vm };
    }
    case 'delete': {
      // On SmartOS a VM's zonename is its UUID; the event's uuid field is the VM's too.
      const uuid = typeof e.zonename === 'string' ? e.zonename : e.uuid;
      if (typeof uuid !== 'string' || !matches(UUID, uuid)) return bad('zonename', 'is not a UUID', uuid);
      return { kind: 'delete', date, uuid: uuid.toLowerCase() };
    }
    default:
      return { kind: 'unknown', type: e.type };
  }
}
