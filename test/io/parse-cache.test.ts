/**
 * The parse cache (src/io/parse-cache.ts, docs/operations.md#the-parse-cache):
 * a read-only command's faster path to the same value. A hit gives exactly
 * what parsing the text gives (values, key order, prototypes, -0), over
 * generated states and arbitrary JSON-like documents; and a cache that is
 * not private to the user, or an entry that is not whole, is never used.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { generateInstallation } from '../../bench/generate-installation.js';
import { entryName, PARSE_CACHE_ENTRIES, ParseCache, parseCacheFromEnv } from '../../src/io/parse-cache.js';
import { checkedState, parseStateText, validateDoc, withConsistency, type CheckedState } from '../../src/model/load.js';
import { sha256Hex } from '../../src/sha256.js';
import { FileStore } from '../../src/store/file-store.js';
import { FUZZ } from '../fuzz/fuzz-config.js';
import { installationSpec } from '../support/installation-arb.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'esdc-parse-cache-'));
  dirs.push(d);
  return d;
}

/** The value through the cache twice (a miss that writes, then a hit that reads), both checked against the plain parse. */
function throughCache(cache: ParseCache, text: string): { miss: unknown; hit: unknown; direct: unknown } {
  const direct = parseStateText(text, 's').value;
  let parsed = 0;
  const parse = (): unknown => {
    parsed++;
    return parseStateText(text, 's').value;
  };
  const miss = cache.value(sha256Hex(text), parse);
  const hit = cache.value(sha256Hex(text), parse);
  expect(parsed, 'the second read must come from the cache').toBe(1);
  return { miss, hit, direct };
}

/**
 * Exactly the same value: the same prototypes, the same own keys in the same
 * order (the model's iteration order follows them), the same property
 * attributes, Maps and Sets with the same entries in the same order,
 * Object.is for every leaf (so -0 is not 0), and the same sharing (an
 * object reached twice in one is reached twice in the other, as the model's
 * maps share its nodes and rules). toStrictEqual is not enough: it ignores
 * key order and sharing, and a key named `constructor` defeats its type check.
 */
function sameValue(a: unknown, b: unknown, path = '$', pairs = new Map<object, object>()): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} !== ${String(b)}`;
  }
  const paired = pairs.get(a);
  if (paired !== undefined) return paired === b ? undefined : `${path}: shared in one, not in the other`;
  pairs.set(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: another prototype`;
  if (a instanceof Map || a instanceof Set) {
    const ea = [...(a as Map<unknown, unknown>).entries()];
    const eb = [...(b as Map<unknown, unknown>).entries()];
    if (ea.length !== eb.length) return `${path}: ${ea.length} entries vs ${eb.length}`;
    for (let i = 0; i < ea.length; i++) {
      const inner = sameValue(ea[i]![0], eb[i]![0], `${path}<key ${i}>`, pairs) ?? sameValue(ea[i]![1], eb[i]![1], `${path}<${String(ea[i]![0])}>`, pairs);
      if (inner !== undefined) return inner;
    }
  }
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (JSON.stringify(ka.map(String)) !== JSON.stringify(kb.map(String))) return `${path}: keys ${String(ka)} vs ${String(kb)}`;
  if (Object.isFrozen(a) !== Object.isFrozen(b) || Object.isExtensible(a) !== Object.isExtensible(b)) return `${path}: frozen or extensible`;
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    if (da.enumerable !== db.enumerable || da.writable !== db.writable || da.configurable !== db.configurable) return `${path}.${String(k)}: attributes`;
    const inner = sameValue(da.value, db.value, `${path}.${String(k)}`, pairs);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function expectSameValue(got: unknown, want: unknown): void {
  expect(sameValue(got, want)).toBeUndefined();
}

