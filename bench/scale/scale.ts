/**
 * Issue 22's scale figures (bench/RESULTS.md, section "Scale to 2,000 nodes"):
 *
 *   npx tsx bench/scale/scale.ts state   [--nodes 2000 --pdcs 8 --nics 100000 --dir DIR]
 *   npx tsx bench/scale/scale.ts render  [--dir DIR]          (after state; needs GNU time)
 *   npx tsx bench/scale/scale.ts migrate [--dir DIR]          (after state; starts its own ZooKeeper)
 *   npx tsx bench/scale/scale.ts apply   [--nodes 1000 --pdcs 8 --nics 10000 --dir DIR]
 *
 * `state` writes DIR/state.yaml and DIR/state.json (the same document):
 * bench/generate-installation.ts (seed 1, 4 rules) with
 * `defaults.ipsec.keys: pdc-pair` and its keys, and says their sizes against
 * the 32 MiB cap and what per-pair keys would have weighed. `render`
 * (`--format json|yaml`, default json as in section 1) runs the built CLI's
 * render under /usr/bin/time -v (peak RSS). `migrate`
 * runs `store migrate` into a fresh ZooKeeper (which reads the copy back and
 * compares it). `apply` starts light simulated nodes (test/harness/light-nodes.ts)
 * in this process and runs the built CLI's apply twice (first, no-op) with
 * the bytes the nodes read and wrote. Every figure is printed with the load
 * average beside it: the machine is shared. Run `npm run build` first.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stringify } from 'yaml';
import { generateMissingKeys } from '../../src/ipsec/keys.js';
import { meshPairs } from '../../src/ipsec/pairs.js';
import { validateDoc } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { lightFacts, lightNodesDoc, startLightCluster } from '../../test/harness/light-nodes.js';
import { startZooKeeper } from '../../test/support/zk-server.js';
import { generateInstallation } from '../generate-installation.js';

const run = promisify(execFile);
// SCALE_CLI: another build of the CLI (a before/after comparison); default this tree's dist.
const CLI = process.env.SCALE_CLI ?? resolve(import.meta.dirname, '..', '..', 'dist', 'esdc-overlay.js');
const STATE_CAP = 32 * 1024 * 1024;
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    nodes: { type: 'string' },
    pdcs: { type: 'string', default: '8' },
    nics: { type: 'string' },
    dir: { type: 'string', default: join(tmpdir(), 'esdc-scale') },
    concurrency: { type: 'string', default: '64' },
    format: { type: 'string', default: 'json' },
    heap: { type: 'string' },
  },
});
const dir = resolve(values.dir!);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const say = (line: string): void => console.log(`${line}   [load ${load()}]`);

/** A generated installation with pdc-pair keys stored. */
function scaleDoc(nodes: number, pdcs: number, nics: number): StateDoc {
  const doc = generateInstallation({ nodes, pdcs, rules: 4, nics, seed: 1 });
  doc.defaults = { ...doc.defaults, ipsec: { keys: 'pdc-pair' } };
  return generateMissingKeys(doc, validateDoc(structuredClone(doc), 'bench', 'warn').model).doc;
}

async function cmdState(): Promise<void> {
  const nodes = Number(values.nodes ?? 2000);
  const nics = Number(values.nics ?? 100_000);
  const pdcs = Number(values.pdcs);
  await mkdir(dir, { recursive: true });
  const doc = scaleDoc(nodes, pdcs, nics);
  const text = stringify(doc, { lineWidth: 0 });
  const path = join(dir, 'state.yaml');
  await writeFile(path, text, { mode: 0o600 });
  const bytes = Buffer.byteLength(text);
  const json = JSON.stringify(doc);
  await writeFile(join(dir, 'state.json'), json, { mode: 0o600 });
  const model = validateDoc(structuredClone(doc), 'bench', 'warn').model;
  const pairs = meshPairs(model).length;
  // One per-pair entry in YAML: two hostnames and a 256-hex key, ~330 bytes.
  const sample = stringify({ ipsec: { psk: [{ nodes: [model.nodes[0]!.name, model.nodes[1]!.name], key: 'a'.repeat(256) }] } }, { lineWidth: 0 });
  const perPair = Buffer.byteLength(sample) - Buffer.byteLength('ipsec:\n  psk:\n');
  say(`state: ${nodes} nodes, ${pdcs} PDCs, ${nics} NICs, keys pdc-pair (${doc.ipsec?.pdc_psk?.length} keys): ${path} ${bytes} bytes = ${mib(bytes)} (cap ${mib(STATE_CAP)}: ${bytes < STATE_CAP ? 'under' : 'OVER'})`);
  say(`  the same as JSON: ${Buffer.byteLength(json)} bytes = ${mib(Buffer.byteLength(json))}`);
  say(`  with per-pair keys it would add ${pairs} pairs x ~${perPair} bytes = ${mib(pairs * perPair)}`);
  const v = await run(process.execPath, [CLI, 'validate', '--state', path], { maxBuffer: 64 * 1024 * 1024 }).catch((e: { code: number; stderr: string }) => e);
  say(`  esdc-overlay validate --state: exit ${'code' in v && typeof v.code === 'number' ? v.code : 0}`);
}

