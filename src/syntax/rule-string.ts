/**
 * Overlay rule strings: the `dladm create-overlay` parameters without `-v`
 * and the link name (docs/file-formats.md#dladm-create-overlay), e.g.
 *   -e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4790 -s files
 *   -p files/config=/opt/custom/networking/customers_overlay.json -p mtu=1400
 * Properties may be repeated `-p` or comma-joined. Only what this tool can
 * drive is accepted (VXLAN encapsulation, the files search plugin, and the
 * four properties below): anything else is refused by name rather than
 * passed through, because the string is pasted into /usbkey/config, which
 * SmartOS evaluates as shell.
 */
import { Validator } from '../ip-num-lib.js';
import type { ValidationIssue } from '../errors.js';
import { OVERLAY_MTU_MAX, OVERLAY_MTU_MIN } from './overlay-limits.js';
import { FILES_CONFIG_PATH, FILES_CONFIG_ROOTS, matches } from './patterns.js';
import { managedPathOverlap } from './owned-paths.js';

/** What a rule string can set. Every field is optional: a raw string may leave the port to us. */
export interface RuleParams {
  listenIp?: string;
  port?: number;
  filesConfig?: string;
  mtu?: number;
}

/** A rule with every parameter known: the canonical string is a function of this. */
export interface ResolvedRuleParams {
  listenIp: string;
  port: number;
  filesConfig: string;
  mtu: number;
}

export const RULE_DEFAULTS = {
  listenIp: '0.0.0.0',
  /** dladm's own default overlay MTU (overlay.7). */
  mtu: 1400,
  /** The overlay driver's MTU range (overlay-limits.ts). */
  mtuMin: OVERLAY_MTU_MIN,
  mtuMax: OVERLAY_MTU_MAX,
} as const;

export const OVERLAY_MTU_RULE = `the illumos overlay driver accepts an overlay MTU of ${RULE_DEFAULTS.mtuMin}-${RULE_DEFAULTS.mtuMax} only (OVERLAY_MTU_MIN/OVERLAY_MTU_MAX in overlay.c)`;

/** Where Danube (and we) put a rule's ARP table unless told otherwise. */
export function defaultFilesConfig(ruleName: string): string {
  return `/opt/custom/networking/${ruleName}_overlay.json`;
}

const SAFE_CHARS = /^[A-Za-z0-9 ._/=,:-]*$/;
const PROPERTY_KEYS = ['vxlan/listen_ip', 'vxlan/listen_port', 'files/config', 'mtu'] as const;

export interface ParsedRule {
  params: RuleParams;
  issues: ValidationIssue[];
}

/**
 * Parses a rule string. Problems are returned as issues located at `path`
 * (the caller's field), all at once.
 */
export function parseRuleString(text: string, path = 'rule'): ParsedRule {
  const issues: ValidationIssue[] = [];
  const params: RuleParams = {};
  const fail = (message: string, value?: unknown): void => {
    issues.push(value === undefined ? { path, message } : { path, message, value });
  };

  if (!SAFE_CHARS.test(text)) {
    const bad = [...text].find((c) => !SAFE_CHARS.test(c)) ?? '';
    fail(`contains the character ${JSON.stringify(bad)}; a rule string may only hold letters, digits, space and . _ / = , : -`, text);
    return { params, issues };
  }
  const tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) {
    fail('is empty', text);
    return { params, issues };
  }
  let encap: string | undefined;
  let search: string | undefined;
  const seen = new Set<string>();

  for (let i = 0; i < tokens.length; i++) {
    const flag = tokens[i]!;
    const arg = tokens[i + 1];
    if (flag === '-v' || flag === '-t') {
      fail(`must not contain ${flag}: the VNI and the link name are added per overlay`, flag);
      if (flag === '-v') i++;
      continue;
    }
    if (flag !== '-e' && flag !== '-s' && flag !== '-p') {
      fail(`has an unexpected token ${JSON.stringify(flag)} (expected -e, -s or -p)`, text);
      continue;
    }
    if (arg === undefined || arg.startsWith('-')) {
      fail(`option ${flag} needs a value`, text);
      continue;
    }
    i++;
    if (flag === '-e') {
      if (encap !== undefined) fail('sets -e twice', text);
      encap = arg;
      if (arg !== 'vxlan') fail(`encapsulation ${JSON.stringify(arg)} is not supported (only vxlan)`, arg);
      continue;
    }
    if (flag === '-s') {
      if (search !== undefined) fail('sets -s twice', text);
      search = arg;
      if (arg !== 'files') fail(`search plugin ${JSON.stringify(arg)} is not supported (only files)`, arg);
      continue;
    }
    parseProperties(arg, params, seen, fail);
  }
  if (encap === undefined) fail('is missing "-e vxlan"', text);
  if (search === undefined) fail('is missing "-s files"', text);
  return { params, issues };
}