describe('parse cache: the same value as the parse', () => {
  it('over generated installations: the cached document and model (as the file store caches them) are the ones the text gives', async () => {
    const dir = await tempDir();
    let run = 0;
    fc.assert(
      fc.property(
        installationSpec,
        fc.boolean(),
        fc.boolean(),
        (spec, indentSeq, asJson) => {
          const state = generateInstallation({ ...spec, pdcs: Math.min(spec.pdcs, spec.nodes) });
          const text = asJson ? JSON.stringify(state, null, 2) : stringify(state, { lineWidth: 0, indentSeq });
          const cache = new ParseCache(join(dir, `c${run++}`));
          const check = (): CheckedState => checkedState(parseStateText(text, 's').value, 's');
          let built = 0;
          const counted = (): CheckedState => {
            built++;
            return check();
          };
          cache.value(sha256Hex(text), counted);
          const hit = cache.value(sha256Hex(text), counted) as CheckedState;
          expect(built, 'the second read must come from the cache').toBe(1);
          expectSameValue(hit, check());
          // And what a command gets from it, in either consistency.
          for (const consistency of ['warn', 'require'] as const) {
            let fromHit: unknown;
            let direct: unknown;
            try {
              fromHit = withConsistency(hit.doc, hit.model, 's', consistency);
            } catch (err) {
              fromHit = (err as Error).message;
            }
            try {
              direct = validateDoc(parseStateText(text, 's').value, 's', consistency);
            } catch (err) {
              direct = (err as Error).message;
            }
            expectSameValue(fromHit, direct);
          }
        },
      ),
      { seed: FUZZ.seed, numRuns: Math.min(FUZZ.numRuns, 60) },
    );
  });

  it('over arbitrary JSON-like documents, as YAML or JSON (odd keys, -0, unicode)', async () => {
    const dir = await tempDir();
    const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString', '1', 'a b', 'é'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, true, false, 0, -0, 1.5, 1e21, '', 'null', '0x1F', 'é ✓', 'line\nbreak'),
        fc.string({ maxLength: 12 }),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    let run = 0;
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), fc.boolean(), (doc, asJson) => {
        const cache = new ParseCache(join(dir, `c${run++}`));
        const text = asJson ? JSON.stringify(doc) : stringify(doc, { lineWidth: 0 });
        let direct: unknown;
        try {
          direct = parseStateText(text, 's').value;
        } catch {
          return; // Refused text: nothing is cached (below).
        }
        const { hit } = throughCache(cache, text);
        expectSameValue(hit, direct);
      }),
      { seed: FUZZ.seed, numRuns: Math.min(FUZZ.numRuns, 200) },
    );
  });

  it('caches nothing when the parse throws, and never serves another text', async () => {
    const dir = await tempDir();
    const cache = new ParseCache(join(dir, 'c'));
    expect(() => cache.value(sha256Hex('a: [\n'), () => parseStateText('a: [\n', 's').value)).toThrow();
    expect(readdirSync(join(dir, 'c'))).toEqual([]);
    cache.value(sha256Hex('version: 1\n'), () => ({ version: 1 }));
    expect(cache.value(sha256Hex('version: 2\n'), () => ({ version: 2 }))).toEqual({ version: 2 });
  });
});

