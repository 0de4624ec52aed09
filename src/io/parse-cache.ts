/**
 * The parsed and checked state of a read-only command (the document and
 * its model), kept between runs and keyed by the SHA-256 of the state
 * file's bytes (docs/operations.md#the-parse-cache). Reading the 1.7 MB
 * YAML of a 200-node state, its shape check and its model took ~0.2 s of a
 * ~0.8 s render; the same values from V8's serializer take ~10-20 ms
 * (issue 20, bench/RESULTS.md). The serializer keeps Maps, Sets and shared
 * references, so the model comes back as it was built.
 *
 * A cache entry is the state's value, so it holds the state's IPsec keys:
 * the directory is made 0700 and each file 0600, and a directory or file
 * that is not the user's own, is a symbolic link, or that group or others
 * may read or write, is neither read nor written. A key is the hash of the
 * bytes just read, so an entry can never stand for a file that has since
 * changed; an entry that does not read back whole is ignored.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';

/** `ESDC_OVERLAY_PARSE_CACHE`: `on` for the user's cache directory, or an absolute directory; unset or `off` for none (the default). */
export const PARSE_CACHE_ENV = 'ESDC_OVERLAY_PARSE_CACHE';

/**
 * States larger than this (characters of text) are not cached. A model
 * read back from V8's serializer holds its own copy of every string (the
 * serializer keeps shared objects, not shared strings): the 2,000-node x
 * 100,000-NIC state (16 MiB) peaked 75 MiB higher from the cache, where the
 * memory goal (512 MiB) matters more than ~0.1 s. 50,000 NICs are ~8 MiB.
 */
export const PARSE_CACHE_MAX_STATE_CHARS = 4 * 1024 * 1024;

/** Entries kept; the oldest beyond this are removed when one is added. */
export const PARSE_CACHE_ENTRIES = 4;

/**
 * What an entry starts with: the format, the V8 whose serializer wrote it,
 * and the code that parsed and checked the state (codeIdentity): an entry
 * of another build of this tool, whose reader or model may differ, is
 * never served.
 */
let build: { head: string; tag: string } | undefined;
function thisBuild(): { head: string; tag: string } {
  if (build === undefined) {
    const code = codeIdentity();
    // The tag names the entry's file with the state's hash: two builds (an upgrade, a before/after
    // comparison) keep an entry each rather than replacing each other's at every run.
    const tag = createHash('sha256').update(`${process.versions.v8}\u0000${code}`).digest('hex').slice(0, 16);
    build = { head: `esdc-overlay parse cache 2 v8 ${process.versions.v8} code ${code}\n`, tag };
  }
  return build;
}

function entryHead(): string {
  return thisBuild().head;
}

/** The entry of a state text (its SHA-256) for this build. */
export function entryName(sha256: string): string {
  return `${sha256}.${thisBuild().tag}.v8`;
}

/**
 * The running build, by the path, size and modification time of each of
 * its code files: the one-file bundle itself, or every .js (.ts under tsx)
 * file of the tree this module is part of (dist/src, or src). A build, an
 * edit or an upgrade changes it; ~5 ms for dist's ~220 files.
 */
function codeIdentity(): string {
  const self = fileURLToPath(import.meta.url);
  const files = /[\\/]io[\\/]parse-cache\.[jt]s$/.test(self) ? treeFiles(dirname(dirname(self))) : [self];
  const h = createHash('sha256');
  for (const f of files) {
    const st = statSync(f);
    h.update(`${f}\u0000${st.size}\u0000${st.mtimeMs}\u0000${st.ino}\n`);
  }
  return h.digest('hex');
}

function treeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.(?:js|mjs|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(root);
  return out;
}

export class ParseCache {
  readonly dir: string;
  private readonly maxStateChars: number;

  constructor(dir: string, opts: { maxStateChars?: number } = {}) {
    this.dir = dir;
    this.maxStateChars = opts.maxStateChars ?? PARSE_CACHE_MAX_STATE_CHARS;
  }

  /** Whether a state of this many characters is cached (PARSE_CACHE_MAX_STATE_CHARS). */
  accepts(stateChars: number): boolean {
    return stateChars <= this.maxStateChars;
  }

