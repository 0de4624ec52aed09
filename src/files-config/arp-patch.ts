/**
 * ARP-table patches (docs/arp-deltas.md): a few entries added, changed or
 * removed, keyed by MAC, with the SHA-256 of the table before and after.
 * Pure: the words a patch travels as (argv, every value validated), their
 * parser, and the one function that applies a patch to a table's text and
 * renders the result byte for byte as arp-table.ts writes it.
 */
import { isAscii } from 'node:buffer';
import { EsdcError } from '../errors.js';
import { byCodePoint } from '../model/model.js';
import { isIpv4 } from '../net/ipv4.js';
import { canonicalIpv6 } from '../net/ipv6.js';
import { filesConfigProblem } from '../syntax/rule-string.js';
import type { ArpEntry } from './arp-table.js';

/** One change: the entry a MAC gets, or null to remove it. */
export interface ArpPatchOp {
  mac: string;
  entry: ArpEntry | null;
}

export interface ArpPatch {
  /** The table, a rule's files/config path. */
  path: string;
  /** SHA-256 (hex) the node's file must have before. */
  from: string;
  /** SHA-256 (hex) the file must have after. */
  to: string;
  /** The head node's clock (ms): the floor of the bundle version the node writes with the table. */
  nowMs: number;
  ops: ArpPatchOp[];
}

/** Most changes one patch carries: more is a new table, sent whole. */
export const MAX_PATCH_OPS = 512;

