#!/usr/bin/env node
// Simulated SmartOS commands for one sshd node (test/harness) that need
// Node: sysinfo, vmadm, dladm, net-virtual, and varpd's restart for svcadm
// (svcadm, svcs, ikeadm, chown and the restore scripts are shell scripts, see
// sim-cluster.ts). The commands themselves are sim-commands.mjs, shared with
// the light nodes; what they refuse is in smartos-rules.mjs, with sources.
// `vmadm lookup` and `vmadm events` live in sim-vms.mjs with the VMs they show:
// `events` streams until the SSH channel closes, which a one-shot function cannot.
// Usage: node sim-bin.mjs <root> <command> [args...]
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimCommand } from './sim-commands.mjs';

const [root, cmd, ...args] = process.argv.slice(2);
if (cmd === 'vmadm' && (args[0] === 'lookup' || args[0] === 'events')) {
  appendFileSync(join(root, 'var/sim/calls.jsonl'), `${JSON.stringify({ cmd, args, at: Date.now() })}\n`);
  const vmadm = await import('./sim-vms.mjs');
  try {
    if (args[0] === 'lookup') vmadm.lookup(root, args.slice(1));
    else vmadm.events(root, args.slice(1));
  } catch (err) {
    process.stderr.write(`vmadm: ${err.message}\n`);
    process.exitCode = 1;
  }
} else {
  const r = runSimCommand(root, cmd, args);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}
