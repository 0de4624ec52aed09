/** `whole` cut at the given lengths, the rest as the last chunk: views, not copies (the chunked staging's tests). */
export function cut(whole: Buffer, lengths: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(whole.subarray(at, at + n));
    at += n;
  }
  out.push(whole.subarray(at));
  return out;
}
