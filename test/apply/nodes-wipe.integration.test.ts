/**
 * `nodes remove <host> --wipe` (issue 19, Danube's wipe for one node): what
 * esdc-overlay made on the node is taken off it over SSH (files of our
 * manifest, our /usbkey/config lines, the overlays of our rules, the
 * manifest), shown first and done only on confirmation, and the node leaves
 * the state only after that; a node that cannot be reached is refused unless
 * --force, which says what it keeps.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runBuiltCli } from '../support/cli.js';
import { deleteVm, readVms } from '../harness/sim-vms.mjs';

let c: SimCluster;
useSimCluster({ count: 3, each: true }, (started) => (c = started));

interface Doc {
  nodes: Record<string, unknown>;
  vnics?: Array<{ node: string }>;
  overlay_rules: Record<string, { nodes?: unknown }>;
}

const MANIFEST = '/opt/custom/esdc-overlay/managed.json';

async function state(): Promise<Doc> {
  return parse(await readFile(c.statePath, 'utf8')) as Doc;
}

describe('nodes remove --wipe', () => {
  it('shows the wipe, asks, takes off every file, line and overlay of ours, then removes the node from the state', async () => {
    const n = c.nodes[1]!;
    expect(runBuiltCli(['apply', '--yes'], c.env).status).toBe(0);
    const managed = Object.keys((JSON.parse(await readFile(n.path(MANIFEST), 'utf8')) as { files: Record<string, unknown> }).files);
    expect(managed.length).toBeGreaterThan(3);
    const overlaysBefore = Object.keys(await n.simJson<Record<string, unknown>>('overlays.json', {}));
    const ruleLink = overlaysBefore.find((l) => l.startsWith('customers'));
    expect(ruleLink).toBeDefined();
    // The node's VMs are gone before it is decommissioned: from the node (a VM's vNIC holds its
    // overlay, which dladm then refuses to delete) and from the state.
    for (const vm of readVms(n.path('/')) as Array<{ uuid: string }>) deleteVm(c.dir, vm.uuid);
    const doc = await state();
    doc.vnics = (doc.vnics ?? []).filter((v) => v.node !== n.name);
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });

    const dry = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--dry-run'], c.env);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`wipe of ${n.name}`);
    expect(dry.stdout).toContain('- /usbkey/config overlay_rule_customers=');
    expect(dry.stdout).toContain(`- overlay ${ruleLink} (dladm delete-overlay)`);
    expect(dry.stdout).toContain('= overlay adminoverlay2 stays');
    expect(dry.stdout).toContain(`- ${MANIFEST} (our manifest, removed last)`);
    expect(dry.stdout).toContain('(dry run: nothing was removed');
    expect(existsSync(n.path(MANIFEST))).toBe(true);
    expect(Object.keys((await state()).nodes)).toContain(n.name);

    const unconfirmed = runBuiltCli(['nodes', 'remove', n.name, '--wipe'], c.env);
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stderr).toContain('not confirmed');
    expect(existsSync(n.path(MANIFEST))).toBe(true);

    const r = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wiped ${n.name}: ${managed.length} file(s) removed`);
    expect(r.stdout).toContain(`overlays deleted: ${ruleLink}, refreshed`);
    expect(r.stdout).toContain(`removed node ${n.name} from the state`);
    for (const p of [...managed, MANIFEST, '/opt/custom/esdc-overlay/bundle.json']) expect(existsSync(n.path(p)), p).toBe(false);
    const usbkey = await readFile(n.path('/usbkey/config'), 'utf8');
    expect(usbkey).not.toMatch(/^(overlay_rule_|adminoverlay_)/m);
    expect(usbkey).toMatch(/^admin_nic=/m);
    const overlaysAfter = Object.keys(await n.simJson<Record<string, unknown>>('overlays.json', {}));
    expect(overlaysAfter).not.toContain(ruleLink);
    expect((await n.calls()).some((x) => x.cmd === 'dladm' && x.args[0] === 'delete-overlay' && x.args.at(-1) === ruleLink)).toBe(true);
    expect(Object.keys((await state()).nodes)).not.toContain(n.name);
    // The others converge without it.
    expect(runBuiltCli(['apply', '--yes'], c.env).status).toBe(0);
  });

  it('an overlay a running VM still has a vNIC on is refused by dladm ("link busy"): the wipe says it stays, the rest is done', async () => {
    const n = c.nodes[1]!;
    expect(runBuiltCli(['apply', '--yes'], c.env).status).toBe(0);
    // The state no longer places a VM here, but the node still runs one (Danube created it since).
    const doc = await state();
    doc.vnics = (doc.vnics ?? []).filter((v) => v.node !== n.name);
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    expect((readVms(n.path('/')) as Array<{ nics: Array<{ nic_tag: string }> }>).some((vm) => vm.nics.some((x) => x.nic_tag === 'customers/1000'))).toBe(true);

    const r = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('overlays deleted: none');
    expect(r.stdout).toContain(`overlay customers1000 stays until the next reboot: ${n.name}: dladm delete-overlay customers1000 failed (exit 1): dladm: failed to delete customers1000: link busy`);
    expect(Object.keys(await n.simJson<Record<string, unknown>>('overlays.json', {}))).toContain('customers1000');
    expect(existsSync(n.path(MANIFEST))).toBe(false);
    expect(Object.keys((await state()).nodes)).not.toContain(n.name);
  });

  it('a wipe whose refresh fails on the node keeps the node in the state and says how to finish; run again, it finishes', async () => {
    const n = c.nodes[1]!;
    expect(runBuiltCli(['apply', '--yes'], c.env).status).toBe(0);
    for (const vm of readVms(n.path('/')) as Array<{ uuid: string }>) deleteVm(c.dir, vm.uuid);
    const doc = await state();
    doc.vnics = (doc.vnics ?? []).filter((v) => v.node !== n.name);
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    // The node's SMF refuses the refresh (a service in maintenance, say).
    const svcadm = n.path('/usr/sbin/svcadm');
    const realSvcadm = await readFile(svcadm, 'utf8');
    await writeFile(svcadm, '#!/bin/sh\necho "svcadm: Instance is in maintenance state." >&2\nexit 1\n', { mode: 0o755 });

    const failed = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--yes'], c.env);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`wipe of ${n.name} failed (`);
    expect(failed.stderr).toContain('it stays in the state');
    expect(Object.keys((await state()).nodes)).toContain(n.name);
    expect(existsSync(n.path(MANIFEST)), 'the manifest goes last, so a re-run still knows what is ours').toBe(true);

    await writeFile(svcadm, realSvcadm, { mode: 0o755 });
    const again = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--yes'], c.env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`removed node ${n.name} from the state`);
    expect(existsSync(n.path(MANIFEST))).toBe(false);
    expect(Object.keys((await state()).nodes)).not.toContain(n.name);
  });

  it('an unreachable node is refused, state unchanged; with --force it leaves the state and the output says what it keeps', async () => {
    const n = c.nodes[1]!;
    const doc = await state();
    doc.vnics = (doc.vnics ?? []).filter((v) => v.node !== n.name);
    await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
    await n.drop();
    const refused = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--force', '--connect-timeout', '3'], c.env);
    // Without --yes and without a terminal nothing is done, even forced.
    expect(refused.status).toBe(1);
    const r0 = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--yes', '--connect-timeout', '3'], c.env);
    expect(r0.status).toBe(1);
    expect(r0.stderr).toContain(`${n.name} cannot be wiped`);
    expect(r0.stderr).toContain('nothing was changed');
    expect(Object.keys((await state()).nodes)).toContain(n.name);
    const r = runBuiltCli(['nodes', 'remove', n.name, '--wipe', '--force', '--yes', '--connect-timeout', '3'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${n.name} was not wiped (unreachable): it keeps the files listed in ${MANIFEST}`);
    expect(Object.keys((await state()).nodes)).not.toContain(n.name);
  });

  it('remove --force says which rule lists it left and prints the update that puts it back', async () => {
    const [a, , n3] = c.nodes.map((x) => x.name) as [string, string, string];
    const dry = runBuiltCli(['nodes', 'remove', n3, '--force', '--dry-run'], c.env);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('(dry run: the state was not written)');
    expect(Object.keys((await state()).nodes)).toContain(n3);
    const r = runBuiltCli(['nodes', 'remove', n3, '--force', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`from rule(s) lab`);
    expect(r.stdout).toContain(`nodes add does not put ${n3} back into the node lists it left; once it is added again, run:\n  esdc-overlay update lab ${a},${n3}`);
    expect((await state()).overlay_rules.lab!.nodes).toEqual([a]);
    const json = runBuiltCli(['nodes', 'remove', a, '--force', '--yes', '--json'], c.env);
    expect(json.status, json.stderr).toBe(0);
    // lab named only a now: kept as a future node, nothing to re-add.
    expect((JSON.parse(json.stdout) as { removed: { re_add: string[]; kept_in: string[] } }).removed).toMatchObject({ re_add: [], kept_in: ['lab'] });
  });
});
