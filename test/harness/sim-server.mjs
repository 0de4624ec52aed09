#!/usr/bin/env node
// One Node process per simulated cluster (test/harness/sim-cluster.ts) that
// runs the simulated SmartOS commands needing Node (sim-commands.mjs) for
// every node of the cluster, so a `dladm create-overlay` or `net-virtual
// refresh` costs a bash start and a loopback connection, not a Node start
// (~50 ms of CPU each: on 50 nodes sharing two cores, most of a first apply
// was the simulation starting Node). Same function, same rules, same
// records as sim-bin.mjs, which stays the fallback when no server is there.
// Calls are served one at a time, as runSimCommand requires.
//
// Usage: node sim-server.mjs TOKEN ROOT...   (prints the port, then serves until killed)
// Request:  TOKEN\0ROOT\0N\0ARG1\0...ARGN\0   (ARG1 is the command)
// Response: "CODE STDOUT_BYTES STDERR_BYTES\n", then stdout, then stderr.
// Only the roots given at start, and only with the token (kept in the
// cluster's own 0700 directory), are served.
import { createServer } from 'node:net';
import { runSimCommand } from './sim-commands.mjs';

const [token, ...roots] = process.argv.slice(2);
const allowed = new Set(roots);

/** The NUL-terminated fields of a complete request, or undefined while more is to come. */
function fieldsOf(buf) {
  const fields = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) continue;
    fields.push(buf.subarray(start, i).toString('utf8'));
    start = i + 1;
    if (fields.length >= 3 && fields.length === 3 + Number(fields[2])) return fields;
  }
  return undefined;
}

function answer(code, stdout, stderr) {
  const out = Buffer.from(stdout);
  const err = Buffer.from(stderr);
  return Buffer.concat([Buffer.from(`${code} ${out.length} ${err.length}\n`), out, err]);
}

const server = createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on('error', () => undefined);
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const f = fieldsOf(buf);
    if (!f) return;
    sock.removeAllListeners('data');
    const [tok, root, , cmd, ...args] = f;
    if (tok !== token || !allowed.has(root) || cmd === undefined) {
      sock.end(answer(126, '', 'sim-server: refused\n'));
      return;
    }
    let r;
    try {
      r = runSimCommand(root, cmd, args);
    } catch (e) {
      // What an uncaught exception does to sim-bin.mjs: the stack on stderr, status 1.
      r = { code: 1, stdout: '', stderr: `${e?.stack ?? e}\n` };
    }
    sock.end(answer(r.code, r.stdout, r.stderr));
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
// The cluster's process holds our stdin: when it ends (even killed), so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
