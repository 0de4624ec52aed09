/** The --json key style (src/cli/json-style.ts), checked: what in a parsed output breaks it, with where. */

/** Every key anywhere in `v` that is not snake_case, and every mode that is not an octal string like "0400". */
export function jsonStyleOffences(v: unknown, path = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => jsonStyleOffences(x, `${path}[${i}]`));
  if (v === null || typeof v !== 'object') return [];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (/[A-Z]/.test(k) && !/^[A-Z_]+$/.test(k)) out.push(`${path}.${k}: key not snake_case`);
    if ((k === 'mode' || k.endsWith('_mode')) && x !== null && x !== undefined && !(typeof x === 'string' && /^0[0-7]{3}$/.test(x))) {
      out.push(`${path}.${k}: mode ${JSON.stringify(x)} is not "0NNN"`);
    }
    out.push(...jsonStyleOffences(x, `${path}.${k}`));
  }
  return out;
}
