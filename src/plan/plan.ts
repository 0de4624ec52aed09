/**
 * The plan: per node, what differs between the desired state and what the
 * node has (docs/operations.md#plan). Pure: data in (DesiredNode, ActualNode), data
 * out (NodePlan for people and scripts, NodeWork for the executor).
 */
import type { DesiredNode, OverlayLink, UsbkeyLine } from '../desired/desired.js';
import { fileText } from '../desired/desired.js';
import type { StageContent } from '../byte-chunks.js';
import { sha256Hex } from '../sha256.js';
import { lineDiff } from './line-diff.js';
import { MANIFEST_MODE, MANIFEST_PATH, parseManifest, serializeManifest, type Manifest } from './manifest.js';
import { sortServices, type ServiceName } from '../desired/services.js';
import { editUsbkeyConfig, type UsbkeyChange } from './usbkey-config.js';
import { usbkeyKeyOwner } from '../rules/usbkey-lines.js';
import { overlayProperties } from '../syntax/rule-string.js';

export const USBKEY_CONFIG = '/usbkey/config';

/** What was read from a node. */
export interface ActualFile {
  mode: number;
  text: string;
}

export interface ActualNode {
  node: string;
  /** Every desired and managed path that was read; null when absent. */
  files: ReadonlyMap<string, ActualFile | null>;
  /** /usbkey/config, or null when the node has none. */
  usbkey: ActualFile | null;
  /** Overlay links (`dladm show-overlay`) and their properties. */
  overlays: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Our manifest, or undefined when absent. */
  manifestText: string | undefined;
  /** Staged files of an interrupted run (stagedTarget's names, in directories we write). */
  leftovers?: readonly string[];
  /** Bytes read from the node to learn all this (file contents, command output): for the log and benchmarks. */
  bytesRead?: number;
}

export interface FilePlan {
  path: string;
  action: 'add' | 'change' | 'remove';
  /** The mode it will have (add, change) and has (change, remove). */
  mode?: number;
  oldMode?: number;
  contentChanged: boolean;
  secret: boolean;
  /** null for a file no service reads (the agent's bundle). */
  refresh: ServiceName | null;
  /** Short line diff; always empty for secret files. */
  diff: string[];
  /** SHA-256 of the new content (not for secret files). */
  sha256?: string;
  /** A remove of a staged file an interrupted run left behind. */
  leftover?: boolean;
}

export interface OverlayPlan {
  link: string;
  rule: string;
  vni: number;
  /** `create`: apply creates it; `pending`: it exists with other properties until reboot. */
  action: 'create' | 'pending';
  argv: readonly string[];
  /** For `pending`: `property: live → desired`. */
  differences: string[];
}

export interface NodePlan {
  node: string;
  files: FilePlan[];
  usbkey: UsbkeyChange[];
  overlays: OverlayPlan[];
  /** Refreshes apply runs, in order, once each. */
  services: ServiceName[];
  /** Changes that are written now but take effect only at the node's next reboot. */
  reboot: string[];
  /** Changes that break connectivity while they roll out. */
  disruptive: string[];
  warnings: string[];
  /** True when apply has something to do that a person should see. */
  changed: boolean;
}

export interface Plan {
  nodes: NodePlan[];
}

export function planIsEmpty(plan: Plan): boolean {
  return plan.nodes.every((n) => !n.changed);
}

/** What the executor does on one node; holds file contents, so it is never printed. */
export interface NodeWork {
  node: string;
  /** Each file's content: a text, bytes, or bytes in chunks (src/byte-chunks.ts, what `agent patch-table` stages). */
  stage: Array<{ path: string; content: StageContent; mode: number; owner?: string; group?: string }>;
  remove: string[];
  /** Staged files of an interrupted run, removed with the commit (they refresh nothing). */
  leftovers: string[];
  /** The new /usbkey/config, when our lines change, and the text it was computed from. */
  usbkey: { content: string; mode: number; base: string } | undefined;
  createOverlays: OverlayLink[];
  services: ServiceName[];
  /** The manifest to commit with the files (with the refreshes still owed), and the one after refreshes. */
  manifest: { atCommit: string; final: string } | undefined;
  /**
   * ARP tables that are ours on the node: the desired ones (written now, or
   * found equal to what we render) and those the manifest lists (being
   * removed, or removed by a run whose restart is still owed). The check
   * before a varpd restart reads only the others (docs/smartos-rules.md#before-a-restart).
   */
  ourTables?: readonly string[];
}

export function workIsEmpty(w: NodeWork): boolean {
  return w.stage.length === 0 && w.remove.length === 0 && w.leftovers.length === 0 && !w.usbkey && w.createOverlays.length === 0 && w.services.length === 0 && !w.manifest;
}

/** The properties of the rule string a node's /usbkey/config has now: its text, read from the node, is all there is of it. */
function liveRuleProps(value: string | undefined): Map<string, string> {
  return overlayProperties(value === undefined ? [] : value.split(/\s+/));
}

