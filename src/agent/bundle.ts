/**
 * The bundle: everything one node needs to reconcile itself, left on the
 * node by `apply` and read by the agent (docs/file-formats.md#bundle-json). Pure data derived
 * from the node's DesiredNode, a version and a SHA-256 checksum. Pure:
 * build, serialise, parse and verify.
 *
 * Version: a millisecond timestamp, bumped only when the content changes,
 * and never below the previous bundle's version + 1. A counter in the state
 * would make every apply write the state (one more store write, contended
 * between head nodes) for what is a per-node fact; the timestamp needs no
 * store and orders bundles from any head node, and `max(now, previous + 1)`
 * keeps it increasing on one node even when a clock steps back. Because an
 * unchanged content keeps its version (and its bytes), an apply with nothing
 * to do rewrites no bundle.
 *
 * Layout (docs/file-formats.md#bundle-json): one line of JSON, the index,
 * then the files' contents raw, one after another. The index lists each
 * file's byte length and SHA-256, and its own checksum covers those: so
 * replacing one file's content (a VM move's patch, src/agent/bundle-splice.ts)
 * rewrites a few kilobytes of index and copies the other contents' bytes,
 * where a JSON string would have to be escaped, unescaped and rehashed whole.
 */
import { isUtf8 } from 'node:buffer';
import { EsdcError, formatIssue, type ValidationIssue } from '../errors.js';
import { sha256Hex } from '../sha256.js';
import type { DesiredFile, DesiredNode, OverlayLink, UsbkeyLine } from '../desired/desired.js';
import { fileText, textFile } from '../desired/desired.js';
import { SERVICE_ORDER, type ServiceName } from '../desired/services.js';
import { isOwnedUsbkeyKey, usbkeyKeyOwner } from '../rules/usbkey-lines.js';
import { bundleMayWrite, modeProblem } from './bundle-paths.js';

/** Where apply leaves the bundle on the node. */
export const BUNDLE_PATH = '/opt/custom/esdc-overlay/bundle.json';
/** It holds keys. */
export const BUNDLE_MODE = 0o400;
export const BUNDLE_FORMAT = 'esdc-overlay-bundle/2';

/** A desired file with its content as one string, as the bundle carries it. */
export type BundleFile = Omit<DesiredFile, 'content' | 'onlyIfMissing' | 'outsideManifest' | 'bytes' | 'refresh'> & {
  refresh: ServiceName;
  content: string;
  /** DesiredFile.onlyIfMissing */
  only_if_missing?: true;
};

/** What the checksum covers, in this key order. */
export interface BundleBody {
  format: typeof BUNDLE_FORMAT;
  node: string;
  version: number;
  pdc?: string;
  files: BundleFile[];
  usbkey: UsbkeyLine[];
  /** Each overlay with its argv and the `-p` properties that argv sets (carried, so the agent never parses argv back). */
  overlays: Array<{ link: string; rule: string; vni: number; argv: string[]; properties: Record<string, string> }>;
}

export interface Bundle extends BundleBody {
  /** The index's checksum: over the index, which holds every file's SHA-256, so it stands for the whole bundle. */
  sha256: string;
}

/** A file as the index lists it: its content follows the index, `bytes` long (UTF-8), with SHA-256 `sha256`. */
export type BundleIndexFile = Omit<BundleFile, 'content'> & { bytes: number; sha256: string };

