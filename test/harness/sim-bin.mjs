#!/usr/bin/env node
// Simulated SmartOS commands for one sshd node (test/harness) that need
// state: sysinfo, vmadm, dladm, net-virtual (svcadm, chown and the restore
// scripts are shell scripts, see sim-cluster.ts). The commands themselves
// are sim-commands.mjs, shared with the light nodes.
// Usage: node sim-bin.mjs <root> <command> [args...]
import { runSimCommand } from './sim-commands.mjs';

const [root, cmd, ...args] = process.argv.slice(2);
const r = runSimCommand(root, cmd, args);
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.code;
