/**
 * The agent as a service: the real built CLI (`node dist/esdc-overlay.js
 * agent`) as a child process on a 2-second schedule against a simulated
 * node, repairing drift introduced between cycles, reloading its
 * configuration on SIGHUP and stopping cleanly on SIGTERM.
 */
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../src/agent/status.js';
import { assertBuilt, runCli, type CliResult } from '../support/cli-process.js';
import { cli } from '../support/cli.js';
import { agentSim, type AgentSim } from './sim-node.js';

const ARP = '/opt/custom/networking/customers_overlay.json';

async function status(path: string): Promise<AgentStatus | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
}

/** Polls the status file until `pred` holds; bounded. */
async function until(path: string, what: string, pred: (s: AgentStatus) => boolean, timeoutMs = 15_000): Promise<AgentStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(path);
    if (s && pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serviceCalls(root: string): Promise<string[]> {
  const text = await readFile(join(root, 'var/sim/calls.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { cmd: string; args: string[] })
    .filter((c) => c.cmd === 'svcadm' || c.cmd === 'net-virtual' || c.cmd.endsWith('-restore.sh'))
    .map((c) => [c.cmd, ...c.args].join(' '));
}

describe('agent daemon on a 2-second schedule', () => {
  let dir: string;
  let sim: AgentSim;
  let statusPath: string;
  let configPath: string;
  let child: { done: Promise<CliResult>; pid: number } | undefined;

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'esdc-agentd-'));
    sim = await agentSim(dir);
    statusPath = join(dir, 'agent-status.json');
    configPath = join(dir, 'agent.json');
    await writeFile(configPath, JSON.stringify({ schedule: '*/2 * * * * *', status: statusPath, start_delay_max_seconds: 0 }));
    await sim.writeBundle(sim.bundleFor(sim.doc));
  });
  afterAll(async () => {
    if (child) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('runs three cycles, repairs the drift made between them, reloads on SIGHUP and stops on SIGTERM with exit 0', async () => {
    child = runCli(['agent', '--log-format', 'json', '--config', configPath], { ESDC_OVERLAY_LOG_LEVEL: 'info', ...sim.env });
    // Cycle 1: the node gets everything.
    const s1 = await until(statusPath, 'the first run', (s) => s.runs >= 1);
    expect(s1.state).toBe('running');
    expect(s1.pid).toBe(child.pid);
    expect(s1.last_result).toBe('repaired');
    const arp = await readFile(join(sim.root, ARP), 'utf8');

    // Cycle 2: an ARP table deleted meanwhile comes back; varpd alone is restarted.
    await writeFile(join(sim.root, 'var/sim/calls.jsonl'), '');
    await unlink(join(sim.root, ARP));
    const s2 = await until(statusPath, 'the ARP repair', (s) => s.last_result === 'repaired' && s.runs > s1.runs);
    expect(s2.last_drift!.files).toEqual([ARP]);
    expect(await readFile(join(sim.root, ARP), 'utf8')).toBe(arp);
    expect(await serviceCalls(sim.root)).toEqual(['svcadm restart network/varpd']);

    // Cycle 3: an edited /usbkey/config line is put back; net-virtual alone is refreshed.
    await writeFile(join(sim.root, 'var/sim/calls.jsonl'), '');
    const usb = await readFile(join(sim.root, 'usbkey/config'), 'utf8');
    await writeFile(join(sim.root, 'usbkey/config'), usb.replace('vxlan/listen_port=4790', 'vxlan/listen_port=4000'));
    const s3 = await until(statusPath, 'the /usbkey/config repair', (s) => s.last_result === 'repaired' && s.runs > s2.runs);
    expect(s3.last_drift!.usbkey).toEqual(['overlay_rule_customers']);
    expect(await readFile(join(sim.root, 'usbkey/config'), 'utf8')).toBe(usb);
    expect(await serviceCalls(sim.root)).toEqual(['net-virtual refresh']);

    // And then it stays quiet: an in-sync cycle calls nothing.
    await writeFile(join(sim.root, 'var/sim/calls.jsonl'), '');
    const s4 = await until(statusPath, 'an in-sync run', (s) => s.runs > s3.runs);
    expect(s4.last_result).toBe('in-sync');
    expect(await serviceCalls(sim.root)).toEqual([]);

    // SIGHUP with a bad configuration keeps the running one; the schedule goes on.
    await writeFile(configPath, JSON.stringify({ schedule: 'every two seconds', status: statusPath }));
    process.kill(child.pid, 'SIGHUP');
    await until(statusPath, 'a run after a bad reload', (s) => s.runs > s4.runs + 1);

    process.kill(child.pid, 'SIGTERM');
    const r = await child.done;
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
    const end = await status(statusPath);
    expect(end!.state).toBe('stopped');
    expect(end!.stopped_at).not.toBeNull();
    const raw = r.stderr.split('\n').filter((l) => l !== '');
    expect(raw.filter((l) => !l.startsWith('{'))).toEqual([]);
    const lines = raw.map((l) => JSON.parse(l) as { msg: string; error?: string; schedule?: string });
    expect(lines[0]!.msg).toBe('agent started');
    expect(lines[0]!.schedule).toBe('*/2 * * * * *');
    const bad = lines.find((l) => l.msg === 'configuration not reloaded; keeping the running one');
    expect(bad?.error).toContain('schedule');
    expect(lines.filter((l) => l.msg === 'agent run').length).toBeGreaterThanOrEqual(5);
    expect(lines.at(-1)!.msg).toBe('agent stopped');

    const shown = await cli(['agent', 'status', '--config', join(dir, 'status-only.json')], {});
    expect(shown.status).toBe(1);
  }, 60_000);
});
