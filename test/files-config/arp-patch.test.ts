/**
 * ARP-table patches (docs/arp-deltas.md): the changes the daemon computes
 * between two saved states, applied to a node's table, give the table the
 * head node renders from the new state, byte for byte; the words a patch
 * travels as are validated one by one.
 */
import { describe, expect, it } from 'vitest';
import { DeltaState } from '../../src/daemon/delta.js';
import { tableSha256 } from '../../src/daemon/delta.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { applyArpPatch, parseArpTable, parsePatchWords, patchWords, renderArpTable, spliceArpPatch, spliceArpPatchChunks, type ArpPatch, type ArpPatchOp } from '../../src/files-config/arp-patch.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import { validateDoc } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import { sha256Hex, sha256HexChunks } from '../../src/sha256.js';
import { simFacts, simState } from '../harness/sim-cluster.js';

const facts = [0, 1, 2, 3].map((i) => simFacts(i, 4));
const base = simState(facts, facts.map((_, i) => ({ port: 2200 + i, user: 'root' })));
const model = (d: StateDoc): Model => validateDoc(structuredClone(d), 'test', 'warn').model;
/** Chunks joined, for comparing (patch-table never joins them). */
const bytesOf = (chunks: Buffer[] | undefined): Buffer | undefined => chunks && Buffer.concat(chunks);
const text = (m: Model, rule: string, node: string): string => fileText(arpTableFile(new RenderContext(m), m.rules.find((r) => r.name === rule)!, m.nodeByName.get(node)!));

/** The state after `edit`: every node's tables patched from `before` must be byte-identical to those rendered from `after`. */
function checkAllTables(before: StateDoc, edit: (d: StateDoc) => void): number {
  const after = structuredClone(before);
  edit(after);
  const [m0, m1] = [model(before), model(after)];
  const delta = new DeltaState();
  const g0 = delta.generation(m0).gen;
  let changed = 0;
  for (const rule of m1.rules) {
    for (const name of rule.nodes) {
      const old = text(m0, rule.name, name);
      const ops = delta.patch(g0, m1, rule.name, name)!;
      expect(ops, `${rule.name} on ${name}`).toBeDefined();
      const want = text(m1, rule.name, name);
      // The rendered form is patched in place, without parsing the table.
      expect(spliceArpPatch(old, ops), `${rule.name} on ${name}`).toBe(want);
      expect(bytesOf(spliceArpPatchChunks(Buffer.from(old), ops))?.toString('utf8'), `${rule.name} on ${name}`).toBe(want);
      expect(applyArpPatch(old, ops), `${rule.name} on ${name}`).toBe(want);
      expect(tableSha256(delta.context(m1), rule, m1.nodeByName.get(name)!)).toBe(sha256Hex(want));
      if (ops.length > 0) changed++;
    }
  }
  return changed;
}

