/**
 * `--log-level debug|trace` through the built CLI on simulated nodes (issue
 * 19): debug shows each remote operation with its node and duration; trace
 * adds the bytes moved; no key ever appears, and the default level shows
 * none of it.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runBuiltCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

let c: SimCluster;
useSimCluster({ count: 2 }, (started) => (c = started));

describe('plan --summary and --json style', () => {
  it('one line per node with counts and refreshes; JSON keys snake_case, modes octal strings', () => {
    // Runs before any apply of this file: every node has everything to add.
    const r = runBuiltCli(['plan', '--summary'], c.env);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    for (const n of c.nodes) {
      expect(lines.filter((l) => l.startsWith(`${n.name}: write `))).toHaveLength(1);
    }
    expect(r.stdout).toMatch(/: write \d+ \(files \+\d+ ~0, \/usbkey\/config \d+ line\(s\)\); remove 0; overlays \+\d+; refresh \d+: \S+/);
    expect(r.stdout).toContain(`${c.nodes.length} of ${c.nodes.length} node(s) to change.`);
    const json = runBuiltCli(['plan', '--json'], c.env);
    const text = json.stdout;
    expect(text).not.toMatch(/"[a-z]+[A-Z][A-Za-z]*":/);
    const plan = JSON.parse(text) as { nodes: Array<{ files: Array<{ mode: unknown; content_changed: boolean }> }> };
    const modes = plan.nodes.flatMap((n) => n.files.map((f) => f.mode));
    expect(modes.length).toBeGreaterThan(0);
    for (const m of modes) expect(m).toMatch(/^0[0-7]{3}$/);
    expect(modes).toContain('0400');
  });
});

describe('remote operations in the log', () => {
  it('debug: one line per operation, naming the node and the duration; default: none', async () => {
    const node = c.nodes[0]!.name;
    const quiet = runBuiltCli(['plan', node], c.env);
    expect(quiet.stderr).not.toMatch(/ms\)$/m);
    const r = runBuiltCli(['plan', node, '--log-level', 'debug'], c.env);
    expect([0, 2]).toContain(r.status);
    const ops = r.stderr.split('\n').filter((l) => l.startsWith(`debug: ${node}: `));
    expect(ops.some((l) => /^debug: \S+: read \/usbkey\/config \(\d+ ms\)/.test(l))).toBe(true);
    expect(ops.some((l) => /: exec .*\(\d+ ms\)/.test(l))).toBe(true);
    expect(r.stderr).not.toContain('bytes_read');
  });

  it('trace adds transfer sizes; apply at trace never logs a key', async () => {
    const r = runBuiltCli(['apply', '--yes', '--log-level', 'trace', '--log-format', 'json'], c.env);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.op === 'stage' && typeof l.bytes_written === 'number' && typeof l.ms === 'number')).toBe(true);
    expect(lines.some((l) => l.op === 'read' && typeof l.bytes_read === 'number')).toBe(true);
    const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
    for (const k of doc.ipsec?.psk ?? []) expect(r.stderr).not.toContain(k.key);
    expect(r.stdout + r.stderr).not.toMatch(/[0-9a-f]{256}/);
    // In sync: verify says what Danube's tool said after each run, that the GUI needs a node refresh.
    const v = runBuiltCli(['verify'], c.env);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(`click 'Refresh' on ${c.nodes.map((n) => n.name).join(', ')}`);
  });
});

describe('nodes discover --head', () => {
  it("records the head node's PDC from its sysinfo as defaults.head_pdc", async () => {
    const head = c.nodes[0]!.name;
    const pdc = c.state.nodes![head]!.pdc;
    const refused = runBuiltCli(['nodes', 'discover', head, '--head', 'cn99.sim.test'], c.env);
    expect(refused.status).toBe(64);
    const r = runBuiltCli(['nodes', 'discover', head, '--head', head], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`head node: defaults.head_pdc (none) → ${pdc}`);
    const doc = parse(await readFile(c.statePath, 'utf8')) as StateDoc;
    expect(doc.defaults?.head_pdc).toBe(pdc);
    const again = runBuiltCli(['nodes', 'discover', head, '--head', head], c.env);
    expect(again.stdout.trim()).toBe(`${head}: unchanged`);
  });
});

/** Runs `fn` with an ssh-agent of its own that holds the cluster's key, stopped afterwards. */
async function withAgent(fn: (sock: string) => Promise<void>): Promise<void> {
  const sock = join(await tempDir(), 'agent.sock');
  const started = spawnSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
  expect(started.status).toBe(0);
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)![1]);
  try {
    expect(spawnSync('ssh-add', ['-q', c.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status).toBe(0);
    await fn(sock);
  } finally {
    process.kill(pid, 'SIGTERM');
  }
}

describe('ssh-agent', () => {
  it('with SSH_AUTH_SOCK and no key file, the agent authenticates', () =>
    withAgent(async (sock) => {
      const { ESDC_OVERLAY_IDENTITY: _key, ...env } = c.env;
      const home = await tempDir();
      const withoutAgent = runBuiltCli(['plan', c.nodes[0]!.name], { ...env, HOME: home });
      expect(withoutAgent.status).toBe(1);
      const r = runBuiltCli(['plan', c.nodes[0]!.name], { ...env, HOME: home, SSH_AUTH_SOCK: sock });
      expect([0, 2], r.stderr).toContain(r.status);
    }));

  it('a default key file the node refuses is followed by the agent, as ssh(1) does', () =>
    withAgent(async (sock) => {
      const home = await tempDir();
      await mkdir(join(home, '.ssh'), { mode: 0o700 });
      expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, '.ssh', 'id_ed25519')]).status).toBe(0);
      const { ESDC_OVERLAY_IDENTITY: _key, ...rest } = c.env;
      const env = { ...rest, HOME: home };
      const refused = runBuiltCli(['plan', c.nodes[0]!.name], env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('All configured authentication methods failed');
      const r = runBuiltCli(['plan', c.nodes[0]!.name], { ...env, SSH_AUTH_SOCK: sock });
      expect([0, 2], r.stderr).toContain(r.status);
    }));
});
