/**
 * Content as a list of chunks, the content being their concatenation: what
 * `agent patch-table` stages (docs/arp-deltas.md#chunks-not-copies), so the
 * 2.4 MB table and the bundle that holds it again are never assembled as new
 * whole buffers, only as views of the bytes read from the node and the few
 * new entries between them. Every large allocation a short-lived process
 * makes is fresh memory, paid for in page faults as it is first touched: a
 * copy of a file it only passes through is the bulk of its work. Pure;
 * shared by every layer (the executor stages it, transports write it).
 */

/** Bytes in order; the content is their concatenation. An empty list is no bytes. */
export type ByteChunks = readonly Buffer[];

/**
 * What a file is staged with (src/transport/transport.ts Transport.stage): a
 * text (written as UTF-8), bytes, or bytes in chunks, written one after
 * another as if concatenated.
 */
export type StageContent = string | Buffer | ByteChunks;

/** Whether `c` is chunks (not a text or one buffer). */
export function isChunks(c: StageContent): c is ByteChunks {
  return Array.isArray(c);
}

/** Bytes `c` writes: a text's UTF-8 length, a buffer's, the chunks' sum. */
export function contentBytes(c: StageContent): number {
  if (typeof c === 'string') return Buffer.byteLength(c);
  if (isChunks(c)) return c.reduce((n, b) => n + b.length, 0);
  return c.length;
}

/** `c` as chunks: a buffer is one, a text its UTF-8 bytes (a copy; texts are small or already whole). */
export function asChunks(c: StageContent): ByteChunks {
  if (typeof c === 'string') return [Buffer.from(c, 'utf8')];
  return isChunks(c) ? c : [c];
}

/**
 * The chunks cut into pieces of at most `size` bytes, in order, for a writer
 * whose writes are bounded (an SFTP write): a piece inside one chunk is a
 * view of it; only a piece that spans chunks is copied (at most `size` bytes).
 */
export function* windows(chunks: ByteChunks, size: number): Generator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for (const c of chunks) {
    for (let at = 0; at < c.length; ) {
      const n = Math.min(size - have, c.length - at);
      parts.push(c.subarray(at, at + n));
      have += n;
      at += n;
      if (have === size) {
        yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
}