describe('a patch gives the table the head node renders', () => {
  it('a VM NIC moved to another node (and to the other PDC): every table, byte-identical', () => {
    const i = base.vnics!.findIndex((v) => v.node === facts[0]!.hostname && v.nic_tag.startsWith('customers/'));
    // Every node's customers table changes: the entry's underlay address (or, on its new node, its absence).
    expect(checkAllTables(base, (d) => void (d.vnics![i]!.node = facts[1]!.hostname))).toBeGreaterThanOrEqual(4);
  });

  it('NICs added, removed, re-addressed, with an IPv6 (ndp) entry: byte-identical', () => {
    checkAllTables(base, (d) => {
      d.vnics!.push({ vm: '11111111-2222-4333-8444-555555555555', node: facts[2]!.hostname, mac: '52:54:00:ff:00:01', ip: '10.210.9.9', ip6: '2001:db8::9', nic_tag: 'customers/1000' });
      d.vnics!.splice(0, 1);
      d.vnics![1] = { ...d.vnics![1]!, ip: '10.210.8.8' };
    });
  });

  it('in place or parsed, the same text: first, last, only entry removed, added before all and after all', () => {
    const e = (i: number) => ({ arp: `10.0.0.${i}`, ip: '192.0.2.1', port: 4790 });
    const mac = (i: number) => `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`;
    const tables = [new Map(), new Map([[mac(5), e(5)]]), new Map([3, 5, 7].map((i) => [mac(i), e(i)]))];
    const opsList: ArpPatchOp[][] = [
      [{ mac: mac(3), entry: null }],
      [{ mac: mac(7), entry: null }],
      [{ mac: mac(5), entry: null }],
      [{ mac: mac(1), entry: e(1) }, { mac: mac(9), entry: { ...e(9), ndp: '2001:db8::9' } }],
      [{ mac: mac(5), entry: null }, { mac: mac(6), entry: e(6) }, { mac: mac(3), entry: e(33) }],
    ];
    for (const t of tables) {
      for (const ops of opsList) {
        const before = renderArpTable(t);
        const after = new Map(t);
        for (const o of ops) (o.entry === null ? after.delete(o.mac) : after.set(o.mac, o.entry));
        expect(spliceArpPatch(before, ops), `${before} ${JSON.stringify(ops)}`).toBe(renderArpTable(after));
        expect(bytesOf(spliceArpPatchChunks(Buffer.from(before), ops))?.toString('utf8')).toBe(renderArpTable(after));
        expect(applyArpPatch(before, ops)).toBe(renderArpTable(after));
      }
    }
    // Not the rendered form (four-space indentation): parsed instead, and rendered as the head node renders.
    const other = `${JSON.stringify(Object.fromEntries([[mac(3), e(3)]]), null, 4)}\n`;
    expect(spliceArpPatch(other, [])).toBeUndefined();
    expect(spliceArpPatchChunks(Buffer.from(other), [])).toBeUndefined();
    // Bytes that are not ASCII: a byte would not be a character.
    const ascii = renderArpTable(parseArpTable(other));
    expect(bytesOf(spliceArpPatchChunks(Buffer.from(ascii), []))?.toString('utf8')).toBe(ascii);
    // Where the splice does not look (inside an entry it copies): only the ASCII check can refuse it.
    const wide = Buffer.from(ascii);
    wide[ascii.indexOf('"port"') + 1] = 0xff;
    expect(spliceArpPatchChunks(wide, [])).toBeUndefined();
    expect(applyArpPatch(other, [])).toBe(renderArpTable(parseArpTable(other)));
  });

  it('in place, by binary search: 300 random patches over a 2,000-entry table give the rendered text', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const mac = (i: number) => `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const e = (i: number) => (i % 5 === 0 ? { arp: `10.0.${i >> 8}.${i & 255}`, ip: '192.0.2.1', ndp: '2001:db8::1', port: 4790 } : { arp: `10.0.${i >> 8}.${i & 255}`, ip: '192.0.2.1', port: 4790 });
    let table = new Map(Array.from({ length: 2000 }, (_, k) => 2 * k).map((i) => [mac(i), e(i)]));
    for (let round = 0; round < 300; round++) {
      const ops = new Map<string, ArpPatchOp>();
      for (let n = 1 + rnd(6); n > 0; n--) {
        const i = rnd(4200);
        ops.set(mac(i), { mac: mac(i), entry: rnd(3) === 0 ? null : e(i + round) });
      }
      const before = renderArpTable(table);
      const after = new Map(table);
      for (const o of ops.values()) (o.entry === null ? after.delete(o.mac) : after.set(o.mac, o.entry));
      expect(spliceArpPatch(before, [...ops.values()])).toBe(renderArpTable(after));
      expect(bytesOf(spliceArpPatchChunks(Buffer.from(before), [...ops.values()]))?.toString('utf8')).toBe(renderArpTable(after));
      table = after;
    }
  });

  it('as chunks: the unchanged runs are views of the bytes read, the new entries the only new bytes, hashed chunk by chunk as the whole', () => {
    const mac = (i: number) => `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const e = (i: number) => ({ arp: `10.0.${i >> 8}.${i & 255}`, ip: '192.0.2.1', port: 4790 });
    const table = new Map(Array.from({ length: 3000 }, (_, k) => 2 * k).map((i) => [mac(i), e(i)]));
    const data = Buffer.from(renderArpTable(table));
    const ops: ArpPatchOp[] = [
      { mac: mac(1001), entry: e(7) },
      { mac: mac(2000), entry: null },
      { mac: mac(4000), entry: e(9) },
    ];
    const after = new Map(table);
    after.set(mac(1001), e(7)).delete(mac(2000));
    after.set(mac(4000), e(9));
    const want = renderArpTable(after);
    const chunks = spliceArpPatchChunks(data, ops)!;
    expect(Buffer.concat(chunks).toString('utf8')).toBe(want);
    // Nothing of the table copied: a chunk is a view of `data`, or new text (the two new entries, separators, the ends).
    const views = chunks.filter((c) => c.buffer === data.buffer);
    expect(views.every((c) => c.byteOffset >= data.byteOffset && c.byteOffset + c.length <= data.byteOffset + data.length)).toBe(true);
    const fresh = chunks.filter((c) => c.buffer !== data.buffer).reduce((n, c) => n + c.length, 0);
    expect(fresh).toBeLessThan(300);
    expect(fresh + views.reduce((n, c) => n + c.length, 0)).toBe(Buffer.byteLength(want));
    expect(sha256HexChunks(chunks)).toBe(sha256Hex(want));
  });

  it('nothing changed: no operation for any node', () => {
    expect(checkAllTables(base, () => undefined)).toBe(0);
  });

  it('a generation no longer kept gives no patch (the whole file is sent)', () => {
    const delta = new DeltaState(2);
    const m0 = model(base);
    const g0 = delta.generation(m0).gen;
    delta.generation(model(base));
    delta.generation(model(base));
    expect(delta.patch(g0, model(base), 'customers', facts[0]!.hostname)).toBeUndefined();
  });
});

