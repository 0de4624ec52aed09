/**
 * `npm run sim-nodes -- --count K --dir DIR`: starts K simulated SmartOS
 * nodes (real sshd on 127.0.0.1) and writes DIR/state.yaml, DIR/known_hosts
 * and DIR/id_ed25519; prints how to point esdc-overlay at them; stops them on
 * SIGTERM or SIGINT. Once every node listens it writes DIR/env (shell exports
 * of ESDC_OVERLAY_STATE, _IDENTITY, _KNOWN_HOSTS) and DIR/sim.pid.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimCluster } from './sim-cluster.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '3' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('usage: npm run sim-nodes -- [--count K] [--dir DIR]\n');
  process.exit(0);
}
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || count > 200) {
  process.stderr.write(`--count must be 1-200 (got ${values.count})\n`);
  process.exit(64);
}
const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'esdc-sim-')));
const started = performance.now();
const cluster = await startSimCluster({ count, dir });
const ms = Math.round(performance.now() - started);
const env = Object.entries(cluster.env).map(([k, v]) => `export ${k}=${v}`).join('\n');
process.stdout.write(
  `${count} simulated node(s) up in ${ms} ms under ${cluster.dir}\n` +
    cluster.nodes.map((n) => `  ${n.name}  127.0.0.1:${n.port}  root ${n.root}`).join('\n') +
    `\n\nPoint esdc-overlay at them:\n${env}\n` +
    `\nthen e.g.: esdc-overlay plan; esdc-overlay apply --yes; esdc-overlay verify\n` +
    `(or pass --state ${cluster.statePath} --identity ${cluster.identityFile} --known-hosts ${cluster.knownHostsFile})\n` +
    'Stop with Ctrl-C or SIGTERM.\n',
);
// For scripts (scripts/demo.sh): written last, once every node listens.
await writeFile(join(cluster.dir, 'sim.pid'), `${process.pid}\n`);
await writeFile(join(cluster.dir, 'env'), `${env}\n`);
const stop = async (): Promise<void> => {
  await cluster.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// Stay up until signalled.
setInterval(() => undefined, 1 << 30);
