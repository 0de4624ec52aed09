/**
 * Shape validation of a state document with ajv, turned into ValidationIssues
 * that name the field by a readable path and show the offending value
 * (except secrets). All problems are reported at once.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Validator } from '../ip-num-lib.js';
import type { ValidationIssue } from '../errors.js';
import * as P from '../syntax/patterns.js';
import { OVERLAY_MTU_RULE } from '../syntax/rule-string.js';
import { makeStateValidator } from './state-validator.generated.js';

let compiled: ValidateFunction | undefined;

/**
 * The schema's validator, generated ahead of time from src/model/schema.ts
 * (scripts/gen-state-validator.ts), not compiled at each start: compiling
 * cost ~45 ms of every command that loads a state.
 */
function validator(): ValidateFunction {
  compiled ??= makeStateValidator(
    {
      'ipv4-cidr': { validate: isAlignedCidr },
      'ipv4-source': { validate: (s: string) => (s.includes('/') ? isAlignedCidr(s) : Validator.isValidIPv4String(s)[0]) },
    }
  );
  return compiled;
}

/** `10.0.0.0/24` yes; `10.0.0.5/24` (host bits set) and `10.0.0.0/33` no. */
export function isAlignedCidr(s: string): boolean {
  if (!/^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/.test(s)) return false;
  return Validator.isValidIPv4CidrRange(s)[0];
}

/** Readable descriptions of the patterns, so messages say what is expected rather than a regex. */
const PATTERN_TEXT: Record<string, string> = {
  [P.HOSTNAME]: 'must be an RFC 1123 hostname (letters, digits, inner hyphens, dot-separated)',
  [P.RULE_NAME_LOOSE]:
    'must be a rule name: 2-19 letters, digits and "_", not starting with a digit (the overlay link name <rule><VNI> must not: dladm_valid_linkname)',
  [P.MAC]: 'must be a MAC address like 52:54:00:aa:00:01',
  [P.NIC_TAG]: 'must be a nic tag "<rule>/<vni>", e.g. customers/1000',
  [P.PDC_NAME]: 'must be a datacenter name: letters, digits, ".", "_", "-", starting with a letter or digit',
  [P.VDC_NAME]: 'must be a vDC name: letters, digits, ".", "_", "-", starting with a letter or digit',
  [P.FILES_CONFIG_PATH]: 'must be an absolute path of plain characters (A-Z a-z 0-9 . _ - /) without ".." segments',
  [P.SSH_USER]: 'must be a POSIX user name',
  [P.PSK]: 'must be 256 lower-case hex characters',
  [P.RANGE_STRING]: 'must be a range list like "2-100,200"',
  [P.UUID]: 'must be a UUID',
  '^[0-9]+(?:-[0-9]+)?$': 'must be a number or a range "a-b"',
};

const FORMAT_TEXT: Record<string, string> = {
  ipv4: 'must be an IPv4 address',
  ipv6: 'must be an IPv6 address',
  'ipv4-cidr': 'must be an IPv4 network in CIDR form with no host bits set, e.g. 10.44.0.0/24',
  'ipv4-source': 'must be an IPv4 address or network (CIDR, no host bits set)',
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** JSON pointer segments → `nodes["cn01.example.com"].admin_ip`, `vnics[3].mac`. */
export function pathFromSegments(segments: readonly (string | number)[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number' || /^\d+$/.test(seg)) out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(doc: unknown, segments: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const seg of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Paths whose values are secrets: never echoed in a message. */
export function isSecretPath(segments: readonly (string | number)[]): boolean {
  return segments[0] === 'ipsec' && segments[segments.length - 1] === 'key';
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'pattern':
      return PATTERN_TEXT[String(e.params.pattern)] ?? `must match ${String(e.params.pattern)}`;
    case 'format':
      return FORMAT_TEXT[String(e.params.format)] ?? `must be a valid ${String(e.params.format)}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'type':
      return `must be ${String(e.params.type)}`;
    case 'minimum':
    case 'maximum': {
      const bound = `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(e.params.limit)}`;
      // An overlay's MTU: the kernel's range, not the man page's (docs/smartos-rules.md).
      return e.instancePath.endsWith('/mtu') ? `${bound}: ${OVERLAY_MTU_RULE}` : bound;
    }
    case 'uniqueItems':
      return `must not repeat items (items ${String(e.params.j)} and ${String(e.params.i)} are equal)`;
    default:
      return e.message ?? e.keyword;
  }
}

function issueFromError(doc: unknown, e: ErrorObject): ValidationIssue | undefined {
  const segs = pointerSegments(e.instancePath);
  if (e.keyword === 'required') {
    const key = String(e.params.missingProperty);
    return { path: pathFromSegments([...segs, key]), message: 'is required' };
  }
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    // ssh.root was once a test seam that re-rooted a node's paths and commands: say why it is gone.
    if (key === 'root' && segs.length === 3 && segs[0] === 'nodes' && segs[2] === 'ssh') {
      return { path: pathFromSegments([...segs, key]), message: 'is not accepted: a state may not re-root the paths and commands run on a node (remove it)' };
    }
    return { path: pathFromSegments([...segs, key]), message: 'is not a known key' };
  }
  if (e.keyword === 'propertyNames') return undefined; // the inner error names the key
  if (e.propertyName !== undefined) {
    const key = e.propertyName;
    const message =
      e.keyword === 'not' ? 'is reserved (use the adminoverlay section)' : `name ${describe(e)}`;
    return { path: pathFromSegments([...segs, key]), value: key, message };
  }
  const issue: ValidationIssue = { path: pathFromSegments(segs), message: describe(e) };
  if (!isSecretPath(segs)) issue.value = valueAt(doc, segs);
  return issue;
}

/**
 * Checks the document's shape. Returns the issues (empty when it conforms).
 * `anyOf` failures are reported once at their own path, unless a deeper
 * error already says what is wrong there.
 */
export function validateShape(doc: unknown): ValidationIssue[] {
  const validate = validator();
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath) && e.propertyName === undefined) continue;
    if (e.keyword === 'anyOf') {
      const deeper = errors.some(
        (o) => o.keyword !== 'anyOf' && o.instancePath.startsWith(`${e.instancePath}/`),
      );
      if (deeper) continue;
    }
    const issue =
      e.keyword === 'anyOf'
        ? anyOfIssue(doc, e)
        : issueFromError(doc, e);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function anyOfIssue(doc: unknown, e: ErrorObject): ValidationIssue {
  const segs = pointerSegments(e.instancePath);
  const last = segs[segs.length - 1];
  const expected: Record<string, string> = {
    underlay_mtu: 'must be an MTU (576-9216) or { admin, external }',
    nodes: 'must be "all" or a list of distinct hostnames',
    host: 'must be a hostname or an IPv4 address',
    vxlan_allowed: 'must be a range string like "2-100,200" or a list of numbers and "a-b" strings',
    vlan_allowed: 'must be a range string like "2-100,200" or a list of numbers and "a-b" strings',
  };
  const message = (last !== undefined && /^\d+$/.test(last) ? undefined : expected[last ?? '']) ??
    'does not have an accepted form';
  return { path: pathFromSegments(segs), value: valueAt(doc, segs), message };
}
