/**
 * The SHA-256 of a text as lower-case hex: a plan's file checksum, a
 * bundle's checksum, a state file's revision. One helper, so the three agree
 * on the encoding (UTF-8 in, hex out). Pure; shared by every layer.
 */
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
