/**
 * Keeps secrets out of validation issues and error text. A PSK found where
 * it does not belong (Danube keeps keys at `ipsec/psk/<pair>`, so a state
 * copied from there has `ipsec.psk` as a map of keys) must not be echoed
 * back by the message that refuses it. One function for every place issues
 * are made or printed: nothing under `ipsec` is shown, and no run of 64 or
 * more hex characters (a key, or most of one) is shown anywhere.
 */
import type { ValidationIssue } from './errors.js';

export const REDACTED = '<redacted>';

/** 64+ hex characters: our PSKs are 256, and no other value we show is that long a hex run. */
const LONG_HEX = /[0-9A-Fa-f]{64,}/g;

export function redactText(text: string): string {
  return text.replace(LONG_HEX, REDACTED);
}

/** Strings redacted at any depth; the structure is kept so the message still says what was found. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [redactText(k), redactValue(v, depth + 1)]));
}

/** `ipsec`, `ipsec.psk`, `ipsec.psk[0].key`, `ipsec["x"]`: where keys live, or land by mistake. */
export function isUnderIpsec(path: string): boolean {
  return path === 'ipsec' || path.startsWith('ipsec.') || path.startsWith('ipsec[');
}

export function redactIssue(issue: ValidationIssue): ValidationIssue {
  const out: ValidationIssue = { path: redactText(issue.path), message: redactText(issue.message) };
  if (Object.hasOwn(issue, 'value')) out.value = isUnderIpsec(issue.path) ? REDACTED : redactValue(issue.value);
  return out;
}
