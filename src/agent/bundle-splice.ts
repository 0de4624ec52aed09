/**
 * One file's content replaced in a bundle's text, without parsing the
 * bundle (docs/arp-deltas.md#the-bundle-spliced): what `agent patch-table`
 * does on every VM move, where the bundle holds the 2.4 MB table again and
 * parsing, checking and re-serialising the whole of it cost more than the
 * patch itself. Pure.
 *
 * The result is byte for byte what `serializeBundle` writes for the same
 * body with that file's content and the new version (test/agent/bundle-splice.test.ts):
 * the text `serializeBundle` writes is `JSON.stringify(body)` with
 * `,"sha256":"<hex>"` before its last `}`, so the body is recovered exactly,
 * its checksum verified, the version and the one content replaced in place,
 * and the checksum taken again. Anything not in that form (another writer,
 * a damaged bundle) gives undefined, for the caller to parse the bundle instead.
 */
import { createHash } from 'node:crypto';
import { BUNDLE_FORMAT } from './bundle.js';

/** The tail `serializeBundle` writes after the body's last member. */
const TAIL = /,"sha256":"([0-9a-f]{64})"\}\n$/;
/** The head `serializeBundle` writes: format, node, then version. */
const HEAD = /^\{"format":"([^"\\]*)","node":"(?:[^"\\]|\\.)*","version":(\d{1,16}),/;

export interface SplicedBundle {
  text: string;
  /** The version written. */
  version: number;
}

/**
 * `bundle` with the content of the file at `path` changed from `from` to
 * `to` and its version set to `max(floorMs, version + 1)`; undefined when the
 * bundle is not exactly as `serializeBundle` writes it, its checksum does not
 * match, or the file at `path` is not there holding `from`.
 */
export function spliceBundleFile(bundle: string, path: string, from: string, to: string, floorMs: number): SplicedBundle | undefined {
  const tail = TAIL.exec(bundle.slice(-80));
  if (!tail) return undefined;
  // The body is bundle[0, cut) and a closing "}": read and hashed in place, never copied whole
  // (SHA-256 of the UTF-8, hex out, as src/sha256.ts takes it; a head longer than 200 characters is parsed instead).
  const cut = bundle.length - tail[0].length;
  const head = HEAD.exec(bundle.slice(0, 200));
  if (!head || head[1] !== BUNDLE_FORMAT || head[0].length > cut) return undefined;
  if (createHash('sha256').update(bundle.slice(0, cut)).update('}').digest('hex') !== tail[1]) return undefined;
  // A file object starts `{"path":` only where the JSON has structure: inside a string every `"` is escaped.
  const fileKey = `{"path":${JSON.stringify(path)},`;
  const fileAt = bundle.indexOf(fileKey);
  if (fileAt < 0 || fileAt >= cut || bundle.indexOf(fileKey, fileAt + 1) >= 0) return undefined;
  // content is the last member serializeBundle writes for a file (bundle.ts bodyOf).
  const key = ',"content":';
  const contentAt = bundle.indexOf(key, fileAt);
  const old = JSON.stringify(from);
  const start = contentAt + key.length;
  if (contentAt < 0 || start + old.length >= cut || !bundle.startsWith(old, start) || bundle[start + old.length] !== '}') return undefined;
  // Nothing between the path and the content may be another object (the members are scalars).
  if (/[{}]/.test(bundle.slice(fileAt + 1, contentAt).replace(/"(?:[^"\\]|\\.)*"/g, ''))) return undefined;
  const prior = Number(head[2]);
  if (!Number.isSafeInteger(prior) || prior < 1) return undefined;
  const version = Math.max(Math.trunc(floorMs), prior + 1);
  const versionAt = head[0].length - 1 - head[2]!.length;
  const parts = [bundle.slice(0, versionAt), String(version), bundle.slice(versionAt + head[2]!.length, start), JSON.stringify(to), bundle.slice(start + old.length, cut)];
  const sum = createHash('sha256');
  for (const p of parts) sum.update(p);
  sum.update('}');
  return { text: `${parts.join('')},"sha256":"${sum.digest('hex')}"}\n`, version };
}
