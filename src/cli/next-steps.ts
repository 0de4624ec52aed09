/**
 * What happens next, said at the end of every command that changes the
 * state (create, update, delete, adminoverlay-*): the state changed, the
 * nodes did not yet. The commands are printed exactly as they are to be run
 * (with the operator's --state / --store), then the refresh Danube's GUI
 * needs once the nodes changed.
 *
 * Danube's own esdc-overlay ran Ansible at the end of each of these
 * commands and then asked the operator to refresh the compute nodes in the
 * GUI/API, "click 'Refresh' on all affected compute nodes"
 * (erigones/esdc-ce bin/esdc-overlay:1074-1075, in run_ansible, which create, update, delete,
 * adminoverlay-init/-update, apply and the firewall commands all end with).
 */
import { quoteArgv } from '../shell/quote.js';
import type { CommonOptions } from './context.js';

/** `esdc-overlay` plus the store options the operator gave, so the printed command acts on the same state. */
export function commandPrefix(opts: CommonOptions): string[] {
  const argv = ['esdc-overlay'];
  if (opts.store !== undefined) argv.push('--store', opts.store);
  else if (opts.state !== undefined) argv.push('--state', opts.state);
  return argv;
}

/**
 * The command a state change leads to, for `--json`'s `next` (the text says
 * it in words): the apply of the same store.
 */
export function nextApply(opts: CommonOptions): string {
  return quoteArgv([...commandPrefix(opts), 'apply']);
}

/** The note Danube's tool printed after every run that changed nodes. */
export function danubeRefreshNote(nodes: readonly string[] | 'all'): string {
  const which = nodes === 'all' ? 'every compute node' : nodes.length === 0 ? 'no compute node' : nodes.join(', ');
  return `Danube Cloud's GUI/API shows a node's overlays only after a node refresh: click 'Refresh' on ${which} once apply has run`;
}

/**
 * Lines for the end of a state change. Apply runs on every node: a rule's
 * port reaches every node's IPsec policy and firewall, not only its members.
 */
export function nextSteps(opts: CommonOptions, changed: boolean, affected: readonly string[] | 'all'): string[] {
  const prefix = commandPrefix(opts);
  const plan = quoteArgv([...prefix, 'plan', '--summary']);
  const apply = quoteArgv([...prefix, 'apply']);
  if (!changed) return [`next: the state is unchanged; to re-apply it to the nodes: ${apply}`];
  return [`next: the state is saved, the nodes are not changed yet. Review with: ${plan}`, `      then run: ${apply}`, `      ${danubeRefreshNote(affected)}`];
}