/** The index line: the body with each content replaced by its length and hash, and the index's own checksum. */
export interface BundleIndex extends Omit<BundleBody, 'files'> {
  files: BundleIndexFile[];
  sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;


/** The body without version: what decides whether a new version is due. */
function contentKey(b: Omit<BundleBody, 'version' | 'format'>): string {
  return JSON.stringify({ node: b.node, pdc: b.pdc ?? null, files: b.files, usbkey: b.usbkey, overlays: b.overlays });
}

function bodyOf(desired: DesiredNode, pdc: string | undefined): Omit<BundleBody, 'version' | 'format'> {
  return {
    node: desired.node,
    ...(pdc !== undefined ? { pdc } : {}),
    // The files the agent keeps: every one a service reads (not the bundle itself, once it joined the desired files).
    files: desired.files.filter((f): f is DesiredFile & { refresh: ServiceName } => f.refresh !== null && !f.outsideManifest).map((f) => ({
      path: f.path,
      mode: f.mode,
      owner: f.owner,
      group: f.group,
      secret: f.secret,
      refresh: f.refresh,
      ...(f.onlyIfMissing ? { only_if_missing: true } : {}),
      content: fileText(f),
    })),
    usbkey: desired.usbkey.map((l) => ({ key: l.key, value: l.value, ...(l.properties !== undefined ? { properties: { ...l.properties } } : {}) })),
    overlays: desired.overlays.map((o) => ({ link: o.link, rule: o.rule, vni: o.vni, argv: [...o.argv], properties: { ...o.properties } })),
  };
}

/** A file's index entry, in the key order every writer uses. */
export function indexFile(f: Omit<BundleFile, 'content'>, bytes: number, sha256: string): BundleIndexFile {
  return {
    path: f.path,
    mode: f.mode,
    owner: f.owner,
    group: f.group,
    secret: f.secret,
    refresh: f.refresh,
    ...(f.only_if_missing ? { only_if_missing: true } : {}),
    bytes,
    sha256,
  };
}

/** The index line (with its newline) for `index` without its checksum: the checksum is the SHA-256 of the JSON text of the rest, in this key order. */
export function serializeIndex(index: Omit<BundleIndex, 'sha256' | 'format'>): string {
  const ordered: Omit<BundleIndex, 'sha256'> = {
    format: BUNDLE_FORMAT,
    node: index.node,
    version: index.version,
    ...(index.pdc !== undefined ? { pdc: index.pdc } : {}),
    files: index.files,
    usbkey: index.usbkey,
    overlays: index.overlays,
  };
  return `${JSON.stringify({ ...ordered, sha256: sha256Hex(JSON.stringify(ordered)) })}\n`;
}

export function serializeBundle(body: BundleBody): string {
  const files = body.files.map((f) => indexFile(f, Buffer.byteLength(f.content), sha256Hex(f.content)));
  return `${serializeIndex({ ...body, files })}${body.files.map((f) => f.content).join('')}`;
}

/**
 * The bundle text apply would have staged for `desired` at `version`: what a
 * node has when nothing changed since (a plan compares hashes with it before
 * reading the node's bundle, src/operations/bundle.ts).
 */
export function bundleTextAt(desired: DesiredNode, pdc: string | undefined, version: number): string {
  return serializeBundle({ format: BUNDLE_FORMAT, version, ...bodyOf(desired, pdc) });
}

/** Where a bundle's version stands: `serializeIndex` writes format, node, then version, first. */
export function bundleVersionIn(prefix: string): number | undefined {
  const m = /^\{"format":"[^"]*","node":"[^"\\]*","version":(\d{1,16})[,}]/.exec(prefix);
  return m ? Number(m[1]) : undefined;
}

/** The version the node's agent last applied (its floor: it refuses anything below). */
export interface VersionFloor {
  version: number;
  sha256: string | null;
}

/**
 * The bundle text apply stages for a node. `previous` is the bundle the node
 * has (undefined when none or unreadable): same content → the same text,
 * else a new version above `nowMs`, the previous one and the agent's floor.
 * The floor matters when the bundle there is not the one the agent applied
 * (removed, damaged): a head node whose clock was once ahead left a floor
 * that `nowMs` alone would never reach, and the agent would refuse for good.
 */
export function buildBundle(desired: DesiredNode, pdc: string | undefined, previous: string | undefined, nowMs: number, floor?: VersionFloor): string {
  const body = bodyOf(desired, pdc);
  const belowFloor = (b: Pick<Bundle, 'version' | 'sha256'>): boolean =>
    floor !== undefined && (b.version < floor.version || (b.version === floor.version && floor.sha256 !== null && floor.sha256 !== b.sha256));
  // The usual case first (every no-op, on every node): the node's bundle is, byte for byte, the one this
  // body serializes to at the node's version. Then its contents are this body's and hash to what its
  // index says (they are the same strings), and only the index needs checking (bench/RESULTS.md, "No-op
  // apply: the CLI's per-node work"). Anything else, even one byte, takes the full comparison below.
  const same = previous === undefined ? undefined : sameAtVersion(body, previous);
  if (same !== undefined) {
    if (!belowFloor(same)) return previous!;
    return serializeBundle({ format: BUNDLE_FORMAT, version: Math.max(Math.trunc(nowMs), same.version + 1, (floor?.version ?? 0) + 1), ...body });
  }
  let prior: Bundle | undefined;
  try {
    // Only to compare contents: what the agent may take is the agent's check, not apply's.
    prior = previous === undefined ? undefined : parseBundle(previous, 'bundle', { policy: false });
  } catch {
    prior = undefined;
  }
  if (prior && contentKey(prior) === contentKey(body) && !belowFloor(prior)) return previous!;
  const version = Math.max(Math.trunc(nowMs), (prior?.version ?? 0) + 1, (floor?.version ?? 0) + 1);
  return serializeBundle({ format: BUNDLE_FORMAT, version, ...body });
}

/**
 * `previous`'s index when `previous` is exactly `body` serialized at the
 * version its start names, and that index passes parseBundleIndex (as the
 * full parse would require); else undefined. Equal text means equal
 * contents, so their hashes need not be recomputed from the node's bytes.
 */
function sameAtVersion(body: Omit<BundleBody, 'version' | 'format'>, previous: string): BundleIndex | undefined {
  const version = bundleVersionIn(previous.slice(0, 512));
  if (version === undefined || version < 1 || !Number.isSafeInteger(version)) return undefined;
  if (serializeBundle({ format: BUNDLE_FORMAT, version, ...body }) !== previous) return undefined;
  try {
    return parseBundleIndex(Buffer.from(previous, 'utf8'), 'bundle', { policy: false }).index;
  } catch {
    return undefined;
  }
}

/** Raised for a bundle that is malformed or whose checksum does not match; nothing is changed. */
export class BundleError extends EsdcError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[], opts: { code: string }) {
    super(`${message}:\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`, opts);
    this.issues = issues;
  }
}

