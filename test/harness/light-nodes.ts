/**
 * Light simulated SmartOS nodes for scale tests: many SSH servers in one
 * process (ssh2's Server), each on its own port with its own ed25519 host
 * key and its own root directory on disk. SFTP and exec are served by this
 * process *inside the node's root*: a path `/usbkey/config` is
 * `<root>/usbkey/config`, a command `sysinfo` or `/usr/sbin/svcadm` is the
 * simulated command of that node (sim-commands.mjs, the same code the sshd
 * nodes run through sim-bin.mjs). So the state needs no `ssh.root`: the
 * tool's production SSH transport is used unchanged, as against a real node.
 *
 * What they do not do (the sshd nodes of sim-cluster.ts stay for fidelity):
 * no shell (an exec request must be words, as the tool's quoteArgv writes
 * them), no users or file owners (chown is recorded, as on the sshd nodes),
 * only the SFTP requests the tool makes (open, read, write, fstat, fsetstat,
 * close, stat, lstat, mkdir, remove, opendir, readdir,
 * posix-rename@openssh.com, hardlink@openssh.com), no sftp.log.
 *
 * Node (`/opt/tools/bin/node`) runs one script only: the agent bundle's
 * `agent patch-table` (docs/arp-deltas.md#on-the-node), and only when the
 * bundle file is on the node. It runs in this process, the command's own
 * code (src/agent/patch-table.ts, from its argv words) over the node's root,
 * with the node's simulated commands for chown and svcadm; anything else
 * exits 9, as the sshd nodes' node does for what it cannot run.
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import ssh2, { type AcceptConnection, type Connection, type ServerChannel, type SFTPWrapper } from 'ssh2';
import { stringify } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';
import { ed25519Pair, simVms, writeNodeRoot, type SimNodeFacts } from './sim-cluster.js';
import { runSimCommand } from './sim-commands.mjs';
import { patchTableWords } from '../../src/agent/patch-table.js';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { EsdcError } from '../../src/errors.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { RootedTransport } from '../../src/transport/rooted-transport.js';
import type { ExecResult } from '../../src/transport/transport.js';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

/** Where each simulated command lives on the node (as sim-cluster.ts lays them out). */
const COMMAND_AT: Record<string, string> = {
  '/usr/bin/sysinfo': 'sysinfo',
  '/usr/sbin/vmadm': 'vmadm',
  '/usr/sbin/dladm': 'dladm',
  '/usr/sbin/svcadm': 'svcadm',
  '/usr/bin/svcs': 'svcs',
  '/usr/sbin/ikeadm': 'ikeadm',
  '/usr/bin/chown': 'chown',
  '/usr/bin/digest': 'digest',
  // Not SmartOS's: the Node an operator installs from pkgsrc-tools (docs/node-on-smartos.md).
  '/opt/tools/bin/node': 'node',
  '/lib/svc/method/net-virtual': 'net-virtual',
  '/opt/custom/etc/rc-pre-network.d/010-ipf-restore.sh': '010-ipf-restore.sh',
  '/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh': '020-ipsec-restore.sh',
};
/** PATH of a root login on SmartOS, for bare command names. */
const PATH_DIRS = ['/usr/sbin', '/usr/bin', '/sbin'];

/** Traffic of one node's SSH connections, as the server saw it. */
export interface LightTraffic {
  /** Bytes the server read: what the client sent. */
  read: number;
  /** Bytes the server wrote: what the client received. */
  written: number;
  connections: number;
}

export interface LightNode {
  name: string;
  port: number;
  hostKeyPublic: string;
  root: string;
  traffic(): LightTraffic;
}

/**
 * One exec request's words, from the POSIX single-quote form the tool sends
 * (src/shell/quote.ts): bare words of safe characters and '...' segments.
 * Anything else (unquoted spaces aside) would need a shell: refused.
 */
