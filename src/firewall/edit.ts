/**
 * Pure edits of the `firewall` section, with Danube's safety rule: the
 * firewall is never enabled with no administrator source, which would cut
 * the operator off every node's external interface (docs/state-format.md#firewall).
 */
import { ConflictError, ValidationError, type ValidationIssue } from '../errors.js';
import { isIpv4, parseNetwork } from '../net/ipv4.js';
import type { StateDoc } from '../model/state.js';

/** Sources as Danube took them: comma-separated IPs or CIDRs, blanks ignored. Duplicates dropped. */
export function parseSources(text: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const issues: ValidationIssue[] = [];
  const out: string[] = [];
  items.forEach((item, i) => {
    if (!isSource(item)) issues.push({ path: `sources[${i}]`, value: item, message: 'is not an IPv4 address or CIDR network without host bits (a.b.c.d or a.b.c.0/n)' });
    else if (!out.includes(item)) out.push(item);
  });
  if (issues.length > 0) throw new ValidationError(issues, 'the list of administrator sources');
  return out;
}

/** The schema's `ipv4-source`: an address, or an aligned CIDR network. */
function isSource(s: string): boolean {
  return s.includes('/') ? parseNetwork(s) !== undefined : isIpv4(s);
}

export interface FirewallEdit {
  doc: StateDoc;
  enabled: boolean;
  sources: string[];
  changed: boolean;
}

function withFirewall(doc: StateDoc, enabled: boolean, sources: string[]): FirewallEdit {
  const before = doc.firewall ?? {};
  const changed =
    (before.enabled ?? false) !== enabled || JSON.stringify(before.administrator_sources ?? []) !== JSON.stringify(sources);
  const firewall = { ...before, enabled, administrator_sources: sources };
  return { doc: { ...doc, firewall }, enabled, sources, changed };
}

/** `globally-enable-firewall [sources]`: the given sources, or the stored ones; never none. */
export function enableFirewall(doc: StateDoc, sources: string[] | undefined): FirewallEdit {
  const list = sources ?? [...(doc.firewall?.administrator_sources ?? [])];
  if (list.length === 0) {
    throw new ConflictError(
      'refusing to enable the firewall with no administrator source: it would cut you off the external interface of every node; ' +
        'give the IPs or networks you administer from, e.g. globally-enable-firewall 192.0.2.10,198.51.100.0/24',
      { code: 'NoAdminSource' },
    );
  }
  return withFirewall(doc, true, list);
}

/** `globally-disable-firewall`: sources are kept for the next enable. */
export function disableFirewall(doc: StateDoc): FirewallEdit {
  return withFirewall(doc, false, [...(doc.firewall?.administrator_sources ?? [])]);
}

/** `globally-update-firewall [sources]`: new sources (never none while enabled), state otherwise kept. */
export function updateFirewall(doc: StateDoc, sources: string[] | undefined): FirewallEdit {
  const enabled = doc.firewall?.enabled ?? false;
  if (sources === undefined) return withFirewall(doc, enabled, [...(doc.firewall?.administrator_sources ?? [])]);
  if (enabled && sources.length === 0) {
    throw new ConflictError('refusing to leave an enabled firewall with no administrator source; disable it first (globally-disable-firewall)', { code: 'NoAdminSource' });
  }
  return withFirewall(doc, enabled, sources);
}
