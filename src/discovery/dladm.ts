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
