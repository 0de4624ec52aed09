/**
 * bench/apply: `esdc-overlay apply` against an Ansible playbook doing the same
 * work (bench/apply/baseline-playbook.yml), on the same K simulated nodes
 * (test/harness/sim-cluster.ts), interleaved run by run so both see the same
 * machine load. See bench/README.md.
 *
 *   npx tsx bench/apply/run.ts [--count 10] [--runs 5] [--forks 5,16] [--steps a,b,c]
 *
 * One run, for each side (ours, then Ansible with each --forks value):
 * the nodes' roots are laid out afresh, then
 *   (a) first apply of the sim state (two rules, adminoverlay, IPsec, firewall),
 *   (b) the same again: nothing to do,
 *   (c) one VM moved to another node: its ARP entry changes in every table.
 * Ansible's template sources are `esdc-overlay render` of the same state
 * (rendered once, outside the timing). Needs `npm run build` and
 * ansible-playbook (apt-get install ansible).
 */
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { summarize, type Sample } from './summary.js';
import { simFacts, simVms, startSimCluster, writeNodeRoot } from '../../test/harness/sim-cluster.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
    forks: { type: 'string', default: '5,16' },
    steps: { type: 'string', default: 'a,b,c' },
    dir: { type: 'string', default: join(tmpdir(), 'esdc-bench-apply') },
  },
});
const count = Number(values.count);
const runs = Number(values.runs);
const forks = values.forks.split(',').filter(Boolean).map(Number);
const steps = values.steps.split(',') as Array<'a' | 'b' | 'c'>;
const repo = resolve(import.meta.dirname, '..', '..');
const cli = join(repo, 'dist', 'esdc-overlay.js');
const playbook = join(repo, 'bench', 'apply', 'baseline-playbook.yml');
const dir = resolve(values.dir, `k${count}`);
if (!Number.isInteger(count) || count < 2 || !Number.isInteger(runs) || runs < 1) {
  // Step (c) moves a VM from the first node to the second.
  process.stderr.write(`--count must be an integer >= 2 and --runs >= 1 (got ${values.count}, ${values.runs})\n`);
  process.exit(64);
}

// Debian's ansible, installed here when missing (as root, like the CI).
if (await run('sh', ['-c', 'command -v ansible-playbook']).then(() => false, () => true)) {
  process.stderr.write('ansible-playbook missing: apt-get install -y ansible\n');
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'ansible'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 1 << 26 });
}
await rm(dir, { recursive: true, force: true });
const c = await startSimCluster({ count, dir: join(dir, 'sim') });
const lab = count >= 3 ? [0, 2] : [0];

/** Every node's / as the harness first lays it out: nothing of ours on it. */
async function resetRoots(): Promise<void> {
  await Promise.all(
    c.nodes.map(async (n, i) => {
      await rm(n.root, { recursive: true, force: true });
      await writeNodeRoot(n.root, simFacts(i, count), simVms(i, lab));
    }),
  );
}

// The two states: as the harness wrote it, and with node 1's customers VM moved to node 2.
const statePath = join(dir, 'state.json');
const movedPath = join(dir, 'moved.json');
await writeFile(statePath, JSON.stringify(c.state, null, 2), { mode: 0o600 });
const moved = structuredClone(c.state);
const vm = moved.vnics!.find((v) => v.node === c.nodes[0]!.name && v.nic_tag.startsWith('customers/'))!;
vm.node = c.nodes[1]!.name;
await writeFile(movedPath, JSON.stringify(moved, null, 2), { mode: 0o600 });

const env = { ...process.env, ...c.env };
async function render(state: string, out: string): Promise<void> {
  await run(process.execPath, [cli, '--state', state, 'render', '--out', out, '--force'], { env, maxBuffer: 1 << 26 });
}
const renderState = join(dir, 'render-state');
const renderMoved = join(dir, 'render-moved');
await render(statePath, renderState);
await render(movedPath, renderMoved);

