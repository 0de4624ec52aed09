/**
 * `dladm show-overlay -p -o link,property,value` output → overlays and their
 * properties. Parseable dladm output separates fields with `:` and escapes
 * a `:` inside a field as `\:`. Pure.
 */
import { ValidationError } from '../errors.js';
import { isValidLinkName } from '../rules/link-name.js';

export const SHOW_OVERLAY_ARGV = ['dladm', 'show-overlay', '-p', '-o', 'link,property,value'] as const;

function splitParseable(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) cur += line[++i]!;
    else if (c === ':') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/**
 * Each non-empty line of parseable output whose first field is a link name
 * dladm accepts and that has `n` fields, as its fields; `bad(fields)` may
 * refuse more. Refused lines are issues naming the line; any issue throws.
 */
function parseableRows(text: string, n: number, what: string, source: string, bad: (f: string[]) => string | undefined = () => undefined): string[][] {
  const rows: string[][] = [];
  const issues = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const f = splitParseable(line);
    // Any name dladm accepts (a `.` included), so one link of another tool's cannot fail the whole read.
    if (f.length !== n || !isValidLinkName(f[0]!)) {
      issues.push({ path: `line ${i + 1}`, value: line, message: `is not ${what}` });
      continue;
    }
    const why = bad(f);
    if (why !== undefined) issues.push({ path: `line ${i + 1}`, message: why });
    else rows.push(f);
  }
  if (issues.length > 0) throw new ValidationError(issues, source);
  return rows;
}

export function parseShowOverlay(text: string, source = 'dladm show-overlay'): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [link, prop, value] of parseableRows(text, 3, 'link:property:value', source) as Array<[string, string, string]>) {
    let props = out.get(link);
    if (!props) out.set(link, (props = new Map()));
    if (prop !== '') props.set(prop, value);
  }
  return out;
}

/**
 * The overlays `dladm show-overlay` could not read varpd's properties of,
 * from its exit status and warnings: an overlay whose varpd instance is gone
 * (lost at a restart) has its kernel properties listed but not `files/config`,
 * a warning `dladm: warning: failed to get varpd props for overlay LINK,
 * varpd id N: ...` on stderr, and dladm exits 1 when the rest is printed
 * (docs/smartos-rules.md#overlay-devices-and-dladm). Returns those links when
 * the exit is 1 and every stderr line is such a warning, else undefined (the
 * command failed for another reason). Pure.
 */
export function showOverlayLostInstances(code: number | null, stderr: string): string[] | undefined {
  if (code !== 1) return undefined;
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const links: string[] = [];
  for (const line of lines) {
    const m = /^(?:\S*\/)?dladm: warning: failed to get varpd props for overlay (\S+), varpd id [0-9]+: [^\x00-\x1f\x7f]*$/.exec(line.trimEnd());
    if (!m || !isValidLinkName(m[1]!)) return undefined;
    links.push(m[1]!);
  }
  return links.length > 0 ? links : undefined;
}

/**
 * The overlays' fault state (`dladm show-overlay -f`, dladm(1M)): STATUS is
 * ONLINE or DEGRADED, DETAILS the reason when degraded. An overlay whose varpd
 * instance was lost (its table unreadable when varpd restarted) stays DEGRADED
 * until it is deleted and created again (docs/smartos-rules.md#overlay-devices-and-dladm).
 */
export const SHOW_OVERLAY_FMA_ARGV = ['dladm', 'show-overlay', '-f', '-p', '-o', 'link,status,details'] as const;

/** One overlay's fault state as dladm prints it. */
export interface OverlayStatus {
  link: string;
  status: 'ONLINE' | 'DEGRADED';
  /** The reason when DEGRADED; `-` when ONLINE. */
  details: string;
}

export function parseOverlayStatus(text: string, source = 'dladm show-overlay -f'): OverlayStatus[] {
  const rows = parseableRows(text, 3, 'link:ONLINE|DEGRADED:details', source, (f) =>
    f[1] !== 'ONLINE' && f[1] !== 'DEGRADED'
      ? `has status ${JSON.stringify(f[1])}, not ONLINE or DEGRADED`
      : // The reason is printed to the operator's terminal: a node's text never carries control characters there.
        /[\x00-\x1f\x7f]/.test(f[2]!)
        ? 'has control characters in its details'
        : undefined,
  );
  return rows.map((f) => ({ link: f[0]!, status: f[1] as OverlayStatus['status'], details: f[2]! }));
}
