/**
 * What the agent (root on the node) takes from a bundle: only the files the
 * plan writes, with safe modes, from a file apply left (root-owned, 0400);
 * and a version floor a head node with a clock once ahead left behind never
 * locks it out for good (apply goes above it; `agent reset` clears it).
 * A bundle's checksum proves nothing about who wrote it: these bundles all
 * carry a correct one.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PATH, buildBundle, parseBundle, serializeBundle, type BundleBody } from '../../src/agent/bundle.js';
import { bundleMayWrite } from '../../src/agent/bundle-paths.js';
import { validateDoc } from '../../src/model/load.js';
import { desiredNode, GENERATORS } from '../../src/plan/desired-state.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { runCli as cli } from '../support/cli.js';
import { agentSim, type AgentSim } from './sim-node.js';

/** A bundle body as apply would make it, with `edit` applied, and a correct checksum. */
function tampered(sim: AgentSim, edit: (b: BundleBody) => void): string {
  const { sha256: _, ...body }: BundleBody & { sha256?: string } = parseBundle(sim.bundleFor(sim.doc, undefined, 1_000_000), 'bundle', { policy: false });
  edit(body);
  return serializeBundle(body);
}

describe('bundle contents the agent refuses', () => {
  let dir: string;
  let sim: AgentSim;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-trust-'));
    sim = await agentSim(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every file the generators write for the simulated cluster is allowed', () => {
    const { model } = validateDoc(sim.doc, 'sim');
    const ctx = new RenderContext(model);
    const paths = model.nodes.flatMap((n) => desiredNode(ctx, n, GENERATORS).files.map((f) => f.path));
    expect(paths.length).toBeGreaterThan(10);
    for (const p of paths) expect(bundleMayWrite(p), p).toBe(true);
    expect(() => parseBundle(sim.bundleFor(sim.doc))).not.toThrow();
  });

  it.each([
    '/etc/passwd',
    '/root/.ssh/authorized_keys',
    '/opt/custom/smf/evil.xml',
    '/opt/custom/etc/rc-pre-network.d/010-ipf-restore.sh',
    '/opt/custom/esdc-overlay/agent.json',
    '/opt/custom/esdc-overlay/managed.json',
    '/opt/custom/esdc-overlay/bundle.json',
    '/opt/custom/networking/../etc/x',
    '/opt/custom/networking/sub/x.json',
    '/opt/custom/networking/.hidden',
    '/opt/custom/etc/ipsec/other',
    '/usbkey/config',
  ])('a file at %s', (path) => {
    const text = tampered(sim, (b) => {
      b.files[0]!.path = path;
    });
    expect(() => parseBundle(text)).toThrow(/files\[0\]\.path: must be (a file the plan writes|an absolute path without \.\.)/);
  });

  it.each(['4755', '2755', '1777', '666', '602'])('a file with mode 0%s', (mode) => {
    const text = tampered(sim, (b) => {
      b.files[0]!.mode = parseInt(mode, 8);
    });
    expect(() => parseBundle(text)).toThrow(new RegExp(`files\\[0\\]\\.mode: (has the setuid, setgid or sticky bit|is world-writable): refused \\(got "0${mode}"\\)`));
  });

  it('a /usbkey/config line that is not one of ours', () => {
    const text = tampered(sim, (b) => {
      b.usbkey[0]!.key = 'root_shadow';
    });
    expect(() => parseBundle(text)).toThrow(/usbkey\[0\]\.key: must be an overlay key we own/);
  });
});

describe('the bundle file itself, and the version floor', () => {
  let dir: string;
  let sim: AgentSim;
  let configPath: string;
  let statusPath: string;
  const once = () => cli(['agent', '--once', '--config', configPath], sim.env);
  const config = (extra: Record<string, unknown> = {}) => writeFile(configPath, JSON.stringify({ status: statusPath, ...extra }));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-trust-file-'));
    sim = await agentSim(dir);
    configPath = join(dir, 'agent.json');
    statusPath = join(dir, 'agent-status.json');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('not owned by the expected uid (root by default): refused, nothing changed', async () => {
    await sim.writeBundle(sim.bundleFor(sim.doc, undefined, 1_000_000));
    const uid = process.getuid!();
    await config({ bundle_owner_uid: uid + 1 });
    const usb = await readFile(join(sim.root, 'usbkey/config'), 'utf8');
    const r = await once();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${BUNDLE_PATH} is owned by uid ${uid}, not ${uid + 1}; refused`);
    expect(await readFile(join(sim.root, 'usbkey/config'), 'utf8')).toBe(usb);
  });

  it('not mode 0400: refused', async () => {
    await config({ bundle_owner_uid: process.getuid!() });
    await chmod(join(sim.root, BUNDLE_PATH), 0o644);
    const r = await once();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${BUNDLE_PATH} has mode 0644, not 0400; refused`);
    await chmod(join(sim.root, BUNDLE_PATH), 0o400);
    expect((await once()).status).toBe(0);
  });

  it('a floor from a clock once ahead: the refusal names agent reset, which clears it; apply\'s next bundle goes above it', async () => {
    const ahead = 4_000_000_000_000;
    const first = sim.bundleFor(sim.doc, undefined, ahead);
    await sim.writeBundle(first);
    expect((await once()).status).toBe(0);
    // The clock is right again; the node's bundle is gone (reinstalled /opt/custom, damaged file).
    const changed = structuredClone(sim.doc);
    changed.overlay_rules!.lab!.port = 4795;
    const fromNow = sim.bundleFor(changed, undefined, 1_800_000_000_000);
    await sim.writeBundle(fromNow);
    const r = await once();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`bundle version 1800000000000 is older than version ${ahead} applied before; refused`);
    expect(r.stderr).toContain('`esdc-overlay agent reset` on this node clears it');

    // apply reads the floor and writes above it.
    const floor = { version: ahead, sha256: parseBundle(first).sha256 };
    const above = parseBundle(buildBundle(desiredOf(sim, changed), 'prg', undefined, 1_800_000_000_000, floor));
    expect(above.version).toBe(ahead + 1);
    // Same content as a bundle below the floor: still a new version.
    expect(parseBundle(buildBundle(desiredOf(sim, changed), 'prg', fromNow, 1_800_000_000_001, floor)).version).toBe(ahead + 1);

    const reset = await cli(['agent', 'reset', '--config', configPath]);
    expect(reset.status).toBe(0);
    expect(reset.stdout).toContain(`cleared the bundle version floor (was ${ahead}) in ${statusPath}`);
    const after = await once();
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toContain('repaired');
    expect(JSON.parse(await readFile(statusPath, 'utf8')).bundle_version).toBe(1_800_000_000_000);
  });
});

function desiredOf(sim: AgentSim, doc: AgentSim['doc']) {
  const model = validateDoc(doc, 'sim').model;
  return desiredNode(new RenderContext(model), model.nodeByName.get(sim.node)!, GENERATORS);
}