export function parseExecWords(command: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < command.length) {
    while (command[i] === ' ') i++;
    if (i >= command.length) break;
    let word = '';
    while (i < command.length && command[i] !== ' ') {
      const c = command[i]!;
      if (c === "'") {
        const end = command.indexOf("'", i + 1);
        if (end < 0) return undefined;
        word += command.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\' && i + 1 < command.length) {
        word += command[i + 1];
        i += 2;
      } else if (/[A-Za-z0-9_@%+=:,./-]/.test(c)) {
        word += c;
        i++;
      } else return undefined;
    }
    words.push(word);
  }
  return words;
}

class LightServer {
  private readonly server: InstanceType<typeof Server>;
  private readonly sockets = new Set<Socket>();
  private totals: LightTraffic = { read: 0, written: 0, connections: 0 };
  port = 0;

  constructor(
    readonly name: string,
    readonly root: string,
    hostKey: string,
    readonly hostKeyPublic: string,
    private readonly user: string,
    private readonly clientKey: ssh2.ParsedKey,
    private readonly patcher: LightPatcher,
    private readonly patchSlots: Slots,
  ) {
    this.server = new Server({ hostKeys: [hostKey] }, (client: Connection) => this.connection(client));
  }

  listen(): Promise<void> {
    return new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as { port: number }).port;
        res();
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((res) => this.server.close(() => res()));
  }

  traffic(): LightTraffic {
    let { read, written } = this.totals;
    for (const s of this.sockets) {
      read += s.bytesRead;
      written += s.bytesWritten;
    }
    return { read, written, connections: this.totals.connections };
  }

  /** A node path inside the root; `..` cannot climb above the node's `/`. */
  private at(path: string): string {
    return join(this.root, posix.normalize(`/${path}`));
  }

  private connection(client: Connection): void {
    const sock = (client as unknown as { _sock: Socket })._sock;
    this.sockets.add(sock);
    this.totals.connections++;
    sock.once('close', () => {
      this.sockets.delete(sock);
      this.totals.read += sock.bytesRead;
      this.totals.written += sock.bytesWritten;
    });
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      const key = this.clientKey;
      if (
        ctx.method === 'publickey' &&
        ctx.username === this.user &&
        ctx.key.algo === key.type &&
        ctx.key.data.equals(key.getPublicSSH()) &&
        (!ctx.signature || key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true)
      ) {
        ctx.accept();
      } else ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept: AcceptConnection<ssh2.Session>) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => this.exec(acceptExec(), info.command));
        session.on('sftp', (acceptSftp) => this.sftp(acceptSftp()));
      });
    });
  }

  /** Runs one exec request as the node's simulated command; exit 127 for what the node does not have. */
  private exec(channel: ServerChannel, command: string): void {
    const finish = (code: number, stdout: string, stderr: string): void => {
      if (stdout) channel.write(stdout);
      if (stderr) channel.stderr.write(stderr);
      channel.exit(code);
      channel.end();
    };
    const words = parseExecWords(command);
    if (!words || words.length === 0) return finish(2, '', `sh: cannot run ${JSON.stringify(command)} without a shell\n`);
    const [cmd, ...args] = words as [string, ...string[]];
    const path = cmd.includes('/') ? posix.normalize(cmd) : PATH_DIRS.map((d) => `${d}/${cmd}`).find((p) => p in COMMAND_AT);
    const name = path?.startsWith('/') ? COMMAND_AT[path] : undefined;
    if (name === undefined) return finish(127, '', `sh: ${cmd}: not found\n`);
    if (name === 'node') {
      lightNodeExecAt.push(performance.now());
      void runNode(this.name, this.root, args, this.patcher, this.patchSlots).then((r) => finish(r.code ?? 1, r.stdout, r.stderr));
      return undefined;
    }
    if (name === 'digest') {
      void runDigest(this.root, args).then((r) => finish(r.code, r.stdout, r.stderr));
      return undefined;
    }
    try {
      const r = runSimCommand(this.root, name, args);
      finish(r.code, r.stdout, r.stderr);
    } catch (err) {
      finish(1, '', `${name}: ${(err as Error).message}\n`);
    }
  }

  /** An SFTP server over the node's root: the requests the tool's transport makes. */
  private sftp(sftp: SFTPWrapper): void {
    advertisePosixRename(sftp);
    const handles = new Map<number, FileHandle>();
    /** Open directory handles: the names not yet sent (undefined once all were). */
    const dirs = new Map<number, string[] | undefined>();
    let next = 0;
    const handleOf = (h: Buffer): FileHandle | undefined => (h.length === 4 ? handles.get(h.readUInt32BE(0)) : undefined);
    const status = (reqid: number, err: unknown): void => {
      if (!err) return void sftp.status(reqid, STATUS_CODE.OK);
      const code = (err as NodeJS.ErrnoException).code;
      sftp.status(
        reqid,
        code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : code === 'EACCES' || code === 'EPERM' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE,
        (err as Error).message,
      );
    };
    const run = (reqid: number, work: () => Promise<void>): void => {
      work().catch((err: unknown) => status(reqid, err));
    };
    const attrsOf = (st: import('node:fs').Stats) => ({ mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) });

    sftp.on('OPEN', (reqid, filename, flags, attrs) =>
      run(reqid, async () => {
        const mode = flagsOf(flags);
        const fh = await open(this.at(filename), mode, attrs.mode ?? 0o644);
        const id = next++;
        handles.set(id, fh);
        const h = Buffer.alloc(4);
        h.writeUInt32BE(id, 0);
        sftp.handle(reqid, h);
      }),
    );
    sftp.on('READ', (reqid, handle, offset, length) =>
      run(reqid, async () => {
        const fh = handleOf(handle);
        if (!fh) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, offset);
        if (bytesRead === 0) sftp.status(reqid, STATUS_CODE.EOF);
        else sftp.data(reqid, buf.subarray(0, bytesRead));
      }),
    );
    sftp.on('WRITE', (reqid, handle, offset, data) =>
      run(reqid, async () => {
        const fh = handleOf(handle);
        if (!fh) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
        await fh.write(data, 0, data.length, offset);
        status(reqid, undefined);
      }),
    );
    sftp.on('FSTAT', (reqid, handle) =>
      run(reqid, async () => {
        const fh = handleOf(handle);
        if (!fh) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
        sftp.attrs(reqid, attrsOf(await fh.stat()));
      }),
    );
    sftp.on('FSETSTAT', (reqid, handle, attrs) =>
      run(reqid, async () => {
        const fh = handleOf(handle);
        if (!fh) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
        if (attrs.mode !== undefined) await fh.chmod(attrs.mode & 0o7777);
        status(reqid, undefined);
      }),
    );
    sftp.on('OPENDIR', (reqid, path) =>
      run(reqid, async () => {
        const names = await readdir(this.at(path));
        const id = next++;
        dirs.set(id, ['.', '..', ...names]);
        const h = Buffer.alloc(4);
        h.writeUInt32BE(id, 0);
        sftp.handle(reqid, h);
      }),
    );
    sftp.on('READDIR', (reqid, handle) => {
      const id = handle.length === 4 ? handle.readUInt32BE(0) : -1;
      if (!dirs.has(id)) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      const names = dirs.get(id);
      if (names === undefined) return void sftp.status(reqid, STATUS_CODE.EOF);
      dirs.set(id, undefined);
      sftp.name(reqid, names.map((filename) => ({ filename, longname: filename, attrs: {} as never })));
      return undefined;
    });
    sftp.on('CLOSE', (reqid, handle) =>
      run(reqid, async () => {
        if (handle.length === 4 && dirs.delete(handle.readUInt32BE(0))) return status(reqid, undefined);
        const fh = handleOf(handle);
        if (!fh) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
        handles.delete(handle.readUInt32BE(0));
        await fh.close();
        status(reqid, undefined);
      }),
    );
    sftp.on('STAT', (reqid, path) => run(reqid, async () => sftp.attrs(reqid, attrsOf(await stat(this.at(path))))));
    sftp.on('LSTAT', (reqid, path) => run(reqid, async () => sftp.attrs(reqid, attrsOf(await lstat(this.at(path))))));
    sftp.on('MKDIR', (reqid, path, attrs) =>
      run(reqid, async () => {
        await mkdir(this.at(path), { mode: attrs.mode ?? 0o755 });
        status(reqid, undefined);
      }),
    );
    sftp.on('REMOVE', (reqid, path) =>
      run(reqid, async () => {
        await unlink(this.at(path));
        status(reqid, undefined);
      }),
    );
    sftp.on('EXTENDED', (reqid, name, data) => {
      const rename2 = name === 'posix-rename@openssh.com';
      if ((!rename2 && name !== 'hardlink@openssh.com') || !data) return void sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED);
      const from = data.subarray(4, 4 + data.readUInt32BE(0)).toString('utf8');
      const rest = data.subarray(4 + data.readUInt32BE(0));
      const to = rest.subarray(4, 4 + rest.readUInt32BE(0)).toString('utf8');
      run(reqid, async () => {
        // rename(2) replaces the target; link(2) refuses an existing one (EEXIST: a bare failure, as OpenSSH says).
        await (rename2 ? rename(this.at(from), this.at(to)) : link(this.at(from), this.at(to)));
        status(reqid, undefined);
      });
      return undefined;
    });
    sftp.on('close', () => {
      for (const fh of handles.values()) void fh.close().catch(() => undefined);
      handles.clear();
    });
  }
}

