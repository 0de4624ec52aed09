/**
 * The state in ZooKeeper, in Danube's cfgdb layout (cfgdb-layout.ts), so
 * Danube's `esdc-overlay` and this tool share one state. A save is one multi
 * transaction: the changed znodes, a version check of every Danube key it
 * read, and a bump of our sequencer node (`<root>/esdc_overlay`), so two
 * writers can never interleave and a lost connection leaves all or nothing.
 * Writers also queue on a ZooKeeper lock so they rarely collide at all.
 *
 * A save too large for one request writes our subtree as a new generation
 * in several requests and switches to it with one multi (zk-generations.ts,
 * docs/zk-large-saves.md); Danube's znodes change in that same multi.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConflictError, InternalError, StoreError } from '../errors.js';
import { buildModel } from '../model/build-model.js';
import { validateDoc, type Consistency, type LoadedState } from '../model/load.js';
import type { StateDoc } from '../model/state.js';
import { LOCKS, OURS, READ_SCOPES, decodeState, encodeState, keepEquivalent, type Tree } from './cfgdb-layout.js';
import { emptySnapshot, type HeldLock, type LeadOptions, type Lease, type LeaseRole, type Snapshot, type Store } from './store.js';
import { isOpenAcl, isWorldReadable, KEY_ZNODE, worldReadableKeysWarning } from './zk-acl.js';
import { modelDifferences } from './compare.js';
import { formatZkUrl, type ZkUrl } from './zk-url.js';
import { withZkLock } from './zk-lock.js';
import { leadByZk } from './zk-lease.js';
import { ZK, zkCode } from './zk-codes.js';
import type { ZkSession } from './zk-session.js';
import { changesAnything, planWrites, type ReadZnode, type WriteOp } from './zk-writes.js';
import {
  batches,
  GEN_DIR,
  generationCreates,
  inOurSubtree,
  logicalPath,
  newGenerationId,
  physicalPath,
  pointedGeneration,
  requestBytes,
} from './zk-generations.js';

export interface ZkStoreOptions {
  /** Bound on connecting and on every request (ms); default 10 s. */
  timeoutMs?: number;
  /** How long a writer waits for another to finish (ms); default 10 s. */
  lockTimeoutMs?: number;
  /** Digest credentials `user:password`. */
  auth?: string | undefined;
  /**
   * `--zk-insecure`: write without credentials, so every znode written
   * (PSKs included) is readable and writable by anyone who reaches ZooKeeper.
   * Without it a save without credentials is refused.
   */
  insecure?: boolean | undefined;
  /**
   * Largest request we send. ZooKeeper drops the connection on a request
   * above its jute.maxbuffer (1 MiB by default) instead of answering with an
   * error: a save larger than this is written as a new generation in several
   * requests (zk-generations.ts). Set it below a server's lower jute.maxbuffer
   * (`ESDC_OVERLAY_ZK_MAX_REQUEST_BYTES`).
   */
  maxTransactionBytes?: number;
}

export const DEFAULT_ZK_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_TRANSACTION_BYTES = 1_000_000;
/** Concurrent reads while loading: enough to hide latency, few enough not to flood the server. */
const READ_CONCURRENCY = 64;

interface Image {
  rootExists: boolean;
  /** By logical path (the cfgdb layout's), wherever the znode is stored. */
  nodes: Map<string, ReadZnode & { mzxid: string }>;
  /** Key znodes (physical relative paths) whose ACL grants world:anyone anything, with their ACL version. */
  openKeys: Map<string, { aversion: number; readable: boolean }>;
  /** The generation the sequencer points at; undefined when our znodes sit directly under esdc_overlay. */
  gen: string | undefined;
  /**
   * Physical relative paths of subtrees no reader follows: generations the
   * pointer does not name (an interrupted or replaced save), and our
   * unversioned znodes once a generation is current. A save removes them.
   */
  garbage: string[];
  revision: string;
}

/** How often a load re-reads when a writer switched generations under it. */
const READ_ATTEMPTS = 5;

