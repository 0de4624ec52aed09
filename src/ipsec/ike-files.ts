/**
 * Reads back the IKE files a node has, ours or Danube's: the pre-shared keys
 * per remote address, and the IKE parameters in force per remote address.
 * Only what those files need: ike.config(5) comments (`#` or `//` outside a
 * quoted string), `{ }` blocks, quoted strings; a key may be quoted (Danube,
 * ike.preshared.j2:42; us) or bare (ike.preshared(5) example). Pure.
 */
import type { IkeParams } from './profile.js';

/** Tokens of an ike.config(5) / ike.preshared(5) text: words, quoted strings (unquoted), braces. */
export function ikeTokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '{' || c === '}') {
      out.push(c);
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i];
        i++;
      }
      i++;
      out.push(s);
    } else {
      let s = '';
      while (i < text.length && !/[\s{}"#]/.test(text[i]!)) s += text[i++];
      out.push(s);
    }
  }
  return out;
}

/** The top-level `{ ... }` blocks as token lists, and the tokens outside any block. */
function blocks(tokens: readonly string[]): { global: string[]; blocks: string[][] } {
  const global: string[] = [];
  const found: string[][] = [];
  let depth = 0;
  let current: string[] = [];
  for (const t of tokens) {
    if (t === '{') {
      if (depth > 0) current.push(t);
      depth++;
    } else if (t === '}') {
      depth--;
      if (depth > 0) current.push(t);
      else {
        found.push(current);
        current = [];
      }
    } else if (depth > 0) current.push(t);
    else global.push(t);
  }
  return { global, blocks: found };
}

/** ike.preshared: remote id → key, quotes removed. */
export function parsePreshared(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of blocks(ikeTokens(text)).blocks) {
    const remote = valueAfter(b, 'remoteid');
    const key = valueAfter(b, 'key');
    if (remote !== undefined && key !== undefined) out.set(remote, key);
  }
  return out;
}

function valueAfter(tokens: readonly string[], name: string): string | undefined {
  const i = tokens.indexOf(name);
  return i >= 0 ? tokens[i + 1] : undefined;
}

/** `p1_xform { ... }` starting at tokens[i] → its parameters, or undefined. */
function xformAt(tokens: readonly string[], i: number): IkeParams['p1'] | undefined {
  if (tokens[i] !== 'p1_xform' || tokens[i + 1] !== '{') return undefined;
  const end = tokens.indexOf('}', i + 2);
  const body = tokens.slice(i + 2, end < 0 ? undefined : end);
  const group = Number(valueAfter(body, 'oakley_group'));
  return {
    authMethod: valueAfter(body, 'auth_method') as 'preshared',
    oakleyGroup: group,
    authAlg: valueAfter(body, 'auth_alg') as IkeParams['p1']['authAlg'],
    encrAlg: valueAfter(body, 'encr_alg') as 'aes',
  };
}

/** What two ends of a pair must agree on, as a comparable string. */
export interface PeerIke {
  /** `oakley_group 5 auth_alg sha256 encr_alg aes auth_method preshared p2_pfs 5` (fixed order). */
  summary: string;
}

export function ikeSummary(p1: IkeParams['p1'] | undefined, pfs: number | undefined): string {
  if (!p1) return `no p1_xform, p2_pfs ${pfs ?? 'unset'}`;
  return `oakley_group ${p1.oakleyGroup} auth_alg ${p1.authAlg} encr_alg ${p1.encrAlg} auth_method ${p1.authMethod} p2_pfs ${pfs ?? 'unset'}`;
}

/**
 * ike/config: remote address → the IKE parameters its rule uses, the rule's
 * own p1_xform and p2_pfs overriding the file-level ones (ike.config(5)).
 */
export function parseIkeConfig(text: string): Map<string, PeerIke> {
  const { global, blocks: rules } = blocks(ikeTokens(text));
  // The global p1_xform's braces were taken as a block; find it by position instead.
  const tokens = ikeTokens(text);
  let globalP1: IkeParams['p1'] | undefined;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (depth === 0 && tokens[i] === 'p1_xform') globalP1 = xformAt(tokens, i);
    if (tokens[i] === '{') depth++;
    if (tokens[i] === '}') depth--;
  }
  const pfsText = valueAfter(global, 'p2_pfs');
  const globalPfs = pfsText === undefined ? undefined : Number(pfsText);
  const out = new Map<string, PeerIke>();
  for (const rule of rules) {
    const remote = valueAfter(rule, 'remote_addr');
    if (remote === undefined) continue; // the global p1_xform's body
    const at = rule.indexOf('p1_xform');
    const p1 = at >= 0 ? xformAt(rule, at) : globalP1;
    // p2_pfs of the rule: the one outside its p1_xform braces.
    let pfs = globalPfs;
    let d = 0;
    for (let i = 0; i < rule.length; i++) {
      if (rule[i] === '{') d++;
      else if (rule[i] === '}') d--;
      else if (d === 0 && rule[i] === 'p2_pfs') pfs = Number(rule[i + 1]);
    }
    out.set(remote, { summary: ikeSummary(p1, pfs) });
  }
  return out;
}
