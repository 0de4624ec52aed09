/**
 * IPsec profiles: which IKE and ESP parameters the mesh is written with.
 *
 * `danube` is exactly what Danube's overlay playbook writes, so a node we
 * configure and a node Danube configured still agree on IKE during a
 * migration (erigones/esdc-ce ans/overlays/files/ike-config.j2:6-8 and :11,
 * ipsecinit.j2:11). `strong` uses larger groups; every value it writes by
 * default is one that illumos' ike.config(5) documents or that Danube runs in
 * production. Values neither documents are opt-in and warned about as
 * "unverified on illumos" (see docs/migrating-from-danube.md).
 */
import { DANUBE_ESP } from '../model/ipsec-settings.js';
import type { IpsecAuth, IpsecEncr, IpsecProfile } from '../model/state.js';

/** The IKE parameters two ends of a pair must agree on, as ike.config(5) names them. */
export interface IkeParams {
  /** p1_xform, in the order our files write it. */
  p1: { authMethod: 'preshared'; oakleyGroup: number; authAlg: IpsecAuth; encrAlg: 'aes' };
  /** File-level p2_pfs default. */
  pfsDefault: number;
  /** p2_pfs inside every peer rule; overrides the default (ike.config(5)). */
  pfsRule: number;
}

export interface ProfileParams {
  ike: IkeParams;
  /** ipsecconf(8) properties of every ESP policy entry. */
  esp: string;
  /** ESP policy per peer: all UDP (Danube) or the shared overlay ports only. */
  allUdp: boolean;
  /** The label of the IKE rule for `peer` on `node` (a local name only; never sent to the peer). */
  label(node: string, peer: string): string;
}

/**
 * Danube's IKE parameters: ike-config.j2:7 (file-level p1_xform: group 5,
 * sha256, aes), :8 (file-level p2_pfs 2) and :11 (every peer rule repeats
 * the p1_xform and sets p2_pfs 5).
 */
const DANUBE_IKE: IkeParams = {
  p1: { authMethod: 'preshared', oakleyGroup: 5, authAlg: 'sha256', encrAlg: 'aes' },
  pfsDefault: 2,
  pfsRule: 5,
};

/**
 * MODP-2048 for phase 1 and PFS (ike.config(5) lists group 14 for both
 * oakley_group and p2_pfs); Danube's group 5 (MODP-1536) is below today's floor.
 */
export const STRONG_DH_GROUP = 14;

/**
 * ESP properties, in ipsecconf(8) syntax. The authentication algorithm is
 * written by its bare name (`sha512`), as Danube's ipsecinit.j2:11 has run it
 * in production; ipsecconf(8) itself lists only MD5 and SHA1 forms and defers
 * to ipsecalgs(8) for the rest. AES-GCM carries its own integrity check.
 */
export function espProperties(encr: IpsecEncr, auth: IpsecAuth): string {
  if (encr === 'aes-gcm') return 'encr_algs aes-gcm sa shared';
  return `encr_algs aes encr_auth_algs ${auth} sa shared`;
}

/** The parameters of a profile; `encr`/`auth` matter only to `strong` (validation holds danube to DANUBE_ESP). */
export function profileParams(profile: IpsecProfile, encr: IpsecEncr, auth: IpsecAuth, allUdp: boolean): ProfileParams {
  if (profile === 'danube') {
    return {
      ike: DANUBE_IKE,
      esp: espProperties(DANUBE_ESP.encr, DANUBE_ESP.auth),
      allUdp: true,
      // ike-config.j2:11 labels a rule "<this node>-<peer>".
      label: (node, peer) => `${node}-${peer}`,
    };
  }
  return {
    ike: {
      p1: { authMethod: 'preshared', oakleyGroup: STRONG_DH_GROUP, authAlg: auth, encrAlg: 'aes' },
      pfsDefault: STRONG_DH_GROUP,
      pfsRule: STRONG_DH_GROUP,
    },
    esp: espProperties(encr, auth),
    allUdp,
    label: (_node, peer) => `esdc-overlay ${peer}`,
  };
}

/** ike.config(5) phase-1 transform body. */
export function p1XformText(p: IkeParams['p1']): string {
  return `auth_method ${p.authMethod} oakley_group ${p.oakleyGroup} auth_alg ${p.authAlg} encr_alg ${p.encrAlg}`;
}

/** For --help of the commands that render or apply the mesh. */
export const IPSEC_PROFILE_HELP = `
IPsec profiles (defaults.ipsec.profile in the state):
  strong (default)  IKE oakley_group 14, auth_alg sha512 (or defaults.ipsec.auth), p2_pfs 14;
                    ESP aes + sha512 on the overlay ports. All documented in ike.config(5) or run by Danube.
  danube            exactly Danube's IKE (oakley_group 5, auth_alg sha256, p2_pfs 5) and all-UDP ESP
                    (aes + sha512): adopt a Danube installation with no IPsec change.
  Opt-in, unverified on illumos: defaults.ipsec.encr aes-gcm, defaults.ipsec.auth sha256 (ESP).
  Changing the profile changes IKE on both ends of every pair: apply it to all nodes at once
  (a subset that would split a pair is refused, naming the nodes to add).
`;