const inventory = join(dir, 'inventory.ini');
await writeFile(
  inventory,
  '[nodes]\n' +
    c.nodes
      .map((n) => {
        const ssh = (c.state.nodes![n.name] as { ssh: { port: number; user: string } }).ssh;
        return `${n.name} ansible_host=127.0.0.1 ansible_port=${ssh.port} ansible_user=${ssh.user} root=${n.root}`;
      })
      .join('\n') +
    '\n[nodes:vars]\n' +
    `ansible_ssh_private_key_file=${c.identityFile}\n` +
    `ansible_ssh_common_args=-o UserKnownHostsFile=${c.knownHostsFile} -o StrictHostKeyChecking=yes\n` +
    'ansible_python_interpreter=/usr/bin/python3\n',
);
// Pipelining as Danube's ans/ansible.cfg sets it (`pipelining = true`): the
// baseline gets the one speed-up the real installation has. Host keys are
// checked, as ours are.
const ansibleEnv = {
  ...process.env,
  ANSIBLE_HOST_KEY_CHECKING: 'True',
  ANSIBLE_PIPELINING: 'True',
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-tmp'),
};

const samples: Sample[] = [];
const cpuFile = join(dir, 'cpu.txt');

/**
 * One timed step. GNU time gives the controller's CPU (the command and the
 * children it waits for: Ansible's forks, ours is one process): on real
 * hardware each node's share runs on that node, so this is the part that
 * does not shrink with more nodes' CPUs. Ansible's ControlPersist masters
 * detach, so their encryption is not in it.
 */
async function timed(side: string, step: string, i: number, file: string, args: string[], e: NodeJS.ProcessEnv): Promise<string> {
  const t0 = performance.now();
  const r = await run('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, file, ...args], { env: e, maxBuffer: 1 << 28 }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (x: { code: number; stdout: string; stderr: string }) => x,
  );
  const ms = performance.now() - t0;
  const [user, sys] = (await readFile(cpuFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  const s: Sample = { run: i, side, step, ms, cpuS: user! + sys!, exit: r.code };
  const recap = /changed=(\d+)/g;
  if (side !== 'esdc-overlay') s.changed = String([...r.stdout.matchAll(recap)].reduce((a, m) => a + Number(m[1]), 0));
  samples.push(s);
  // Written after every sample: a run stopped half-way still leaves its figures.
  await writeFile(join(dir, 'samples.json'), JSON.stringify(samples, null, 2));
  process.stderr.write(`run ${i} ${side.padEnd(16)} (${step}) ${ms.toFixed(0).padStart(7)} ms cpu ${s.cpuS!.toFixed(1)} s exit ${r.code}${s.changed !== undefined ? ` changed=${s.changed}` : ''}  load ${loadavg()[0]!.toFixed(1)}\n`);
  if (r.code !== 0) process.stderr.write(`${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}\n`);
  return r.stdout;
}

// Ctrl-C or a timeout's SIGTERM still stops the simulated nodes' sshd.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void c.stop().finally(() => process.exit(130));
  });
}

const stepState = { a: statePath, b: statePath, c: movedPath };
const stepRender = { a: renderState, b: renderState, c: renderMoved };
const loadBefore = loadavg();
try {
  for (let i = 1; i <= runs; i++) {
    await resetRoots();
    for (const s of steps) await timed('esdc-overlay', s, i, process.execPath, [cli, '--state', stepState[s], 'apply', '--yes'], env);
    for (const f of forks) {
      await resetRoots();
      for (const s of steps) {
        await timed(`ansible -f ${f}`, s, i, 'ansible-playbook', ['-i', inventory, playbook, '-f', String(f), '-e', `render_dir=${stepRender[s]}`], ansibleEnv);
      }
    }
  }
} finally {
  await c.stop();
}

console.log(`K=${count}, ${runs} runs, load average before ${loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(summarize(samples));