/** A command of a light node, run in this process: the node's simulated commands, resolved as LightServer.exec does. */
function simExec(root: string, argv: readonly string[]): ExecResult | Promise<ExecResult> {
  const [cmd, ...args] = argv as [string, ...string[]];
  const path = cmd.includes('/') ? posix.normalize(cmd) : PATH_DIRS.map((d) => `${d}/${cmd}`).find((p) => p in COMMAND_AT);
  const name = path?.startsWith('/') ? COMMAND_AT[path] : undefined;
  if (name === undefined || name === 'node') return { code: 127, stdout: '', stderr: `sh: ${cmd}: not found\n` };
  // digest(1) as over SSH (runDigest): the node's own commands have it too.
  if (name === 'digest') return runDigest(root, args);
  try {
    return runSimCommand(root, name, args);
  } catch (err) {
    return { code: 1, stdout: '', stderr: `${name}: ${(err as Error).message}\n` };
  }
}

/** The node's files (under its root) and its simulated commands, for a command that runs on the node. */
export class LightLocalTransport extends RootedTransport {
  override exec(argv: readonly string[]): Promise<ExecResult> {
    return Promise.resolve(simExec(this.root, argv));
  }
}

/** When each `node` command (the agent's patch-table) reached its light node's SSH server (performance.now() of this thread): for benchmarks. */
export const lightNodeExecAt: number[] = [];

