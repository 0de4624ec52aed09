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

export function parseShowOverlay(text: string, source = 'dladm show-overlay'): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const issues = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const f = splitParseable(line);
    // Any name dladm accepts (a `.` included), so one link of another tool's cannot fail the whole read.
    if (f.length !== 3 || !isValidLinkName(f[0]!)) {
      issues.push({ path: `line ${i + 1}`, value: line, message: 'is not link:property:value' });
      continue;
    }
    const [link, prop, value] = f as [string, string, string];
    let props = out.get(link);
    if (!props) out.set(link, (props = new Map()));
    if (prop !== '') props.set(prop, value);
  }
  if (issues.length > 0) throw new ValidationError(issues, source);
  return out;
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
  const out: OverlayStatus[] = [];
  const issues = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const f = splitParseable(line);
    if (f.length !== 3 || !isValidLinkName(f[0]!) || (f[1] !== 'ONLINE' && f[1] !== 'DEGRADED')) {
      issues.push({ path: `line ${i + 1}`, value: line, message: 'is not link:ONLINE|DEGRADED:details' });
      continue;
    }
    // The reason is printed to the operator's terminal: a node's text never carries control characters there.
    if (/[\x00-\x1f\x7f]/.test(f[2]!)) {
      issues.push({ path: `line ${i + 1}`, message: 'has control characters in its details' });
      continue;
    }
    out.push({ link: f[0]!, status: f[1], details: f[2]! });
  }
  if (issues.length > 0) throw new ValidationError(issues, source);
  return out;
}
