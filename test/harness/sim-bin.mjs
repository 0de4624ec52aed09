#!/usr/bin/env node
// Simulated SmartOS commands for one sshd node (test/harness) that need
// Node: sysinfo, vmadm, dladm, net-virtual, and varpd's restart for svcadm
// (svcadm, svcs, ikeadm, chown and the restore scripts are shell scripts, see
// sim-cluster.ts). The commands themselves are sim-commands.mjs, shared with
// the light nodes; what they refuse is in smartos-rules.mjs, with sources.
// Usage: node sim-bin.mjs <root> <command> [args...]
import { runSimCommand } from './sim-commands.mjs';

const [root, cmd, ...args] = process.argv.slice(2);
const r = runSimCommand(root, cmd, args);
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.code;