  /**
   * The value cached for the text whose SHA-256 (hex) is `sha256`, or
   * `parse()`'s, which is then cached. Errors of the cache itself are
   * ignored (the text is parsed); `parse`'s own are thrown and nothing is
   * cached.
   */
  value(sha256: string, parse: () => unknown): unknown {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return parse();
    const dirOk = this.ownDir();
    if (dirOk) {
      const hit = this.read(sha256);
      if (hit !== undefined) return hit.value;
    }
    const value = parse();
    if (dirOk) this.write(sha256, value);
    return value;
  }

  /** Makes the directory (0700) if missing; whether it is a directory of this user's only. */
  private ownDir(): boolean {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const st = lstatSync(this.dir);
      return st.isDirectory() && ownedPrivately(st.uid, st.mode);
    } catch {
      return false;
    }
  }

  private read(sha256: string): { value: unknown } | undefined {
    let fd: number;
    try {
      fd = openSync(join(this.dir, entryName(sha256)), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return undefined;
    }
    try {
      // The mode and owner checked are those of the bytes read (one open).
      const st = fstatSync(fd);
      if (!st.isFile() || !ownedPrivately(st.uid, st.mode)) return undefined;
      const data = readFileSync(fd);
      const head = Buffer.from(entryHead(), 'utf8');
      if (data.length < head.length + 8 || !data.subarray(0, head.length).equals(head)) return undefined;
      const length = Number(data.readBigUInt64BE(head.length));
      const body = data.subarray(head.length + 8);
      if (body.length !== length) return undefined;
      return { value: deserialize(body) };
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** Written beside, then renamed: a reader sees a whole entry or none. */
  private write(sha256: string, value: unknown): void {
    const path = join(this.dir, entryName(sha256));
    const tmp = join(this.dir, `.${sha256}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const body = serialize(value);
      const text = entryHead();
      const head = Buffer.alloc(Buffer.byteLength(text) + 8);
      head.write(text, 0, 'utf8');
      head.writeBigUInt64BE(BigInt(body.length), Buffer.byteLength(text));
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        writeAll(fd, head);
        writeAll(fd, body);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      this.prune(path);
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // Nothing was made.
      }
    }
  }

  /** Keeps the PARSE_CACHE_ENTRIES newest entries (the one just written among them). */
  private prune(kept: string): void {
    const entries = readdirSync(this.dir)
      .filter((n) => /^[0-9a-f]{64}\.[0-9a-f]{16}\.v8$/.test(n))
      .map((n) => ({ path: join(this.dir, n), mtime: mtimeOf(join(this.dir, n)) }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const e of entries.slice(PARSE_CACHE_ENTRIES)) if (e.path !== kept) unlinkSync(e.path);
  }
}

/**
 * The cache a read-only command uses, from the environment. It is opt-in:
 * an entry is a second copy of the state's keys at rest, which outlives a
 * rotation (up to PARSE_CACHE_ENTRIES states), and an operator who did not
 * ask for that should not find it (docs/security.md). Unset, empty or `off`
 * gives none; `on` the user's cache directory
 * (`$XDG_CACHE_HOME/esdc-overlay/parsed`, else
 * `$HOME/.cache/esdc-overlay/parsed`; none when neither is set); an absolute
 * directory that one; anything else none. None either when the process has
 * no user id to check owners by.
 */
export function parseCacheFromEnv(env: NodeJS.ProcessEnv): ParseCache | undefined {
  const setting = env[PARSE_CACHE_ENV];
  if (setting === undefined || setting === '' || setting === 'off') return undefined;
  if (typeof process.getuid !== 'function') return undefined;
  if (setting !== 'on') return setting.startsWith('/') ? new ParseCache(setting) : undefined;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg.startsWith('/')) return new ParseCache(join(xdg, 'esdc-overlay', 'parsed'));
  const home = env.HOME;
  if (home !== undefined && home.startsWith('/')) return new ParseCache(join(home, '.cache', 'esdc-overlay', 'parsed'));
  return undefined;
}

/** Owned by this process's user, and no permission bit for group or others. */
function ownedPrivately(uid: number, mode: number): boolean {
  return uid === process.getuid?.() && (mode & 0o077) === 0;
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
