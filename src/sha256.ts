/**
 * The SHA-256 of a text or of bytes as lower-case hex: a plan's file
 * checksum, a bundle's checksum and its contents', a patched table's, a state
 * file's revision. One helper, so they all agree on the encoding (a text is
 * taken as UTF-8, bytes as they are; hex out). Pure; shared by every layer.
 */
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SHA-256 of the chunks' concatenation, taken chunk by chunk (src/byte-chunks.ts): no whole copy made to hash it. */
export function sha256HexChunks(chunks: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}
