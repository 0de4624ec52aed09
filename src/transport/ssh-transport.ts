/**
 * The SSH transport: one ssh2 connection per node, kept for the whole run,
 * with one SFTP session for files and exec channels for commands. The host
 * key is checked against known_hosts before authentication, so nothing (not
 * even the user name) is sent to a host we do not know.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { posix } from 'node:path';
import ssh2, { type AgentAuthMethod, type ConnectConfig, type ParsedKey, type PublicKeyAuthMethod, type SFTPWrapper, type Stats } from 'ssh2';
import { asChunks, windows, type StageContent } from '../byte-chunks.js';
import { quoteArgv } from '../shell/quote.js';
import { connectCorked } from './corked-socket.js';
import { sftpReadWithMode } from './sftp-read.js';
import { hostKeyChecker, hostPattern, knownHostsLine, type HostKeyChecker, type KnownHostEntry } from './known-hosts.js';
import { hostKeyRefusal } from './host-key-refusal.js';
import {
  HostKeyError,
  MAX_READ_BYTES,
  newRunId,
  LineSplitter,
  stagedPath,
  TransportError,
  withTimeout,
  type ExecResult,
  type FileContent,
  type FileInfo,
  type ReadOptions,
  type LineStream,
  type StageOptions,
  type StreamEnd,
  type StreamOptions,
  type Transport,
} from './transport.js';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

/** At most this much output is kept from a command (sysinfo of a big node is ~100 KiB). */
const MAX_OUTPUT = 16 * 1024 * 1024;

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

/**
 * The client key: the file's bytes, or the key already decrypted (one that
 * had a passphrase; src/transport/connect.ts), which ssh2 takes as it is.
 */
export type ClientKey = Buffer | ParsedKey;

/**
 * How ssh2 is to authenticate, as a list: the key, then the agent. A list,
 * not ssh2's `privateKey` option, for two reasons: that option takes only a
 * string or Buffer and drops a decrypted key (ssh2/lib/client.js,
 * config.privateKey), while a method of the list goes through its parseKey,
 * which returns a parsed key as it is; and ssh2's own order starts with a
 * `none` request whose only answer is the list of methods we already know,
 * one round trip per node for nothing (one across the WAN to a far PDC).
 * With no key ssh2's default stays (none, then the agent).
 */
function clientAuth(opts: SshOptions): Pick<ConnectConfig, 'authHandler'> {
  const key = opts.privateKey;
  if (key === undefined) return {};
  const methods: Array<PublicKeyAuthMethod | AgentAuthMethod> = [{ type: 'publickey', username: opts.user, key }];
  if (opts.agent !== undefined) methods.push({ type: 'agent', username: opts.user, agent: opts.agent });
  return { authHandler: methods };
}

export interface SshOptions extends SshTarget {
  node: string;
  /** The client key; undefined when only the agent authenticates. */
  privateKey: ClientKey | undefined;
  /** An ssh-agent socket (SSH_AUTH_SOCK), tried as OpenSSH does. */
  agent?: string | undefined;
  knownHosts: readonly KnownHostEntry[];
  /** Where to record a key seen for the first time; only with `acceptNewHostKeys`. */
  knownHostsFile: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
}

/** Host key algorithms ssh2 may negotiate for a known key type (RSA keys sign with SHA-2). */
function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/**
 * ssh2's settings for one connection: our socket, the client's
 * authentication, keepalives, the host key check run before anything is
 * sent, and (when known_hosts lists the node) only the key types it lists.
 */
function connectConfig(opts: SshOptions, sock: NonNullable<ConnectConfig['sock']>, knownTypes: readonly string[], hostVerifier: (key: Buffer) => boolean): ConnectConfig {
  const config: ConnectConfig = {
    sock,
    host: opts.host,
    port: opts.port,
    username: opts.user,
    ...clientAuth(opts),
    ...(opts.agent !== undefined ? { agent: opts.agent } : {}),
    readyTimeout: opts.connectTimeoutMs,
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    hostVerifier,
  };
  if (knownTypes.length > 0) config.algorithms = { serverHostKey: knownTypes.flatMap(algorithmsFor) as never };
  return config;
}

/**
 * The node's host key against known_hosts (docs/security.md#host-keys):
 * undefined when it is accepted (a new one recorded first, when new keys are
 * accepted), else the error the connection is refused with.
 */
