/**
 * `store migrate` between state files and cfgdb, through the built CLI; and
 * ZooKeeper digest credentials, which keep the IPsec keys from other users.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadStateText } from '../../src/model/load.js';
import { comparableModel } from '../../src/store/compare.js';
import { ZkStore } from '../../src/store/zk-store.js';
import { assertBuilt, runCli } from '../support/cli-process.js';
import { FIXTURES, close, dumpTree, freshRoot, rawClient, readTsv, writeTree } from '../support/zk-tree.js';

/** stderr without the model's warnings, which every command prints (the example's MTUs are above the safe value). */
const notWarnings = (s: string): string => s.split('\n').filter((l) => l !== '' && !l.startsWith('warn: ')).join('\n');

const hosts = inject('zkHosts');
let raw: Client;
let tmp: string;

beforeAll(async () => {
  assertBuilt();
  raw = await rawClient(hosts);
  tmp = await mkdtemp(join(tmpdir(), 'migrate-'));
});
afterAll(async () => {
  close(raw);
  await rm(tmp, { recursive: true, force: true });
});

const fixtureText = () => readFile(join(FIXTURES, 'two-sites.yaml'), 'utf8');

/** The fixture holds keys, so a file store refuses it unless only its owner can read it. */
async function privateFixture(): Promise<string> {
  const path = join(tmp, `source-${Math.random().toString(16).slice(2)}.yaml`);
  await writeFile(path, await fixtureText(), { mode: 0o600 });
  return path;
}

describe('store migrate', () => {
  it('copies a state file into an empty cfgdb and back, verifying each copy', async () => {
    const url = `zk://${hosts}${freshRoot()}`;
    const there = await runCli(['store', 'migrate', '--from', await privateFixture(), '--to', url, '--zk-insecure']).done;
    expect([there.code, notWarnings(there.stderr)]).toEqual([0, '']);
    expect(there.stdout).toMatch(/^copied 5 nodes, 3 rules, 8 IPsec keys, 6 VM NICs from .*source-[0-9a-f]*\.yaml to zk:\/\/.*; verified: both load to the same model$/m);

    const back = join(tmp, 'back.yaml');
    const home = await runCli(['store', 'migrate', '--from', url, '--to', back, '--json']).done;
    expect(home.code).toBe(0);
    expect(JSON.parse(home.stdout)).toMatchObject({ migrated: { verified: true, replaced: false, nodes: 5, rules: 3 } });
    const a = loadStateText(await fixtureText(), 'a');
    const b = loadStateText(await readFile(back, 'utf8'), 'b');
    expect(b.doc).toEqual(a.doc);
    expect(comparableModel(b.model)).toEqual(comparableModel(a.model));
  });

  it('copies what Danube wrote (nodes not yet discovered) into a file, warning about what is inconsistent', async () => {
    const root = freshRoot();
    await writeTree(raw, root, readTsv('two-sites.danube.tsv'));
    const file = join(tmp, 'from-danube.yaml');
    const r = await runCli(['store', 'migrate', '--from', `zk://${hosts}${root}`, '--to', file]).done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/is not a known node/);
    const text = await readFile(file, 'utf8');
    expect(loadStateText(text, file, 'warn').model.rules.map((x) => `${x.name}:${x.port}`)).toEqual(['adminoverlay:4792', 'customers:4790', 'lab:4791']);
  });

  it('asks before replacing a store that holds a state, and without --yes and a terminal changes nothing', async () => {
    const root = freshRoot();
    const url = `zk://${hosts}${root}`;
    await writeTree(raw, root, readTsv('two-sites.danube.tsv'));
    const before = await dumpTree(raw, root);
    const other = join(tmp, 'other.yaml');
    await writeFile(other, 'version: 1\nnodes: {}\n', { mode: 0o600 });
    const r = await runCli(['store', 'migrate', '--from', other, '--to', url, '--zk-insecure']).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds a state \(0 nodes, 3 rules, 8 IPsec keys, 0 VM NICs\); it will be replaced/);
    expect(r.stderr).toMatch(/not confirmed: pass --yes/);
    // Only the lock's (empty) directory may have appeared.
    const after = await dumpTree(raw, root);
    after.delete('esdc_overlay');
    expect(after).toEqual(before);

    const y = await runCli(['store', 'migrate', '--from', other, '--to', url, '--yes', '--zk-insecure']).done;
    expect(y.code).toBe(0);
    expect((await new ZkStore({ hosts, root }, { insecure: true }).load('warn')).model.rules).toEqual([]);
  });

  it('says clearly when ZooKeeper is not there, within the timeout', async () => {
    const r = await runCli(['list', '--store', 'zk://127.0.0.1:1/esdc/settings', '--store-timeout', '1']).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('esdc-overlay: cannot reach ZooKeeper at 127.0.0.1:1 within 1 s (is it running? use --store-timeout to wait longer)\n');
  });

  it('takes the store from ESDC_OVERLAY_STORE', async () => {
    const root = freshRoot();
    await writeTree(raw, root, readTsv('two-sites.danube.tsv'));
    const r = await runCli(['list', '--json'], { ESDC_OVERLAY_STORE: `zk://${hosts}${root}` }).done;
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { rules: { name: string }[] }).rules.map((x) => x.name)).toEqual(['adminoverlay', 'customers', 'lab']);
  });
});

describe('ZooKeeper credentials (digest, from ESDC_OVERLAY_ZK_AUTH or --zk-auth-file)', () => {
  it('make what we write readable by that user only, and never appear in argv', async () => {
    const root = freshRoot();
    const url = `zk://${hosts}${root}`;
    const r = await runCli(['store', 'migrate', '--from', await privateFixture(), '--to', url], { ESDC_OVERLAY_ZK_AUTH: 'esdc:install-pw' }).done;
    expect([r.code, notWarnings(r.stderr)]).toEqual([0, '']);

    const anonymous = await new Promise<number | undefined>((resolve) =>
      raw.getData(`${root}/ipsec/psk/cn-01.prg.example.com-cn-03.brn.example.com`, (err) => resolve((err as { code?: number } | null)?.code)),
    );
    expect(anonymous).toBe(-102); // NO_AUTH
    const noAuth = await runCli(['list', '--store', url]).done;
    expect(noAuth.code).toBe(1);
    expect(noAuth.stderr).toMatch(/not authorised \(set ESDC_OVERLAY_ZK_AUTH=user:password\)/);

    const authFile = join(tmp, 'zk-auth');
    await writeFile(authFile, 'esdc:install-pw\n', { mode: 0o644 });
    await chmod(authFile, 0o644);
    const loose = await runCli(['list', '--store', url, '--zk-auth-file', authFile]).done;
    expect(loose.code).toBe(1);
    expect(loose.stderr).toMatch(/readable by others \(mode 644\); chmod 600 it/);
    await chmod(authFile, 0o600);
    const ok = await runCli(['list', '--store', url, '--zk-auth-file', authFile]).done;
    expect([ok.code, notWarnings(ok.stderr)]).toEqual([0, '']);
    expect(ok.stdout).toMatch(/^customers\s+4790/m);
    expect(`${noAuth.stderr}${loose.stderr}${ok.stdout}`).not.toContain('install-pw');
  });
});
