/**
 * Issue 15, tried as an attacker who can write the state would, on simulated
 * nodes behind real sshd: a state may not re-root a node's commands
 * (`ssh.root`), plan/verify/apply may not accept an unknown host key, and
 * `nodes discover` may not let an impostor take over a known node's identity.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { remoteFrom } from '../../src/cli/remote.js';
import type { StateDoc } from '../../src/model/state.js';
import { FileStore } from '../../src/store/file-store.js';
import { RootedTransport } from '../../src/transport/rooted-transport.js';
import type { SimCluster, SimNodeFacts } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { cli, runBuiltCli } from '../support/cli.js';

let c: SimCluster;
useSimCluster({ count: 3, each: true }, (started) => (c = started));

const readState = async (): Promise<StateDoc> => parse(await readFile(c.statePath, 'utf8')) as StateDoc;
const withoutRoots = (): Record<string, string> => {
  const env = { ...c.env };
  delete env.ESDC_OVERLAY_SIM_ROOTS;
  return env;
};

describe('nodes.<n>.ssh.root in a state', () => {
  it('is refused by validate, plan, verify and apply, naming it; the dladm under that root never runs', async () => {
    // The attack: a directory of mallory's whose usr/sbin/dladm would run as root on the node.
    const evil = join(c.dir, 'evil');
    const marker = join(c.dir, 'pwned');
    await mkdir(join(evil, 'usr/sbin'), { recursive: true });
    await writeFile(join(evil, 'usr/sbin/dladm'), `#!/bin/sh\ntouch '${marker}'\n`);
    await chmod(join(evil, 'usr/sbin/dladm'), 0o755);
    const doc = await readState();
    const name = c.nodes[0]!.name;
    (doc.nodes![name]!.ssh as Record<string, unknown>).root = evil;
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    const before = await readFile(c.statePath, 'utf8');
    for (const env of [withoutRoots(), c.env]) {
      for (const argv of [['validate'], ['plan'], ['verify'], ['apply', '--yes']]) {
        const r = await cli(argv, env);
        expect(r.status, argv.join(' ')).toBe(1);
        expect(r.stderr).toContain(`nodes["${name}"].ssh.root: is not accepted`);
      }
    }
    expect(existsSync(marker)).toBe(false);
    for (const n of c.nodes) expect(await n.calls()).toEqual([]);
    expect(await readFile(c.statePath, 'utf8')).toBe(before);
  });

  it('nodes discover has no --ssh-root any more (usage error)', async () => {
    const r = await cli(['nodes', 'discover', `root@127.0.0.1:${c.nodes[0]!.port}`, '--ssh-root', c.nodes[0]!.root], c.env);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("unknown option '--ssh-root'");
  });
});

describe('files_config naming our bundle', () => {
  it('is refused by plan at load, naming the rule and the value; no node is read, nothing of the bundle printed', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const bundle = await readFile(c.nodes[0]!.path('/opt/custom/esdc-overlay/bundle.json'), 'utf8');
    const doc = await readState();
    const rule = Object.keys(doc.overlay_rules!)[0]!;
    doc.overlay_rules![rule]!.files_config = '/opt/custom/esdc-overlay/bundle.json';
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    for (const n of c.nodes) await n.clearCalls();
    const r = await cli(['plan'], c.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`overlay_rules.${rule}.files_config: must not be, contain or lie in /opt/custom/esdc-overlay`);
    expect(r.stderr).toContain('"/opt/custom/esdc-overlay/bundle.json"');
    expect(r.stdout + r.stderr).not.toContain(bundle.slice(0, 40));
    for (const n of c.nodes) expect(await n.calls()).toEqual([]);
  });
});

describe('the SSH transport without ESDC_OVERLAY_SIM_ROOTS', () => {
  const probe = ['sh', '-c', 'printf "%s|%s" "$PATH" "${ESDC_SIM_ROOT-unset}"'];

  it('runs commands as given: no env prefix, no PATH of a root', async () => {
    const model = (await new FileStore(c.statePath).load()).model;
    const node = model.nodeByName.get(c.nodes[0]!.name)!;
    const plain = await (await remoteFrom({}, withoutRoots())).open(node);
    try {
      expect(plain).not.toBeInstanceOf(RootedTransport);
      const r = await plain.exec(probe, 10_000);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(c.nodes[0]!.root);
      expect(r.stdout.endsWith('|unset')).toBe(true);
    } finally {
      await plain.close();
    }
    // The harness's seam, for contrast: the same probe sees the node's root.
    const rooted = await (await remoteFrom({}, c.env)).open(node);
    try {
      const r = await rooted.exec(probe, 10_000);
      expect(r.stdout).toContain(`${c.nodes[0]!.root}/usr/sbin`);
      expect(r.stdout.endsWith(`|${c.nodes[0]!.root}`)).toBe(true);
    } finally {
      await rooted.close();
    }
  });
});

describe('--accept-new-host-keys', () => {
  it('is a usage error (64) on apply, plan and verify of the built CLI', () => {
    for (const argv of [['apply', '--yes'], ['plan'], ['verify']]) {
      const r = runBuiltCli([...argv, '--accept-new-host-keys'], c.env);
      expect(r.status, argv.join(' ')).toBe(64);
      expect(r.stderr).toContain("unknown option '--accept-new-host-keys'");
    }
  });

  it('apply to a node whose key is unknown (a port moved to a rogue sshd) is refused before authentication', async () => {
    const a = c.nodes[0]!;
    const known = await readFile(c.knownHostsFile, 'utf8');
    await writeFile(c.knownHostsFile, known.split('\n').filter((l) => !l.startsWith(`[127.0.0.1]:${a.port} `)).join('\n'));
    const knownBefore = await readFile(c.knownHostsFile, 'utf8');
    await writeFile(join(a.dir, 'sshd.log'), '');
    const r = runBuiltCli(['apply', '--yes', '--json'], c.env);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('HostKeyUnknown');
    expect(await readFile(join(a.dir, 'sshd.log'), 'utf8')).not.toMatch(/Accepted publickey|Failed publickey|Postponed publickey/);
    expect(await readFile(c.knownHostsFile, 'utf8')).toBe(knownBefore);
    for (const n of c.nodes) expect(existsSync(n.path('/opt/custom/esdc-overlay/managed.json'))).toBe(false);
    // Recording a new key is nodes discover's job.
    const d = await cli(['nodes', 'discover', a.name, '--accept-new-host-keys'], c.env);
    expect(d.status).toBe(0);
    expect(await readFile(c.knownHostsFile, 'utf8')).toContain(`[127.0.0.1]:${a.port} ssh-ed25519 `);
  });
});

describe('nodes discover of an address that reports a known hostname with another UUID', () => {
  it('is refused without --replace, showing old → new; with --replace the change is recorded and shown', async () => {
    const victim = c.nodes[0]!;
    const impostor = c.nodes[1]!;
    const victimFacts = await victim.simJson<SimNodeFacts>('node.json', {} as SimNodeFacts);
    // The impostor answers with the victim's hostname, and a UUID and admin IP of its own.
    const impostorFacts: SimNodeFacts = {
      ...(await impostor.simJson<SimNodeFacts>('node.json', {} as SimNodeFacts)),
      hostname: victimFacts.hostname,
      uuid: '66666666-6666-4666-8666-666666666666',
      admin_ip: '10.200.9.66',
      external_ip: '198.51.100.66',
    };
    await impostor.writeSimJson('node.json', impostorFacts);
    const before = await readFile(c.statePath, 'utf8');
    const address = `root@127.0.0.1:${impostor.port}`;
    for (const extra of [[], ['--dry-run']]) {
      const r = await cli(['nodes', 'discover', address, ...extra], c.env);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${victimFacts.hostname}: uuid ${victimFacts.uuid} → ${impostorFacts.uuid}, admin_ip ${victimFacts.admin_ip} → ${impostorFacts.admin_ip}`);
      expect(r.stderr).toContain('--replace');
      expect(await readFile(c.statePath, 'utf8')).toBe(before);
    }
    const json = await cli(['nodes', 'discover', address, '--json'], c.env);
    expect(JSON.parse(json.stdout).error.code).toBe('NodeIdentityChanged');

    const ok = await cli(['nodes', 'discover', address, '--replace'], c.env);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`uuid: ${victimFacts.uuid} → ${impostorFacts.uuid}`);
    const after = await readState();
    expect(after.nodes![victimFacts.hostname]!.uuid).toBe(impostorFacts.uuid);
    expect(after.nodes![victimFacts.hostname]!.ssh).toMatchObject({ host: '127.0.0.1', port: impostor.port });
  });

  it('the same node found at a new address (same UUID) is no identity change', async () => {
    const n = c.nodes[0]!;
    const r = await cli(['nodes', 'discover', `root@127.0.0.1:${n.port}`], c.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
