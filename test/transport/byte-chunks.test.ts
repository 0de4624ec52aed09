/**
 * Content in chunks (src/byte-chunks.ts): its length, its SHA-256 taken
 * chunk by chunk, and the bounded pieces the SFTP writer sends, all equal to
 * those of the chunks' concatenation; a piece inside one chunk is a view of
 * it, not a copy.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asChunks, contentBytes, isChunks, windows } from '../../src/byte-chunks.js';
import { sha256Hex, sha256HexChunks } from '../../src/sha256.js';
import { cut } from '../support/cut-chunks.js';


const whole = randomBytes(100_000);
const SPLITS: Array<{ name: string; chunks: Buffer[] }> = [
  { name: 'one chunk', chunks: [whole] },
  { name: 'empty chunks between', chunks: cut(whole, [0, 5, 0, 32 * 1024 - 5, 0, 1]) },
  { name: 'a chunk per byte, then the rest', chunks: cut(whole, Array.from({ length: 1500 }, () => 1)) },
  { name: 'chunks straddling the 32 KiB pieces', chunks: cut(whole, [32 * 1024 - 1, 2, 32 * 1024, 7]) },
];

describe('content in chunks', () => {
  for (const { name, chunks } of SPLITS) {
    it(`${name}: length, hash and 32 KiB pieces are the concatenation's`, () => {
      expect(Buffer.concat(chunks).equals(whole)).toBe(true);
      expect(contentBytes(chunks)).toBe(whole.length);
      expect(sha256HexChunks(chunks)).toBe(sha256Hex(whole));
      const pieces = [...windows(chunks, 32 * 1024)];
      expect(pieces.map((p) => p.length)).toEqual([32 * 1024, 32 * 1024, 32 * 1024, whole.length - 3 * 32 * 1024]);
      expect(Buffer.concat(pieces).equals(whole)).toBe(true);
    });
  }

  it('a piece inside one chunk is a view of it', () => {
    const pieces = [...windows([whole], 32 * 1024)];
    expect(pieces.every((p) => p.buffer === whole.buffer)).toBe(true);
  });

  it('no chunks, or only empty ones: no bytes, the hash of nothing, no piece', () => {
    for (const chunks of [[], [Buffer.alloc(0)], [Buffer.alloc(0), Buffer.alloc(0)]]) {
      expect(contentBytes(chunks)).toBe(0);
      expect(sha256HexChunks(chunks)).toBe(sha256Hex(''));
      expect([...windows(chunks, 32 * 1024)]).toEqual([]);
    }
  });

  it('a text counts and becomes its UTF-8 bytes; a buffer is one chunk', () => {
    expect(isChunks('ü')).toBe(false);
    expect(contentBytes('ü')).toBe(2);
    expect(Buffer.concat(asChunks('ü')).toString('utf8')).toBe('ü');
    expect(isChunks(whole)).toBe(false);
    expect(asChunks(whole)).toEqual([whole]);
    expect(isChunks([whole])).toBe(true);
  });
});