function verifyHostKey(opts: SshOptions, hostKeys: HostKeyChecker, key: Buffer): HostKeyError | undefined {
  const verdict = hostKeys.check(key);
  if (verdict.ok) return undefined;
  if (verdict.reason === 'unknown' && opts.acceptNewHostKeys) {
    mkdirSync(dirname(opts.knownHostsFile), { recursive: true, mode: 0o700 });
    appendFileSync(opts.knownHostsFile, `${knownHostsLine(opts.host, opts.port, key)}\n`, { mode: 0o600 });
    return undefined;
  }
  return hostKeyRefusal(opts.node, opts, verdict, key);
}

export class SshTransport implements Transport {
  readonly node: string;
  readonly target: string;
  readonly runId = newRunId();
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private closed = false;

  private constructor(node: string, target: string, private readonly client: Client) {
    this.node = node;
    this.target = target;
    client.on('close', () => {
      this.closed = true;
    });
  }

  /** Connects and authenticates; a host key problem is a HostKeyError and nothing else is sent. */
  static connect(opts: SshOptions): Promise<SshTransport> {
    const target = `${opts.user}@${hostPattern(opts.host, opts.port)}`;
    const client = new Client();
    let keyProblem: HostKeyError | undefined;
    const hostKeys = hostKeyChecker(opts.knownHosts, opts.host, opts.port);
    // Our own socket, connecting already: ssh2 waits for it, and its packets of one tick go out in one write.
    const sock = connectCorked(opts.host, opts.port);
    const config = connectConfig(opts, sock, hostKeys.knownTypes, (key) => {
      const problem = verifyHostKey(opts, hostKeys, key);
      if (problem === undefined) return true;
      keyProblem = problem;
      return false;
    });
    return SshTransport.handshake(client, config, opts.node, target, () => keyProblem);
  }

  /**
   * ssh2's handshake: resolves once authenticated. A failure rejects with
   * the host key problem when there was one (else ConnectFailed) and leaves
   * the client ended, its later errors swallowed.
   */
  private static handshake(client: Client, config: ConnectConfig, node: string, target: string, keyProblem: () => HostKeyError | undefined): Promise<SshTransport> {
    return new Promise<SshTransport>((resolve, reject) => {
      const fail = (err: Error): void => {
        client.removeAllListeners('ready');
        // ssh2 may emit more errors as the socket closes (after a ready timeout: "Connection lost
        // before handshake"); with no listener left they would crash the process.
        client.on('error', () => undefined);
        client.end();
        reject(keyProblem() ?? new TransportError(node, `cannot connect to ${target}: ${err.message}`, { code: 'ConnectFailed', cause: err }));
      };
      client.once('error', fail);
      client.once('ready', () => {
        client.removeListener('error', fail);
        // Later errors surface through the operation that hit them.
        client.on('error', () => undefined);
        resolve(new SshTransport(node, target, client));
      });
      client.connect(config);
    });
  }

