/**
 * IPsec pre-shared keys through a whole run on simulated nodes: generated
 * by apply, stored, staged, committed, verified, rendered. No key ever
 * appears in what the CLI prints (any command, --json, trace logging), in
 * the argv of a command a node ran, in sshd's log, or in a file more open
 * than 0600 — the staged copy included, checked at the moment between
 * stage and commit.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { stagedTarget } from '../../src/transport/transport.js';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { executeWork } from '../../src/apply/execute.js';
import { planFleet } from '../../src/operations/fleet.js';
import { remoteFrom } from '../../src/cli/remote.js';
import { BUNDLE_PATH } from '../../src/agent/bundle.js';
import { GENERATORS } from '../../src/plan/desired-state.js';
import { FileStore } from '../../src/store/file-store.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

let c: SimCluster;
useSimCluster({ count: 3 }, (started) => (c = started));
beforeAll(async () => {
  // No keys yet: apply makes them, so the whole life of a key is in this run.
  const doc = parse(await readFile(c.statePath, 'utf8')) as Record<string, unknown>;
  delete doc.ipsec;
  await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
});

async function keys(): Promise<string[]> {
  const doc = parse(await readFile(c.statePath, 'utf8')) as { ipsec?: { psk?: Array<{ key: string }> } };
  return (doc.ipsec?.psk ?? []).map((k) => k.key);
}

/** Fails naming the place if any key, or a 32-character piece of one, is in `text`. */
function noKey(text: string, where: string, ks: readonly string[]): void {
  for (const k of ks) {
    for (let i = 0; i + 32 <= k.length; i += 32) expect(text.includes(k.slice(i, i + 32)), `${where} holds a key`).toBe(false);
  }
}

/** Every file under `root` with its mode, and whether it holds a key. */
async function filesWithKeys(root: string, ks: readonly string[]): Promise<Array<{ path: string; mode: number }>> {
  const out: Array<{ path: string; mode: number }> = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (ks.some((k) => (readFileCache.get(p) ?? '').includes(k.slice(0, 32)))) out.push({ path: p, mode: (await stat(p)).mode & 0o777 });
    }
  };
  const readFileCache = new Map<string, string>();
  const fill = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await fill(p);
      else readFileCache.set(p, await readFile(p, 'latin1'));
    }
  };
  await fill(root);
  await walk(root);
  return out;
}

const TRACE = { ESDC_OVERLAY_LOG_LEVEL: 'trace' };

describe('keys through a whole run', () => {
  const printed: Array<[string, string]> = [];

  it('apply at trace level generates and stores keys, mode 0600, and prints none', async () => {
    const r = await cli(['apply', '--yes', '--log-level', 'trace'], { ...c.env, ...TRACE });
    expect(r.status, r.stderr).toBe(0);
    printed.push(['apply output', r.stdout + r.stderr]);
    const ks = await keys();
    expect(ks.length).toBeGreaterThan(0);
    expect((await stat(c.statePath)).mode & 0o777).toBe(0o600);
  });

  it('the staged copies of key files are 0400 already before commit, and their targets stay 0400', async () => {
    // Force a rewrite of every key file: change every key in the state.
    const doc = parse(await readFile(c.statePath, 'utf8')) as { ipsec: { psk: Array<{ key: string }> } };
    for (const p of doc.ipsec.psk) p.key = [...p.key].reverse().join('');
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    const ks = await keys();
    const snap = await new FileStore(c.statePath).load();
    const remote = await remoteFrom({}, c.env);
    const fleet = await planFleet(snap.model, undefined, remote.open, { concurrency: 16, timeoutMs: 30_000, generators: GENERATORS });
    const stagedModes: Array<{ path: string; mode: number }> = [];
    try {
      const result = await executeWork(fleet.transports, fleet.nodes.map((n) => n.work), {
        concurrency: 16,
        timeoutMs: 30_000,
        hooks: {
          afterStage: async () => {
            for (const n of c.nodes) stagedModes.push(...(await filesWithKeys(n.root, ks)));
          },
        },
      });
      expect(result.ok).toBe(true);
    } finally {
      await fleet.close();
    }
    // Per node: ike.preshared and the agent's bundle (which carries every file of the node).
    expect(stagedModes.filter((f) => stagedTarget(f.path) !== undefined).length).toBe(2 * c.nodes.length);
    for (const f of stagedModes) expect(f.mode & 0o077, f.path).toBe(0);
    for (const n of c.nodes) {
      const held = await filesWithKeys(n.root, ks);
      expect(held.map((f) => f.path).sort()).toEqual([n.path(BUNDLE_PATH), n.path('/opt/custom/etc/ipsec/ike.preshared')].sort());
      for (const f of held) expect(f.mode, f.path).toBe(0o400);
    }
  });

  it('render writes key files 0600 or tighter, and nothing else holds a key', async () => {
    const out = join(c.dir, 'render');
    const r = await cli(['render', '--out', out], c.env);
    expect(r.status, r.stderr).toBe(0);
    printed.push(['render output', r.stdout + r.stderr]);
    const held = await filesWithKeys(out, await keys());
    expect(held.length).toBe(c.nodes.length);
    for (const f of held) {
      expect(f.path.endsWith('ike.preshared'), f.path).toBe(true);
      expect(f.mode & 0o077, f.path).toBe(0);
    }
  });

  it('plan, verify, keys, list and validate print no key, as text, as JSON, at trace level', async () => {
    for (const argv of [['plan'], ['verify'], ['keys', 'list'], ['list'], ['validate'], ['adminoverlay-info']]) {
      for (const extra of [[], ['--json']]) {
        const r = await cli([...argv, ...extra, '--log-level', 'trace'], { ...c.env, ...TRACE });
        expect(r.status, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
        printed.push([`${[...argv, ...extra].join(' ')} output`, r.stdout + r.stderr]);
      }
    }
    const ks = await keys();
    for (const [where, text] of printed) noKey(text, where, ks);
  });

  it('no node ran a command with a key in its argv, and sshd logged none', async () => {
    const ks = await keys();
    for (const n of c.nodes) {
      const calls = await n.calls();
      expect(calls.length).toBeGreaterThan(0);
      noKey(JSON.stringify(calls), `${n.name} recorded argv`, ks);
      noKey(await readFile(join(n.dir, 'sshd.log'), 'utf8'), `${n.name} sshd.log`, ks);
    }
  });

  it('an error about a key names the pair, never the key', async () => {
    const good = await readFile(c.statePath, 'utf8');
    const doc = parse(good) as { ipsec: { psk: Array<{ key: string }> } };
    const bad = `${doc.ipsec.psk[0]!.key.slice(0, -1)}G`;
    doc.ipsec.psk[0]!.key = bad;
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    try {
      for (const argv of [['plan'], ['validate', '--json'], ['apply', '--yes', '--json']]) {
        const r = await cli([...argv, '--log-level', 'trace'], { ...c.env, ...TRACE });
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain('ipsec.psk');
        noKey(r.stdout + r.stderr, `${argv.join(' ')} error`, [bad, ...(await keys())]);
      }
    } finally {
      await writeFile(c.statePath, good, { mode: 0o600 });
    }
  });
});
