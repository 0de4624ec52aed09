/**
 * `zk://host:port[,host:port...]/root`: where a ZooKeeper store lives.
 * Credentials never go in the URL (it shows in `ps` and in shell history);
 * they come from ESDC_OVERLAY_ZK_AUTH or a file (see open-store.ts).
 */
import { UsageError } from '../errors.js';

/** Danube keeps this tool's settings here (docs/file-formats.md#cfgdb-layout). */
export const DEFAULT_ZK_ROOT = '/esdc/settings';
export const DEFAULT_ZK_PORT = 2181;

export interface ZkUrl {
  /** `host:port,host:port`, as node-zookeeper-client takes it (no chroot). */
  hosts: string;
  /** Absolute znode path without a trailing `/`, e.g. `/esdc/settings`. */
  root: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
/** ZooKeeper forbids few characters in a path; we accept a conservative set. */
const ROOT_SEGMENT = /^[A-Za-z0-9._-]+$/;

export function isZkUrl(spec: string): boolean {
  return /^zk:\/\//i.test(spec);
}

/** Parses a store URL; a UsageError names what is wrong. */
export function parseZkUrl(spec: string): ZkUrl {
  const bad = (why: string): UsageError => new UsageError(`store URL ${JSON.stringify(redact(spec))} ${why}`);
  if (!isZkUrl(spec)) throw bad('must start with zk://');
  const rest = spec.slice('zk://'.length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (authority.includes('@')) {
    throw bad('must not hold credentials (they would show in the process list); set ESDC_OVERLAY_ZK_AUTH=user:password instead');
  }
  if (/[?#]/.test(rest)) throw bad('must not have a query or fragment');
  if (authority === '') throw bad('names no host');
  const hosts = authority.split(',').map((hp) => {
    const m = /^(.*?)(?::(\d{1,5}))?$/.exec(hp)!;
    const host = m[1]!;
    const port = m[2] === undefined ? DEFAULT_ZK_PORT : Number(m[2]);
    if (!HOST.test(host)) throw bad(`has an invalid host ${JSON.stringify(host)}`);
    if (port < 1 || port > 65535) throw bad(`has an invalid port ${port}`);
    return `${host}:${port}`;
  });
  let root = path.replace(/\/+$/, '');
  if (root === '') root = DEFAULT_ZK_ROOT;
  const segments = root.split('/').slice(1);
  if (segments.some((s) => !ROOT_SEGMENT.test(s) || s === '.' || s === '..')) {
    throw bad(`has an invalid root path ${JSON.stringify(root)} (segments of letters, digits, ".", "_", "-")`);
  }
  return { hosts: hosts.join(','), root };
}

export function formatZkUrl(url: ZkUrl): string {
  return `zk://${url.hosts}${url.root}`;
}

/** Hides anything that looks like userinfo before a URL reaches a message. */
export function redact(spec: string): string {
  return spec.replace(/^(zk:\/\/)[^/@]*@/i, '$1***@');
}