describe('parse cache: private to the user, whole entries only', () => {
  const text = 'version: 1\nsecret: abc\n';
  const sha = sha256Hex(text);
  const parse = (): unknown => ({ version: 1, secret: 'abc' });
  /** A parse that must not run: the value must come from the cache. */
  const fromCache = (): unknown => ({ served: 'by parse' });

  it('makes its directory 0700 and each entry 0600', async () => {
    const dir = join(await tempDir(), 'deep', 'c');
    new ParseCache(dir).value(sha, parse);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const entries = readdirSync(dir);
    expect(entries).toEqual([entryName(sha)]);
    expect(statSync(join(dir, entries[0]!)).mode & 0o777).toBe(0o600);
  });

  it('ignores an entry group or others may read, and a directory they may enter', async () => {
    const dir = join(await tempDir(), 'c');
    const cache = new ParseCache(dir);
    cache.value(sha, parse);
    expect(cache.value(sha, fromCache)).toEqual(parse());
    chmodSync(join(dir, entryName(sha)), 0o640);
    expect(cache.value(sha, fromCache)).toEqual(fromCache());
    // ... and replaces it with a private one, of the value just parsed.
    expect(statSync(join(dir, entryName(sha))).mode & 0o777).toBe(0o600);
    expect(cache.value(sha, parse)).toEqual(fromCache());
    chmodSync(dir, 0o755);
    expect(cache.value(sha, parse)).toEqual(parse());
    // Nor is anything written into such a directory.
    expect(cache.value(sha256Hex('other'), parse)).toEqual(parse());
    expect(readdirSync(dir)).toEqual([entryName(sha)]);
    chmodSync(dir, 0o700);
    expect(cache.value(sha, parse)).toEqual(fromCache());
  });

  it('ignores an entry that is a symbolic link, or not whole, or of another format', async () => {
    const root = await tempDir();
    const dir = join(root, 'c');
    const cache = new ParseCache(dir);
    cache.value(sha, parse);
    const entry = join(dir, entryName(sha));
    const whole = readFileSync(entry);
    writeFileSync(entry, whole.subarray(0, whole.length - 3), { mode: 0o600 });
    expect(cache.value(sha, fromCache)).toEqual(fromCache());
    const other = Buffer.from(whole);
    other.write('esdc-overlay parse cache 0', 0, 'utf8');
    writeFileSync(entry, other, { mode: 0o600 });
    expect(cache.value(sha, fromCache)).toEqual(fromCache());
    // A link to a whole entry elsewhere is not followed.
    const target = join(root, 'elsewhere.v8');
    writeFileSync(target, whole, { mode: 0o600 });
    await rm(entry);
    symlinkSync(target, entry);
    expect(cache.value(sha, fromCache)).toEqual(fromCache());
  });

  it('keeps the newest entries only', async () => {
    const dir = join(await tempDir(), 'c');
    const cache = new ParseCache(dir);
    for (let i = 0; i < PARSE_CACHE_ENTRIES + 3; i++) cache.value(sha256Hex(`v${i}`), () => ({ i }));
    expect(readdirSync(dir).length).toBe(PARSE_CACHE_ENTRIES);
  });

  it('is off unless asked for (an entry is a copy of the keys at rest); on, where the environment says', () => {
    expect(parseCacheFromEnv({ HOME: '/h', XDG_CACHE_HOME: '/xdg' })).toBeUndefined();
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: '', HOME: '/h' })).toBeUndefined();
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: 'off', HOME: '/h' })).toBeUndefined();
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: 'rel/dir', HOME: '/h' })).toBeUndefined();
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: '/x/y' })?.dir).toBe('/x/y');
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: 'on', XDG_CACHE_HOME: '/xdg', HOME: '/h' })?.dir).toBe('/xdg/esdc-overlay/parsed');
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: 'on', HOME: '/h' })?.dir).toBe('/h/.cache/esdc-overlay/parsed');
    expect(parseCacheFromEnv({ ESDC_OVERLAY_PARSE_CACHE: 'on' })).toBeUndefined();
  });
});

describe('the file store with a parse cache', () => {
  it('loads the same state, model and revision as without one, and a changed file is parsed again', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.yaml');
    const state = generateInstallation({ nodes: 4, pdcs: 2, rules: 2, nics: 20, seed: 7, adminoverlay: true });
    writeFileSync(path, stringify(state, { lineWidth: 0 }), { mode: 0o600 });
    mkdirSync(join(dir, 'c'), { mode: 0o700 });
    const cached = new FileStore(path, { parseCache: new ParseCache(join(dir, 'c')) });
    const plain = new FileStore(path);
    for (let round = 0; round < 2; round++) {
      const a = await cached.load();
      const b = await plain.load();
      expect(a.doc).toStrictEqual(b.doc);
      expect(a.model).toStrictEqual(b.model);
      expect(a.revision).toBe(b.revision);
    }
    expect(readdirSync(join(dir, 'c')).length).toBe(1);
    // A state above the cache's size limit is read from its text, and not cached.
    const small = new FileStore(path, { parseCache: new ParseCache(join(dir, 'small'), { maxStateChars: 100 }) });
    expect((await small.load()).model).toStrictEqual((await plain.load()).model);
    expect(readdirSync(dir)).not.toContain('small');
    // Another text, even of the same value, is another key: parsed again, never served from the old entry.
    writeFileSync(path, `${stringify(state, { lineWidth: 0 })}# changed\n`, { mode: 0o600 });
    expect((await cached.load()).doc).toStrictEqual((await plain.load()).doc);
    expect(readdirSync(join(dir, 'c')).length).toBe(2);
    const changed = { ...state, defaults: { ...state.defaults, underlay_mtu: 9000 } };
    writeFileSync(path, stringify(changed, { lineWidth: 0 }), { mode: 0o600 });
    const again = await cached.load('warn');
    expect(again.doc).toStrictEqual((await plain.load('warn')).doc);
    expect(again.doc).toStrictEqual(changed);
  });
});