  private sftp(timeoutMs: number): Promise<SFTPWrapper> {
    this.sftpSession ??= withTimeout(
      this.node,
      'opening SFTP',
      timeoutMs,
      new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, sftp) => (err ? reject(this.wrap('SFTP', err)) : resolve(sftp)));
      }),
    );
    // A failed session is not cached: the next operation tries again.
    this.sftpSession.catch(() => {
      this.sftpSession = undefined;
    });
    return this.sftpSession;
  }

  private wrap(what: string, err: unknown): TransportError {
    if (err instanceof TransportError) return err;
    const msg = (err as Error)?.message ?? String(err);
    return new TransportError(this.node, `${what}: ${msg}${this.closed ? ' (connection closed)' : ''}`, { cause: err });
  }

  private ensureOpen(): void {
    if (this.closed) throw new TransportError(this.node, `connection to ${this.target} is closed`, { code: 'ConnectionClosed' });
  }

  private async op<T>(what: string, timeoutMs: number, fn: (sftp: SFTPWrapper, done: (err: unknown, v?: T) => void) => void): Promise<T> {
    this.ensureOpen();
    const sftp = await this.sftp(timeoutMs);
    const work = new Promise<T>((resolve, reject) => {
      fn(sftp, (err, v) => (err ? reject(this.wrap(what, err)) : resolve(v as T)));
    });
    return withTimeout(this.node, what, timeoutMs, work);
  }

  async readFile(path: string, timeoutMs: number, opts: ReadOptions = {}): Promise<FileContent | undefined> {
    try {
      return await this.op<FileContent>(`reading ${path}`, timeoutMs, (sftp, done) => {
        sftpReadWithMode(sftp, path, this.node, opts.maxBytes ?? MAX_READ_BYTES, opts.prefixBytes).then((v) => done(undefined, v), done);
      });
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
  }

  async stat(path: string, timeoutMs: number): Promise<FileInfo | undefined> {
    try {
      const st = await this.op<Stats>(`stat ${path}`, timeoutMs, (sftp, done) => sftp.lstat(path, done));
      return { mode: st.mode & 0o7777, size: st.size, isFile: st.isFile() };
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
  }

  /** Whether `path` is a regular file, or undefined when nothing is there (for mkdirp). */
  private async isFileAt(path: string, timeoutMs: number): Promise<boolean | undefined> {
    try {
      const st = await this.op<{ isFile(): boolean }>(`stat ${path}`, timeoutMs, (sftp, done) => sftp.stat(path, done));
      return st.isFile();
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
  }

  private async mkdirp(dir: string, timeoutMs: number): Promise<void> {
    if ((await this.isFileAt(dir, timeoutMs)) !== undefined) return;
    const parent = posix.dirname(dir);
    if (parent !== dir) await this.mkdirp(parent, timeoutMs);
    try {
      await this.op<void>(`mkdir ${dir}`, timeoutMs, (sftp, done) => sftp.mkdir(dir, { mode: 0o755 }, done));
    } catch (err) {
      // Another writer may have made it meanwhile; anything else (a file in the way) stands.
      if ((await this.isFileAt(dir, timeoutMs).catch(() => undefined)) === false) return;
      throw err;
    }
  }

  async stage(path: string, content: StageContent, opts: StageOptions, timeoutMs: number): Promise<void> {
    const staged = stagedPath(path, this.runId);
    await this.mkdirp(posix.dirname(path), timeoutMs);
    // 32 KiB writes, each a view of the content (or of one chunk); only a write spanning chunks is a (32 KiB) copy.
    const pieces = windows(asChunks(content), 32 * 1024);
    // A leftover staged file may have a wider mode: remove it and create afresh ('wx'), so a
    // secret is never written into a file others can read, even for a moment.
    await this.remove(staged, timeoutMs);
    await this.op<void>(`writing ${staged}`, timeoutMs, (sftp, done) => {
      sftp.open(staged, 'wx', { mode: opts.mode }, (err, handle) => {
        if (err) return done(err);
        const finish = (e: unknown): void => sftp.close(handle, (e2) => done(e ?? e2));
        const writeAt = (offset: number): void => {
          const next = pieces.next();
          if (next.done) {
            // The open mode passes through the server's umask: set the exact bits.
            sftp.fchmod(handle, opts.mode, finish);
            return;
          }
          const piece = next.value;
          sftp.write(handle, piece, 0, piece.length, offset, (e) => (e ? finish(e) : writeAt(offset + piece.length)));
        };
        writeAt(0);
      });
    });
  }

  async commit(path: string, timeoutMs: number): Promise<void> {
    // posix-rename@openssh.com replaces the target atomically; plain SFTP rename refuses an existing target.
    await this.op<void>(`renaming ${stagedPath(path, this.runId)} to ${path}`, timeoutMs, (sftp, done) =>
      sftp.ext_openssh_rename(stagedPath(path, this.runId), path, done),
    );
  }

  async link(existing: string, path: string, timeoutMs: number): Promise<boolean> {
    try {
      // hardlink@openssh.com: link(2) on the node, which refuses an existing target.
      await this.op<void>(`linking ${existing} to ${path}`, timeoutMs, (sftp, done) => sftp.ext_openssh_hardlink(existing, path, done));
      return true;
    } catch (err) {
      // SFTP reports EEXIST as a bare failure: whether something is at `path` now decides.
      if ((await this.exists(path, timeoutMs)) && (await this.exists(existing, timeoutMs))) return false;
      throw err;
    }
  }

  async rename(from: string, to: string, timeoutMs: number): Promise<boolean> {
    try {
      await this.op<void>(`renaming ${from} to ${to}`, timeoutMs, (sftp, done) => sftp.ext_openssh_rename(from, to, done));
      return true;
    } catch (err) {
      if (isNoSuchFile(err)) return false;
      throw err;
    }
  }

  private async exists(path: string, timeoutMs: number): Promise<boolean> {
    try {
      await this.op<unknown>(`lstat ${path}`, timeoutMs, (sftp, done) => sftp.lstat(path, done));
      return true;
    } catch (err) {
      if (isNoSuchFile(err)) return false;
      throw err;
    }
  }

  async list(dir: string, timeoutMs: number): Promise<string[] | undefined> {
    try {
      const entries = await this.op<Array<{ filename: string }>>(`listing ${dir}`, timeoutMs, (sftp, done) => sftp.readdir(dir, done));
      return entries.map((e) => e.filename).filter((n) => n !== '.' && n !== '..');
    } catch (err) {
      if (isNoSuchFile(err)) return undefined;
      throw err;
    }
  }

  async remove(path: string, timeoutMs: number): Promise<void> {
    try {
      await this.op<void>(`removing ${path}`, timeoutMs, (sftp, done) => sftp.unlink(path, done));
    } catch (err) {
      if (!isNoSuchFile(err)) throw err;
    }
  }

  exec(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    this.ensureOpen();
    const command = quoteArgv(argv);
    let channel: { close(): void } | undefined;
    const work = new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(this.wrap(`running ${argv[0]}`, err));
        channel = stream;
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let size = 0;
        const keep = (into: Buffer[]) => (b: Buffer) => {
          size += b.length;
          if (size <= MAX_OUTPUT) into.push(b);
        };
        stream.on('data', keep(out));
        stream.stderr.on('data', keep(errs));
        stream.on('close', (code: number | null | undefined) => {
          resolve({
            code: typeof code === 'number' ? code : null,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errs).toString('utf8'),
          });
        });
      });
    });
    return withTimeout(this.node, `running ${argv.join(' ')}`, timeoutMs, work, () => channel?.close());
  }

  stream(argv: readonly string[], onLine: (line: string) => void, opts: StreamOptions): Promise<LineStream> {
    this.ensureOpen();
    const command = quoteArgv(argv);
    let opened: { close(): void } | undefined;
    let abandoned = false;
    const open = new Promise<LineStream>((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) return reject(this.wrap(`running ${argv[0]}`, err));
        // Opened after the deadline: nobody is waiting for it.
        if (abandoned) return channel.close();
        opened = channel;
        const splitter = new LineSplitter(onLine, opts.maxLineLength);
        let stderr = '';
        let cancelled = false;
        let finish: (end: StreamEnd) => void = () => undefined;
        const done = new Promise<StreamEnd>((res) => {
          let settled = false;
          finish = (end) => {
            if (settled) return;
            settled = true;
            this.client.removeListener('close', onLost);
            res(end);
          };
        });
        const onLost = (): void => finish({ reason: 'closed', code: null, stderr });
        this.client.once('close', onLost);
        channel.setEncoding('utf8');
        channel.on('data', (s: string) => splitter.push(s));
        channel.stderr.on('data', (b: Buffer | string) => {
          stderr = (stderr + b.toString()).slice(-4096);
        });
        channel.on('close', (code: number | null | undefined) => {
          finish({ reason: cancelled ? 'cancelled' : this.closed ? 'closed' : 'exit', code: typeof code === 'number' ? code : null, stderr });
        });
        resolve({
          done,
          cancel: () => {
            cancelled = true;
            channel.close();
          },
        });
      });
    });
    return withTimeout(this.node, `starting ${argv.join(' ')}`, opts.openTimeoutMs, open, () => {
      abandoned = true;
      opened?.close();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
      setTimeout(resolve, 1000).unref();
    });
  }
}

/** SFTP status 2 (no such file). */
function isNoSuchFile(err: unknown): boolean {
  const e = (err as { cause?: { code?: unknown }; code?: unknown }) ?? {};
  return e.code === 2 || e.cause?.code === 2 || (err as Error)?.message?.includes('No such file') === true;
}