const LIVE_AT_REFRESH = 'net-virtual refresh creates new overlays and vNICs but never changes existing ones';

/** Reboot and disruption notes for /usbkey/config changes (docs/file-formats.md#usbkey-config). */
function usbkeyNotes(changes: readonly UsbkeyChange[], desired: readonly UsbkeyLine[]): { reboot: string[]; disruptive: string[] } {
  const wanted = new Map(desired.map((l) => [l.key, l]));
  const reboot: string[] = [];
  const disruptive: string[] = [];
  for (const c of changes) {
    const owner = usbkeyKeyOwner(c.key);
    const rule = owner?.kind === 'rule' ? owner.rule : undefined;
    if (rule !== undefined && c.action === 'change') {
      const before = liveRuleProps(c.old);
      // The new value is ours: its properties come with it (UsbkeyLine.properties), never parsed back.
      const after = new Map(Object.entries(wanted.get(c.key)?.properties ?? {}));
      const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
      const diffs = keys.filter((k) => before.get(k) !== after.get(k)).map((k) => `${k} ${before.get(k) ?? '(none)'} → ${after.get(k) ?? '(none)'}`);
      reboot.push(`rule ${rule}: ${diffs.join(', ') || 'rule string'} (existing overlays keep the old rule: ${LIVE_AT_REFRESH})`);
      if (before.get('vxlan/listen_port') !== after.get('vxlan/listen_port')) {
        disruptive.push(
          `rule ${rule}: port ${before.get('vxlan/listen_port') ?? '?'} → ${after.get('vxlan/listen_port') ?? '?'}: ` +
            'nodes on different ports cannot reach each other until every node of the rule has rebooted',
        );
      }
    } else if (rule !== undefined && c.action === 'remove') {
      reboot.push(`rule ${rule} removed: its overlays stay until reboot`);
    } else if (owner?.kind === 'adminoverlay' && c.action !== 'add') {
      reboot.push(`adminoverlay vNIC ${owner.field}: ${c.old ?? '(none)'} → ${c.new ?? '(removed)'} (${LIVE_AT_REFRESH})`);
    }
  }
  return { reboot, disruptive };
}

/** What the model says about the node itself, beyond its DesiredNode. */
export interface NodeContext {
  /** Recorded in the manifest, so a later PDC rename is recognised. */
  pdc?: string;
}

/** The files part of a node's plan: what to stage, remove and refresh. */
interface FilesPart {
  files: FilePlan[];
  stage: NodeWork['stage'];
  remove: string[];
  leftovers: string[];
}

/**
 * Desired files against the node's, our files no longer wanted (by the prior
 * manifest), and the staged copies an interrupted run left; adds to
 * `services` what a change refreshes.
 */
function planFiles(desired: DesiredNode, actual: ActualNode, prior: Manifest, services: Set<ServiceName>): FilesPart {
  const files: FilePlan[] = [];
  const stage: NodeWork['stage'] = [];
  const wantedPaths = new Set<string>();
  for (const f of desired.files) {
    wantedPaths.add(f.path);
    const text = fileText(f);
    const have = actual.files.get(f.path) ?? null;
    // Another writer's file: ours only to create.
    if (f.onlyIfMissing && have !== null) continue;
    const contentChanged = have === null || have.text !== text;
    const modeChanged = have !== null && have.mode !== f.mode;
    if (!contentChanged && !modeChanged) continue;
    const plan: FilePlan = {
      path: f.path,
      action: have === null ? 'add' : 'change',
      mode: f.mode,
      contentChanged,
      secret: f.secret,
      refresh: f.refresh,
      diff: f.secret || have === null ? [] : lineDiff(have.text, text),
    };
    if (have !== null) plan.oldMode = have.mode;
    if (!f.secret) plan.sha256 = sha256Hex(text);
    files.push(plan);
    stage.push({ path: f.path, content: text, mode: f.mode, owner: f.owner, group: f.group });
    if (contentChanged && f.refresh !== null) services.add(f.refresh);
  }
  const remove: string[] = [];
  for (const [path, { refresh }] of Object.entries(prior.files)) {
    if (wantedPaths.has(path)) continue;
    const have = actual.files.get(path) ?? null;
    if (have === null) continue;
    files.push({ path, action: 'remove', oldMode: have.mode, contentChanged: true, secret: false, refresh, diff: [] });
    remove.push(path);
    services.add(refresh);
  }
  // A staged copy may hold a key that was never installed (ike.preshared): it goes, unread and unshown.
  const leftovers = [...(actual.leftovers ?? [])];
  for (const path of leftovers) {
    files.push({ path, action: 'remove', contentChanged: true, secret: true, refresh: null, diff: [], leftover: true });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, stage, remove, leftovers };
}

