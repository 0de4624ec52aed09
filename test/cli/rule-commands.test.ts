/**
 * create / update / delete / list on a copy of the example, with Danube's
 * semantics (docs/operations.md#commands): what they refuse, what they write, and that the
 * file stays valid, 0600, and keeps the operator's comments.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadStateText } from '../../src/model/load.js';
import { runCli } from '../support/cli.js';
import { exampleCopy } from '../support/tmp.js';

async function model(path: string) {
  return loadStateText(await readFile(path, 'utf8'), path).model;
}

describe('create', () => {
  it('adds a rule on all nodes with the next free port and keeps the file valid, 0600, commented', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'create', 'backup']);
    expect(r.status).toBe(0);
    // No --mtu: the safe MTU of the rule's paths (1392 across the example's PDCs), not Danube's 1400.
    expect(r.stdout).toContain('created rule backup: port 4793, mtu 1392');
    expect(r.stdout).toContain(
      'overlay_rule_backup="-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4793 -s files -p files/config=/opt/custom/networking/backup_overlay.json -p mtu=1392"',
    );
    const m = await model(state);
    expect(m.ruleByName.get('backup')).toMatchObject({ port: 4793, nodes: m.nodes.map((n) => n.name) });
    expect((await stat(state)).mode & 0o777).toBe(0o600);
    const text = await readFile(state, 'utf8');
    expect(text).toContain('# Two physical datacenters (prg, brn)');
    expect(text).toContain('- { vm: 0b1e0000-0000-4000-8000-000000000001, node: cn01.prg.example.com');
  });

  it('takes a node list and a raw rule string, and stores the parsed fields', async () => {
    const state = await exampleCopy();
    const raw = '-e vxlan -s files -p vxlan/listen_port=4800,mtu=1388';
    const r = await runCli(['--state', state, 'create', 'dmz', 'cn01.prg.example.com, cn05.ams.example.com', raw, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      safe_mtu: 1392,
      created: {
        name: 'dmz',
        port: 4800,
        mtu: 1388,
        nodes: ['cn01.prg.example.com', 'cn05.ams.example.com'],
        rule: '-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4800 -s files -p files/config=/opt/custom/networking/dmz_overlay.json -p mtu=1388',
      },
      next: `esdc-overlay --state ${state} apply`,
    });
  });

  it('refuses an existing rule and names the update to run', async () => {
    const state = await exampleCopy();
    const before = await readFile(state);
    const r = await runCli(['--state', state, 'create', 'lab', 'all']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('rule lab exists already; to change it run: esdc-overlay update lab all');
    expect(await readFile(state)).toEqual(before);
  });

  it('refuses a port used by another rule (the adminoverlay counts)', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'create', 'dmz', '--port', '4792']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('port 4792 is already used by rule adminoverlay');
  });

  it('accepts nodes not known yet (Danube allows future nodes), warning about each', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'create', 'dmz', 'cn01.prg.example.com,cn09.prg.example.com,cn10.prg.example.com']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('overlay_rules.dmz.nodes[1]: is not a known node (yet) (did you mean cn01.prg.example.com');
    expect(r.stderr).toContain('(got "cn09.prg.example.com")');
    expect(r.stderr).toContain('(got "cn10.prg.example.com")');
    expect((await model(state)).ruleByName.get('dmz')!.nodes).toEqual(['cn01.prg.example.com']);
  });

  it('refuses a bad name with the reason', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'create', 'dmz2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('rule: rule name must not end with a digit');
  });

  it('is a usage error (64) without a rule name', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'create']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("missing required argument 'rule'");
  });
});

describe('update', () => {
  it('changes the node list and reports exactly what changed', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'update', 'lab', 'cn01.prg.example.com,cn02.prg.example.com,cn03.brn.example.com']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^updated rule lab:\n  nodes cn01.prg.example.com,cn03.brn.example.com -> cn01.prg.example.com,cn02.prg.example.com,cn03.brn.example.com\nnext: /,
    );
    expect((await model(state)).ruleByName.get('lab')!.nodes).toHaveLength(3);
  });

  it('changes parameters from a raw rule; a port taken by another rule is refused', async () => {
    const state = await exampleCopy();
    const ok = await runCli(['--state', state, 'update', 'lab', 'all', '-e vxlan -s files -p vxlan/listen_port=4795 -p mtu=1388']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('port 4791 -> 4795');
    expect(ok.stdout).toContain('mtu 1400 -> 1388');
    const taken = await runCli(['--state', state, 'update', 'lab', '--port', '4790']);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain('port 4790 is already used by rule customers');
  });

  it('writes nothing when nothing changes', async () => {
    const state = await exampleCopy();
    const before = await stat(state);
    const r = await runCli(['--state', state, 'update', 'customers', 'all']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`rule customers unchanged\nnext: the state is unchanged; to re-apply it to the nodes: esdc-overlay --state ${state} apply\n`);
    expect((await stat(state)).mtimeMs).toBe(before.mtimeMs);
  });

  it('refuses an unknown rule and points to create', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'update', 'nosuch', 'all']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown rule "nosuch" (known: customers, lab); create it with: esdc-overlay create nosuch');
  });
});

describe('delete', () => {
  it('refuses without --yes when there is no terminal, and changes nothing', async () => {
    const state = await exampleCopy();
    await runCli(['--state', state, 'create', 'spare']);
    const before = await readFile(state);
    const r = await runCli(['--state', state, 'delete', 'spare']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('delete rule spare: removes overlay_rule_spare and its ARP table from 5 node(s)');
    expect(r.stderr).toContain('not confirmed: pass --yes');
    expect(await readFile(state)).toEqual(before);
  });

  it('removes an unused rule with --yes', async () => {
    const state = await exampleCopy();
    await runCli(['--state', state, 'create', 'spare']);
    const r = await runCli(['--state', state, 'delete', 'spare', '--yes']);
    expect(r.status).toBe(0);
    expect((await model(state)).ruleByName.has('spare')).toBe(false);
  });

  it('refuses a rule VM NICs use unless --force, which drops their records too', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'delete', 'lab', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('2 VM NICs use rule lab');
    const forced = await runCli(['--state', state, 'delete', 'lab', '--yes', '--force', '--json']);
    expect(forced.status).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ deleted: { name: 'lab', nodes: ['cn01.prg.example.com', 'cn03.brn.example.com'], vnics: 2 }, next: `esdc-overlay --state ${state} apply` });
    const m = await model(state);
    expect(m.vnics.some((v) => v.rule === 'lab')).toBe(false);
  });
});

describe('list', () => {
  it('prints a table and JSON', async () => {
    const state = await exampleCopy();
    const table = await runCli(['--state', state, 'list']);
    expect(table.stdout.split('\n')[0]).toBe('NAME          PORT  MTU   LISTEN_IP  NODES');
    expect(table.stdout).toContain('lab           4791  1400  0.0.0.0    cn01.prg.example.com,cn03.brn.example.com');
    const json = JSON.parse((await runCli(['--state', state, 'list', '--json'])).stdout) as { rules: { name: string }[] };
    expect(json.rules.map((r) => r.name)).toEqual(['adminoverlay', 'customers', 'lab']);
  });

  it('works on an inconsistent state and warns', async () => {
    const state = await exampleCopy();
    const text = (await readFile(state, 'utf8')).replace('nodes: [cn01.prg.example.com, cn03.brn.example.com]', 'nodes: [cn01.prg.example.com, cn09.nowhere.example.com]');
    await writeFile(state, text);
    const r = await runCli(['--state', state, 'list']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('overlay_rules.lab.nodes[1]: is not a known node');
  });
});

describe('state file errors', () => {
  it('a missing state file is a clear error', async () => {
    const r = await runCli(['--state', '/nonexistent/state.yaml', 'list']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('esdc-overlay: state file /nonexistent/state.yaml does not exist (pass --state FILE or set ESDC_OVERLAY_STATE)\n');
  });

  it('ESDC_OVERLAY_STATE names the state when --state is absent', async () => {
    const state = await exampleCopy();
    const r = await runCli(['list', '--json'], { ESDC_OVERLAY_STATE: state });
    expect(r.status).toBe(0);
  });
});

describe('logging', () => {
  it('writes pino JSON lines on stderr at the chosen level, never on stdout', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, '--log-level', 'info', '--log-format', 'json', 'create', 'backup', '--json']);
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; rule?: string; port?: number });
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'rule created', rule: 'backup', port: 4793 }));
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  it('writes no log line at the default level: the stored MTU and the model warnings, as plain text', async () => {
    const state = await exampleCopy();
    const r = await runCli(['--state', state, 'create', 'backup']);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => /^mtu: stored 1392, the safe MTU of backup's paths/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => !l.startsWith('mtu: ')).every((l) => l.startsWith('warn: '))).toBe(true);
  });
});
