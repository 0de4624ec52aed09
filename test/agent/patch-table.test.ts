/**
 * `esdc-overlay agent patch-table` (docs/arp-deltas.md#on-the-node), the
 * built CLI on a simulated node root: applies a patch under both hashes,
 * moves the bundle's copy with it and restarts varpd; refuses a file that is
 * not the one the head node expects and changes nothing.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { sha256Hex } from '../../src/sha256.js';
import { patchTableWords } from '../../src/agent/patch-table.js';
import type { StageContent } from '../../src/byte-chunks.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { cli } from '../support/cli.js';
import { LightLocalTransport } from '../harness/light-nodes.js';
import { agentSim, type AgentSim } from './sim-node.js';
import { customersTable, modelOf, moveOne as moveOneNic, moveWords } from './patch-words.js';

const ARP = '/opt/custom/networking/customers_overlay.json';
let dir: string;
let sim: AgentSim;
let configPath: string;

const model = modelOf;
const table = (m: Model): string => customersTable(m, sim.node);
const words = (before: StateDoc, after: StateDoc, from?: string): string[] => moveWords(sim.node, before, after, from);
const moveOne = (d: StateDoc): StateDoc => moveOneNic(d, sim.node);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-patch-'));
  sim = await agentSim(dir);
  configPath = join(dir, 'agent.json');
  await writeFile(configPath, JSON.stringify({ status: join(dir, 'agent-status.json'), start_delay_max_seconds: 0, timeout_seconds: 30 }));
  await sim.writeBundle(sim.bundleFor(sim.doc));
  const first = await cli(['agent', '--once', '--config', configPath], sim.env);
  expect(first.status, first.stderr).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agent patch-table', () => {
  it('applies a patch: the file as the head node renders it, the bundle copy and version moved, varpd restarted', async () => {
    const after = moveOne(sim.doc);
    const bundleBefore = parseBundle(await readFile(join(sim.root, BUNDLE_PATH), 'utf8'));
    await writeFile(join(sim.root, 'var/sim/calls.jsonl'), '');
    const r = await cli(['agent', 'patch-table', '--config', configPath, '--json', ...words(sim.doc, after)], sim.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.changes).toBe(1);
    const want = table(model(after));
    expect(await readFile(join(sim.root, ARP), 'utf8')).toBe(want);
    expect(report.sha256).toBe(sha256Hex(want));
    expect((await stat(join(sim.root, ARP))).mode & 0o777).toBe(0o400);
    const bundle = parseBundle(await readFile(join(sim.root, BUNDLE_PATH), 'utf8'));
    expect(bundle.files.find((f) => f.path === ARP)!.content).toBe(want);
    expect(bundle.version).toBeGreaterThan(bundleBefore.version);
    expect(report.bundle_version).toBe(bundle.version);
    const calls = (await readFile(join(sim.root, 'var/sim/calls.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cmd: string; args: string[] });
    expect(calls.map((c) => [c.cmd, ...c.args].join(' '))).toContain('svcadm restart network/varpd');
    // The agent then finds the node in sync with its (patched) bundle: nothing reverted.
    const again = await cli(['agent', '--once', '--config', configPath, '--json'], sim.env);
    expect(JSON.parse(again.stdout).result).toBe('in-sync');
    sim.doc = after;
  });

  it('refuses a table whose hash is not the expected one, and changes nothing', async () => {
    const before = await readFile(join(sim.root, ARP), 'utf8');
    const bundleBefore = await readFile(join(sim.root, BUNDLE_PATH), 'utf8');
    const r = await cli(['agent', 'patch-table', '--config', configPath, ...words(sim.doc, moveOne(sim.doc), 'c'.repeat(64))], sim.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`patch refused: ${ARP} has SHA-256 ${sha256Hex(before).slice(0, 16)}..., not ${'c'.repeat(16)}...`);
    expect(await readFile(join(sim.root, ARP), 'utf8')).toBe(before);
    expect(await readFile(join(sim.root, BUNDLE_PATH), 'utf8')).toBe(bundleBefore);
  });

  it('refuses a patch whose result is not the expected one', async () => {
    const before = await readFile(join(sim.root, ARP), 'utf8');
    const w = words(sim.doc, moveOne(sim.doc));
    w[2] = 'd'.repeat(64);
    const r = await cli(['agent', 'patch-table', '--config', configPath, ...w], sim.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`not ${'d'.repeat(16)}... as the head node expects`);
    expect(await readFile(join(sim.root, ARP), 'utf8')).toBe(before);
  });

  it('refuses a bundle of the format before (contents escaped in one JSON line), naming the field, and changes nothing', async () => {
    const before = await readFile(join(sim.root, ARP), 'utf8');
    const current = await readFile(join(sim.root, BUNDLE_PATH), 'utf8');
    const { sha256: _, ...body } = parseBundle(current);
    const old = { ...body, format: 'esdc-overlay-bundle/1' };
    const oldText = `${JSON.stringify({ ...old, sha256: sha256Hex(JSON.stringify(old)) })}\n`;
    await sim.writeBundle(oldText);
    try {
      const r = await cli(['agent', 'patch-table', '--config', configPath, ...words(sim.doc, moveOne(sim.doc))], sim.env);
      expect(r.status).toBe(1);
      // The daemon reads "patch refused" as: send the whole file (src/daemon/tables.ts).
      expect(r.stderr).toMatch(/patch refused: .*format: must be esdc-overlay-bundle\/2 .*run apply.*\(got "esdc-overlay-bundle\/1"\); nothing was changed/);
      expect(await readFile(join(sim.root, ARP), 'utf8')).toBe(before);
      expect(await readFile(join(sim.root, BUNDLE_PATH), 'utf8')).toBe(oldText);
    } finally {
      await sim.writeBundle(current);
    }
  });

  it('stages the table and the bundle as chunks, never as one new buffer, and they are the files the CLI writes (docs/arp-deltas.md#chunks-not-copies)', async () => {
    const after = moveOne(sim.doc);
    const w = words(sim.doc, after);
    // In this process, on the node's root, with a transport that records what is staged.
    const staged = new Map<string, StageContent>();
    const t = new (class extends LightLocalTransport {
      override stage(path: string, content: StageContent, opts: { mode: number }, timeoutMs: number): Promise<void> {
        staged.set(path, content);
        return super.stage(path, content, opts, timeoutMs);
      }
    })(new LocalTransport(sim.node), sim.root);
    const report = await patchTableWords(t, w, { timeoutMs: 30_000 });
    expect(report.refreshed).toEqual(['varpd']);
    const want = table(model(after));
    expect(await readFile(join(sim.root, ARP), 'utf8')).toBe(want);
    // Chunks (lists), the table's among the bundle's: a whole copy of either would be one Buffer here.
    const [tableChunks, bundleChunks] = [staged.get(ARP), staged.get(BUNDLE_PATH)];
    expect([Array.isArray(tableChunks), Array.isArray(bundleChunks)]).toEqual([true, true]);
    expect((tableChunks as Buffer[]).length).toBeGreaterThan(1);
    expect((tableChunks as Buffer[]).every((c) => (bundleChunks as Buffer[]).includes(c))).toBe(true);
    const parsed = parseBundle(await readFile(join(sim.root, BUNDLE_PATH), 'utf8'));
    expect(parsed.files.find((f) => f.path === ARP)!.content).toBe(want);
    expect(report.bundle_version).toBe(parsed.version);
    sim.doc = after;
    // The agent finds the node in sync with what was written.
    const again = await cli(['agent', '--once', '--config', configPath, '--json'], sim.env);
    expect(JSON.parse(again.stdout).result).toBe('in-sync');
  });
});