/** Overlays to create, and live ones whose properties differ (they change at reboot: noted in `reboot`). */
function planOverlays(desired: DesiredNode, actual: ActualNode, reboot: string[]): { overlays: OverlayPlan[]; createOverlays: OverlayLink[] } {
  const overlays: OverlayPlan[] = [];
  for (const o of desired.overlays) {
    const live = actual.overlays.get(o.link);
    if (!live) {
      overlays.push({ link: o.link, rule: o.rule, vni: o.vni, action: 'create', argv: o.argv, differences: [] });
      continue;
    }
    const differences = Object.entries(o.properties)
      .filter(([k, v]) => live.has(k) && live.get(k) !== v)
      .map(([k, v]) => `${k}: ${live.get(k)} → ${v}`);
    if (differences.length > 0) {
      overlays.push({ link: o.link, rule: o.rule, vni: o.vni, action: 'pending', argv: o.argv, differences });
      reboot.push(`overlay ${o.link}: ${differences.join(', ')} (the live overlay keeps its properties until reboot)`);
    }
  }
  const createOverlays = desired.overlays.filter((o) => overlays.some((p) => p.link === o.link && p.action === 'create'));
  return { overlays, createOverlays };
}

/**
 * The manifest to commit with the files and the one after the refreshes:
 * while refreshes are owed, files being removed stay listed (a run that dies
 * midway still owns them). Undefined when the node's manifest is already final.
 */
function planManifest(
  desired: DesiredNode,
  actual: ActualNode,
  prior: Manifest,
  remove: readonly string[],
  services: ServiceName[],
  node: NodeContext,
): NodeWork['manifest'] {
  const base = (pendingRefresh: ServiceName[], files: Manifest['files']): string =>
    serializeManifest({ version: 1, files, pendingRefresh, ...(node.pdc !== undefined ? { pdc: node.pdc } : {}) });
  // Files another writer owns are not ours to remove later, nor is the agent's bundle: they stay out of the manifest.
  const owned = desired.files.filter((f): f is typeof f & { refresh: ServiceName } => !f.onlyIfMissing && !f.outsideManifest && f.refresh !== null);
  const final = base([], Object.fromEntries(owned.map((f) => [f.path, { refresh: f.refresh }])));
  if (services.length > 0) {
    // Until the refreshes ran, files being removed stay listed: a run that dies midway still owns them.
    const files = Object.fromEntries([
      ...remove.map((p) => [p, { refresh: prior.files[p]!.refresh }] as const),
      ...owned.map((f) => [f.path, { refresh: f.refresh }] as const),
    ]);
    return { atCommit: base(services, files), final };
  }
  return actual.manifestText !== final ? { atCommit: final, final } : undefined;
}

/** Compares one node's desired state with what it has. */
export function planNode(desired: DesiredNode, actual: ActualNode, node: NodeContext = {}): { plan: NodePlan; work: NodeWork } {
  const warnings: string[] = [];
  const parsed = parseManifest(actual.manifestText);
  if (parsed.problem) warnings.push(parsed.problem);
  const prior: Manifest = parsed.manifest;

  const services = new Set<ServiceName>(prior.pendingRefresh);
  const { files, stage, remove, leftovers } = planFiles(desired, actual, prior, services);

  const usbkeyBefore = actual.usbkey?.text ?? '';
  const edit = editUsbkeyConfig(usbkeyBefore, desired.usbkey);
  if (edit.changes.length > 0) services.add('net-virtual');
  const notes = usbkeyNotes(edit.changes, desired.usbkey);

  const { overlays, createOverlays } = planOverlays(desired, actual, notes.reboot);

  if (prior.pdc !== undefined && node.pdc !== undefined && prior.pdc !== node.pdc) {
    notes.disruptive.push(
      `PDC ${prior.pdc} → ${node.pdc}: the node's peers switch between the admin and the external network (and IPsec) ` +
        'for it; until every node has the new tables and keys, some of them reach it on the old path',
    );
  }

  const sortedServices = sortServices(services);
  const manifest = planManifest(desired, actual, prior, remove, sortedServices, node);

  const changed = files.length > 0 || edit.changes.length > 0 || createOverlays.length > 0 || sortedServices.length > 0;
  return {
    plan: {
      node: desired.node,
      files,
      usbkey: edit.changes,
      overlays,
      services: sortedServices,
      reboot: notes.reboot,
      disruptive: notes.disruptive,
      warnings,
      changed,
    },
    work: {
      node: desired.node,
      stage,
      remove,
      leftovers,
      usbkey: edit.changes.length > 0 ? { content: edit.text, mode: actual.usbkey?.mode ?? 0o644, base: usbkeyBefore } : undefined,
      createOverlays,
      services: sortedServices,
      manifest,
      ourTables: [...new Set([...desired.files.filter((f) => f.refresh === 'varpd').map((f) => f.path), ...Object.keys(prior.files).filter((p) => prior.files[p]!.refresh === 'varpd')])].sort(),
    },
  };
}

export { MANIFEST_MODE, MANIFEST_PATH };
