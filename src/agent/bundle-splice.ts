/**
 * One file's content replaced in a bundle, without reading the other
 * contents (docs/arp-deltas.md#the-bundle-spliced): what `agent patch-table`
 * does on every VM move, where the bundle holds the 2.4 MB table again.
 * Pure.
 *
 * The bundle's index lists each content's length and SHA-256 and its own
 * checksum covers them (src/agent/bundle.ts), so the new bundle is a new
 * index (the version bumped, the one entry's length and hash replaced, the
 * index's checksum taken again: a few kilobytes) followed by the same bytes
 * with that one content swapped. The index is checked as the agent checks it
 * (policy included). The other contents are copied unread: one that was
 * damaged keeps the hash that shows it, and the agent refuses the new bundle
 * as it would have refused the old one; nothing is laundered. The result is
 * byte for byte what `serializeBundle` writes for the same body with that
 * file's content and the new version (test/agent/bundle-splice.test.ts).
 */
import { indexFile, parseBundleIndex, serializeIndex } from './bundle.js';

export interface SplicedBundle {
  data: Buffer;
  /** The version written. */
  version: number;
}

/**
 * `bundle` with the content of the file at `path` replaced by `to` (whose
 * SHA-256 the caller has checked: `toSha256`) and its version set to
 * `max(floorMs, version + 1)`; undefined when the bundle does not list
 * `path`. A bundle whose index is not valid is refused (BundleError, naming
 * the field), so the caller changes nothing.
 */
export function spliceBundleFile(bundle: Buffer, path: string, to: Buffer, toSha256: string, floorMs: number, source = 'bundle'): SplicedBundle | undefined {
  const { index, contentAt } = parseBundleIndex(bundle, source);
  if (!index.files.some((f) => f.path === path)) return undefined;
  const version = Math.max(Math.trunc(floorMs), index.version + 1);
  const parts: Buffer[] = [];
  let at = contentAt;
  const files = index.files.map((f) => {
    const old = bundle.subarray(at, at + f.bytes);
    at += f.bytes;
    if (f.path !== path) {
      parts.push(old);
      return f;
    }
    parts.push(to);
    return indexFile(f, to.length, toSha256);
  });
  const { sha256: _, format: __, ...body } = index;
  return { data: Buffer.concat([Buffer.from(serializeIndex({ ...body, version, files }), 'utf8'), ...parts]), version };
}
