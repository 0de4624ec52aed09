/**
 * Issue 19, "a Danube operator's day": the traps an operator hit, each
 * through the built CLI (node dist/esdc-overlay.js) on a copy of the bundled
 * example: typos refused with the closest names, a pair rotation that
 * touches one pair, the head node's PDC, the stored MTU of a new rule, one
 * list of model warnings, plain-text logs off a terminal, and one exit-code
 * table (usage 64, refused/invalid 1, drift or non-empty plan 2).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';
import { runBuiltCli } from '../support/cli.js';
import { exampleCopy, tempDir } from '../support/tmp.js';

const CN01 = 'cn01.prg.example.com';
const CN05 = 'cn05.ams.example.com';

async function state(): Promise<{ path: string; run: (...argv: string[]) => ReturnType<typeof runBuiltCli> }> {
  const path = await exampleCopy();
  return { path, run: (...argv) => runBuiltCli(['--state', path, ...argv]) };
}

describe('typos are refused with the closest known names, and change nothing', () => {
  it('vdc grant of an unknown vDC needs --create; a typo gets "did you mean"', async () => {
    const s = await state();
    const before = await readFile(s.path, 'utf8');
    const typo = s.run('vdc', 'grant', 'custmer-a', '--vxlan', '5000-5010');
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain('unknown vDC "custmer-a" (did you mean customer-a?)');
    expect(typo.stderr).toContain('to create it: esdc-overlay vdc grant custmer-a --vxlan 5000-5010 --create');
    expect(await readFile(s.path, 'utf8')).toBe(before);
    const created = s.run('vdc', 'grant', 'customer-c', '--vxlan', '5000-5010', '--create');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toContain('created vDC customer-c');
  });

  it('update and delete of a misspelt rule name the rule meant, not "create it"', async () => {
    const s = await state();
    const u = s.run('update', 'custmers', 'all');
    expect(u.status).toBe(1);
    expect(u.stderr).toContain('unknown rule "custmers" (did you mean customers?)');
    expect(u.stderr).not.toContain('create it');
    const d = s.run('delete', 'lba', '--yes');
    expect(d.status).toBe(1);
    expect(d.stderr).toContain('unknown rule "lba" (did you mean lab?)');
  });

  it('an unknown node is refused with exit 1 everywhere: plan, render, create, keys rotate', async () => {
    const s = await state();
    const plan = s.run('plan', 'cn01.prg.exmaple.com');
    expect(plan.status).toBe(1);
    expect(plan.stderr).toContain(`unknown node "cn01.prg.exmaple.com" (did you mean ${CN01}`);
    const render = s.run('render', '--out', join(await tempDir(), 'out'), '--nodes', 'cn5.ams.example.com');
    expect(render.status).toBe(1);
    expect(render.stderr).toContain(`(did you mean ${CN05}?)`);
    const rotate = s.run('keys', 'rotate', '--pair', `cn01,${CN05}`, '--yes');
    expect(rotate.status).toBe(1);
    expect(rotate.stderr).toContain(`is not a known node (did you mean ${CN01}?)`);
  });
});

describe('rule node lists may name nodes not known yet', () => {
  it('create accepts them with a warning and renders nothing for them', async () => {
    const s = await state();
    const create = s.run('create', 'dmz', `${CN01},cn06.ams.example.com`);
    expect(create.status, create.stderr).toBe(0);
    expect(create.stderr).toContain('overlay_rules.dmz.nodes[1]: is not a known node (yet) (did you mean cn05.ams.example.com?): nothing is rendered for it until nodes discover adds it');
    const out = join(await tempDir(), 'out');
    expect(s.run('render', '--out', out).status).toBe(0);
    const config = await readFile(join(out, CN01, 'usbkey/config.overlay'), 'utf8');
    expect(config).toContain('overlay_rule_dmz=');
    expect(s.run('validate').status).toBe(0);
  });
});

describe('keys rotate --pair', () => {
  it('on a state with no stored keys stores a key for that pair only', async () => {
    const s = await state();
    const doc = parse(await readFile(s.path, 'utf8')) as StateDoc;
    delete doc.ipsec;
    await writeFile(s.path, stringify(doc), { mode: 0o600 });
    const r = s.run('keys', 'rotate', '--pair', `${CN01},${CN05}`, '--yes', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { added: { nodes: string[] }[]; rotated: unknown[] };
    expect(out.added.map((a) => a.nodes)).toEqual([[CN01, CN05]]);
    expect(out.rotated).toEqual([]);
    const after = parse(await readFile(s.path, 'utf8')) as StateDoc;
    expect(after.ipsec!.psk!.map((p) => p.nodes)).toEqual([[CN01, CN05]]);
  });
});

describe('the head node PDC', () => {
  it('--head-pdc with a PDC no node is in is refused before any connection', async () => {
    const s = await state();
    const r = s.run('plan', '--head-pdc', 'prag', '--identity', '/nonexistent/key');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown PDC "prag" (did you mean prg?)');
  });

  it('a stored defaults.head_pdc must be a PDC of the state', async () => {
    const s = await state();
    const doc = parse(await readFile(s.path, 'utf8')) as StateDoc;
    doc.defaults = { ...doc.defaults, head_pdc: 'prag' };
    await writeFile(s.path, stringify(doc), { mode: 0o600 });
    const r = s.run('validate');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('defaults.head_pdc: is not the PDC of any node (did you mean prg?)');
  });
});

describe('create without --mtu', () => {
  it('stores the safe MTU of the rule\'s paths and says so; with --mtu above it, warns', async () => {
    const s = await state();
    const r = s.run('create', 'dmz', `${CN01},${CN05}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('created rule dmz: port 4793, mtu 1392');
    expect(r.stderr).toContain("mtu: stored 1392, the safe MTU of dmz's paths");
    const high = s.run('create', 'dmz_two', `${CN01},${CN05}`, '--mtu', '1400');
    expect(high.status).toBe(0);
    expect(high.stdout).toContain('mtu 1400');
    expect(high.stderr).toContain('overlay_rules.dmz_two.mtu: MTU 1400 is above the safe 1392');
  });
});

describe('one list of model warnings', () => {
  it('validate --json has the warnings render --json has', async () => {
    const s = await state();
    const v = s.run('validate', '--json');
    expect(v.status).toBe(0);
    const r = s.run('render', '--out', join(await tempDir(), 'out'), '--json');
    expect(r.status).toBe(0);
    const vw = (JSON.parse(v.stdout) as { warnings: unknown[] }).warnings;
    const rw = (JSON.parse(r.stdout) as { warnings: unknown[] }).warnings;
    expect(vw.length).toBeGreaterThan(0);
    expect(vw).toContainEqual(expect.objectContaining({ path: 'overlay_rules.customers.mtu' }));
    // render adds only what rendering itself finds: the render-only keys of pairs with none stored.
    expect(rw.filter((w) => (w as { path: string }).path !== 'ipsec.psk')).toEqual(vw);
    // list shows the same warnings on stderr.
    expect(s.run('list').stderr).toContain('overlay_rules.customers.mtu: MTU');
  });
});

describe('logs off a terminal', () => {
  it('are plain text by default and pino JSON with --log-format json', async () => {
    const s = await state();
    const text = s.run('validate');
    const lines = text.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^warn: /);
    const json = s.run('validate', '--log-format', 'json');
    for (const l of json.stderr.trim().split('\n')) expect(JSON.parse(l)).toMatchObject({ level: 40 });
    expect(s.run('validate', '--log-format', 'yaml').status).toBe(64);
  });
});

describe('exit codes', () => {
  it.each([[[]], [['vdc']], [['keys']], [['store']], [['nodes']]])('bare %j prints help and is a usage error (64)', (argv) => {
    const r = runBuiltCli(argv as string[]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('Usage: esdc-overlay');
  });

  it('with --json every error, usage errors included, is {"error": ...} on stdout', async () => {
    const s = await state();
    const unknownOption = s.run('list', '--frob', '--json');
    expect(unknownOption.status).toBe(64);
    expect(JSON.parse(unknownOption.stdout)).toEqual({ error: { code: 'Usage', message: "unknown option '--frob'" } });
    const missing = s.run('create', '--json');
    expect(missing.status).toBe(64);
    expect(JSON.parse(missing.stdout).error.code).toBe('Usage');
    const bare = runBuiltCli(['vdc', '--json']);
    expect(bare.status).toBe(64);
    expect(JSON.parse(bare.stdout).error.code).toBe('Usage');
    const refused = s.run('update', 'custmers', '--json');
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'UnknownRule' });
  });

  it('a missing SSH key and an empty firewall list are refused input (1), not usage errors', async () => {
    const s = await state();
    const key = s.run('plan', '--identity', '/nonexistent/key');
    expect(key.status).toBe(1);
    expect(key.stderr).toContain('cannot read the SSH private key /nonexistent/key');
    expect(s.run('globally-enable-firewall', ' , ', '--yes').status).toBe(1);
  });
});

describe("Danube's verbs end with what happens next", () => {
  it('create, update and delete print the exact plan/apply to run and the GUI refresh Danube asked for', async () => {
    const s = await state();
    const created = s.run('create', 'dmz', `${CN01},${CN05}`);
    expect(created.stdout).toContain(`next: the state is saved, the nodes are not changed yet. Review with: esdc-overlay --state ${s.path} plan --summary`);
    expect(created.stdout).toContain(`then run: esdc-overlay --state ${s.path} apply`);
    expect(created.stdout).toContain(`click 'Refresh' on ${CN01}, ${CN05} once apply has run`);
    const updated = s.run('update', 'dmz', 'all');
    expect(updated.stdout).toContain("click 'Refresh' on every compute node");
    const deleted = s.run('delete', 'dmz', '--yes');
    expect(deleted.stdout).toContain(`then run: esdc-overlay --state ${s.path} apply`);
    const ao = s.run('adminoverlay-update', `${CN01}=10.44.0.50`, '--yes');
    expect(ao.status, ao.stderr).toBe(0);
    expect(ao.stdout).toContain(`then run: esdc-overlay --state ${s.path} apply`);
  });

  it('update with no arguments (Danube: re-apply everything) prints the apply to run; update <rule> alone, the same', async () => {
    const s = await state();
    const all = s.run('update');
    expect(all.status).toBe(0);
    expect(all.stdout).toBe(`next: the state is unchanged; to re-apply it to the nodes: esdc-overlay --state ${s.path} apply\n`);
    const one = s.run('update', 'lab');
    expect(one.status).toBe(0);
    expect(one.stdout).toContain('rule lab unchanged');
    expect(one.stdout).toContain(`esdc-overlay --state ${s.path} apply`);
  });
});

describe('init', () => {
  it('writes a minimal valid state, and refuses a store that holds one', async () => {
    const path = join(await tempDir(), 'new.yaml');
    const r = runBuiltCli(['--state', path, 'init', '--head-pdc', 'prg']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote a new state to ${path}`);
    expect(parse(await readFile(path, 'utf8'))).toEqual({ version: 1, defaults: { head_pdc: 'prg' } });
    expect(runBuiltCli(['--state', path, 'validate']).status).toBe(0);
    expect(runBuiltCli(['--state', path, 'list']).status).toBe(0);
    const again = runBuiltCli(['--state', path, 'init']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already holds a state');
  });
});

describe('SSH keys', () => {
  it("searches OpenSSH's default keys, and names them all when none exists", async () => {
    const s = await state();
    const home = await tempDir();
    const r = runBuiltCli(['--state', s.path, 'plan'], { HOME: home });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`none of ${home}/.ssh/id_ed25519, ${home}/.ssh/id_ecdsa, ${home}/.ssh/id_rsa exists and SSH_AUTH_SOCK is not set`);
  });

  it('a key with a passphrase is refused off a terminal, naming the key and the fix', async () => {
    const s = await state();
    const home = await tempDir();
    const { mkdir } = await import('node:fs/promises');
    const { spawnSync } = await import('node:child_process');
    await mkdir(join(home, '.ssh'), { mode: 0o700 });
    const key = join(home, '.ssh', 'id_ecdsa');
    const gen = spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', 'correct-horse-7', '-f', key]);
    expect(gen.status).toBe(0);
    const r = runBuiltCli(['--state', s.path, 'plan'], { HOME: home });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the SSH private key ${key} is protected by a passphrase`);
    expect(r.stderr).toContain(`ssh-add ${key}`);
    expect(r.stderr).not.toContain('correct-horse-7');
  });
});

describe('adminoverlay-update --mtu --port', () => {
  it('changes the MTU and port with the reboot and disruptive marks; a taken port is refused', async () => {
    const s = await state();
    const mtu = s.run('adminoverlay-update', '--mtu', '1280');
    expect(mtu.status, mtu.stderr).toBe(0);
    expect(mtu.stdout).toContain("adminoverlay mtu 1300 -> 1280 (takes effect at each node's next reboot)");
    const taken = s.run('adminoverlay-update', '--port', '4790', '--yes');
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain('port 4790 is already used by rule customers');
    const unasked = s.run('adminoverlay-update', '--port', '4800');
    expect(unasked.status).toBe(1);
    expect(unasked.stderr).toContain('DISRUPTIVE');
    const port = s.run('adminoverlay-update', '--port', '4800', '--yes');
    expect(port.status, port.stderr).toBe(0);
    expect(port.stdout).toContain('adminoverlay port 4792 -> 4800');
    expect(port.stdout).toContain('DISRUPTIVE');
    const info = (JSON.parse(s.run('adminoverlay-info', '--json').stdout) as { adminoverlay: { mtu: number; port: number } }).adminoverlay;
    expect([info.mtu, info.port]).toEqual([1280, 4800]);
    expect(s.run('adminoverlay-update', '--mtu', '9000').status).toBe(1);
  });
});

describe('nodes remove', () => {
  it('refuses while VM NICs or rule lists name the node, unless --force; a typo gets "did you mean"', async () => {
    const s = await state();
    const before = await readFile(s.path, 'utf8');
    const typo = s.run('nodes', 'remove', 'cn01.prg.exampel.com', '--yes');
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain(`(did you mean ${CN01}?)`);
    const refused = s.run('nodes', 'remove', CN01, '--yes');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`node ${CN01} is still referenced by`);
    expect(refused.stderr).toContain('pass --force');
    expect(await readFile(s.path, 'utf8')).toBe(before);
    const forced = s.run('nodes', 'remove', CN01, '--force', '--yes');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`removed node ${CN01} from the state`);
    expect(forced.stdout).toContain(`then run: esdc-overlay --state ${s.path} apply`);
    const doc = parse(await readFile(s.path, 'utf8')) as StateDoc;
    expect(Object.keys(doc.nodes!)).not.toContain(CN01);
    expect((doc.vnics ?? []).some((v) => v.node === CN01)).toBe(false);
    expect((doc.ipsec?.psk ?? []).some((k) => k.nodes.includes(CN01))).toBe(false);
    expect(s.run('validate').status).toBe(0);
  });
});
