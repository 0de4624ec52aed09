/**
 * The IPsec settings a state may choose (`defaults.ipsec.*`) and what each
 * profile allows: state vocabulary, so the model can validate them without
 * importing the generators. The parameters each profile writes live in
 * src/ipsec/profile.ts; docs/migrating-from-danube.md explains both.
 */
import type { KeyScheme } from './model.js';
import type { IpsecAuth, IpsecEncr, IpsecProfile } from './state.js';

export const DEFAULT_IPSEC_PROFILE: IpsecProfile = 'strong';

/** Danube's scheme: one key per pair of nodes. */
export const DEFAULT_KEY_SCHEME: KeyScheme = 'pair';

/**
 * The `pdc-pair` scheme writes only what ike.preshared(5) documents (one
 * entry per peer, by IP), but the same secret in many entries was never run
 * by Danube: a warning, never a refusal (docs/ipsec-keys.md).
 */
export const PDC_PAIR_UNVERIFIED = {
  path: 'defaults.ipsec.keys',
  value: 'pdc-pair',
  message:
    'pdc-pair keys are unverified on illumos: the files keep the documented ike.preshared(5) form, but one key shared by every node pair of two PDCs was never run by Danube; try it on two PDCs first',
} as const;

/**
 * Danube's ESP suite and policy scope: what `defaults.ipsec.encr`, `auth`
 * and `policy_scope` may say, if anything, under the `danube` profile.
 */
export const DANUBE_ESP = { encr: 'aes-cbc', auth: 'sha512', policyScope: 'all-udp' } as const;

/**
 * Settings that neither illumos' man pages nor Danube's production document:
 * ipsecconf(8) names no AES-GCM ESP, and ESP `sha256` appears in neither
 * (IKE `auth_alg sha256` is documented in ike.config(5); Danube's ESP uses
 * sha512). Each is a warning naming its path, never a refusal.
 */
export function unverifiedSettings(profile: IpsecProfile, encr: IpsecEncr, auth: IpsecAuth): Array<{ path: string; value: string; message: string }> {
  if (profile !== 'strong') return [];
  const out: Array<{ path: string; value: string; message: string }> = [];
  if (encr === 'aes-gcm') {
    out.push({
      path: 'defaults.ipsec.encr',
      value: encr,
      message: 'ESP aes-gcm is unverified on illumos: ipsecconf(8) does not document it and Danube never ran it; test it on one pair of nodes first',
    });
  } else if (auth === 'sha256') {
    out.push({
      path: 'defaults.ipsec.auth',
      value: auth,
      message: 'ESP encr_auth_algs sha256 is unverified on illumos: ipsecconf(8) does not document it and Danube ran sha512; test it on one pair of nodes first',
    });
  }
  return out;
}
