/**
 * From what the operator gave (`--store`, `--state`, the environment) to a
 * Store. A `zk://` URL is the ZooKeeper store; anything else is a state file.
 * ZooKeeper credentials come from ESDC_OVERLAY_ZK_AUTH or a file given with
 * --zk-auth-file, never from argv, where any local user could read them.
 */
import { readFileWithModeSync, secretExposed } from '../io/read-with-mode.js';
import { StoreError, UsageError } from '../errors.js';
import { DEFAULT_STATE_PATH, FileStore } from './file-store.js';
import { validateDoc, type Consistency, type LoadedState } from '../model/load.js';
import type { StateDoc } from '../model/state.js';
import type { HeldLock, LeadOptions, Lease, LeaseRole, Snapshot, Store } from './store.js';
import { formatZkUrl, isZkUrl, parseZkUrl, type ZkUrl } from './zk-url.js';
import type { ZkStoreOptions } from './zk-store.js';
import { parseCacheFromEnv } from '../io/parse-cache.js';

export interface StoreSelection {
  /** `--store`: a zk:// URL or a file path. */
  store?: string | undefined;
  /** `--state`: a file path. */
  state?: string | undefined;
  /** `--store-timeout` in seconds. */
  timeoutSeconds?: number | undefined;
  /** `--zk-auth-file`. */
  zkAuthFile?: string | undefined;
  /** `--zk-insecure`: write to ZooKeeper without credentials (open ACLs). */
  zkInsecure?: boolean | undefined;
  /** `--insecure-state`: load a state file holding keys that others can read. */
  allowInsecure?: boolean | undefined;
  /** A read-only command: a state file's parse may come from the parse cache (src/io/parse-cache.ts). */
  readOnly?: boolean | undefined;
}

/** Which store: --store or --state (not both), else ESDC_OVERLAY_STORE, ESDC_OVERLAY_STATE, the default file. */
export function storeSpec(sel: StoreSelection, env: NodeJS.ProcessEnv): string {
  if (sel.store !== undefined && sel.state !== undefined) {
    throw new UsageError('give either --store or --state, not both');
  }
  return sel.store ?? sel.state ?? nonEmpty(env.ESDC_OVERLAY_STORE) ?? nonEmpty(env.ESDC_OVERLAY_STATE) ?? DEFAULT_STATE_PATH;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

export function openStore(spec: string, sel: StoreSelection, env: NodeJS.ProcessEnv): Store {
  if (!isZkUrl(spec)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
      throw new UsageError(`store ${JSON.stringify(spec)}: only zk:// URLs and file paths are stores`);
    }
    const parseCache = sel.readOnly === true ? parseCacheFromEnv(env) : undefined;
    return new FileStore(spec, { allowInsecure: sel.allowInsecure === true, ...(parseCache !== undefined ? { parseCache } : {}) });
  }
  const timeout = sel.timeoutSeconds ?? envSeconds(env.ESDC_OVERLAY_STORE_TIMEOUT);
  const maxRequest = envRequestBytes(env.ESDC_OVERLAY_ZK_MAX_REQUEST_BYTES);
  return new LazyZkStore(parseZkUrl(spec), {
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    ...(maxRequest !== undefined ? { maxTransactionBytes: maxRequest } : {}),
    auth: zkAuth(sel.zkAuthFile, env),
    insecure: sel.zkInsecure === true,
  });
}

/**
 * `ESDC_OVERLAY_ZK_MAX_REQUEST_BYTES`: the largest request to send, for a
 * ZooKeeper whose jute.maxbuffer is not the default 1 MiB. At least 16 KiB:
 * a request must hold the largest znode we write.
 */
function envRequestBytes(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) < 16_384) {
    throw new UsageError(`ESDC_OVERLAY_ZK_MAX_REQUEST_BYTES must be a number of bytes of at least 16384 (got ${JSON.stringify(text)})`);
  }
  return Number(text);
}

function envSeconds(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,5}(?:\.\d{1,3})?$/.test(text) || Number(text) <= 0) {
    throw new UsageError(`ESDC_OVERLAY_STORE_TIMEOUT must be a number of seconds (got ${JSON.stringify(text)})`);
  }
  return Number(text);
}

/** `user:password` from the file (which must not be readable by others) or the environment. */
export function zkAuth(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  let auth: string | undefined;
  let from: string;
  if (file !== undefined) {
    from = `--zk-auth-file ${file}`;
    try {
      // One open: the mode checked is that of the bytes read (a stat and a read by path could see two files).
      const { data, mode } = readFileWithModeSync(file);
      if (secretExposed(mode)) {
        throw new StoreError(`${file} holds ZooKeeper credentials but is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`, {
          code: 'StoreAuth',
        });
      }
      auth = data.toString('utf8').trim();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot read --zk-auth-file ${file}: ${(err as Error).message}`, { code: 'StoreAuth', cause: err });
    }
  } else {
    from = 'ESDC_OVERLAY_ZK_AUTH';
    auth = nonEmpty(env.ESDC_OVERLAY_ZK_AUTH);
  }
  if (auth === undefined) return undefined;
  // The value itself is a secret: never echo it.
  if (!/^[^:\s]+:\S+$/.test(auth)) throw new UsageError(`${from} must hold "user:password" (digest credentials)`);
  return auth;
}

/**
 * The ZooKeeper store, its module (and the ZooKeeper client) loaded on first
 * use: commands on a state file never pay for loading them (issue 20).
 */
class LazyZkStore implements Store {
  readonly location: string;
  onConflict?: Store['onConflict'];
  private readonly url: ZkUrl;
  private readonly opts: ZkStoreOptions;
  private store: Promise<Store> | undefined;

  constructor(url: ZkUrl, opts: ZkStoreOptions) {
    this.url = url;
    this.opts = opts;
    this.location = formatZkUrl(url);
  }

  private real(): Promise<Store> {
    this.store ??= import('./zk-store.js').then((m) => new m.ZkStore(this.url, this.opts));
    return this.store;
  }

  async load(consistency?: Consistency): Promise<Snapshot> {
    return (await this.real()).load(consistency);
  }

  async loadOrEmpty(consistency?: Consistency): Promise<Snapshot> {
    return (await this.real()).loadOrEmpty(consistency);
  }

  async save(doc: StateDoc, base: Snapshot, consistency?: Consistency): Promise<Snapshot> {
    return (await this.real()).save(doc, base, consistency);
  }

  async withLock<T>(fn: (lock?: HeldLock) => Promise<T>): Promise<T> {
    return (await this.real()).withLock(fn);
  }

  async lead(role: LeaseRole, opts: LeadOptions): Promise<Lease | undefined> {
    return (await this.real()).lead(role, opts);
  }

  /** Validation and encoding before the lock (store migrate of a large state: docs/zk-large-saves.md). */
  async prepare(doc: StateDoc, consistency?: Consistency, base?: Snapshot): Promise<LoadedState> {
    const real = await this.real();
    return real.prepare ? real.prepare(doc, consistency, base) : { ...validateDoc(doc, this.location, consistency), yaml: undefined };
  }
}
