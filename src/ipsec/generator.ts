/**
 * A node's IPsec files (docs/file-formats.md#ipsecinit-conf): the policy (ipsecinit.conf), the
 * IKE rules (ike/config) and the pre-shared keys (ike.preshared), one ESP
 * policy, IKE rule and key per peer in another PDC, between external IPs.
 * Differences from Danube, on purpose (docs/file-formats.md#danube-defects
 * item 15): no TCP/111 test rules; the ESP policy covers only the UDP
 * ports of the overlay rules both nodes have (`defaults.ipsec.policy_scope:
 * all-udp` restores Danube's all-UDP policy); keys unquoted, as the man page
 * writes them; IKE group 14 (MODP-2048) instead of 5. Pure but for the
 * random keys of pairs with none stored (render-keys.ts).
 */
import type { Model, Node, OverlayRule } from '../model/model.js';
import type { IpsecAuth, IpsecEncr } from '../model/state.js';
import type { Contribution, DesiredFile } from '../plan/desired.js';
import type { NodeGenerator } from '../plan/desired-state.js';
import type { RenderContext } from '../plan/render-context.js';
import { template } from '../render/template.js';
import { makePair, meshPeers } from './pairs.js';
import { renderKeys } from './render-keys.js';

export const IPSEC_DIR = '/opt/custom/etc/ipsec';
export const IPSECINIT_PATH = `${IPSEC_DIR}/ipsecinit.conf`;
export const IKE_CONFIG_PATH = `${IPSEC_DIR}/config`;
export const IKE_PRESHARED_PATH = `${IPSEC_DIR}/ike.preshared`;

/** Danube's lifetimes (docs/file-formats.md#ike-config). */
export const IKE_LIFETIMES = { p1: 900, p2: 300, p2Soft: 150 } as const;
/** MODP-2048 for phase 1 and PFS: Danube's group 5 (MODP-1536) is below today's floor. */
export const IKE_DH_GROUP = 14;

/** ipsecconf(8) names. AES-GCM is an AEAD cipher, which carries its own integrity check. */
export function espProperties(encr: IpsecEncr, auth: IpsecAuth): string {
  if (encr === 'aes-gcm') return 'encr_algs aes-gcm sa shared';
  return `encr_algs aes encr_auth_algs hmac-${auth} sa shared`;
}

/** ike.config(5) phase-1 transform. */
export function p1Xform(auth: IpsecAuth): string {
  return `auth_method preshared oakley_group ${IKE_DH_GROUP} auth_alg ${auth} encr_alg aes`;
}

/** The UDP ports of the overlay rules both nodes have, ascending. */
export function sharedOverlayPorts(model: Model, a: Node, b: Node): number[] {
  const ports = model.rules
    .filter((r) => r.port > 0 && ruleMembers(r).has(a.name) && ruleMembers(r).has(b.name))
    .map((r) => r.port);
  return [...new Set(ports)].sort((x, y) => x - y);
}

// Asked once per pair of nodes across PDCs (~94,000 pairs, both ends, at 500
// nodes): a linear scan of rule.nodes per question was a quarter of render's CPU.
const ruleMemberSets = new WeakMap<OverlayRule, ReadonlySet<string>>();

function ruleMembers(rule: OverlayRule): ReadonlySet<string> {
  let set = ruleMemberSets.get(rule);
  if (!set) {
    set = new Set(rule.nodes);
    ruleMemberSets.set(rule, set);
  }
  return set;
}

interface PeerView {
  name: string;
  pdc: string;
  local: string;
  remote: string;
  label: string;
  ports: number[];
  key: string;
}

function peerViews(ctx: RenderContext, node: Node): PeerView[] {
  const keys = renderKeys(ctx);
  return meshPeers(ctx.model, node).map((peer) => ({
    name: peer.name,
    pdc: peer.pdc,
    // Validation guarantees external IPs once there is more than one PDC.
    local: node.externalIp ?? '',
    remote: peer.externalIp ?? '',
    label: `esdc-overlay ${peer.name}`,
    ports: sharedOverlayPorts(ctx.model, node, peer),
    key: keys.keyOf(makePair(node.name, peer.name)),
  }));
}

const base = { owner: 'root', group: 'root', refresh: 'ipsec' as const };

export function ipsecFiles(ctx: RenderContext, node: Node): DesiredFile[] {
  const { encr, auth, policyScope } = ctx.model.defaults.ipsec;
  // Keys are looked up now, so renderOnlyKeys() is complete once every node's
  // desired state exists; the text is made only when asked for.
  const views = peerViews(ctx, node);
  const peers = (): PeerView[] => views;
  const policy = (): string =>
    template('ipsecinit.conf.hbs')({
      node: node.name,
      adminIp: node.adminIp,
      allUdp: policyScope === 'all-udp',
      esp: espProperties(encr, auth),
      peers: peers(),
    });
  const ike = (): string =>
    template('ike-config.hbs')({
      node: node.name,
      p1Lifetime: IKE_LIFETIMES.p1,
      p2Lifetime: IKE_LIFETIMES.p2,
      p2Softlife: IKE_LIFETIMES.p2Soft,
      p1Xform: p1Xform(auth),
      pfs: IKE_DH_GROUP,
      peers: peers(),
    });
  const preshared = (): string => template('ike.preshared.hbs')({ node: node.name, peers: peers() });
  return [
    { ...base, path: IPSECINIT_PATH, mode: 0o640, secret: false, content: once(policy) },
    { ...base, path: IKE_CONFIG_PATH, mode: 0o640, secret: false, content: once(ike) },
    { ...base, path: IKE_PRESHARED_PATH, mode: 0o400, secret: true, content: once(preshared) },
  ];
}

/** Content that is computed at most once and yields the same bytes every call. */
function once(fn: () => string): () => Iterable<string> {
  let text: string | undefined;
  return () => [(text ??= fn())];
}

export const ipsecGenerator: NodeGenerator = (ctx, node): Contribution => ({ files: ipsecFiles(ctx, node) });
