/**
 * A short line diff for the plan: what changed in a text file, with a little
 * context, cut at a size a terminal can show. Pure.
 */

export interface LineDiffOptions {
  /** Unchanged lines shown before and after each change. */
  context: number;
  /** At most this many output lines; the rest is summarised. */
  maxLines: number;
  /** Each shown line is cut at this many characters (a one-line 60 MiB file must not reach the terminal whole). */
  maxLineChars: number;
}

const DEFAULTS: LineDiffOptions = { context: 2, maxLines: 40, maxLineChars: 200 };
/** Above this many cells the middle is shown as removed + added, not aligned. */
const MAX_LCS_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; text: string; oldLine: number };

/** Lines of a unified-style diff: `@@ line N`, ` ctx`, `-old`, `+new`. Empty when equal. */
export function lineDiff(oldText: string, newText: string, opts: Partial<LineDiffOptions> = {}): string[] {
  const { context, maxLines, maxLineChars } = { ...DEFAULTS, ...opts };
  if (oldText === newText) return [];
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ kind: ' ', text: a[i]!, oldLine: i + 1 });
  ops.push(...middle(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf), pre));
  for (let i = a.length - suf; i < a.length; i++) ops.push({ kind: ' ', text: a[i]!, oldLine: i + 1 });
  return hunks(ops, context, maxLines, maxLineChars);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function middle(a: string[], b: string[], offset: number): Op[] {
  if (a.length * b.length > MAX_LCS_CELLS) {
    return [
      ...a.map((text, i) => ({ kind: '-' as const, text, oldLine: offset + i + 1 })),
      ...b.map((text) => ({ kind: '+' as const, text, oldLine: offset + a.length })),
    ];
  }
  // Longest common subsequence, filled from the end so the walk goes forward.
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i]!, oldLine: offset + i + 1 });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i * w + j + 1]! > lcs[(i + 1) * w + j]!)) {
      // Ties go to the removal, so a changed line reads - old, + new.
      ops.push({ kind: '+', text: b[j]!, oldLine: offset + i });
      j++;
    } else {
      ops.push({ kind: '-', text: a[i]!, oldLine: offset + i + 1 });
      i++;
    }
  }
  return ops;
}

function hunks(ops: Op[], context: number, maxLines: number, maxLineChars: number): string[] {
  const show = new Uint8Array(ops.length);
  ops.forEach((op, k) => {
    if (op.kind === ' ') return;
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) show[c] = 1;
  });
  const out: string[] = [];
  let changes = 0;
  let shownChanges = 0;
  for (let k = 0; k < ops.length; k++) {
    if (!show[k]) continue;
    const op = ops[k]!;
    if (op.kind !== ' ') changes++;
    if (out.length >= maxLines) continue;
    if (k === 0 || !show[k - 1]) out.push(`@@ line ${Math.max(1, op.oldLine)}`);
    out.push(`${op.kind}${cut(op.text, maxLineChars)}`);
    if (op.kind !== ' ') shownChanges++;
  }
  if (changes > shownChanges) out.push(`... ${changes - shownChanges} more changed line(s)`);
  return out;
}