export class ZkStore implements Store {
  readonly location: string;
  private readonly url: ZkUrl;
  private readonly timeoutMs: number;
  private readonly lockTimeoutMs: number;
  private readonly auth: string | undefined;
  private readonly insecure: boolean;
  private readonly maxTransactionBytes: number;
  /** The session of the lock being held, reused by load and save inside it. */
  private active: ZkSession | undefined;
  /** `prepare`'s work, for the save of that same document object. */
  private prepared: { doc: StateDoc; consistency: Consistency; valid: ReturnType<typeof validateDoc>; desired: Tree } | undefined;

  constructor(url: ZkUrl, opts: ZkStoreOptions = {}) {
    this.url = url;
    this.location = formatZkUrl(url);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_ZK_TIMEOUT_MS;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.auth = opts.auth;
    this.insecure = opts.insecure === true;
    this.maxTransactionBytes = opts.maxTransactionBytes ?? DEFAULT_MAX_TRANSACTION_BYTES;
  }

  async load(consistency: Consistency = 'require'): Promise<Snapshot> {
    return this.session(async (s) => {
      const image = await this.readImage(s);
      if (!image.rootExists) {
        throw new StoreError(`${this.location}: ${this.url.root} does not exist in ZooKeeper (wrong root? or run store migrate to fill it)`, {
          code: 'StateMissing',
        });
      }
      return this.snapshotOf(image, consistency);
    });
  }

  async loadOrEmpty(consistency: Consistency = 'require'): Promise<Snapshot> {
    return this.session(async (s) => this.snapshotOf(await this.readImage(s), consistency));
  }

  async prepare(doc: StateDoc, consistency: Consistency = 'require'): Promise<LoadedState> {
    this.prepared = { doc, consistency, ...(await this.encodeChecked(doc, consistency)) };
    return { ...this.prepared.valid, yaml: undefined };
  }

  /**
   * What a save of `doc` writes, checked: the document validated, its cfgdb
   * tree, and the proof that the tree reads back as the same model. Each step
   * is synchronous and takes seconds at 2,000 nodes; between them the event
   * loop runs timers, so a held session still sends its pings.
   */
  private async encodeChecked(doc: StateDoc, consistency: Consistency): Promise<{ valid: ReturnType<typeof validateDoc>; desired: Tree }> {
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
    // What we write must load: validate before anything is sent.
    const valid = validateDoc(doc, this.location, consistency);
    await tick();
    const desired = encodeState(valid.doc, valid.model);
    await tick();
    // The cfgdb form must mean the same state, or we would write something else than asked.
    const decoded = decodeState(desired, (rel) => this.abs(rel), this.location).doc;
    await tick();
    const roundTrip = buildModel(decoded);
    await tick();
    const lost = modelDifferences(valid.model, roundTrip);
    if (lost.length > 0) {
      throw new InternalError(`refusing to write ${this.location}: its cfgdb form would change ${lost.join(', ')} (a bug; nothing was written)`);
    }
    return { valid, desired };
  }

  async save(doc: StateDoc, base: Snapshot, consistency: Consistency = 'require'): Promise<Snapshot> {
    this.refuseOpenWrite();
    const ready = this.prepared?.doc === doc && this.prepared.consistency === consistency ? this.prepared : await this.encodeChecked(doc, consistency);
    this.prepared = undefined;
    const { valid, desired } = ready;
    return this.session(async (s) => {
      const image = await this.readImage(s);
      if (image.revision !== base.revision) throw changed(this.location);
      let ops = this.transaction(image, desired, image.gen);
      if (!changesAnything(ops.filter((o) => o.path !== this.abs(OURS)))) {
        await this.collectGarbage(s, image.garbage);
        return { ...valid, yaml: undefined, warnings: valid.warnings, revision: image.revision };
      }
      if (!image.rootExists) await s.mkdirp(this.url.root);
      let garbage = image.garbage;
      if (requestBytes(ops) > this.maxTransactionBytes) {
        const large = await this.writeGeneration(s, image, desired);
        ops = large.switchOps;
        garbage = large.garbage;
      }
      await this.restrictOpenAcls(s, image, ops);
      try {
        await s.commit(ops);
      } catch (err) {
        if (err instanceof StoreError && err.code === 'StoreUnavailable' && (await this.committedAnyway(ops))) {
          // The answer was lost, not the transaction: the sequencer holds our id.
          return { ...valid, yaml: undefined, warnings: valid.warnings, revision: '' };
        }
        const code = zkCode(err);
        if (code === ZK.BAD_VERSION || code === ZK.NODE_EXISTS || code === ZK.NO_NODE || code === ZK.NOT_EMPTY) {
          throw changed(this.location);
        }
        if (err instanceof StoreError && err.code === 'StoreUnavailable') {
          throw new StoreError(
            `${err.message}. The change is one transaction, so it was applied completely or not at all; ` +
              `run "esdc-overlay list --store ${this.location}" when ZooKeeper is back to see which`,
            { code: 'StoreUnavailable', cause: err },
          );
        }
        throw err;
      }
      // Committed: what no reader follows any more goes now. A failure here leaves garbage for the next save.
      await this.collectGarbage(s, garbage).catch(() => undefined);
      try {
        return this.snapshotOf(await this.readImage(s), consistency);
      } catch {
        // Saved, but not re-read: an empty revision makes any save based on this snapshot reload first.
        return { ...valid, yaml: undefined, warnings: valid.warnings, revision: '' };
      }
    });
  }

