/**
 * What a node should have: the desired half of a plan. Data only; built by
 * plan/desired-state.ts from the Model (each generator imports this
 * vocabulary, which sits below them all), consumed by render (to a directory), plan
 * (diff against the node) and apply.
 */
import type { Node } from '../model/model.js';
import type { RenderContext } from './render-context.js';
import type { ServiceName } from './services.js';

/** A `key="value"` line of /usbkey/config. */
export interface UsbkeyLine {
  key: string;
  value: string;
  /**
   * A rule's line: the `-p` properties its value sets, in the canonical
   * order. Carried so the plan says what changes in a rule without parsing
   * back the string we wrote.
   */
  properties?: Readonly<Record<string, string>>;
}

/** A file on the node that we own entirely. */
export interface DesiredFile {
  /** Absolute path on the node. */
  path: string;
  /** Permission bits, e.g. 0o400 for ARP tables and keys. */
  mode: number;
  owner: string;
  group: string;
  /** Holds secrets: never shown in a diff, a log or a terminal. */
  secret: boolean;
  /** The service that must be refreshed when this file changes; null for a file no service reads (the agent's bundle). */
  refresh: ServiceName | null;
  /**
   * The content, in chunks, so that large ARP tables stream instead of
   * being held whole. Every call yields the same bytes.
   */
  content: () => Iterable<string>;
  /**
   * Another writer owns the content (ARP tables with `defaults.arp_tables:
   * danube`): the file is created with this content when missing, and never
   * changed, repaired or removed; it is not in our manifest.
   */
  onlyIfMissing?: boolean;
  /**
   * Kept out of our manifest, so a later plan never removes it: the agent's
   * bundle, which a node keeps even when apply stops managing the node
   * (docs/architecture.md#the-bundle-is-a-desired-file).
   */
  outsideManifest?: boolean;
  /**
   * The same bytes as `content`, as buffers, for writers that take bytes
   * (render's writer): an ARP table is slices of one buffer shared by every
   * node of a PDC, so writing it copies no text (issue 20).
   */
  bytes?: () => Iterable<Uint8Array>;
}

/** An overlay link (`<rule><vni>`) the node needs, with its `dladm create-overlay` argv. */
export interface OverlayLink {
  link: string;
  rule: string;
  vni: number;
  argv: readonly string[];
  /** The `-p` properties `argv` sets, in argv order: what a live overlay is compared with. */
  properties: Readonly<Record<string, string>>;
}

export interface DesiredNode {
  node: string;
  /** In emission order: rule lines by rule name, then the adminoverlay vNIC lines. */
  usbkey: readonly UsbkeyLine[];
  /** Sorted by link name. */
  overlays: readonly OverlayLink[];
  /** Sorted by path. */
  files: readonly DesiredFile[];
}

/** What one generator adds to a node's desired state. */
export interface Contribution {
  usbkey?: readonly UsbkeyLine[];
  files?: readonly DesiredFile[];
  overlays?: readonly OverlayLink[];
}

/** One concern's share of a node's desired state (plan/desired-state.ts concatenates them). */
export type NodeGenerator = (ctx: RenderContext, node: Node) => Contribution;

export function fileText(file: DesiredFile): string {
  let out = '';
  for (const chunk of file.content()) out += chunk;
  return out;
}

/** A DesiredFile whose content is one string. */
export function textFile(spec: Omit<DesiredFile, 'content'> & { text: string }): DesiredFile {
  const { text, ...rest } = spec;
  return { ...rest, content: () => [text] };
}

/**
 * `desired` with each file's content made at most once, then kept as one
 * string: for one node's plan, where the bundle and the comparison each ask
 * for every file's text (an ipf template rendered, an ARP table built, once
 * for each; bench/RESULTS.md, "No-op apply: the CLI's per-node work"). The
 * plan holds each text whole anyway; drop the result with the run.
 */
export function contentOnce(desired: DesiredNode): DesiredNode {
  return {
    ...desired,
    files: desired.files.map((f) => {
      let text: string | undefined;
      return { ...f, content: () => [(text ??= fileText(f))] };
    }),
  };
}
