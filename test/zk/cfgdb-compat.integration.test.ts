/**
 * Point 1 of the issue: a cfgdb tree written the way Danube's bash tool writes
 * it loads into the same model as the equivalent YAML state, and save then
 * load is the identity. Against a real ZooKeeper.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { loadStateText } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { comparableModel } from '../../src/store/compare.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { FIXTURES, close, dumpTree, freshRoot, rawClient, readTsv, writeTree } from '../support/zk-tree.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'dist', 'esdc-overlay.js');
const hosts = inject('zkHosts');
let raw: Client;

const yamlState = () => loadStateText(readFileSync(join(FIXTURES, 'two-sites.yaml'), 'utf8'), 'two-sites.yaml', 'require');
const danube = readTsv('two-sites.danube.tsv');
const ours = readTsv('two-sites.ours.tsv');
const storeAt = (root: string) => new ZkStore({ hosts, root }, { insecure: true, timeoutMs: 5000 });

/** The parts of the YAML state that Danube's cfgdb has keys for. */
function danubePart(doc: StateDoc): StateDoc {
  const { nodes: _n, vnics: _v, vdcs: _d, defaults: _f, ...rest } = doc;
  const { vxlan_id: _x, vlan_id: _y, ...admin } = rest.adminoverlay!;
  return { ...rest, adminoverlay: admin };
}

beforeAll(async () => {
  raw = await rawClient(hosts);
});
afterAll(() => close(raw));

describe('a cfgdb tree as Danube writes it loads into the model of the equivalent YAML state', () => {
  it('Danube keys plus our subtree give exactly the two-sites state', async () => {
    const root = freshRoot();
    await writeTree(raw, root, new Map([...danube, ...ours]));
    const snap = await storeAt(root).load('require');
    const yaml = yamlState();
    expect(comparableModel(snap.model)).toEqual(comparableModel(yaml.model));
    expect(snap.doc).toEqual(yaml.doc);
    // The ambiguous `<a>-<b>` names resolved against the known nodes.
    expect(snap.model.pairKeys.map((k) => k.nodes.join(' + '))).toContain('cn-01.prg.example.com + cn-03.brn.example.com');
    expect(snap.model.pairKeys).toHaveLength(8);
    // Written by an anonymous client, so the only warning is that anyone can read the keys.
    expect(snap.warnings.map((w) => w.path)).toEqual(['ipsec.psk']);
    expect(snap.warnings[0]!.message).toMatch(/^8 key znode\(s\) are readable by world:anyone/);
  });

  it('Danube keys alone (nodes not yet discovered) load with consistency warnings, as read-only commands do', async () => {
    const root = freshRoot();
    await writeTree(raw, root, danube);
    const store = storeAt(root);
    await expect(store.load('require')).rejects.toThrow(/is not a known node/);
    const snap = await store.load('warn');
    const expected = loadStateText(JSON.stringify(danubePart(yamlState().doc)), 'danube part', 'warn');
    expect(comparableModel(snap.model)).toEqual(comparableModel(expected.model));
    expect(snap.doc).toEqual(expected.doc);
    expect(snap.warnings.some((w) => /is not a known node/.test(w.message))).toBe(true);

    const { stdout, stderr } = await run('node', [CLI, 'list', '--store', `zk://${hosts}${root}`]);
    expect(stdout).toMatch(/^customers\s+4790\s+1400\s+0\.0\.0\.0\s+all$/m);
    expect(stdout).toMatch(/^lab\s+4791\s+1400\s+0\.0\.0\.0\s+cn-01\.prg\.example\.com,cn-03\.brn\.example\.com$/m);
    expect(stdout).toMatch(/^adminoverlay\s+4792\s+1300/m);
    expect(stderr).toMatch(/is not a known node/);
  });

  it('decodes the rule value as base64 of the rule plus its newline, and a nodelist with blanks and stray commas', async () => {
    const root = freshRoot();
    const rule = '-e vxlan -p vxlan/listen_ip=10.100.0.11 -p vxlan/listen_port=4800 -s files -p files/config=/opt/custom/networking/x_overlay.json -p mtu=1388';
    // Danube's `echo "$rule" | base64` wraps at 76 columns; cfgdb may hold it wrapped.
    const wrapped = Buffer.from(`${rule}\n`).toString('base64').replace(/(.{76})/g, '$1\n');
    await writeTree(raw, root, new Map([
      ['overlay_rules/web/port', '4800'],
      ['overlay_rules/web/nodelist', ' ,a1.example.com, b2.example.com,'],
      ['overlay_rules/web/rule', wrapped],
    ]));
    const snap = await storeAt(root).load('warn');
    expect(snap.doc.overlay_rules).toEqual({
      web: { port: 4800, nodes: ['a1.example.com', 'b2.example.com'], mtu: 1388, listen_ip: '10.100.0.11', files_config: '/opt/custom/networking/x_overlay.json' },
    });
  });

  it('an ambiguous PSK key name that the known nodes do not resolve is a ValidationError naming the znode', async () => {
    const root = freshRoot();
    const key = 'ab'.repeat(128);
    await writeTree(raw, root, new Map([['ipsec/psk/x-1.example.com-y-2.example.com', key]]));
    const err = await storeAt(root).load('warn').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const issue = (err as ValidationError).issues[0]!;
    expect(issue.path).toBe(`${root}/ipsec/psk/x-1.example.com-y-2.example.com`);
    expect(issue.message).toMatch(/ambiguous.*x-1\.example\.com \+ y-2\.example\.com/);
    expect((err as Error).message).not.toContain(key);
  });
});

