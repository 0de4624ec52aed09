/**
 * One ZooKeeper session with bounded waits. node-zookeeper-client retries an
 * unreachable server forever and keeps requests queued across reconnects;
 * a command must instead fail within its timeout with a message that says
 * what happened. So every call here races the timeout and the loss of the
 * connection, and the first loss ends the session for good.
 */
import zookeeper from 'node-zookeeper-client';
import type { Client, Exception as ZkException, Stat } from 'node-zookeeper-client';
import { InternalError, StoreError } from '../errors.js';
import { zkCode } from './zk-codes.js';
import type { WriteOp } from './zk-writes.js';

const { ACL, CreateMode, Exception, Id, Permission, createClient } = zookeeper;

/** Everyone may do anything: only when no credentials are given (a test server, a closed network). */
const OPEN_ACL = [new ACL(Permission.ALL, new Id('world', 'anyone'))];
/** Only the authenticated creator: nodes holding PSKs must not be world-readable. */
const CREATOR_ACL = [new ACL(Permission.ALL, new Id('auth', ''))];

export interface ZkSessionOptions {
  /** `host:port,host:port`. */
  hosts: string;
  /** Bound on connecting and on every request, in ms. */
  timeoutMs: number;
  /** Digest credentials `user:password`; when given, nodes we create are readable by that user only. */
  auth?: string | undefined;
}

/** One entry of a znode's ACL, e.g. `world` `anyone` with perms 31 (all). */
export interface ZnodeAcl {
  scheme: string;
  id: string;
  /** ZooKeeper permission bits: READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16. */
  perms: number;
}

export interface Znode {
  data: Buffer;
  stat: Stat;
}

export class ZkSession {
  private readonly client: Client;
  private readonly opts: ZkSessionOptions;
  /** Set when the connection is gone; every later call fails with it. */
  private lost: StoreError | undefined;
  private readonly onLost = new Set<(err: StoreError) => void>();

  private constructor(client: Client, opts: ZkSessionOptions) {
    this.client = client;
    this.opts = opts;
    const fail = (what: string): void => {
      if (this.lost) return;
      this.lost = new StoreError(`${what} (ZooKeeper at ${opts.hosts}); nothing more is sent in this command`, {
        code: 'StoreUnavailable',
      });
      for (const f of this.onLost) f(this.lost);
      shutdown(this.client, true);
    };
    client.on('disconnected', () => fail('lost the connection to ZooKeeper'));
    client.on('expired', () => fail('the ZooKeeper session expired'));
    client.on('authenticationFailed', () => fail('ZooKeeper refused the credentials of ESDC_OVERLAY_ZK_AUTH'));
  }

  /** The session timeout the server granted (it may differ from the one asked: ZooKeeper bounds it by its tick time). */
  sessionTimeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  /** Calls `fn` once when the session is lost (at once if it already is); returns what stops that. */
  whenLost(fn: (err: StoreError) => void): () => void {
    if (this.lost) {
      fn(this.lost);
      return () => undefined;
    }
    this.onLost.add(fn);
    return () => this.onLost.delete(fn);
  }

