/**
 * vitest globalSetup of the `zk` project: one real ZooKeeper for all
 * ZooKeeper tests (each test uses its own root path under it).
 */
import type { TestProject } from 'vitest/node';
import { startZooKeeper } from './zk-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `127.0.0.1:<port>` of the shared test ZooKeeper. */
    zkHosts: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const zk = await startZooKeeper();
  project.provide('zkHosts', zk.hosts);
  return () => zk.dispose();
}
