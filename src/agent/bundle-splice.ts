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
 * It is returned as chunks (src/byte-chunks.ts), never assembled: the new
 * index, then views of the old bundle and the new content's own chunks.
 */
import { contentBytes, type ByteChunks } from '../byte-chunks.js';
import { indexFile, parseBundleIndex, serializeIndex } from './bundle.js';

export interface SplicedBundle {
  /** The new bundle: its concatenation is the file (src/byte-chunks.ts). */
  chunks: Buffer[];
  /** The version written. */
  version: number;
}

/**
 * `bundle` with the content of the file at `path` replaced by `to`, as
 * chunks (whose SHA-256 the caller has checked: `toSha256`), and its version set to
 * `max(floorMs, version + 1)`; undefined when the bundle does not list
 * `path`. A bundle whose index is not valid is refused (BundleError, naming
 * the field), so the caller changes nothing.
 */
export function spliceBundleFile(bundle: Buffer, path: string, to: ByteChunks, toSha256: string, floorMs: number, source = 'bundle'): SplicedBundle | undefined {
  const { index, contentAt } = parseBundleIndex(bundle, source);
  if (!index.files.some((f) => f.path === path)) return undefined;
  const version = Math.max(Math.trunc(floorMs), index.version + 1);
  const toBytes = contentBytes(to);
  // The contents before and after the replaced one, each run of them one view of the old bundle.
  const parts: Buffer[] = [];
  let run = contentAt;
  let at = contentAt;
  const files = index.files.map((f) => {
    if (f.path !== path) {
      at += f.bytes;
      return f;
    }
    if (at > run) parts.push(bundle.subarray(run, at));
    parts.push(...to);
    at += f.bytes;
    run = at;
    return indexFile(f, toBytes, toSha256);
  });
  if (at > run) parts.push(bundle.subarray(run, at));
  const { sha256: _, format: __, ...body } = index;
  return { chunks: [Buffer.from(serializeIndex({ ...body, version, files }), 'utf8'), ...parts], version };
}