/** How long each node's `agent patch-table` took (its own work, not its wait for a slot; wall time, in a worker when there are): for benchmarks. */
export const lightPatchMs: number[] = [];

/** Runs `agent patch-table <words>` on the node whose root is `root`: in this process, or in a patch worker. */
export type LightPatcher = (node: string, root: string, words: readonly string[]) => Promise<ExecResult & { ms: number }>;

/** `agent patch-table` in this thread, as the CLI's edge reports it (JSON out, or the message and its exit status). */
export async function patchInProcess(node: string, root: string, words: readonly string[]): Promise<ExecResult & { ms: number }> {
  const started = performance.now();
  const t = new LightLocalTransport(new LocalTransport(node), root);
  try {
    const r = await patchTableWords(t, words, { timeoutMs: 30_000 });
    // Exit 2 when an overlay is DEGRADED after the restart, as the CLI (src/cli/commands/agent.ts).
    return { code: r.degraded.length > 0 ? 2 : 0, stdout: `${JSON.stringify(r)}\n`, stderr: '', ms: performance.now() - started };
  } catch (err) {
    // As the CLI's edge prints it: the message, exit 1.
    return { code: err instanceof EsdcError ? err.exitStatus : 1, stdout: '', stderr: `esdc-overlay: ${(err as Error).message}\n`, ms: performance.now() - started };
  } finally {
    await t.close();
  }
}

/**
 * Patch workers (worker threads running light-patch-worker.ts): node i's
 * patches run in worker i % n, so a benchmark's nodes use every core and
 * not only the one this process's event loop (daemon and SSH servers) runs on.
 */
class PatchPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (r: ExecResult & { ms: number }) => void>();
  private next = 0;
  constructor(n: number) {
    this.workers = Array.from({ length: n }, () => {
      // The worker registers the TypeScript loader in its own thread first (loader hooks are per thread).
      const w = new Worker(new URL('./light-patch-worker.mjs', import.meta.url));
      w.on('error', (err) => {
        for (const done of this.pending.values()) done({ code: 1, stdout: '', stderr: `node: patch worker failed: ${err.message}\n`, ms: 0 });
        this.pending.clear();
      });
      w.on('message', (m: { id: number } & ExecResult & { ms: number }) => {
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        done?.({ code: m.code, stdout: m.stdout, stderr: m.stderr, ms: m.ms });
      });
      w.unref();
      return w;
    });
  }
  run(index: number, node: string, root: string, words: readonly string[]): Promise<ExecResult & { ms: number }> {
    const id = this.next++;
    return new Promise((res) => {
      this.pending.set(id, res);
      this.workers[index % this.workers.length]!.postMessage({ id, node, root, words: [...words] });
    });
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** digest(1)'s algorithms (usr/src/cmd/cmd-crypto/digest/digest.c:105-117, illumos-joyent @ 6e2c24e1), as Node names them. */
const DIGEST_ALGORITHMS: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/**
 * illumos digest(1) on a light node, over the node's root: the same rules as
 * sim-cluster.ts's digest for the sshd nodes (usr/src/cmd/cmd-crypto/digest/digest.c,
 * illumos-joyent @ 6e2c24e1). Options "lva:" (:79); neither -a nor -l: usage,
 * exit 2 (:207-211, :236-237); an algorithm it does not know: exit 1 (:404-407).
 * With -v one line "ALG (FILE) = HEX" per file in argument order, lower-case hex
 * (:773-781; libcryptoutil tohexstr.c:44). A file it cannot open: a message, no
 * line, status 2, and the next file is still done (:723-729, :785); a read error
 * (a directory): no line, status 1 (:745-752). Without a file digest reads its
 * standard input; a light node's exec has none, so that is the empty input.
 * Without it a light node failed every hash-first read (exit 127) and the tool
 * read every file whole (bench/RESULTS.md, issue 22).
 */
export async function runDigest(root: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const usage = { code: 2, stdout: '', stderr: 'Usage:\n  digest -l | [-v] -a <algorithm> [file...]\n' };
  let verbose = false;
  let list = false;
  let alg: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    for (let k = 1; k < a.length; k++) {
      const o = a[k]!;
      if (o === 'v') verbose = true;
      else if (o === 'l') list = true;
      else if (o === 'a') {
        const rest = a.slice(k + 1);
        if (rest !== '') alg = rest;
        else if (i + 1 < args.length) alg = args[++i]!;
        else return usage;
        break;
      } else return usage;
    }
  }
  if (list) return { code: 0, stdout: Object.keys(DIGEST_ALGORITHMS).join('\n') + '\n', stderr: '' };
  if (alg === undefined) return usage;
  const algo = DIGEST_ALGORITHMS[alg];
  if (algo === undefined) return { code: 1, stdout: '', stderr: `digest: unknown algorithm -- ${alg}\n` };
  const files = args.slice(i);
  if (files.length === 0) return { code: 0, stdout: `${createHash(algo).digest('hex')}\n`, stderr: '' };
  let out = '';
  let err = '';
  let code = 0;
  for (const f of files) {
    const p = join(root, posix.normalize(`/${f}`));
    let data: Buffer;
    try {
      const st = await stat(p);
      if (st.isDirectory()) {
        err += `digest: error reading file: Is a directory\ndigest: crypto operation failed for file ${f}: CKR_GENERAL_ERROR\n\n`;
        code = 1;
        continue;
      }
      data = st.isFile() ? await readFile(p) : Buffer.alloc(0);
    } catch {
      err += `digest: can not open input file ${f}\n\n`;
      code = 2;
      continue;
    }
    const hex = createHash(algo).update(data).digest('hex');
    out += verbose ? `${alg} (${f}) = ${hex}\n` : files.length > 1 ? `(${f}) = ${hex}\n` : `${hex}\n`;
  }
  return { code, stdout: out, stderr: err };
}