  /**
   * Writes `desired`'s part under esdc_overlay as a new generation, in
   * requests of at most maxTransactionBytes, and returns the one multi that
   * switches to it: Danube's znode changes (and the version checks of the
   * ones kept), a check that the generation still exists (a concurrent save
   * may have collected it as garbage), and the sequencer set against the
   * version read, now naming the generation. Until that multi commits no
   * reader sees anything of the new generation. Refused, with nothing
   * switched, when the switch alone is larger than one request: Danube's
   * znodes are only ever changed in that multi (docs/zk-large-saves.md).
   */
  private async writeGeneration(s: ZkSession, image: Image, desired: Tree): Promise<{ switchOps: WriteOp[]; garbage: string[] }> {
    const gen = newGenerationId(new Date(), randomUUID());
    const seqPath = this.abs(OURS);
    const planned = this.transaction(image, desired, gen).filter((o) => !inOurSubtree(this.rel(o.path)));
    let seqOp = planned.find((o) => o.path === seqPath)!;
    const genRoot = `${GEN_DIR}/${gen}`;
    const danube = planned.filter((o) => o.path !== seqPath);
    const switchOps = (): WriteOp[] => [...danube, { op: 'check', path: this.abs(genRoot), version: 0 }, seqOp];
    const switchBytes = requestBytes(switchOps());
    if (switchBytes > this.maxTransactionBytes) {
      throw new StoreError(
        `the changes to Danube's own znodes (overlay_rules, ipsec/psk, adminoverlay, firewall) take ${switchBytes} bytes, more than one ` +
          `ZooKeeper request may carry (${this.maxTransactionBytes} bytes; the server's jute.maxbuffer), and they are only ever changed in ` +
          'one transaction; nothing was written (with pair keys, defaults.ipsec.keys: pdc-pair keeps ipsec/psk empty: docs/ipsec-keys.md)',
        { code: 'TransactionTooLarge' },
      );
    }
    // The sequencer must exist to hold the generations; a first save into an empty root creates it
    // empty (readers see an empty state, as before) and sets it in the switch.
    if (seqOp.op === 'create') {
      await s.mkdirp(seqPath);
      const seq = await s.get(seqPath);
      if (!seq) throw changed(this.location);
      seqOp = { op: 'set', path: seqPath, data: seqOp.data, version: seq.stat.version };
    }
    await s.mkdirp(this.abs(GEN_DIR));
    // For people looking at the tree: only the sequencer's pointer makes a generation current.
    const marker = JSON.stringify({ generation: gen, writtenBy: `${hostname()}:${process.pid}`, at: new Date().toISOString() });
    const creates = generationCreates(desired, gen, marker).map((o) => ({ ...o, path: this.abs(o.path) }));
    for (const batch of batches(creates, this.maxTransactionBytes)) {
      try {
        await s.commit(batch);
      } catch (err) {
        // A generation is invisible until switched to: what was written is garbage for the next save.
        if (zkCode(err) === ZK.NO_NODE || zkCode(err) === ZK.NODE_EXISTS) throw changed(this.location);
        throw err;
      }
    }
    const garbage = [...image.garbage];
    if (image.gen !== undefined) garbage.push(`${GEN_DIR}/${image.gen}`);
    else for (const rel of image.nodes.keys()) if (inOurSubtree(rel) && rel.indexOf('/', OURS.length + 1) < 0) garbage.push(rel);
    return { switchOps: switchOps(), garbage };
  }