/** One `-p` argument's `key=value` pairs into `params`; `seen` holds the keys earlier `-p`s set (a key set twice is refused). */
function parseProperties(arg: string, params: RuleParams, seen: Set<string>, fail: (message: string, value?: unknown) => void): void {
  for (const pair of arg.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      fail(`property ${JSON.stringify(pair)} is not of the form key=value`, pair);
      continue;
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!(PROPERTY_KEYS as readonly string[]).includes(key)) {
      fail(`property ${JSON.stringify(key)} is not supported (known: ${PROPERTY_KEYS.join(', ')})`, pair);
      continue;
    }
    if (seen.has(key)) {
      fail(`sets property ${key} twice`, pair);
      continue;
    }
    seen.add(key);
    setProperty(params, key as (typeof PROPERTY_KEYS)[number], value, fail);
  }
}

function setProperty(
  params: RuleParams,
  key: (typeof PROPERTY_KEYS)[number],
  value: string,
  fail: (message: string, value?: unknown) => void,
): void {
  switch (key) {
    case 'vxlan/listen_ip':
      if (Validator.isValidIPv4String(value)[0] && /^\d{1,3}(\.\d{1,3}){3}$/.test(value)) params.listenIp = value;
      else fail('vxlan/listen_ip must be an IPv4 address', value);
      return;
    case 'vxlan/listen_port': {
      const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
      if (port >= 1 && port <= 65535) params.port = port;
      else fail('vxlan/listen_port must be a UDP port 1-65535', value);
      return;
    }
    case 'files/config': {
      const problem = filesConfigProblem(value);
      if (problem) fail(`files/config ${problem}`, value);
      else params.filesConfig = value;
      return;
    }
    case 'mtu': {
      const mtu = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
      if (mtu >= RULE_DEFAULTS.mtuMin && mtu <= RULE_DEFAULTS.mtuMax) params.mtu = mtu;
      else fail(`mtu must be ${RULE_DEFAULTS.mtuMin}-${RULE_DEFAULTS.mtuMax}: ${OVERLAY_MTU_RULE}`, value);
      return;
    }
  }
}

/** Why a files/config path is unacceptable, or undefined when it is fine. */
export function filesConfigProblem(path: string): string | undefined {
  if (!matches(FILES_CONFIG_PATH, path)) {
    return 'must be an absolute path of plain characters (A-Z a-z 0-9 . _ - /) without ".." segments';
  }
  const managed = managedPathOverlap(path);
  if (managed !== undefined) {
    return `must not be, contain or lie in ${managed}, which esdc-overlay or the system manages (an ARP table there would be shown in a plan, chowned to netadm, or removed)`;
  }
  if (!FILES_CONFIG_ROOTS.some((root) => path.startsWith(root) && path.length > root.length)) {
    return `must be a file in ${FILES_CONFIG_ROOTS.join(' or ')} (where Danube keeps ARP tables)`;
  }
  // dladm string properties hold at most 256 bytes including the NUL (overlay.7).
  if (Buffer.byteLength(path) > 255) return 'must be at most 255 bytes';
  return undefined;
}

/**
 * The canonical Danube form (esdc-ce `bin/esdc-overlay`): fixed order,
 * repeated `-p`. Two rules with the same parameters give the same string,
 * so a plan compares rules by string.
 */
export function canonicalRuleString(p: ResolvedRuleParams): string {
  return ruleArgv(p).join(' ');
}

/**
 * `-p key=value` pairs of a rule string's words as read from a node (its
 * /usbkey/config line). What we produce carries its properties instead
 * (UsbkeyLine.properties, OverlayLink.properties), never parsed back.
 * Lenient: what is not a property is skipped; later values win.
 */
export function overlayProperties(argv: readonly string[]): Map<string, string> {
  const props = new Map<string, string>();
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-p') continue;
    for (const kv of argv[i + 1]!.split(',')) {
      const eq = kv.indexOf('=');
      if (eq > 0) props.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
  }
  return props;
}

/** The `-p` properties of a rule, in the canonical order: what a live overlay is compared with. */
export function ruleProperties(p: ResolvedRuleParams): Array<readonly [string, string]> {
  return [
    ['vxlan/listen_ip', p.listenIp],
    ['vxlan/listen_port', String(p.port)],
    ['files/config', p.filesConfig],
    ['mtu', String(p.mtu)],
  ];
}

/**
 * The same parameters as argv words for `dladm create-overlay`, built from
 * the values (never by splitting the string: the words are what we mean).
 */
export function ruleArgv(p: ResolvedRuleParams): string[] {
  const [listenIp, port, filesConfig, mtu] = ruleProperties(p).map(([k, v]) => `${k}=${v}`);
  return ['-e', 'vxlan', '-p', listenIp!, '-p', port!, '-s', 'files', '-p', filesConfig!, '-p', mtu!];
}
