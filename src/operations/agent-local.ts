/**
 * The agent's commands on the node itself (docs/architecture.md#operations):
 * `agent [--once]`, `agent status`, `agent reset`, `agent patch-table`,
 * `agent check-tables`. They
 * need no state and no SSH: each reads the agent's configuration (whose
 * `root`, in the simulated cluster, is where this node's files are) and
 * does one thing with the machinery of src/agent/.
 */
import { hostname } from 'node:os';
import { loadAgentConfig } from '../agent/config.js';
import { runDaemon } from '../agent/daemon.js';
import { patchTableWords, type PatchReport } from '../agent/patch-table.js';
import { resetFloor, runOnce, type RunReport } from '../agent/reconcile.js';
import { readStatus, type AgentStatus } from '../agent/status.js';
import { checkTablesBeforeRestart, type RestartGuardResult } from '../apply/restart-guard.js';
import type { Logger } from '../log.js';
import { LocalTransport } from '../transport/local-transport.js';
import { RootedTransport } from '../transport/rooted-transport.js';

/** `agent`: the service, until it is stopped; its exit status. */
export function runAgentService(configPath: string | undefined, env: NodeJS.ProcessEnv, log: Logger): Promise<number> {
  return runDaemon({ configPath, env, log });
}

/** `agent --once`: one reconcile run. */
export async function runAgentOnce(configPath: string | undefined, env: NodeJS.ProcessEnv, log: Logger): Promise<RunReport> {
  const { config } = await loadAgentConfig(configPath, env);
  return runOnce(config, { log, state: 'once' });
}

/** `agent status`: the status file the configuration names, and what it holds (undefined before the first run). */
export async function localAgentStatus(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<{ path: string; status: AgentStatus | undefined }> {
  const { config } = await loadAgentConfig(configPath, env);
  return { path: config.status, status: await readStatus(config.status) };
}

/** `agent reset`: clears the bundle version floor; the floor it had (null: none was recorded). */
export async function resetAgentFloor(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<{ path: string; was: number | null }> {
  const { config } = await loadAgentConfig(configPath, env);
  return { path: config.status, was: await resetFloor(config) };
}

/** `agent patch-table <words...>`: a few entries of an ARP table on this node, as the head node's daemon asks (docs/arp-deltas.md#on-the-node). */
export async function patchLocalTable(configPath: string | undefined, env: NodeJS.ProcessEnv, words: readonly string[]): Promise<PatchReport> {
  const { config } = await loadAgentConfig(configPath, env);
  const local = new LocalTransport(hostname());
  const t = config.root === undefined ? local : new RootedTransport(local, config.root);
  try {
    return await patchTableWords(t, words, { timeoutMs: config.timeout_seconds * 1000 });
  } finally {
    await t.close();
  }
}

/**
 * `agent check-tables`: whether varpd may restart on this node, every
 * overlay's table read and parsed as varpd would (docs/smartos-rules.md#before-a-restart);
 * throws RestartRefusedError naming each table that would fail. None is
 * skipped as ours: commands.sh runs it after our tables are in place.
 */
export async function checkLocalTables(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<RestartGuardResult> {
  const { config } = await loadAgentConfig(configPath, env);
  const local = new LocalTransport(hostname());
  const t = config.root === undefined ? local : new RootedTransport(local, config.root);
  try {
    return await checkTablesBeforeRestart(t, { timeoutMs: config.timeout_seconds * 1000, ours: new Set() });
  } finally {
    await t.close();
  }
}