async function cmdRender(): Promise<void> {
  const path = join(dir, `state.${values.format === 'yaml' ? 'yaml' : 'json'}`);
  const out = join(dir, 'render');
  await rm(out, { recursive: true, force: true });
  const t0 = performance.now();
  const r = await run('/usr/bin/time', ['-v', process.execPath, CLI, 'render', '--state', path, '--out', out], { maxBuffer: 256 * 1024 * 1024 }).catch(
    (e: { code: number; stderr: string; stdout: string }) => e,
  );
  const wall = (performance.now() - t0) / 1000;
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 'NaN');
  const user = Number(/User time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1] ?? 'NaN');
  const sys = Number(/System time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1] ?? 'NaN');
  const du = await run('du', ['-sb', out]).then((x) => Number(x.stdout.split('\t')[0]), () => 0);
  const files = await run('sh', ['-c', `find "$1" -type f | wc -l`, 'sh', out]).then((x) => Number(x.stdout.trim()), () => 0);
  say(`render of ${path}: exit ${'code' in r && typeof r.code === 'number' ? r.code : 0}, wall ${wall.toFixed(1)} s, CPU ${(user + sys).toFixed(1)} s, peak RSS ${mib(rss * 1024)} (goal < 512 MiB), ${files} files, ${du} bytes`);
  await rm(out, { recursive: true, force: true });
}

