/**
 * Line-wise editing of /usbkey/config: only the keys we own
 * (`isOwnedUsbkeyKey`) are added, changed or removed; every other line stays
 * byte for byte where it was. Pure.
 */
import { isOwnedUsbkeyKey, usbkeyLineText } from '../rules/usbkey-lines.js';
import type { UsbkeyLine } from '../desired/desired.js';

export interface UsbkeyChange {
  key: string;
  action: 'add' | 'change' | 'remove';
  old?: string;
  new?: string;
}

const LINE = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** A config value without its shell quotes (the file is `eval`-ed by SmartOS). */
export function unquoteValue(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
    return v.slice(1, -1);
  }
  return v;
}

/** Our keys as the file has them now (the first occurrence wins, as later `eval`s would not matter to us). */
export function ownedValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m && isOwnedUsbkeyKey(m[1]!) && !out.has(m[1]!)) out.set(m[1]!, unquoteValue(m[2]!));
  }
  return out;
}

/**
 * The file with our lines set to `desired`: changed lines replaced in place,
 * lines of keys we no longer want (and duplicates of ours) removed, new ones
 * appended in desired order. `changes` is empty exactly when the text is
 * unchanged.
 */
export function editUsbkeyConfig(text: string, desired: readonly UsbkeyLine[]): { text: string; changes: UsbkeyChange[] } {
  const want = new Map(desired.map((l) => [l.key, l]));
  const seen = new Set<string>();
  const changed: UsbkeyChange[] = [];
  const removed: UsbkeyChange[] = [];
  const lines = text === '' ? [] : text.split('\n');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  const out: string[] = [];
  for (const line of lines) {
    const m = LINE.exec(line);
    const key = m?.[1];
    if (key === undefined || !isOwnedUsbkeyKey(key)) {
      out.push(line);
      continue;
    }
    const old = unquoteValue(m![2]!);
    const wanted = want.get(key);
    if (wanted === undefined || seen.has(key)) {
      removed.push({ key, action: 'remove', old });
      continue;
    }
    seen.add(key);
    if (old === wanted.value) out.push(line);
    else {
      out.push(usbkeyLineText(wanted));
      changed.push({ key, action: 'change', old, new: wanted.value });
    }
  }
  const added: UsbkeyChange[] = [];
  for (const l of desired) {
    if (seen.has(l.key)) continue;
    seen.add(l.key);
    out.push(usbkeyLineText(l));
    added.push({ key: l.key, action: 'add', new: l.value });
  }
  const changes = [...changed, ...added, ...removed];
  if (changes.length === 0) return { text, changes };
  return { text: out.length === 0 ? '' : `${out.join('\n')}\n`, changes };
}
