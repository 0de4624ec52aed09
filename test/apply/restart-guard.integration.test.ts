/**
 * Before apply restarts varpd on a node it checks every overlay's table there
 * parses as varpd reads it, another tool's overlays included
 * (docs/smartos-rules.md#before-a-restart): varpd, restarting, would drop the
 * instance of an overlay whose table it cannot parse, for good. A foreign
 * overlay whose table is mid-edit makes apply refuse the restart, naming the
 * node, the overlay and the table; the foreign overlay stays ONLINE, our
 * table is written and the restart stays owed (the manifest), so the run
 * after the table is mended restarts varpd.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SimCluster, SimNode } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

const run = promisify(execFile);
const FOREIGN = '/opt/custom/networking/danube_overlay.json';
const OURS = '/opt/custom/networking/customers_overlay.json';
const GOOD = '{\n  "02:08:20:00:00:99": {"arp": "10.99.0.9", "ip": "10.200.1.9", "port": 4789}\n}\n';

/** Another tool's overlay on the node (a Danube rule's), with a table that parses. */
export async function foreignOverlay(n: SimNode): Promise<void> {
  await writeFile(n.path(FOREIGN), GOOD);
  await run(n.path('/usr/sbin/dladm'), ['create-overlay', '-e', 'vxlan', '-s', 'files', '-p', 'vxlan/listen_ip=0.0.0.0', '-p', 'vxlan/listen_port=4789', '-p', `files/config=${FOREIGN}`, '-v', '2999', 'danube2999']);
}

/** `dladm show-overlay -f` on the node, as link → status. */
async function fault(n: SimNode): Promise<Record<string, string>> {
  const { stdout } = await run(n.path('/usr/sbin/dladm'), ['show-overlay', '-f', '-p', '-o', 'link,status']);
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(':') as [string, string]));
}

const varpdRestarts = async (n: SimNode): Promise<number> => (await n.calls()).filter((c) => c.cmd === 'svcadm' && c.args.join(' ') === 'restart network/varpd').length;

describe('apply refuses a varpd restart that would cost an overlay its instance', () => {
  let c: SimCluster;
  useSimCluster({ count: 2 }, (started) => (c = started));

  it('a foreign table mid-edit: restart refused, named; the overlay stays ONLINE; mended, the next apply restarts', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const n = c.node('cn02.sim.test');
    await foreignOverlay(n);
    // Danube's writer is mid-edit (half a file), and our table drifted: apply rewrites it and owes varpd a restart.
    await writeFile(n.path(FOREIGN), GOOD.slice(0, 30));
    const want = await readFile(n.path(OURS), 'utf8');
    await writeFile(n.path(OURS), '{}\n');
    await n.clearCalls();

    const a = await cli(['apply', '--yes'], c.env);
    // Without the check varpd restarts here and danube2999 is DEGRADED for good.
    expect(await fault(n)).toEqual({ adminoverlay2: 'ONLINE', customers1000: 'ONLINE', danube2999: 'ONLINE' });
    expect(await varpdRestarts(n)).toBe(0);
    expect(a.status).toBe(1);
    const out = a.stdout + a.stderr;
    expect(out).toContain(`refusing to restart varpd on cn02.sim.test: overlay danube2999: ${FOREIGN} does not parse as varpd reads it: the text ends inside a string (at byte 30)`);
    expect(out).toContain('docs/smartos-rules.md#before-a-restart');
    // Our table is written all the same; the restart it needs is owed.
    expect(await readFile(n.path(OURS), 'utf8')).toBe(want);
    expect(JSON.parse(await readFile(n.path('/opt/custom/esdc-overlay/managed.json'), 'utf8')).pending_refresh).toContain('varpd');

    // Mended: the next apply restarts varpd, and every overlay survives it.
    await writeFile(n.path(FOREIGN), GOOD);
    const b = await cli(['apply', '--yes'], c.env);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    expect(await varpdRestarts(n)).toBe(1);
    expect(await fault(n)).toEqual({ adminoverlay2: 'ONLINE', customers1000: 'ONLINE', danube2999: 'ONLINE' });
  });

  it('a foreign overlay that lost its instance earlier: dladm show-overlay warns and exits 1, and apply reads, checks and restarts all the same', async () => {
    expect((await cli(['apply', '--yes'], c.env)).status).toBe(0);
    const n = c.node('cn01.sim.test');
    await foreignOverlay(n);
    // Someone restarted varpd while Danube's table was broken: danube2999 has no instance, for good.
    await writeFile(n.path(FOREIGN), GOOD.slice(0, 30));
    await run(n.path('/usr/sbin/svcadm'), ['restart', 'network/varpd']);
    expect((await fault(n)).danube2999).toBe('DEGRADED');
    const show = await run(n.path('/usr/sbin/dladm'), ['show-overlay', '-p', '-o', 'link,property,value']).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(show?.code).toBe(1);
    expect(show?.stderr).toMatch(/^dladm: warning: failed to get varpd props for overlay danube2999, varpd id \d+: ok\n$/);
    expect(show?.stdout).toContain('danube2999:mtu:');
    expect(show?.stdout).not.toContain('danube2999:files/config:');

    // Our table drifted: apply rewrites it and restarts varpd; the lost overlay's table is not read (no files/config).
    await writeFile(n.path(OURS), '{}\n');
    await n.clearCalls();
    const a = await cli(['apply', '--yes'], c.env);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(await varpdRestarts(n)).toBe(1);
    expect(await fault(n)).toEqual({ adminoverlay2: 'ONLINE', customers1000: 'ONLINE', danube2999: 'DEGRADED', lab2000: 'ONLINE' });
  });
});
