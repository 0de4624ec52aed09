/**
 * A simulated cluster for the tests of one file (or one describe): started in
 * a fresh private directory before them, stopped and removed after. Kept out
 * of sim-cluster.ts, which the benchmarks import without vitest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startSimCluster, type SimCluster } from './sim-cluster.js';

export interface UseSimClusterOptions {
  count: number;
  /** A fresh cluster for every test (tests that break nodes), instead of one for all. */
  each?: boolean;
}

/**
 * Registers the hooks; `started` receives each cluster once its sshds listen.
 * Hooks registered after this call run their after-part first (vitest stacks
 * them), so a file's own clean-up still sees the cluster running.
 */
export function useSimCluster(opts: UseSimClusterOptions, started: (c: SimCluster) => void): void {
  let cluster: SimCluster | undefined;
  let dir: string | undefined;
  const start = async (): Promise<void> => {
    dir = await mkdtemp(join(tmpdir(), `esdc-sim${opts.count}-`));
    cluster = await startSimCluster({ count: opts.count, dir });
    started(cluster);
  };
  const stop = async (): Promise<void> => {
    await cluster?.stop();
    cluster = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  };
  if (opts.each) {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
}
