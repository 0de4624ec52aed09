/**
 * A node's IPsec files: the policy (ipsecinit.conf), the
 * IKE rules (ike/config) and the pre-shared keys (ike.preshared), one ESP
 * policy, IKE rule and key per peer in another PDC, between external IPs.
 * The parameters come from the profile (profile.ts): `danube` writes
 * Danube's IKE parameters and all-UDP ESP policy, `strong` larger groups and
 * (by default) a policy on the shared overlay ports only. Keys are quoted, as
 * Danube's ike.preshared.j2:42 writes them: the only form proven on its
 * platform (in.iked's parser is not in illumos' open source). Never written:
 * Danube's TCP/111 test policies (ipsecinit.j2:1-3), a debugging aid that
 * requires ESP for port 111 towards every host. Pure but for the random keys
 * of pairs with none stored (render-keys.ts).
 */
import { orderedPair, type Model, type Node, type OverlayRule } from '../model/model.js';
import type { Contribution, DesiredFile, NodeGenerator } from '../desired/desired.js';
import type { RenderContext } from '../desired/render-context.js';
import { template } from '../render/template.js';
import { meshPeers } from './pairs.js';
import { p1XformText, profileParams, type ProfileParams } from './profile.js';
import { renderKeys } from './render-keys.js';

export const IPSEC_DIR = '/opt/custom/etc/ipsec';
export const IPSECINIT_PATH = `${IPSEC_DIR}/ipsecinit.conf`;
export const IKE_CONFIG_PATH = `${IPSEC_DIR}/config`;
export const IKE_PRESHARED_PATH = `${IPSEC_DIR}/ike.preshared`;

/** Danube's lifetimes, both profiles (erigones/esdc-ce ans/overlays/files/ike-config.j2:2-4). */
export const IKE_LIFETIMES = { p1: 900, p2: 300, p2Soft: 150 } as const;

/** The profile parameters the model's defaults select. */
export function modelProfile(model: Model): ProfileParams {
  const { profile, encr, auth, policyScope } = model.defaults.ipsec;
  return profileParams(profile, encr, auth, policyScope === 'all-udp');
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

function peerViews(ctx: RenderContext, node: Node, profile: ProfileParams): PeerView[] {
  const keys = renderKeys(ctx);
  return meshPeers(ctx.model, node).map((peer) => ({
    name: peer.name,
    pdc: peer.pdc,
    // Validation guarantees external IPs once there is more than one PDC.
    local: node.externalIp ?? '',
    remote: peer.externalIp ?? '',
    label: profile.label(node.name, peer.name),
    ports: sharedOverlayPorts(ctx.model, node, peer),
    key: keys.keyOf(orderedPair(node.name, peer.name)),
  }));
}

const base = { owner: 'root', group: 'root', refresh: 'ipsec' as const };

export function ipsecFiles(ctx: RenderContext, node: Node): DesiredFile[] {
  const profile = modelProfile(ctx.model);
  // Keys are looked up now (one render-only key per pair, whichever end comes
  // first); the text is made only when asked for.
  const views = peerViews(ctx, node, profile);
  const peers = (): PeerView[] => views;
  const policy = (): string =>
    template('ipsecinit.conf.hbs')({
      node: node.name,
      adminIp: node.adminIp,
      allUdp: profile.allUdp,
      esp: profile.esp,
      peers: peers(),
    });
  const ike = (): string =>
    template('ike-config.hbs')({
      node: node.name,
      p1Lifetime: IKE_LIFETIMES.p1,
      p2Lifetime: IKE_LIFETIMES.p2,
      p2Softlife: IKE_LIFETIMES.p2Soft,
      p1Xform: p1XformText(profile.ike.p1),
      pfsDefault: profile.ike.pfsDefault,
      pfsRule: profile.ike.pfsRule,
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
