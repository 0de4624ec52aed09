/**
 * A ZooKeeper test's usual fixture: an admin client with the installation's
 * digest credentials (to inspect and remove znodes behind the store's back),
 * and a TCP proxy to the server that the test can freeze (a partition, a
 * paused process) while the server keeps running.
 */
import type { Client } from 'node-zookeeper-client';
import { afterAll, beforeAll } from 'vitest';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { close, rawClient } from './zk-tree.js';

export interface ZkFixture {
  admin: Client;
  proxy: TcpProxy;
}

/** Registers beforeAll/afterAll for the suite; the fields are set once beforeAll has run. */
export function useZkAdminAndProxy(hosts: string, auth: string): ZkFixture {
  const f = {} as ZkFixture;
  beforeAll(async () => {
    f.admin = await rawClient(hosts);
    f.admin.addAuthInfo('digest', Buffer.from(auth));
    const [h, p] = hosts.split(':');
    f.proxy = await startProxy(h!, Number(p));
  });
  afterAll(async () => {
    close(f.admin);
    await f.proxy.close();
  });
  return f;
}

/** A node-style callback call as a promise. */
export const cb = <T>(f: (done: (err: unknown, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));