  /** Connects, or fails within `timeoutMs` (the client itself would retry forever). */
  static async connect(opts: ZkSessionOptions): Promise<ZkSession> {
    const client = createClient(opts.hosts, {
      sessionTimeout: Math.max(opts.timeoutMs, 4000),
      spinDelay: 200,
      retries: 0,
    });
    guardSocketData(client);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.removeAllListeners();
        shutdown(client, true);
        reject(
          new StoreError(`cannot reach ZooKeeper at ${opts.hosts} within ${opts.timeoutMs / 1000} s (is it running? use --store-timeout to wait longer)`, {
            code: 'StoreUnavailable',
          }),
        );
      }, opts.timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('authenticationFailed', () => {
        clearTimeout(timer);
        shutdown(client, true);
        reject(new StoreError(`ZooKeeper at ${opts.hosts} refused the credentials of ESDC_OVERLAY_ZK_AUTH`, { code: 'StoreAuth' }));
      });
      if (opts.auth !== undefined) client.addAuthInfo('digest', Buffer.from(opts.auth, 'utf8'));
      client.connect();
    });
    return new ZkSession(client, opts);
  }

  close(): void {
    if (!this.lost) this.lost = new StoreError('the ZooKeeper session is closed', { code: 'StoreClosed' });
    this.client.removeAllListeners();
    shutdown(this.client, false);
  }

  private acl(): InstanceType<typeof ACL>[] {
    return this.opts.auth !== undefined ? CREATOR_ACL : OPEN_ACL;
  }

  /** Runs one client call with the timeout and the connection-loss race. */
  private call<T>(what: string, path: string, start: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, value?: T): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.onLost.delete(onLost);
        if (err) reject(this.translate(err, what, path));
        else resolve(value as T);
      };
      const onLost = (err: StoreError): void => finish(err);
      const timer = setTimeout(() => {
        finish(
          new StoreError(`ZooKeeper at ${this.opts.hosts} did not answer ${what} ${path} within ${this.opts.timeoutMs / 1000} s`, {
            code: 'StoreUnavailable',
          }),
        );
        // A server that stopped answering may still apply what it got: give up the session, never retry silently.
        if (!this.lost) {
          this.lost = new StoreError(`ZooKeeper at ${this.opts.hosts} stopped answering`, { code: 'StoreUnavailable' });
          for (const f of this.onLost) f(this.lost);
          shutdown(this.client, true);
        }
      }, this.opts.timeoutMs);
      this.onLost.add(onLost);
      start(finish);
    });
  }

  private translate(err: unknown, what: string, path: string): unknown {
    if (err instanceof StoreError) return err;
    const code = zkCode(err);
    if (code === Exception.CONNECTION_LOSS || code === Exception.SESSION_EXPIRED || code === Exception.OPERATION_TIMEOUT) {
      return new StoreError(`lost the connection to ZooKeeper at ${this.opts.hosts} during ${what} ${path}`, { code: 'StoreUnavailable', cause: err });
    }
    if (code === Exception.NO_AUTH) {
      return new StoreError(`ZooKeeper refused ${what} ${path}: not authorised (set ESDC_OVERLAY_ZK_AUTH=user:password)`, { code: 'StoreAuth', cause: err });
    }
    return err; // BAD_VERSION, NO_NODE, NODE_EXISTS...: the caller decides
  }

  /** True when the session carries digest credentials (what we create is then creator-only). */
  get authenticated(): boolean {
    return this.opts.auth !== undefined;
  }

  /** Our session id as ZooKeeper reports it in an ephemeral node's `ephemeralOwner` (16 hex digits). */
  sessionId(): string {
    return this.client.getSessionId().toString('hex');
  }

  /** The ACL of `path` and its ACL version, or undefined when it does not exist. */
  async getAcl(path: string): Promise<{ acl: ZnodeAcl[]; aversion: number } | undefined> {
    try {
      return await this.call('reading the ACL of', path, (done) =>
        this.client.getACL(path, (err, acls, stat) =>
          // The library's ACL objects carry `permission` (lib/ACL.js); its type declarations say `perms`.
          done(err, { acl: (acls ?? []).map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: (a as unknown as { permission: number }).permission })), aversion: stat?.aversion ?? 0 }),
        ),
      );
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return undefined;
      throw err;
    }
  }

  /**
   * Makes `path` creator-only (our digest identity, all permissions), if its
   * ACL is still at `aversion` (else BAD_VERSION: someone changed it meanwhile).
   * Only with credentials: an `auth` ACL without them is refused by the server.
   */
  async restrictAcl(path: string, aversion: number): Promise<void> {
    if (!this.authenticated) throw new InternalError(`restrictAcl(${path}) without credentials`);
    await this.call<unknown>('restricting the ACL of', path, (done) => this.client.setACL(path, CREATOR_ACL, aversion, (err, stat) => done(err, stat)));
  }

  /** The node's data and stat, or undefined when it does not exist. */
  async get(path: string): Promise<Znode | undefined> {
    try {
      return await this.call<Znode>('reading', path, (done) =>
        this.client.getData(path, (err, data, stat) => done(err, { data: data ?? Buffer.alloc(0), stat })),
      );
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return undefined;
      throw err;
    }
  }

  /** Child names in code-point order (the server's order is arbitrary), or undefined when the node does not exist. */
  async children(path: string): Promise<string[] | undefined> {
    try {
      const names = await this.call<string[]>('listing', path, (done) => this.client.getChildren(path, (err, c) => done(err, c)));
      return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return undefined;
      throw err;
    }
  }

  /** Creates `path` and its missing ancestors (empty). */
  async mkdirp(path: string): Promise<void> {
    await this.call<string>('creating', path, (done) => this.client.mkdirp(path, this.acl(), CreateMode.PERSISTENT, (err, p) => done(err, p)));
  }

  /** An ephemeral sequential node; returns its full path. */
  async createEphemeralSequential(prefix: string, data: Buffer): Promise<string> {
    return this.call<string>('creating', prefix, (done) =>
      this.client.create(prefix, data, this.acl(), CreateMode.EPHEMERAL_SEQUENTIAL, (err, p) => done(err, p)),
    );
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.call<void>('deleting', path, (done) => this.client.remove(path, version, (err) => done(err)));
  }

  /** Resolves when `path` is deleted (or does not exist), or after `ms`; returns whether it is gone. */
  async waitGone(path: string, ms: number): Promise<boolean> {
    let fired!: () => void;
    const event = new Promise<void>((r) => (fired = r));
    const stat = await this.call<Stat | null>('watching', path, (done) =>
      this.client.exists(path, () => fired(), (err, s) => done(err, s ?? null)),
    );
    if (stat === null) return true;
    let timer: NodeJS.Timeout | undefined;
    let onLost: ((err: StoreError) => void) | undefined;
    // The client pings but never notices a server that stopped answering; a
    // request of ours does (it times out), so keep one going while we wait.
    const heartbeat = setInterval(() => void this.ping().catch(() => undefined), Math.max(250, this.opts.timeoutMs / 2));
    try {
      const lost = new Promise<never>((_, reject) => {
        onLost = (err) => reject(err);
        this.onLost.add(onLost);
      });
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
      const outcome = await Promise.race([event.then(() => 'event' as const), timeout, lost]);
      return outcome === 'event';
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
      if (onLost) this.onLost.delete(onLost);
    }
  }

  /** A cheap round trip: fails (and ends the session) when the server does not answer in time. */
  async ping(): Promise<void> {
    await this.call<unknown>('checking', '/', (done) => this.client.exists('/', (err, stat) => done(err, stat)));
  }

  /** Commits `ops` (absolute paths) as one multi: all of them or none. */
  async commit(ops: readonly WriteOp[]): Promise<void> {
    const tx = this.client.transaction();
    for (const o of ops) {
      if (o.op === 'create') tx.create(o.path, Buffer.from(o.data, 'utf8'), this.acl(), CreateMode.PERSISTENT);
      else if (o.op === 'set') tx.setData(o.path, Buffer.from(o.data, 'utf8'), o.version);
      else if (o.op === 'remove') tx.remove(o.path, o.version);
      else tx.check(o.path, o.version);
    }
    await this.call<unknown>('committing', `${ops.length} changes under ${commonPrefix(ops.map((o) => o.path))}`, (done) =>
      tx.commit((err, results) => done(err, results)),
    );
  }
}

