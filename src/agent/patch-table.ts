/**
 * `esdc-overlay agent patch-table`, run on a node by the head node's daemon
 * (docs/arp-deltas.md#on-the-node): a few ARP entries changed in place of
 * the whole table. Under the node lock: the file must have the SHA-256 the
 * head node expects, the patched table (rendered as the head node renders
 * it) must have the SHA-256 it expects after, and only then are the table
 * and the bundle's copy of it staged, renamed into place and varpd
 * restarted, by the executor apply uses. Any mismatch refuses with the
 * reason and changes nothing; the daemon then sends the whole file.
 */
import { hostname } from 'node:os';
import { EsdcError } from '../errors.js';
import { sha256Hex, sha256HexChunks } from '../sha256.js';
import { executeWork } from '../apply/execute.js';
import { acquireNodeLock } from '../apply/node-lock.js';
import { applyArpPatch, ArpPatchError, parsePatchWords, spliceArpPatchChunks, type ArpPatch } from '../files-config/arp-patch.js';
import { ARP_TABLE_MODE, ARP_TABLE_OWNER } from '../files-config/generator.js';
import type { NodeWork } from '../plan/plan.js';
import type { Transport } from '../transport/transport.js';
import { BUNDLE_MODE, BUNDLE_PATH, BundleError } from './bundle.js';
import { spliceBundleFile } from './bundle-splice.js';
import { bundleOverlays, degradedAfterRestart } from './restart-report.js';
import type { OverlayStatus } from '../discovery/dladm.js';

export interface PatchReport {
  path: string;
  sha256: string;
  changes: number;
  /** The bundle's new version, or null when the node has no bundle listing the table. */
  bundle_version: number | null;
  refreshed: string[];
  /** The bundle's overlays (every one without a bundle) DEGRADED after the varpd restart (docs/arp-deltas.md#on-the-node). */
  degraded: OverlayStatus[];
}

export interface PatchOptions {
  timeoutMs: number;
  /** How long to wait for the node lock (apply or the agent holding it). */
  lockWaitMs?: number;
}

/** A hash in a message: its first 16 digits (64 hex digits in a row read as a key to the CLI's redaction, src/redact.ts). */
export function shortSha(sha: string): string {
  return `${sha.slice(0, 16)}...`;
}

function refuse(why: string): never {
  throw new ArpPatchError(`patch refused: ${why}; nothing was changed (the head node sends the whole file)`);
}

/** Parses the words after `patch-table` and applies them through `t` (the node's own files). */
export async function patchTableWords(t: Transport, words: readonly string[], opts: PatchOptions): Promise<PatchReport> {
  return patchTable(t, parsePatchWords(words), opts);
}

export async function patchTable(t: Transport, patch: ArpPatch, opts: PatchOptions): Promise<PatchReport> {
  const lock = await acquireNodeLock(t, { holder: 'agent', host: hostname(), pid: process.pid, timeoutMs: opts.timeoutMs, waitMs: opts.lockWaitMs ?? 10_000 });
  try {
    const have = await t.readFile(patch.path, opts.timeoutMs);
    if (have === undefined) refuse(`${patch.path} does not exist`);
    // Hashed and patched as bytes, as read (src/files-config/arp-patch.ts spliceArpPatchChunks); a table not in the head node's form is decoded and parsed.
    const before = sha256Hex(have!.data);
    if (before !== patch.from) refuse(`${patch.path} has SHA-256 ${shortSha(before)}, not ${shortSha(patch.from)} as the head node expects (changed since it was written)`);
    // The new table as chunks, views of what was read and the new entries: hashed, staged and spliced into the bundle
    // without ever being one new buffer (docs/arp-deltas.md#chunks-not-copies).
    const next = spliceArpPatchChunks(have!.data, patch.ops) ?? [Buffer.from(applyArpPatch(have!.data.toString('utf8'), patch.ops), 'utf8')];
    const after = sha256HexChunks(next);
    if (after !== patch.to) refuse(`the patched ${patch.path} has SHA-256 ${shortSha(after)}, not ${shortSha(patch.to)} as the head node expects`);
    const stage: NodeWork['stage'] = [{ path: patch.path, content: next, mode: ARP_TABLE_MODE, owner: ARP_TABLE_OWNER, group: ARP_TABLE_OWNER }];
    let version: number | null = null;
    const bundle = await t.readFile(BUNDLE_PATH, opts.timeoutMs);
    if (bundle !== undefined) {
      // The agent checks the node against the bundle: its copy of the table moves with the table (as src/daemon/tables.ts does for a whole file),
      // spliced in (docs/arp-deltas.md#the-bundle-spliced). A bundle the agent would refuse is refused here: nothing changes, the head node sends the whole file.
      let spliced: ReturnType<typeof spliceBundleFile>;
      try {
        spliced = spliceBundleFile(bundle.data, patch.path, next, after, patch.nowMs, BUNDLE_PATH);
      } catch (err) {
        if (err instanceof BundleError) refuse(err.message.split('\n').join(' '));
        throw err;
      }
      if (spliced !== undefined) {
        version = spliced.version;
        stage.push({ path: BUNDLE_PATH, content: spliced.chunks, mode: BUNDLE_MODE });
      }
    }
    const work: NodeWork = { node: t.node, stage, remove: [], leftovers: [], usbkey: undefined, createOverlays: [], services: ['varpd'], manifest: undefined };
    // Every other overlay's table is checked before the restart (src/apply/restart-guard.ts); ours by their hash in the bundle.
    const ours = bundleOverlays(bundle?.data);
    const run = await executeWork(new Map([[t.node, t]]), [work], { concurrency: 1, timeoutMs: opts.timeoutMs, nodeLock: false, ...(ours ? { knownGoodTables: ours.knownGood } : {}) });
    const out = run.outcomes[0];
    if (!run.ok) throw new EsdcError(`patch of ${patch.path} failed: ${out?.status ?? 'failed'}: ${out?.error ?? ''}`, { code: 'PatchFailed' });
    const degraded = out?.refreshed.includes('varpd') ? await degradedAfterRestart(t, ours?.links ?? 'all', opts.timeoutMs) : [];
    return { path: patch.path, sha256: after, changes: patch.ops.length, bundle_version: version, refreshed: out?.refreshed ?? [], degraded };
  } finally {
    await lock.release();
  }
}
