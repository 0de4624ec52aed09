/**
 * The default store: one YAML (or JSON) file, mode 0600, replaced
 * atomically under a lock. A save re-validates what it is about to write
 * and refuses if the file changed since it was read.
 */
import { sha256Hex } from '../sha256.js';
import { ConflictError, StoreError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { ParseCache } from '../io/parse-cache.js';
import { octalMode, readFileWithMode, secretExposed } from '../io/read-with-mode.js';
import { checkedState, loadStateText, parseStateText, parseYamlDocument, validateDoc, withConsistency, type CheckedState, type Consistency, type LoadedState } from '../model/load.js';
import { looksLikeJson } from '../model/json-text.js';
import type { StateDoc } from '../model/state.js';
import { withFileLock } from './file-lock.js';
import { leadByFile } from './file-lease.js';
import { emptySnapshot, type LeadOptions, type Lease, type LeaseRole, type Snapshot, type Store } from './store.js';
import { updateYamlDocument } from './yaml-update.js';
import { yamlLib } from '../yaml-lib.js';

export const DEFAULT_STATE_PATH = '/opt/erigones/var/esdc-overlay/state.yaml';
export const STATE_FILE_MODE = 0o600;

export interface FileStoreOptions {
  lockTimeoutMs?: number;
  /** Load a state holding keys even when group or others may read it (like ssh's StrictModes off). */
  allowInsecure?: boolean;
  /** The daemon lease's timings (src/store/file-lease.ts; defaults 1 s and 5 s): shorter in tests. */
  lease?: { pollMs?: number; checkMs?: number };
  /** For a read-only command: the parsed value of a state read before (docs/operations.md#the-parse-cache). */
  parseCache?: ParseCache;
}

export class FileStore implements Store {
  readonly location: string;
  private readonly lockTimeoutMs: number;
  private readonly allowInsecure: boolean;
  private readonly leaseTimes: FileStoreOptions['lease'];
  private readonly parseCache: ParseCache | undefined;

  constructor(path: string, opts: FileStoreOptions = {}) {
    this.location = path;
    this.parseCache = opts.parseCache;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.allowInsecure = opts.allowInsecure ?? false;
    this.leaseTimes = opts.lease;
  }

  private get isJson(): boolean {
    return this.location.endsWith('.json');
  }

  async load(consistency: Consistency = 'require'): Promise<Snapshot> {
    const { text, mode } = await this.readText();
    const revision = revisionOf(text);
    const loaded =
      this.parseCache?.accepts(text.length) === true ? this.loadCached(text, revision, consistency) : loadStateText(text, this.location, consistency);
    if ((loaded.doc.ipsec?.psk?.length ?? 0) > 0 && !this.allowInsecure) this.refuseIfExposed(mode);
    return { ...loaded, revision };
  }

  /**
   * loadStateText with the parsed and checked state (the document and its
   * model) from the cache when it holds this very text (the revision is its
   * SHA-256); the consistency asked is applied as from the text. No YAML
   * Document: a read-only command saves nothing.
   */
  private loadCached(text: string, revision: string, consistency: Consistency): LoadedState {
    const { doc, model } = this.parseCache!.value(revision, () => checkedState(parseStateText(text, this.location).value, this.location)) as CheckedState;
    return { ...withConsistency(doc, model, this.location, consistency), yaml: undefined };
  }

  /** Keys in a file others can read are keys others have: refuse, as ssh does for a private key. */
  private refuseIfExposed(mode: number): void {
    if (secretExposed(mode)) {
      throw new StoreError(
        `state file ${this.location} holds IPsec keys but is readable by others (mode ${octalMode(mode)}); ` +
          `run chmod 600 ${this.location}, or pass --insecure-state`,
        { code: 'StateInsecure' },
      );
    }
  }

  async loadOrEmpty(consistency: Consistency = 'require'): Promise<Snapshot> {
    const text = await this.readTextIfExists();
    if (text === undefined) return emptySnapshot(ABSENT);
    return { ...loadStateText(text, this.location, consistency), revision: revisionOf(text) };
  }

  /**
   * The text a save of `doc` on `base` would write, loaded (validated, its
   * model built): a save of this very document on the same file then writes
   * it without loading it again, and the caller has the model (apply plans
   * with it before asking). Without `base`, or when the file is no longer
   * `base`'s, only the validation.
   */
  async prepare(doc: StateDoc, consistency: Consistency = 'require', base?: Snapshot): Promise<LoadedState> {
    this.prepared = undefined;
    if (base === undefined) return { ...validateDoc(doc, this.location, consistency), yaml: undefined };
    const existing = await this.readTextIfExists();
    if ((existing === undefined ? ABSENT : revisionOf(existing)) !== base.revision) return { ...validateDoc(doc, this.location, consistency), yaml: undefined };
    const text = this.serialize(doc, base, existing);
    const loaded = loadStateText(text, this.location, consistency);
    this.prepared = { doc, consistency, revision: base.revision, text, loaded };
    return loaded;
  }

  /** `prepare`'s work, for the save of that same document object on the same file. */
  private prepared: { doc: StateDoc; consistency: Consistency; revision: string; text: string; loaded: LoadedState } | undefined;

  async save(doc: StateDoc, base: Snapshot, consistency: Consistency = 'require'): Promise<Snapshot> {
    const existing = await this.readTextIfExists();
    const current = existing === undefined ? ABSENT : revisionOf(existing);
    const ready = this.prepared;
    this.prepared = undefined;
    if (current !== base.revision) {
      throw new ConflictError(`${this.location} changed while this command ran; run the command again`, {
        code: 'StateChanged',
      });
    }
    const same = ready !== undefined && ready.doc === doc && ready.consistency === consistency && ready.revision === current;
    const text = same ? ready.text : this.serialize(doc, base, existing);
    // What we write must load: validate the exact bytes before they replace anything (prepare did, for these bytes).
    const loaded = same ? ready.loaded : loadStateText(text, this.location, consistency);
    try {
      await writeFileAtomic(this.location, text, { mode: STATE_FILE_MODE });
    } catch (err) {
      // writeFileAtomic replaces the file only by its final rename: any failure leaves the old state whole.
      throw new StoreError(`cannot save ${this.location}: ${saveFailure(err as NodeJS.ErrnoException)}; the state file was not changed`, {
        code: 'StateNotSaved',
        cause: err,
      });
    }
    return { ...loaded, revision: revisionOf(text) };
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(`${this.location}.lock`, { timeoutMs: this.lockTimeoutMs }, fn);
  }

  /** `<state>.daemon.lock` beside the write lock (src/store/file-lease.ts). */
  lead(role: LeaseRole, opts: LeadOptions): Promise<Lease | undefined> {
    return leadByFile(`${this.location}.${role}.lock`, { ...this.leaseTimes, ...opts });
  }

  /**
   * The new text. A YAML file keeps its comments and layout: the edit is made
   * on its Document, parsed here from `existing` (the text `base` was read
   * from, as the revision check has just proven) when the load took the fast
   * path and kept none.
   */
  private serialize(doc: StateDoc, base: Snapshot, existing: string | undefined): string {
    if (this.isJson) return `${JSON.stringify(doc, null, 2)}\n`;
    const document = base.yaml ?? (existing === undefined || looksLikeJson(existing) ? undefined : parseYamlDocument(existing, this.location).yaml);
    if (document) {
      const yaml = document.clone();
      updateYamlDocument(yaml, doc);
      return yaml.toString({ lineWidth: 0 });
    }
    return yamlLib().stringify(doc, { lineWidth: 0 });
  }

  private async readTextIfExists(): Promise<string | undefined> {
    try {
      return (await this.readText()).text;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'StateMissing') return undefined;
      throw err;
    }
  }

  /** The text with the mode of the same open file (the mode guards the keys in that text). */
  private async readText(): Promise<{ text: string; mode: number }> {
    try {
      const { data, mode } = await readFileWithMode(this.location);
      return { text: data.toString('utf8'), mode };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'does not exist (pass --state FILE or set ESDC_OVERLAY_STATE)'
          : code === 'EACCES'
            ? 'is not readable by this user'
            : code === 'EISDIR'
              ? 'is a directory, not a state file'
              : (err as Error).message;
      throw new StoreError(`state file ${this.location} ${why}`, { code: code === 'ENOENT' ? 'StateMissing' : 'StateUnreadable', cause: err });
    }
  }
}

/** Why a save failed, in words (the errno code kept for searching). */
function saveFailure(err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is exceeded',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EIO: 'an I/O error',
  };
  return err.code !== undefined && Object.hasOwn(words, err.code) ? `${words[err.code]} (${err.code})` : err.message;
}

/** The revision of a state file that does not exist (yet). */
const ABSENT = 'absent';

function revisionOf(text: string): string {
  return sha256Hex(text);
}
