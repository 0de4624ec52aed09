/**
 * Raw ZooKeeper access for tests, independent of the store under test:
 * write a fixture tree the way Danube's query_cfgdb does (`creater`: create
 * with parents), dump a subtree, and read fixture files.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import zookeeper from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'cfgdb');

/** `path<TAB>value` lines (comments with #) → relative path → value. */
export function readTsv(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(join(FIXTURES, name), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const tab = line.indexOf('\t');
    out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}

/** A fresh root path, so tests sharing one server never see each other's trees. */
export function freshRoot(): string {
  return `/t-${randomUUID().slice(0, 8)}/esdc/settings`;
}

export async function rawClient(hosts: string): Promise<Client> {
  const c = zookeeper.createClient(hosts, { sessionTimeout: 5000, spinDelay: 100, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      c.close();
      reject(new Error(`no ZooKeeper at ${hosts}`));
    }, 10_000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve();
    });
    c.connect();
  });
  return c;
}

const cb = <T>(f: (done: (err: unknown, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

/** Writes each value at root/rel, creating parents empty (Danube's `query_cfgdb creater`). */
export async function writeTree(c: Client, root: string, tree: ReadonlyMap<string, string>): Promise<void> {
  for (const [rel, value] of tree) {
    const path = `${root}/${rel}`;
    await cb<string>((d) => c.mkdirp(path, (e, p) => d(e, p)));
    await cb<unknown>((d) => c.setData(path, Buffer.from(value), -1, (e, s) => d(e, s)));
  }
}

export async function setRaw(c: Client, path: string, value: string): Promise<void> {
  await cb<unknown>((d) => c.setData(path, Buffer.from(value), -1, (e, s) => d(e, s)));
}

/** Every znode under root (relative path → text), excluding lock nodes. */
export async function dumpTree(c: Client, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    const children = await cb<string[]>((d) => c.getChildren(path, (e, ch) => d(e, ch))).catch(() => [] as string[]);
    for (const ch of children.sort()) {
      const p = `${path}/${ch}`;
      if (p.endsWith('/esdc_overlay/locks')) continue;
      const data = await cb<Buffer | undefined>((d) => c.getData(p, (e, b) => d(e, b)));
      const rel = p.slice(root.length + 1);
      out.set(rel, data?.toString('utf8') ?? '');
      await walk(p);
    }
  };
  await walk(root);
  return out;
}

export function close(c: Client): void {
  c.close();
}