const OWNER = /^[a-z_][a-z0-9_-]{0,31}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A bundle's index, checked, and where its first file's content starts. */
export interface ParsedIndex {
  index: BundleIndex;
  /** Byte offset of the first content (just past the index line's newline). */
  contentAt: number;
}

function badBundle(source: string, issues: ValidationIssue[]): never {
  throw new BundleError(`${source} is not a valid bundle`, issues, { code: 'BadBundle' });
}

function checksumMismatch(source: string, path: string, what: string): never {
  throw new BundleError(`${source}: checksum mismatch: the bundle is damaged or was edited`, [{ path, message: `does not match ${what}` }], {
    code: 'BundleChecksum',
  });
}

/**
 * Parses and verifies a bundle's index (its first line): JSON, format,
 * checksum, then the shape of every field, and (`policy`, the default) what
 * the agent may take: only the paths the plan writes, no setuid/setgid/sticky
 * or world-writable mode; and that the contents' lengths add up to what
 * follows the index. The contents themselves are not read. Messages name the
 * field, never a file's content (it may be a key).
 */
export function parseBundleIndex(data: Buffer, source = 'bundle', opts: { policy?: boolean } = {}): ParsedIndex {
  const policy = opts.policy ?? true;
  const fail = (issues: ValidationIssue[]): never => badBundle(source, issues);
  const nl = data.indexOf(10);
  if (nl < 0) return fail([{ path: '', message: 'has no index line' }]);
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8', 0, nl));
  } catch (err) {
    return fail([{ path: '', message: `index line is not JSON (${(err as Error).message})` }]);
  }
  if (!isRecord(raw)) return fail([{ path: '', message: 'index line is not a JSON object' }]);
  const { sha256: sum, ...body } = raw;
  if (body.format !== BUNDLE_FORMAT) {
    return fail([{ path: 'format', value: body.format, message: `must be ${BUNDLE_FORMAT} (a bundle written by an older esdc-overlay: run apply from the head node to rewrite it)` }]);
  }
  if (typeof sum !== 'string' || sum !== sha256Hex(JSON.stringify(body))) checksumMismatch(source, 'sha256', 'the index');
  const issues: ValidationIssue[] = [];
  const b = body as Record<string, unknown>;
  if (typeof b.node !== 'string' || b.node === '') issues.push({ path: 'node', value: b.node, message: 'must be a node name' });
  if (typeof b.version !== 'number' || !Number.isSafeInteger(b.version) || b.version < 1) issues.push({ path: 'version', value: b.version, message: 'must be a positive integer' });
  if (b.pdc !== undefined && typeof b.pdc !== 'string') issues.push({ path: 'pdc', value: b.pdc, message: 'must be a string' });
  const files = Array.isArray(b.files) ? b.files : (issues.push({ path: 'files', message: 'must be a list' }), []);
  let total = 0;
  files.forEach((f: unknown, i) => {
    const at = `files[${i}]`;
    if (!isRecord(f)) return issues.push({ path: at, message: 'must be an object' });
    if (typeof f.path !== 'string' || !f.path.startsWith('/') || f.path.split('/').includes('..')) {
      issues.push({ path: `${at}.path`, value: f.path, message: 'must be an absolute path without ..' });
    } else if (policy && !bundleMayWrite(f.path)) {
      issues.push({ path: `${at}.path`, value: f.path, message: 'must be a file the plan writes (IPsec and ipf.d files, /opt/custom/networking/<name>, /opt/custom/esdc-overlay/<name>)' });
    }
    if (typeof f.mode !== 'number' || !Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777) issues.push({ path: `${at}.mode`, value: f.mode, message: 'must be permission bits' });
    else if (policy && modeProblem(f.mode)) issues.push({ path: `${at}.mode`, value: `0${f.mode.toString(8)}`, message: `${modeProblem(f.mode)}: refused` });
    for (const k of ['owner', 'group'] as const) if (typeof f[k] !== 'string' || !OWNER.test(f[k] as string)) issues.push({ path: `${at}.${k}`, value: f[k], message: 'must be a user or group name' });
    if (typeof f.secret !== 'boolean') issues.push({ path: `${at}.secret`, message: 'must be true or false' });
    if (typeof f.refresh !== 'string' || !(SERVICE_ORDER as readonly string[]).includes(f.refresh)) issues.push({ path: `${at}.refresh`, value: f.refresh, message: `must be one of ${SERVICE_ORDER.join(', ')}` });
    if (typeof f.bytes !== 'number' || !Number.isSafeInteger(f.bytes) || f.bytes < 0) issues.push({ path: `${at}.bytes`, value: f.bytes, message: 'must be the byte length of the content' });
    else total += f.bytes;
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) issues.push({ path: `${at}.sha256`, message: 'must be the SHA-256 of the content (64 hex digits)' });
    if (f.only_if_missing !== undefined && f.only_if_missing !== true) issues.push({ path: `${at}.only_if_missing`, value: f.only_if_missing, message: 'must be true or absent' });
    return undefined;
  });
  const usbkey = Array.isArray(b.usbkey) ? b.usbkey : (issues.push({ path: 'usbkey', message: 'must be a list' }), []);
  usbkey.forEach((l: unknown, i) => {
    if (!isRecord(l) || typeof l.key !== 'string' || !isOwnedUsbkeyKey(l.key)) issues.push({ path: `usbkey[${i}].key`, value: isRecord(l) ? l.key : l, message: 'must be an overlay key we own' });
    else if (typeof l.value !== 'string' || /[\n"]/.test(l.value)) issues.push({ path: `usbkey[${i}].value`, message: 'must be one line without double quotes' });
    else if (usbkeyKeyOwner(l.key)?.kind === 'rule' ? !isRecord(l.properties) || !Object.values(l.properties).every((v) => typeof v === 'string') : l.properties !== undefined) {
      issues.push({ path: `usbkey[${i}].properties`, message: "must map each -p property of a rule's line to its value, and be absent on other lines (run apply to rewrite the bundle)" });
    }
  });
  const overlays = Array.isArray(b.overlays) ? b.overlays : (issues.push({ path: 'overlays', message: 'must be a list' }), []);
  overlays.forEach((o: unknown, i) => {
    const at = `overlays[${i}]`;
    if (!isRecord(o) || typeof o.link !== 'string' || typeof o.rule !== 'string' || typeof o.vni !== 'number') return issues.push({ path: at, message: 'must have link, rule and vni' });
    const argv = o.argv;
    if (!Array.isArray(argv) || argv[0] !== 'dladm' || argv[1] !== 'create-overlay' || !argv.every((a) => typeof a === 'string')) {
      issues.push({ path: `${at}.argv`, message: 'must be a dladm create-overlay command' });
    }
    const props = o.properties;
    if (!isRecord(props) || !Object.values(props).every((v) => typeof v === 'string')) {
      issues.push({ path: `${at}.properties`, message: 'must map each -p property of argv to its value (bundles from before issue 17 lack it: run apply to rewrite the bundle)' });
    }
    return undefined;
  });
  if (issues.length === 0 && total !== data.length - (nl + 1)) {
    issues.push({ path: 'files[].bytes', value: total, message: `must add up to the ${data.length - (nl + 1)} bytes that follow the index` });
  }
  if (issues.length > 0) fail(issues);
  return { index: raw as unknown as BundleIndex, contentAt: nl + 1 };
}

/**
 * Parses and verifies a bundle: its index (parseBundleIndex), then every
 * file's content against the length and SHA-256 the index gives it. Messages
 * name the field, never a file's content (it may be a key).
 */
export function parseBundle(text: string | Buffer, source = 'bundle', opts: { policy?: boolean } = {}): Bundle {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const { index, contentAt } = parseBundleIndex(data, source, opts);
  let at = contentAt;
  const files = index.files.map((f, i): BundleFile => {
    const bytes = data.subarray(at, at + f.bytes);
    at += f.bytes;
    if (sha256Hex(bytes) !== f.sha256) checksumMismatch(source, `files[${i}].sha256`, 'the content');
    if (!isUtf8(bytes)) badBundle(source, [{ path: `files[${i}].bytes`, message: 'must be UTF-8 text' }]);
    const { bytes: _, sha256: __, ...meta } = f;
    return { ...meta, content: bytes.toString('utf8') };
  });
  return { ...index, files };
}

/** The DesiredNode a bundle describes: what the agent plans against. */
export function desiredFromBundle(b: Bundle): DesiredNode {
  return {
    node: b.node,
    usbkey: b.usbkey.map((l) => ({ key: l.key, value: l.value, ...(l.properties !== undefined ? { properties: { ...l.properties } } : {}) })),
    // The bundle carries the properties apply computed with the argv: nothing is parsed back from argv.
    overlays: b.overlays.map((o): OverlayLink => ({ link: o.link, rule: o.rule, vni: o.vni, argv: o.argv, properties: { ...o.properties } })),
    files: b.files.map((f) =>
      textFile({ path: f.path, mode: f.mode, owner: f.owner, group: f.group, secret: f.secret, refresh: f.refresh, text: f.content, ...(f.only_if_missing ? { onlyIfMissing: true } : {}) }),
    ),
  };
}