  /**
   * Removes subtrees no reader follows (zk-generations.ts), children first, in
   * requests of at most maxTransactionBytes. Only paths under esdc_overlay,
   * never the current generation, the lock directory or the sequencer.
   */
  private async collectGarbage(s: ZkSession, roots: readonly string[]): Promise<void> {
    for (const root of roots) {
      if (!inOurSubtree(root) || root === LOCKS || root === GEN_DIR) continue;
      const paths: string[] = [];
      const walk = async (rel: string): Promise<void> => {
        const kids = (await s.children(this.abs(rel))) ?? [];
        await Promise.all(kids.map((k) => walk(`${rel}/${k}`)));
        paths.push(rel);
      };
      await walk(root);
      const depth = (p: string): number => p.split('/').length;
      paths.sort((a, b) => depth(b) - depth(a));
      const ops: WriteOp[] = paths.map((rel) => ({ op: 'remove', path: this.abs(rel), version: -1 }));
      for (const batch of batches(ops, this.maxTransactionBytes)) await s.commit(batch);
    }
  }

  /**
   * Without credentials every znode we create is `world:anyone` (ZooKeeper
   * has no other choice for an anonymous session), PSKs included: refused
   * unless the operator said so with --zk-insecure. Checked before connecting.
   */
  private refuseOpenWrite(): void {
    if (this.auth !== undefined || this.insecure) return;
    throw new StoreError(
      `refusing to write to ${this.location} without ZooKeeper credentials: every znode written, the IPsec keys included, ` +
        'would be readable and writable by anyone who can reach ZooKeeper. Give digest credentials with ' +
        'ESDC_OVERLAY_ZK_AUTH=user:password or --zk-auth-file FILE (on Danube, the user esdc and its esdc_install_password), ' +
        'or pass --zk-insecure to write open znodes anyway; nothing was written',
      { code: 'StoreInsecure' },
    );
  }

  /**
   * Makes creator-only, before the transaction, every existing znode it sets
   * and every key znode it keeps whose ACL is open. ZooKeeper's multi has no
   * setACL operation, so this cannot be part of the transaction: tightening
   * first means a failure in between leaves the old data under a narrower
   * ACL (nothing exposed, nothing lost), where committing first would leave
   * the new keys readable by anyone until (and unless) the ACL change ran.
   * Each setACL is checked against the ACL version it read. The ACL names
   * our digest user: Danube's tools authenticate as `esdc` with the install
   * password (esdc-ce bin/query_cfgdb:11, :74), so they keep access only when
   * we are given the same credentials (docs/zookeeper-security.md).
   */
  private async restrictOpenAcls(s: ZkSession, image: Image, ops: readonly WriteOp[]): Promise<void> {
    if (!s.authenticated) return; // --zk-insecure: nothing we could restrict to
    const targets = new Map<string, number>();
    for (const [rel, k] of image.openKeys) targets.set(this.abs(rel), k.aversion);
    const limit = limiter(READ_CONCURRENCY);
    await Promise.all(
      ops
        .filter((o) => o.op === 'set' && !targets.has(o.path))
        .map((o) =>
          limit(async () => {
            const acl = await s.getAcl(o.path);
            if (acl && isOpenAcl(acl.acl)) targets.set(o.path, acl.aversion);
          }),
        ),
    );
    await Promise.all([...targets].map(([path, aversion]) => limit(() => this.restrict(s, path, aversion))));
  }

  private async restrict(s: ZkSession, path: string, aversion: number): Promise<void> {
    try {
      await s.restrictAcl(path, aversion);
    } catch (err) {
      if (zkCode(err) === ZK.BAD_VERSION || zkCode(err) === ZK.NO_NODE) throw changed(this.location);
      throw err;
    }
  }

