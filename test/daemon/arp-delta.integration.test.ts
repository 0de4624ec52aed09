/**
 * The daemon's table writes as patches (docs/arp-deltas.md) on light
 * simulated nodes: the daemon's writeTables with a DeltaState, the
 * production SSH transport, and each node running `agent patch-table`.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { DeltaState } from '../../src/daemon/delta.js';
import { writeTables, type TableResult } from '../../src/daemon/tables.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { quoteArgv } from '../../src/shell/quote.js';
import { sha256Hex } from '../../src/sha256.js';
import type { Transport } from '../../src/transport/transport.js';
import { arpDoc, lightTransports, modelOf, moved, RULE, seedTables } from '../harness/light-arp.js';
import { lightFacts, startLightCluster, type LightCluster } from '../harness/light-nodes.js';

const facts = lightFacts(2);
let dir: string;
let c: LightCluster;
let doc: StateDoc;
let transports: Map<string, Transport>;

function want(model: Model, node: string): { path: string; text: string } {
  const rule = model.rules.find((r) => r.name === RULE)!;
  const f = arpTableFile(new RenderContext(model), rule, model.nodeByName.get(node)!);
  return { path: f.path, text: fileText(f) };
}

async function onNode(node: string, path: string): Promise<string> {
  return readFile(join(c.nodes.find((n) => n.name === node)!.root, path), 'utf8');
}

async function write(model: Model, delta: DeltaState, all: boolean): Promise<TableResult> {
  return writeTables(model, { rules: new Set([RULE]), nodes: all ? new Set(model.nodes.map((n) => n.name)) : new Set() }, transports, { timeoutMs: 30_000, concurrency: 4, delta });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arp-delta-'));
  c = await startLightCluster({ count: 4, dir, facts });
  doc = arpDoc(c, facts, 40);
  await seedTables(c, modelOf(doc));
  transports = await lightTransports(c, modelOf(doc));
});
afterAll(async () => {
  for (const t of transports?.values() ?? []) await t.close();
  await c?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ARP tables sent as patches', () => {
  it('a VM move is a patch on every node: the file byte-identical to the whole one, its bundle copy moved with it, and the bytes per node reported', async () => {
    const delta = new DeltaState();
    const m0 = modelOf(doc);
    // The resync reads every table and learns its hash: nothing to write.
    const r0 = await write(m0, delta, true);
    expect(r0.failed).toEqual(new Map());
    expect(r0.written.size).toBe(0);
    // NIC 0 (on node 0) moves to node 1.
    doc = moved(doc, 0, c.nodes[1]!.name);
    const m1 = modelOf(doc);
    const r1 = await write(m1, delta, false);
    expect(r1.failed).toEqual(new Map());
    for (const n of c.nodes) {
      const w = want(m1, n.name);
      expect(await onNode(n.name, w.path), n.name).toBe(w.text);
      const sent = r1.sent.get(n.name)!;
      expect(sent.patched, n.name).toEqual([w.path]);
      expect(sent.whole).toEqual([]);
      expect(sent.fallbacks).toEqual([]);
      // A one-entry patch command: a few hundred bytes, not the table.
      expect(sent.bytes).toBeGreaterThan(100);
      expect(sent.bytes).toBeLessThan(600);
      expect(sent.bytes).toBeLessThan(Buffer.byteLength(w.text));
      const bundle = parseBundle(await onNode(n.name, BUNDLE_PATH), n.name);
      expect(bundle.files.find((f) => f.path === w.path)!.content).toBe(w.text);
    }
    // Node 1 now holds the NIC: its entry left node 1's table; node 0's table gained it.
    expect(await onNode(c.nodes[1]!.name, want(m1, c.nodes[1]!.name).path)).not.toContain('"52:54:00:00:00:00"');
    expect(await onNode(c.nodes[0]!.name, want(m1, c.nodes[0]!.name).path)).toContain('"52:54:00:00:00:00"');
  });

  it('a node whose table drifted refuses the patch and gets the whole file', async () => {
    const delta = new DeltaState();
    const m0 = modelOf(doc);
    await write(m0, delta, true);
    const drifted = c.nodes[2]!;
    const path = want(m0, drifted.name).path;
    await chmod(join(drifted.root, path), 0o600);
    await writeFile(join(drifted.root, path), '{}\n', { mode: 0o400 });
    doc = moved(doc, 5, c.nodes[3]!.name);
    const m1 = modelOf(doc);
    const r = await write(m1, delta, false);
    expect(r.failed).toEqual(new Map());
    const sent = r.sent.get(drifted.name)!;
    expect(sent.patched).toEqual([]);
    expect(sent.whole).toEqual([path]);
    expect(sent.fallbacks).toHaveLength(1);
    expect(sent.fallbacks[0]!.reason).toContain(`has SHA-256 ${sha256Hex('{}\n').slice(0, 16)}...`);
    expect(await onNode(drifted.name, path)).toBe(want(m1, drifted.name).text);
    // The others were patched.
    for (const n of c.nodes.filter((x) => x !== drifted)) expect(r.sent.get(n.name)!.patched).toEqual([path]);
  });

  it('a node whose bundle is of the format before refuses the patch naming format; the whole-file write fails naming it too and changes nothing there', async () => {
    const delta = new DeltaState();
    await write(modelOf(doc), delta, true);
    const old = c.nodes[1]!;
    const bundlePath = join(old.root, BUNDLE_PATH);
    const current = await readFile(bundlePath);
    const { sha256: _, ...body } = parseBundle(current);
    const legacy = { ...body, format: 'esdc-overlay-bundle/1' };
    const legacyText = `${JSON.stringify({ ...legacy, sha256: sha256Hex(JSON.stringify(legacy)) })}\n`;
    await chmod(bundlePath, 0o600);
    await writeFile(bundlePath, legacyText);
    await chmod(bundlePath, 0o400);
    try {
      const m0 = modelOf(doc);
      const path = want(m0, old.name).path;
      const tableBefore = await onNode(old.name, path);
      doc = moved(doc, 9, c.nodes[2]!.name);
      const m1 = modelOf(doc);
      const r = await write(m1, delta, false);
      const sent = r.sent.get(old.name)!;
      expect(sent.patched).toEqual([]);
      expect(sent.fallbacks[0]!.reason).toMatch(/patch refused: .*format: must be esdc-overlay-bundle\/2/);
      expect(r.failed.get(old.name)).toMatch(/format: must be esdc-overlay-bundle\/2 .*run apply/);
      expect(await onNode(old.name, path)).toBe(tableBefore);
      expect(await onNode(old.name, BUNDLE_PATH)).toBe(legacyText);
      for (const n of c.nodes.filter((x) => x !== old)) expect(r.sent.get(n.name)!.patched).toEqual([path]);
    } finally {
      await chmod(bundlePath, 0o600);
      await writeFile(bundlePath, current);
      await chmod(bundlePath, 0o400);
    }
  });

  it('a node without the agent bundle gets whole files, and is not asked to patch again', async () => {
    const delta = new DeltaState();
    const bare = c.nodes[3]!;
    await rm(join(bare.root, AGENT_LAYOUT.smartos.cli));
    try {
      await write(modelOf(doc), delta, true);
      doc = moved(doc, 7, c.nodes[0]!.name);
      const m1 = modelOf(doc);
      const r = await write(m1, delta, false);
      expect(r.sent.get(bare.name)!.whole).toHaveLength(1);
      expect(r.sent.get(bare.name)!.fallbacks[0]!.reason).toContain('Cannot find module');
      expect(delta.noPatch.has(bare.name)).toBe(true);
      expect(await onNode(bare.name, want(m1, bare.name).path)).toBe(want(m1, bare.name).text);
      doc = moved(doc, 7, c.nodes[2]!.name);
      const r2 = await write(modelOf(doc), delta, false);
      expect(r2.sent.get(bare.name)!.fallbacks).toEqual([]);
      expect(r2.sent.get(bare.name)!.whole).toHaveLength(1);
    } finally {
      await writeFile(join(bare.root, AGENT_LAYOUT.smartos.cli), '//\n');
    }
  });

  it('a bad patch is refused on the node and changes nothing: an invalid MAC or IP, a path outside the tables directory', async () => {
    const n = c.nodes[0]!;
    const t = transports.get(n.name)!;
    const path = want(modelOf(doc), n.name).path;
    const before = await onNode(n.name, path);
    const sha = sha256Hex(before);
    const run = (words: string[]) => t.exec(['/opt/tools/bin/node', AGENT_LAYOUT.smartos.cli, 'agent', 'patch-table', ...words], 30_000);
    const bad: Array<[string[], string]> = [
      [[path, sha, sha, '1', 'set=52:54:zz:00:00:01,10.0.0.1,10.0.0.2,4790'], 'MAC "52:54:zz:00:00:01"'],
      [[path, sha, sha, '1', 'set=52:54:00:00:00:01,10.0.0.300,10.0.0.2,4790'], 'arp "10.0.0.300"'],
      [[path, sha, sha, '1', 'set=52:54:00:00:00:01,10.0.0.1,not-an-ip,4790'], 'ip "not-an-ip"'],
      [['/etc/shadow', sha, sha, '1', 'del=52:54:00:00:00:01'], 'path "/etc/shadow"'],
      [['/opt/custom/networking/../../../etc/passwd', sha, sha, '1'], 'path "/opt/custom/networking/../../../etc/passwd"'],
    ];
    for (const [words, says] of bad) {
      const r = await run(words);
      expect(r.code, quoteArgv(words)).toBe(1);
      expect(r.stderr).toContain('patch refused');
      expect(r.stderr).toContain(says);
    }
    expect(await onNode(n.name, path)).toBe(before);
  });
  it('on a resync: a table missing on the node is left for apply (reported, not created); one that differs is sent whole, its bundle copy moved with it', async () => {
    const delta = new DeltaState();
    const m = modelOf(doc);
    const [gone, drifted] = [c.nodes[0]!, c.nodes[1]!];
    const path = want(m, gone.name).path;
    const saved = await onNode(gone.name, path);
    await rm(join(gone.root, path));
    await chmod(join(drifted.root, path), 0o600);
    await writeFile(join(drifted.root, path), '{}\n');
    await chmod(join(drifted.root, path), 0o400);
    try {
      const r = await write(m, delta, true);
      expect(r.failed).toEqual(new Map());
      expect(r.missing).toEqual([{ node: gone.name, path }]);
      expect(r.written.has(gone.name)).toBe(false);
      await expect(onNode(gone.name, path)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(r.written.get(drifted.name)).toEqual([path]);
      expect(r.bundles).toEqual([drifted.name]);
      expect(r.sent.get(drifted.name)).toMatchObject({ patched: [], whole: [path], fallbacks: [] });
      expect(await onNode(drifted.name, path)).toBe(want(m, drifted.name).text);
      expect(parseBundle(await onNode(drifted.name, BUNDLE_PATH), drifted.name).files.find((f) => f.path === path)!.content).toBe(want(m, drifted.name).text);
      // The others hold what the state wants: read, found equal, nothing sent.
      for (const n of c.nodes.slice(2)) expect(r.sent.has(n.name), n.name).toBe(false);
      expect(delta.knownTable(c.nodes[2]!.name, path)?.sha256).toBe(sha256Hex(want(m, c.nodes[2]!.name).text));
    } finally {
      await writeFile(join(gone.root, path), saved, { mode: 0o400 });
    }
  });
});