/**
 * node-zookeeper-client decodes answers inside its socket's data handler, and
 * an answer it cannot decode (an error code it does not know) throws there:
 * an uncaught exception that ends the process. A command exits soon anyway;
 * the daemon lives on, and died once when ZooKeeper restarted under it. The
 * handler is bound when the client connects, so wrapping it first turns such
 * an answer into a lost connection (the socket is dropped, the session fails
 * as for any other loss and is never used again).
 */
function guardSocketData(client: Client): void {
  type Manager = { onSocketData?: (this: Manager, b: Buffer) => void; socket?: { destroy(): void } };
  const manager = (client as unknown as { connectionManager?: Manager }).connectionManager;
  const original = manager?.onSocketData;
  if (!manager || typeof original !== 'function') return;
  manager.onSocketData = function guarded(this: Manager, b: Buffer): void {
    try {
      original.call(this, b);
    } catch {
      this.socket?.destroy();
    }
  };
}

/**
 * Ends a client so the process can exit: `close()` only queues a
 * close-session request, which a stopped or unreachable server never
 * answers, and its socket (or reconnect timer) would keep Node alive.
 */
function shutdown(client: Client, dead: boolean): void {
  client.close();
  const manager = (client as unknown as { connectionManager?: { socket?: { destroy(): void } } }).connectionManager;
  if (dead) manager?.socket?.destroy();
  else setTimeout(() => manager?.socket?.destroy(), 1000).unref();
}

function commonPrefix(paths: readonly string[]): string {
  if (paths.length === 0) return '/';
  let prefix = paths[0]!;
  for (const p of paths) while (!p.startsWith(prefix)) prefix = prefix.slice(0, prefix.lastIndexOf('/'));
  return prefix === '' ? '/' : prefix;
}

export type { ZkException };