  /**
   * After a lost answer to a commit: whether it was applied, read from the
   * sequencer node on a fresh session (its data carries the transaction id).
   * False also when that cannot be told within the timeout.
   */
  private async committedAnyway(ops: readonly WriteOp[]): Promise<boolean> {
    const seqPath = this.abs(OURS);
    const mine = ops.find((o) => o.path === seqPath && (o.op === 'set' || o.op === 'create'));
    if (!mine || !('data' in mine)) return false;
    let s: ZkSession | undefined;
    try {
      s = await this.connect();
      const node = await s.get(seqPath);
      return node !== undefined && node.data.toString('utf8') === mine.data;
    } catch {
      return false;
    } finally {
      s?.close();
    }
  }

  async withLock<T>(fn: (lock: HeldLock) => Promise<T>): Promise<T> {
    // The lock is taken only to write (state, or nodes in apply), and its znodes are writes too: an open
    // lock directory lets anyone remove the lock node of a running apply.
    this.refuseOpenWrite();
    return this.session((s) => withZkLock(s, this.abs(LOCKS), this.lockTimeoutMs, fn));
  }

  /** A session of the lease's own, kept for the daemon's life (src/store/zk-lease.ts). */
  lead(role: LeaseRole, opts: LeadOptions): Promise<Lease | undefined> {
    return leadByZk(() => this.connect(), this.abs(`${LOCKS}/${role}`), opts);
  }

  private abs(rel: string): string {
    return rel === '' ? this.url.root : `${this.url.root}/${rel}`;
  }

  private rel(abs: string): string {
    return abs === this.url.root ? '' : abs.slice(this.url.root.length + 1);
  }

  /** The client library is loaded here, not at start-up: most commands never reach ZooKeeper. */
  private async connect(): Promise<ZkSession> {
    const { ZkSession } = await import('./zk-session.js');
    return ZkSession.connect({ hosts: this.url.hosts, timeoutMs: this.timeoutMs, auth: this.auth });
  }

  /** Runs `fn` on the session of the enclosing lock, or on a session of its own that is closed after. */
  private async session<T>(fn: (s: ZkSession) => Promise<T>): Promise<T> {
    if (this.active) return fn(this.active);
    const s = await this.connect();
    this.active = s;
    try {
      return await fn(s);
    } finally {
      this.active = undefined;
      s.close();
    }
  }

  /**
   * Every znode of the layout's scopes (not the lock nodes), with versions,
   * and the revision they make; our subtree from the generation the
   * sequencer points at. The sequencer is read again at the end: a writer
   * that switched generations (and may be removing the old one) meanwhile
   * makes the read start over, so a load never mixes two saves.
   */
  private async readImage(s: ZkSession): Promise<Image> {
    for (let attempt = 1; ; attempt++) {
      const image = await this.readImageOnce(s);
      const seq = image.nodes.get(OURS);
      const now = await s.get(this.abs(OURS));
      if (seq === undefined ? now === undefined : now !== undefined && now.stat.version === seq.version) return image;
      if (attempt >= READ_ATTEMPTS) {
        throw new StoreError(`${this.location} kept changing while it was read (${READ_ATTEMPTS} attempts); try again`, { code: 'StoreBusy' });
      }
    }
  }

