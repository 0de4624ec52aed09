/**
 * Printing or writing a rendered service definition (SMF manifest or systemd
 * unit), shared by `agent install` and `daemon install`: print it without
 * --out; with --out, leave an identical file alone, ask before replacing a
 * different one, and always say what to run next.
 */
import { readFile } from 'node:fs/promises';
import type { Platform } from '../agent/install.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { CliContext } from './context.js';

export interface ServiceFile {
  platform: Platform;
  /** Where it goes on the node (shown when printing). */
  path: string;
  /** The --out the operator gave, if any: only then is a file written. */
  out: string | undefined;
  text: string;
  /** The command that takes it into use. */
  next: string;
}

export async function emitServiceFile(ctx: CliContext, f: ServiceFile): Promise<void> {
  const { platform, text, next } = f;
  if (f.out === undefined) {
    ctx.output(() => text, () => ({ platform, path: f.path, content: text, written: false, next }));
    return;
  }
  const out = f.out;
  const existing = await readFile(out, 'utf8').catch(() => undefined);
  if (existing === text) {
    ctx.output(() => `${out} is up to date; then: ${next}`, () => ({ platform, path: out, written: false, next }));
    return;
  }
  if (existing !== undefined) await ctx.confirm(`Replace ${out}?`);
  await writeFileAtomic(out, text, { mode: 0o644, mkdirMode: 0o755 });
  ctx.output(() => `wrote ${out}; then: ${next}`, () => ({ platform, path: out, written: true, next }));
}