/** `node <script> ...` on a light node: only the agent bundle's `agent patch-table`. */
async function runNode(node: string, root: string, args: readonly string[], patcher: LightPatcher, patchSlots: Slots): Promise<ExecResult> {
  const [script, ...rest] = args;
  if (script === undefined || !script.startsWith('/')) return { code: 9, stdout: '', stderr: 'node: only an absolute script path here\n' };
  const exists = await lstat(join(root, posix.normalize(script))).then((s) => s.isFile(), () => false);
  if (!exists) return { code: 1, stdout: '', stderr: `Error: Cannot find module '${script}'\n` };
  if (script !== AGENT_LAYOUT.smartos.cli || rest[0] !== 'agent' || rest[1] !== 'patch-table') {
    return { code: 9, stdout: '', stderr: 'node: light nodes run only the agent bundle\'s agent patch-table\n' };
  }
  // The nodes share this machine: a few patches at a time, so 500 nodes do not hold 500 tables in memory at once.
  await patchSlots.take();
  try {
    const r = await patcher(node, root, rest.slice(2));
    lightPatchMs.push(r.ms);
    if (lightPatchMs.length > 10_000) lightPatchMs.shift();
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  } finally {
    patchSlots.give();
  }
}

/** At most `n` holders at a time, the others queued in order. */
class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.queue.push(r));
  }
  give(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

/** SFTP open flags (SSH_FXF_*) → Node's open flags. */
function flagsOf(flags: number): number {
  const F = utils.sftp.OPEN_MODE;
  let out = 0;
  if (flags & F.READ && flags & F.WRITE) out |= fsc.O_RDWR;
  else if (flags & F.WRITE) out |= fsc.O_WRONLY;
  else out |= fsc.O_RDONLY;
  if (flags & F.APPEND) out |= fsc.O_APPEND;
  if (flags & F.CREAT) out |= fsc.O_CREAT;
  if (flags & F.TRUNC) out |= fsc.O_TRUNC;
  if (flags & F.EXCL) out |= fsc.O_EXCL;
  return out;
}

/**
 * ssh2's SFTP server answers INIT with a fixed VERSION naming no extension,
 * but the tool uses posix-rename@openssh.com and hardlink@openssh.com, which
 * its client only sends to a server that advertises them (as OpenSSH's
 * sftp-server does). The VERSION packet of this one channel is replaced on
 * its way out.
 */
function advertisePosixRename(sftp: SFTPWrapper): void {
  const inner = sftp as unknown as { _protocol: { channelData(id: number, data: Buffer): void }; outgoing: { id: number } };
  const proto = inner._protocol;
  const original = proto.channelData;
  const ext = (s: string): Buffer => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
  const body = Buffer.concat([Buffer.from([2]), u32(3), ext('posix-rename@openssh.com'), ext('1'), ext('hardlink@openssh.com'), ext('1')]);
  const version = Buffer.concat([u32(body.length), body]);
  proto.channelData = function (this: unknown, id: number, data: Buffer): void {
    if (id === inner.outgoing.id && data.length === 9 && data[4] === 2) {
      proto.channelData = original;
      return original.call(this, id, version);
    }
    return original.call(this, id, data);
  };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export interface LightClusterOptions {
  count: number;
  dir: string;
  /** Facts of node i; default: `lightFacts`. */
  facts?: (i: number, count: number) => SimNodeFacts;
  /** Worker threads for the nodes' `agent patch-table` (0, the default: in this process). */
  patchWorkers?: number;
  /** Most nodes' patches at once, over all workers (default 4: each holds a table and a bundle in memory). */
  patchSlots?: number;
}

export interface LightCluster {
  dir: string;
  nodes: LightNode[];
  identityFile: string;
  knownHostsFile: string;
  /** ESDC_OVERLAY_IDENTITY and _KNOWN_HOSTS (the state is the caller's: lightState gives one). */
  env: Record<string, string>;
  traffic(): LightTraffic;
  stop(): Promise<void>;
}

/** Facts of node i (0-based) of `count`, over `pdcs` PDCs in turn; addresses from the index (up to 65,000 nodes). */
export function lightFacts(pdcs: number): (i: number, count: number) => SimNodeFacts {
  return (i) => {
    const n = i + 1;
    const pdc = `pdc${i % pdcs}`;
    const hex = (x: number): string => x.toString(16).padStart(2, '0');
    return {
      hostname: `cn${String(n).padStart(4, '0')}.light.test`,
      uuid: `564d0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      pdc,
      admin_ip: `10.${200 + (i % pdcs)}.${n >> 8}.${n & 255}`,
      admin_mac: `02:08:20:01:${hex(n >> 8)}:${hex(n & 255)}`,
      external_ip: `172.${16 + (i % pdcs)}.${n >> 8}.${n & 255}`,
      external_mac: `02:08:20:02:${hex(n >> 8)}:${hex(n & 255)}`,
    };
  };
}

/** Starts `count` light nodes under `dir` (roots, host keys, client key, known_hosts). */
export async function startLightCluster(opts: LightClusterOptions): Promise<LightCluster> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const user = 'root';
  const client = ed25519Pair('esdc-overlay-light');
  const clientKey = utils.parseKey(client.public);
  if (clientKey instanceof Error || Array.isArray(clientKey)) throw new Error('cannot parse the client key');
  const identityFile = join(dir, 'id_ed25519');
  await writeFile(identityFile, client.private, { mode: 0o600 });
  const factsOf = opts.facts ?? lightFacts(2);
  const servers: LightServer[] = [];
  const pool = opts.patchWorkers ? new PatchPool(opts.patchWorkers) : undefined;
  const slots = new Slots(opts.patchSlots ?? 4);
  for (let i = 0; i < opts.count; i++) {
    const f = factsOf(i, opts.count);
    const root = join(dir, 'nodes', f.hostname, 'root');
    await rm(join(dir, 'nodes', f.hostname), { recursive: true, force: true });
    await writeNodeRoot(root, f, simVms(i, []));
    const host = ed25519Pair(f.hostname);
    const patcher: LightPatcher = pool ? (node, r, words) => pool.run(i, node, r, words) : patchInProcess;
    const s = new LightServer(f.hostname, root, host.private, host.public, user, clientKey, patcher, slots);
    await s.listen();
    servers.push(s);
  }
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, servers.map((s) => `[127.0.0.1]:${s.port} ${s.hostKeyPublic.split(' ').slice(0, 2).join(' ')}\n`).join(''), { mode: 0o600 });
  const nodes: LightNode[] = servers.map((s) => ({ name: s.name, port: s.port, hostKeyPublic: s.hostKeyPublic, root: s.root, traffic: () => s.traffic() }));
  return {
    dir,
    nodes,
    identityFile,
    knownHostsFile,
    env: { ESDC_OVERLAY_IDENTITY: identityFile, ESDC_OVERLAY_KNOWN_HOSTS: knownHostsFile },
    traffic: () =>
      servers.map((s) => s.traffic()).reduce((a, b) => ({ read: a.read + b.read, written: a.written + b.written, connections: a.connections + b.connections }), { read: 0, written: 0, connections: 0 }),
    stop: async () => {
      await Promise.all(servers.map((s) => s.close()));
      await pool?.close();
    },
  };
}

/** The `nodes` section for light nodes: SSH to 127.0.0.1:<port> as root, no ssh.root (paths are the server's business). */
export function lightNodesDoc(cluster: LightCluster, facts: (i: number, count: number) => SimNodeFacts): NonNullable<StateDoc['nodes']> {
  return Object.fromEntries(
    cluster.nodes.map((n, i) => {
      const f = facts(i, cluster.nodes.length);
      return [n.name, { uuid: f.uuid, pdc: f.pdc, admin_ip: f.admin_ip, external_ip: f.external_ip, ssh: { host: '127.0.0.1', port: n.port, user: 'root' } }];
    }),
  );
}

/** A state file for the light nodes: one rule over all, pdc-pair keys, the given VM NICs. */
export async function writeLightState(path: string, doc: StateDoc): Promise<void> {
  await writeFile(path, `# light simulated nodes (test/harness/light-nodes.ts)\n${stringify(doc, { lineWidth: 0 })}`, { mode: 0o600 });
}