  private async readImageOnce(s: ZkSession): Promise<Image> {
    const nodes: Image['nodes'] = new Map();
    const openKeys: Image['openKeys'] = new Map();
    const garbage: string[] = [];
    let gen: string | undefined;
    const rootExists = (await s.get(this.url.root)) !== undefined;
    if (rootExists) {
      const limit = limiter(READ_CONCURRENCY);
      /** Reads one znode stored at `phys`, as `logical`; returns its number of children, or -1 when it does not exist. */
      const readOne = async (phys: string, logical: string | undefined = phys): Promise<number> => {
        // A key znode's ACL is read with it: a load warns when anyone may read it, a save tightens it.
        const [z, acl] = await Promise.all([
          limit(() => s.get(this.abs(phys))),
          logical !== undefined && KEY_ZNODE.test(logical) ? limit(() => s.getAcl(this.abs(phys))) : undefined,
        ]);
        if (!z) return -1;
        if (acl && isOpenAcl(acl.acl)) openKeys.set(phys, { aversion: acl.aversion, readable: isWorldReadable(acl.acl) });
        if (logical !== undefined) nodes.set(logical, { data: z.data.toString('utf8'), version: z.stat.version, mzxid: z.stat.mzxid.toString('hex') });
        return z.stat.numChildren;
      };
      const walk = async (phys: string, toLogical: (p: string) => string | undefined = (p) => p): Promise<void> => {
        // Leaves (most znodes) need no listing: the stat says they have no children.
        if (phys === LOCKS || (await readOne(phys, toLogical(phys))) <= 0) return;
        const kids = (await limit(() => s.children(this.abs(phys)))) ?? [];
        await Promise.all(kids.map((k) => walk(`${phys}/${k}`, toLogical)));
      };
      // The sequencer first: it says where our subtree is.
      if ((await readOne(OURS)) >= 0) {
        gen = pointedGeneration(nodes.get(OURS)!.data);
        for (const kid of (await s.children(this.abs(OURS))) ?? []) {
          const rel = `${OURS}/${kid}`;
          if (rel === LOCKS) continue;
          if (rel === GEN_DIR) {
            for (const g of (await s.children(this.abs(GEN_DIR))) ?? []) if (g !== gen) garbage.push(`${GEN_DIR}/${g}`);
            continue;
          }
          if (gen === undefined) await walk(rel);
          else garbage.push(rel);
        }
        if (gen !== undefined) {
          const g = gen;
          if ((await readOne(`${GEN_DIR}/${g}`, undefined)) < 0) {
            throw new StoreError(`${this.abs(OURS)} names generation ${g}, which does not exist; the state cannot be read`, { code: 'StateCorrupt' });
          }
          const kids = (await s.children(this.abs(`${GEN_DIR}/${g}`))) ?? [];
          await Promise.all(kids.map((k) => walk(`${GEN_DIR}/${g}/${k}`, (p) => logicalPath(p, g))));
        }
      }
      // Containers first, so a save knows they exist and never tries to create them.
      await Promise.all(['ipsec', 'firewall'].map((r) => readOne(r)));
      await Promise.all([...READ_SCOPES.subtrees.filter((t) => t !== OURS).map((t) => walk(t)), ...READ_SCOPES.leaves.map((l) => readOne(l))]);
    }
    const hash = createHash('sha256').update(rootExists ? 'root' : 'no root');
    for (const rel of [...nodes.keys()].sort()) {
      const n = nodes.get(rel)!;
      hash.update(`\0${rel}\0${n.version}\0${n.mzxid}\0${n.data}`);
    }
    return { rootExists, nodes, openKeys, gen, garbage, revision: hash.digest('hex') };
  }

  private snapshotOf(image: Image, consistency: Consistency): Snapshot {
    if (image.nodes.size === 0) return emptySnapshot(image.revision);
    const tree: Tree = new Map([...image.nodes].map(([rel, n]) => [rel, n.data]));
    tree.delete(OURS); // the sequencer's own data is bookkeeping, not state
    const decoded = decodeState(tree, (rel) => this.abs(rel), this.location);
    const valid = validateDoc(decoded.doc, this.location, consistency);
    const exposed = worldReadableKeysWarning([...image.openKeys].filter(([, k]) => k.readable).map(([phys]) => this.abs(phys)));
    return { ...valid, yaml: undefined, warnings: [...exposed, ...decoded.warnings, ...valid.warnings], revision: image.revision };
  }

  /**
   * The multi for a save: the layout's changes plus the sequencer bump,
   * naming generation `gen`; absolute
   * physical paths. Our subtree's ops go inside `gen` when it is the one read.
   */
  private transaction(image: Image, desired: Tree, gen: string | undefined): WriteOp[] {
    const meta = JSON.stringify({ txn: randomUUID(), by: `${hostname()}:${process.pid}`, at: new Date().toISOString(), ...(gen !== undefined ? { gen } : {}) });
    const ops = planWrites(image.nodes, keepEquivalent(image.nodes, desired)).map((o) => (o.path === OURS && o.op === 'create' ? { ...o, data: meta } : o));
    const seq = image.nodes.get(OURS);
    if (seq) ops.unshift({ op: 'set', path: OURS, data: meta, version: seq.version });
    const where = gen === image.gen ? gen : undefined;
    return ops.map((o) => ({ ...o, path: this.abs(physicalPath(o.path, where)) }));
  }
}

function changed(location: string): ConflictError {
  return new ConflictError(`${location} changed while this command ran (another writer got there first); run the command again`, {
    code: 'StateChanged',
  });
}

/** Runs at most `n` of the given tasks at a time. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await task();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
