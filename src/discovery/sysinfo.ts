/**
 * `sysinfo` JSON (docs/file-formats.md#sysinfo) → the facts the state records about a
 * node. Pure; bad input is a ValidationError naming the field.
 */
import { Validator } from '../ip-num-lib.js';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { HOSTNAME, matches, PDC_NAME, UUID } from '../syntax/patterns.js';

export interface NodeFacts {
  hostname: string;
  uuid: string;
  pdc: string;
  adminIp: string;
  externalIp: string | undefined;
  /** Link MTUs where sysinfo gives them. */
  mtu: { admin?: number; external?: number };
  /** `Overlay Rules`: rule name → rule string (Danube platforms only). */
  overlayRules: Record<string, string>;
  /** `Overlays`: link names. */
  overlays: string[];
}

type Nic = Record<string, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nicNames(nic: Nic): string[] {
  const n = nic['NIC Names'];
  return Array.isArray(n) ? n.filter((x): x is string => typeof x === 'string') : [];
}

/** The interface of a network: `<tag>0`, `<tag>_0`, else the first NIC tagged with it. */
function findNic(physical: Record<string, Nic>, virtual: Record<string, Nic>, tag: string): [string, Nic] | undefined {
  for (const name of [`${tag}0`, `${tag}_0`]) {
    if (virtual[name]) return [`Virtual Network Interfaces.${name}`, virtual[name]];
    if (physical[name]) return [`Network Interfaces.${name}`, physical[name]];
  }
  for (const [section, nics] of [['Network Interfaces', physical], ['Virtual Network Interfaces', virtual]] as const) {
    for (const name of Object.keys(nics).sort()) {
      if (nicNames(nics[name]!).includes(tag)) return [`${section}.${name}`, nics[name]!];
    }
  }
  return undefined;
}

function mtuOf(nic: Nic, path: string, issues: ValidationIssue[]): number | undefined {
  const raw = nic.MTU ?? nic.mtu;
  if (raw === undefined) return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{3,5}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 576 || n > 9216) {
    issues.push({ path: `${path}.MTU`, value: raw, message: 'is not an MTU (576-9216)' });
    return undefined;
  }
  return n;
}

export function parseSysinfo(value: unknown, source = 'sysinfo'): NodeFacts {
  const issues: ValidationIssue[] = [];
  if (!isObject(value)) throw new ValidationError([{ path: '', message: 'is not a JSON object' }], source);
  const str = (key: string, pattern: string, what: string): string => {
    const v = value[key];
    if (typeof v !== 'string' || !matches(pattern, v)) {
      issues.push({ path: key, value: v, message: `is not a valid ${what}` });
      return '';
    }
    return v;
  };
  const hostname = str('Hostname', HOSTNAME, 'hostname');
  const uuid = str('UUID', UUID, 'UUID').toLowerCase();
  const pdc = str('Datacenter Name', PDC_NAME, 'datacenter name');
  const section = (key: string): Record<string, Nic> => {
    const v = value[key];
    if (v === undefined) return {};
    if (!isObject(v) || !Object.values(v).every(isObject)) {
      issues.push({ path: key, message: 'is not an object of interfaces' });
      return {};
    }
    return v as Record<string, Nic>;
  };
  const physical = section('Network Interfaces');
  const virtual = section('Virtual Network Interfaces');
  const ipOf = (found: [string, Nic] | undefined, tag: string, required: boolean): [string | undefined, number | undefined] => {
    if (!found) {
      if (required) issues.push({ path: 'Network Interfaces', message: `has no interface on the ${tag} network (NIC Names containing "${tag}")` });
      return [undefined, undefined];
    }
    const [path, nic] = found;
    const ip = nic.ip4addr;
    if (typeof ip !== 'string' || !Validator.isValidIPv4String(ip)[0]) {
      if (required || (ip !== undefined && ip !== '')) issues.push({ path: `${path}.ip4addr`, value: ip, message: 'is not an IPv4 address' });
      return [undefined, undefined];
    }
    return [ip, mtuOf(nic, path, issues)];
  };
  const [adminIp, adminMtu] = ipOf(findNic(physical, virtual, 'admin'), 'admin', true);
  const [externalIp, externalMtu] = ipOf(findNic(physical, virtual, 'external'), 'external', false);
  const overlayRules: Record<string, string> = {};
  const rules = value['Overlay Rules'];
  if (rules !== undefined) {
    if (!isObject(rules)) issues.push({ path: 'Overlay Rules', message: 'is not an object' });
    else {
      for (const [name, rule] of Object.entries(rules)) {
        if (typeof rule !== 'string') issues.push({ path: `Overlay Rules.${name}`, value: rule, message: 'is not a rule string' });
        else overlayRules[name] = rule;
      }
    }
  }
  const ov = value.Overlays;
  if (ov !== undefined && !isObject(ov)) issues.push({ path: 'Overlays', message: 'is not an object' });
  const overlays = isObject(ov) ? Object.keys(ov).sort() : [];
  if (issues.length > 0) throw new ValidationError(issues, source);
  const mtu: NodeFacts['mtu'] = {};
  if (adminMtu !== undefined) mtu.admin = adminMtu;
  if (externalMtu !== undefined) mtu.external = externalMtu;
  return { hostname, uuid, pdc, adminIp: adminIp!, externalIp, mtu, overlayRules, overlays };
}