describe('patch words', () => {
  const sha = 'a'.repeat(64);
  const p: ArpPatch = {
    path: '/opt/custom/networking/customers_overlay.json',
    from: sha,
    to: 'b'.repeat(64),
    nowMs: 1_700_000_000_000,
    ops: [
      { mac: '52:54:00:00:00:01', entry: { arp: '10.0.0.1', ip: '192.0.2.1', port: 4790 } },
      { mac: '52:54:00:00:00:02', entry: { arp: '10.0.0.2', ip: '192.0.2.2', ndp: '2001:db8::2', port: 4790 } },
      { mac: '52:54:00:00:00:03', entry: null },
    ],
  };

  it('round-trip', () => {
    expect(parsePatchWords(patchWords(p))).toEqual(p);
  });

  it.each([
    [['/etc/passwd', sha, sha, '1'], 'path "/etc/passwd"'],
    [['/opt/custom/networking/../x', sha, sha, '1'], 'path "/opt/custom/networking/../x"'],
    [[p.path, 'abc', sha, '1'], 'from "abc"'],
    [[p.path, sha, sha, 'soon'], 'now-ms "soon"'],
    [[p.path, sha, sha, '1', 'set=52:54:00:00:00:0G,10.0.0.1,192.0.2.1,4790'], 'MAC "52:54:00:00:00:0G"'],
    [[p.path, sha, sha, '1', 'set=52:54:00:00:00:01,10.0.0,192.0.2.1,4790'], 'arp "10.0.0"'],
    [[p.path, sha, sha, '1', 'set=52:54:00:00:00:01,10.0.0.1,192.0.2.1,0'], 'port 0'],
    [[p.path, sha, sha, '1', 'set=52:54:00:00:00:01,10.0.0.1,192.0.2.1,4790,2001:DB8::1'], 'ndp "2001:DB8::1"'],
    [[p.path, sha, sha, '1', 'del=52:54:00:00:00:01', 'del=52:54:00:00:00:01'], 'changed twice'],
    [[p.path, sha, sha, '1', 'rm=52:54:00:00:00:01'], 'set=... or del=...'],
  ])('%j is refused, naming %s', (words, says) => {
    expect(() => parsePatchWords(words)).toThrow(says);
  });

  it('a table that is not one is refused, not rewritten', () => {
    expect(() => applyArpPatch('[1]\n', [])).toThrow('not a JSON object');
    expect(() => applyArpPatch('{"52:54:00:00:00:01": {"arp": 1}}\n', [])).toThrow('is not {arp, ip, [ndp,] port}');
  });
});