/** A patch refused: a value that is not what it must be (the field and value named). */
export class ArpPatchError extends EsdcError {
  constructor(message: string) {
    super(message, { code: 'BadPatch' });
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const SHA = /^[0-9a-f]{64}$/;

function isUnderlayIp(s: string): boolean {
  return isIpv4(s) || canonicalIpv6(s) === s;
}

/** Why an entry is unacceptable, or undefined. */
function entryProblem(mac: string, e: ArpEntry): string | undefined {
  if (!MAC.test(mac)) return `MAC ${JSON.stringify(mac)} must be six lower-case hex pairs`;
  if (!isIpv4(e.arp)) return `${mac}: arp ${JSON.stringify(e.arp)} must be an IPv4 address`;
  if (!isUnderlayIp(e.ip)) return `${mac}: ip ${JSON.stringify(e.ip)} must be an IPv4 or canonical IPv6 address`;
  if (e.ndp !== undefined && canonicalIpv6(e.ndp) !== e.ndp) return `${mac}: ndp ${JSON.stringify(e.ndp)} must be a canonical IPv6 address`;
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return `${mac}: port ${JSON.stringify(e.port)} must be 1-65535`;
  return undefined;
}

/**
 * The words after `agent patch-table`: `<path> <from> <to> <now-ms>` then
 * `set=<mac>,<arp>,<ip>,<port>[,<ndp>]` or `del=<mac>` per change. Only
 * characters the shell quoting leaves bare (src/shell/quote.ts), none starting
 * with `-`, so no option parser takes one for its own.
 */
export function patchWords(p: ArpPatch): string[] {
  return [
    p.path,
    p.from,
    p.to,
    String(p.nowMs),
    ...p.ops.map((o) => (o.entry === null ? `del=${o.mac}` : `set=${o.mac},${o.entry.arp},${o.entry.ip},${o.entry.port}${o.entry.ndp !== undefined ? `,${o.entry.ndp}` : ''}`)),
  ];
}

/** Parses and validates the words `patchWords` writes; ArpPatchError names the first bad one. */
export function parsePatchWords(words: readonly string[]): ArpPatch {
  const fail = (m: string): never => {
    throw new ArpPatchError(`patch refused: ${m}; nothing was changed`);
  };
  if (words.length < 4) fail('needs <path> <from-sha256> <to-sha256> <now-ms> [set=...|del=...]...');
  const [path, from, to, now, ...rest] = words as [string, string, string, string, ...string[]];
  const problem = filesConfigProblem(path);
  if (problem) fail(`path ${JSON.stringify(path)} ${problem}`);
  if (!SHA.test(from)) fail(`from ${JSON.stringify(from)} must be a SHA-256 in lower-case hex`);
  if (!SHA.test(to)) fail(`to ${JSON.stringify(to)} must be a SHA-256 in lower-case hex`);
  if (!/^\d{1,16}$/.test(now) || !Number.isSafeInteger(Number(now))) fail(`now-ms ${JSON.stringify(now)} must be a time in milliseconds`);
  if (rest.length > MAX_PATCH_OPS) fail(`${rest.length} changes, above the limit of ${MAX_PATCH_OPS} (send the whole table)`);
  const seen = new Set<string>();
  const ops = rest.map((w): ArpPatchOp => {
    let op: ArpPatchOp | undefined;
    if (w.startsWith('del=')) {
      const mac = w.slice(4);
      if (!MAC.test(mac)) fail(`del: MAC ${JSON.stringify(mac)} must be six lower-case hex pairs`);
      op = { mac, entry: null };
    } else if (w.startsWith('set=')) {
      const parts = w.slice(4).split(',');
      if (parts.length !== 4 && parts.length !== 5) fail(`set ${JSON.stringify(w)} must be set=<mac>,<arp>,<ip>,<port>[,<ndp>]`);
      const [mac, arp, ip, port, ndp] = parts as [string, string, string, string, string | undefined];
      const entry: ArpEntry = ndp === undefined ? { arp, ip, port: /^\d{1,5}$/.test(port) ? Number(port) : NaN } : { arp, ip, ndp, port: /^\d{1,5}$/.test(port) ? Number(port) : NaN };
      const bad = entryProblem(mac, entry);
      if (bad) fail(`set: ${bad}`);
      op = { mac, entry };
    } else fail(`change ${JSON.stringify(w)} must be set=... or del=...`);
    if (seen.has(op!.mac)) fail(`MAC ${op!.mac} changed twice`);
    seen.add(op!.mac);
    return op!;
  });
  return { path, from, to, nowMs: Number(now), ops };
}

/** A table as arp-table.ts writes it: keys sorted by code point, entries arp, ip, ndp, port; two-space JSON and a newline. */
export function renderArpTable(entries: ReadonlyMap<string, ArpEntry>): string {
  const table: Record<string, ArpEntry> = {};
  for (const mac of [...entries.keys()].sort(byCodePoint)) {
    const e = entries.get(mac)!;
    table[mac] = e.ndp === undefined ? { arp: e.arp, ip: e.ip, port: e.port } : { arp: e.arp, ip: e.ip, ndp: e.ndp, port: e.port };
  }
  return `${JSON.stringify(table, null, 2)}\n`;
}

/** Reads a table's text into entries; ArpPatchError when it is not a table (the node's file is then sent whole). */
export function parseArpTable(text: string): Map<string, ArpEntry> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ArpPatchError(`patch refused: the table is not JSON (${(err as Error).message}); nothing was changed`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArpPatchError('patch refused: the table is not a JSON object; nothing was changed');
  const out = new Map<string, ArpEntry>();
  for (const [mac, v] of Object.entries(raw as Record<string, unknown>)) {
    const e = v as Partial<ArpEntry> | null;
    if (typeof e !== 'object' || e === null || typeof e.arp !== 'string' || typeof e.ip !== 'string' || typeof e.port !== 'number' || (e.ndp !== undefined && typeof e.ndp !== 'string')) {
      throw new ArpPatchError(`patch refused: the table's entry ${JSON.stringify(mac)} is not {arp, ip, [ndp,] port}; nothing was changed`);
    }
    out.set(mac, e.ndp === undefined ? { arp: e.arp, ip: e.ip, port: e.port } : { arp: e.arp, ip: e.ip, ndp: e.ndp, port: e.port });
  }
  return out;
}

/** One entry as `JSON.stringify(table, null, 2)` writes it (and arp-table.ts's compiled heads and tails). */
function entryText(mac: string, e: ArpEntry): string {
  return `  ${JSON.stringify(mac)}: {\n    "arp": ${JSON.stringify(e.arp)},\n    "ip": ${JSON.stringify(e.ip)}${e.ndp === undefined ? '' : `,\n    "ndp": ${JSON.stringify(e.ndp)}`},\n    "port": ${e.port}\n  }`;
}

const ENTRY_HEAD = /^ {2}"([0-9a-f]{2}(?::[0-9a-f]{2}){5})": \{\n$/;

/**
 * The patch applied to the text itself, for a table in the form the head
 * node renders (what a matching SHA-256 proves): each changed MAC's place is
 * found by a binary search over the text (an entry starts on a line of its
 * own, `  "<mac>": {`, in MAC order), changed entries replaced, new ones put
 * in their place, and the runs of entries between copied as they are: a few
 * dozen short searches, nothing else read, parsed or rewritten. What is not
 * looked at is vouched for by the hashes: the table's before, and the
 * result's after, which patch-table checks against the head node's before
 * writing (a text not in this form could only give a result that fails that
 * check). Undefined when the ends or an entry it reads are not in that form,
 * for the caller to parse the table instead.
 */
export function spliceArpPatch(text: string, ops: readonly ArpPatchOp[]): string | undefined {
  return splicePieces(text, ops)
    ?.map((p) => (typeof p === 'string' ? p : text.slice(p[0], p[1])))
    .join('');
}

/**
 * spliceArpPatch's result as bytes, for a table read as bytes and searched as
 * bytes (never decoded whole: a 2.4 MB table is not made a 2.4 MB string),
 * and as chunks (src/byte-chunks.ts), not one buffer: the runs of unchanged
 * entries are views of `data`, each run of new text between them one small
 * buffer, so nothing of the table is copied. `data` must be ASCII, as the
 * head node renders every table, so that a byte is a character. Undefined
 * when spliceArpPatch's would be, or `data` is not ASCII.
 */
export function spliceArpPatchChunks(data: Buffer, ops: readonly ArpPatchOp[]): Buffer[] | undefined {
  if (!isAscii(data)) return undefined;
  const text: TextLike = { length: data.length, indexOf: (s, from) => data.indexOf(s, from, 'latin1'), slice: (a, b) => data.toString('latin1', a, b) };
  const pieces = splicePieces(text, ops);
  if (pieces === undefined) return undefined;
  const chunks: Buffer[] = [];
  let fresh = '';
  for (const p of pieces) {
    if (typeof p === 'string') {
      fresh += p;
      continue;
    }
    if (fresh !== '') chunks.push(Buffer.from(fresh, 'utf8'));
    fresh = '';
    if (p[1] > p[0]) chunks.push(data.subarray(p[0], p[1]));
  }
  if (fresh !== '') chunks.push(Buffer.from(fresh, 'utf8'));
  return chunks;
}

/** What the splice reads of a table: a string, or an ASCII table's bytes seen as one. */
interface TextLike {
  readonly length: number;
  indexOf(s: string, from: number): number;
  slice(start: number, end: number): string;
}

/** The result of spliceArpPatch as pieces in order: new text, or a [start, end) range of `text` copied as it is. */
function splicePieces(text: TextLike, ops: readonly ArpPatchOp[]): Array<string | [number, number]> | undefined {
  const n = text.length;
  const empty = n === 3 && text.slice(0, 3) === '{}\n';
  if (!empty && (n < 10 || text.slice(0, 2) !== '{\n' || text.slice(n - 7, n) !== '\n  }\n}\n' || !ENTRY_HEAD.test(text.slice(2, 2 + 25)))) return undefined;
  /** Where the entries end: the "\n}\n" after the last one. */
  const end = empty ? 1 : n - 3;
  /** The first entry starting at or after p (end when none). */
  const headFrom = (p: number): number => {
    if (p <= 2) return empty ? end : 2;
    const q = text.indexOf('\n  "', p - 1);
    return q < 0 || q + 1 >= end ? end : q + 1;
  };
  let bad = false;
  const macAt = (h: number): string => {
    const m = ENTRY_HEAD.exec(text.slice(h, h + 25));
    if (!m) bad = true;
    return m ? m[1]! : '';
  };
  /** The first entry whose MAC is not below `mac`, at or after `from`. */
  const lowerBound = (mac: string, from: number): number => {
    let lo = from;
    let hi = end;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >> 1);
      const h = headFrom(mid);
      if (h === end || byCodePoint(macAt(h), mac) >= 0) hi = mid;
      else lo = h + 1;
    }
    return headFrom(lo);
  };
  const sorted = [...ops].sort((a, b) => byCodePoint(a.mac, b.mac));
  const chunks: Array<string | [number, number]> = [];
  let cursor = headFrom(0);
  for (const o of sorted) {
    const h = lowerBound(o.mac, cursor);
    // The unchanged entries before this one, as they are (without the ",\n" that follows them).
    if (h > cursor) chunks.push([cursor, h === end ? end : h - 2]);
    const found = h !== end && macAt(h) === o.mac;
    cursor = found ? headFrom(h + 1) : h;
    if (o.entry !== null) chunks.push(entryText(o.mac, o.entry));
  }
  if (cursor < end) chunks.push([cursor, end]);
  if (bad) return undefined;
  if (chunks.length === 0) return ['{}\n'];
  // `{\n` chunk `,\n` chunk ... `\n}\n`
  return ['{\n', ...chunks.flatMap((c, i) => (i === 0 ? [c] : [',\n', c])), '\n}\n'];
}

/** The table's text after the patch's changes. */
export function applyArpPatch(text: string, ops: readonly ArpPatchOp[]): string {
  const spliced = spliceArpPatch(text, ops);
  if (spliced !== undefined) return spliced;
  const entries = parseArpTable(text);
  for (const o of ops) {
    if (o.entry === null) entries.delete(o.mac);
    else entries.set(o.mac, o.entry);
  }
  return renderArpTable(entries);
}