describe('save then load is the identity', () => {
  it('the YAML state saved into an empty cfgdb writes Danube keys byte for byte as Danube does, and loads back unchanged', async () => {
    const root = freshRoot();
    const store = storeAt(root);
    const yaml = yamlState();
    const empty = await store.loadOrEmpty();
    await store.save(yaml.doc, empty);
    const back = await store.load('require');
    expect(back.doc).toEqual(yaml.doc);
    expect(comparableModel(back.model)).toEqual(comparableModel(yaml.model));

    const tree = await dumpTree(raw, root);
    for (const [rel, value] of danube) {
      if (rel.startsWith('dc/')) continue;
      expect([rel, tree.get(rel)]).toEqual([rel, value]);
    }
    for (const [rel, value] of ours) expect(JSON.parse(tree.get(rel) ?? 'null')).toEqual(JSON.parse(value));
  });

  it('saving the state loaded from a Danube tree rewrites nothing', async () => {
    const root = freshRoot();
    await writeTree(raw, root, new Map([...danube, ...ours]));
    const before = await dumpTree(raw, root);
    const store = storeAt(root);
    const snap = await store.load('require');
    const again = await store.save(snap.doc, snap);
    expect(again.revision).toBe(snap.revision);
    expect(await dumpTree(raw, root)).toEqual(before);
  });

  it('a change rewrites only what changed and keeps keys it does not know', async () => {
    const root = freshRoot();
    await writeTree(raw, root, new Map([...danube, ...ours, ['overlay_rules/lab/comment', 'left by hand']]));
    const before = await dumpTree(raw, root);
    const store = storeAt(root);
    const snap = await store.load('require');
    const doc = structuredClone(snap.doc);
    doc.overlay_rules!.lab!.mtu = 1350;
    delete doc.overlay_rules!.customers;
    doc.vnics = doc.vnics!.filter((v) => !v.nic_tag.startsWith('customers/'));
    await store.save(doc, snap);
    const after = await dumpTree(raw, root);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)).sort();
    expect(changed).toEqual([
      'esdc_overlay',
      'esdc_overlay/vnics/cn-01.prg.example.com',
      'esdc_overlay/vnics/cn-02.prg.example.com',
      'esdc_overlay/vnics/cn-03.brn.example.com',
      'esdc_overlay/vnics/cn-05.ams.example.com',
      'overlay_rules/customers',
      'overlay_rules/customers/nodelist',
      'overlay_rules/customers/port',
      'overlay_rules/customers/rule',
      'overlay_rules/lab/rule',
    ]);
    expect(after.get('overlay_rules/lab/comment')).toBe('left by hand');
    expect(Buffer.from(after.get('overlay_rules/lab/rule')!, 'base64').toString()).toMatch(/-p mtu=1350\n$/);
    expect(after.has('esdc_overlay/vnics/cn-02.prg.example.com')).toBe(false);
  });
});
