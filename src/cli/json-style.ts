/**
 * One key style for `--json`: snake_case keys, and file modes as octal
 * strings ("0400") as ls, chmod and SmartOS documentation write them. For
 * outputs whose keys are a fixed schema (plan, apply, verify), never for
 * objects keyed by data (rule or vDC names), which must pass unchanged.
 */

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A mode as `chmod` takes it: "0400", "0644". */
export function octalMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function snakeJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeJson);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = snake(k);
    out[key] = (key === 'mode' || key.endsWith('_mode')) && typeof v === 'number' ? octalMode(v) : snakeJson(v);
  }
  return out;
}