async function cmdMigrate(): Promise<void> {
  const path = join(dir, 'state.yaml');
  const zk = await startZooKeeper();
  try {
    const root = `/bench${Date.now()}/esdc/settings`;
    const t0 = performance.now();
    const r = await run(process.execPath, [CLI, 'store', 'migrate', '--from', path, '--to', `zk://${zk.hosts}${root}`, '--yes', '--zk-insecure', '--store-timeout', '60'], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((e: { code: number; stderr: string; stdout: string }) => e);
    const wall = (performance.now() - t0) / 1000;
    say(`store migrate to ZooKeeper: exit ${'code' in r && typeof r.code === 'number' ? r.code : 0}, wall ${wall.toFixed(1)} s (migrate reads the copy back and compares the models)`);
    if ('code' in r && typeof r.code === 'number' && r.code !== 0) console.log(r.stderr.slice(-2000));
    else console.log(r.stdout.trim().split('\n').slice(-3).join('\n'));
    const gens = await run('java', ['-cp', '/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar', 'org.apache.zookeeper.ZooKeeperMain', '-server', zk.hosts, 'ls', `${root}/esdc_overlay/gen`]).catch(() => undefined);
    if (gens) console.log(`generations: ${gens.stdout.trim().split('\n').slice(-1)[0]}`);
    const t1 = performance.now();
    const l = await run(process.execPath, [CLI, 'list', '--store', `zk://${zk.hosts}${root}`, '--store-timeout', '60'], { maxBuffer: 64 * 1024 * 1024 }).catch(
      (e: { code: number }) => e,
    );
    say(`  list from ZooKeeper: exit ${'code' in l && typeof l.code === 'number' ? l.code : 0}, wall ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  } finally {
    await zk.dispose();
  }
}

async function cmdApply(): Promise<void> {
  const nodes = Number(values.nodes ?? 1000);
  const nics = Number(values.nics ?? 10_000);
  const pdcs = Number(values.pdcs);
  const adir = join(dir, `light-${nodes}`);
  await rm(adir, { recursive: true, force: true });
  const facts = lightFacts(pdcs);
  const t0 = performance.now();
  const cluster = await startLightCluster({ count: nodes, dir: adir, facts });
  say(`light nodes: ${nodes} up in ${((performance.now() - t0) / 1000).toFixed(1)} s, this process RSS ${mib(process.memoryUsage().rss)}`);
  try {
    // Services come back online at once (the sshd nodes' default is 200 ms): the figure is the tool's, not a wait.
    await Promise.all(cluster.nodes.map((n) => writeFile(join(n.root, 'var/sim/svc-delay-ms'), '0\n')));
    // The generator's installation, placed on the light nodes: same names and PDCs, light addresses and ports.
    const gen = scaleDoc(nodes, pdcs, nics);
    const byIndex = Object.keys(gen.nodes!);
    const rename = new Map(byIndex.map((name, i) => [name, cluster.nodes[i]!.name]));
    const doc: StateDoc = {
      ...gen,
      nodes: lightNodesDoc(cluster, facts),
      overlay_rules: Object.fromEntries(
        Object.entries(gen.overlay_rules!).map(([k, r]) => [k, { ...r, nodes: r.nodes === 'all' ? 'all' : (r.nodes as string[]).map((n) => rename.get(n)!) }]),
      ),
      vnics: gen.vnics!.map((v) => ({ ...v, node: rename.get(v.node)! })),
    };
    delete doc.ipsec;
    const keyed = generateMissingKeys(doc, validateDoc(structuredClone(doc), 'bench', 'warn').model).doc;
    const statePath = join(adir, 'state.yaml');
    await writeFile(statePath, stringify(keyed, { lineWidth: 0 }), { mode: 0o600 });
    // --heap MiB: the CLI's V8 heap limit (Node's default is ~4 GiB on this machine).
    const heap = values.heap === undefined ? {} : { NODE_OPTIONS: `--max-old-space-size=${Number(values.heap)}` };
    const env = { ...process.env, ...cluster.env, ...heap, ESDC_OVERLAY_STATE: statePath };
    for (const label of ['first apply', 'no-op apply']) {
      const before = cluster.traffic();
      const t = performance.now();
      const r = await runChild([CLI, 'apply', '--yes', '--concurrency', values.concurrency!], env);
      const wall = (performance.now() - t) / 1000;
      const after = cluster.traffic();
      say(
        `${label} on ${nodes} light nodes (${pdcs} PDCs, ${nics} NICs, --concurrency ${values.concurrency}${values.heap ? `, heap ${values.heap} MiB` : ''}): exit ${r.code}, wall ${wall.toFixed(1)} s, ` +
          `CLI CPU ${r.cpu.toFixed(1)} s, peak RSS ${mib(r.rss)}; tool sent ${mib(after.read - before.read)}, read ${mib(after.written - before.written)}`,
      );
      if (r.code !== 0) console.log(r.stderr.slice(-3000));
      if (label === 'first apply') {
        const sizes = await run('du', ['-sb', '--apparent-size', join(cluster.nodes[0]!.root, 'opt'), join(cluster.nodes[0]!.root, 'var')]).catch(() => undefined);
        if (sizes) console.log(`  one node's files after it: ${sizes.stdout.trim().replace(/\n/g, '; ')}`);
      }
    }
  } finally {
    await cluster.stop();
    await rm(adir, { recursive: true, force: true });
  }
}

/** The CLI as a child (async: the light nodes live in this process), under GNU time for its CPU and RSS. */
function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; cpu: number; rss: number }> {
  return new Promise((res) => {
    const child = spawn('/usr/bin/time', ['-v', process.execPath, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('close', (code) => {
      const user = Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? 'NaN');
      const sys = Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? 'NaN');
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 'NaN') * 1024;
      res({ code, stderr, cpu: user + sys, rss });
    });
  });
}

const commands: Record<string, () => Promise<void>> = { state: cmdState, render: cmdRender, migrate: cmdMigrate, apply: cmdApply };
const which = positionals[0] ?? '';
if (!commands[which]) {
  console.error('usage: npx tsx bench/scale/scale.ts state|render|migrate|apply [--nodes N] [--pdcs P] [--nics M] [--dir DIR]');
  process.exit(64);
}
await commands[which]!();


