/**
 * `esdc-overlay globally-enable-firewall [sources]`, `globally-disable-firewall`,
 * `globally-update-firewall [sources]` (Danube's names): edit the `firewall`
 * section after showing the rules a node gets and asking; the next apply
 * writes ipf.conf-090-administration on every node.
 */
import type { Command } from 'commander';
import { disableFirewall, enableFirewall, parseSources, updateFirewall, type FirewallEdit } from '../../firewall/edit.js';
import type { StateDoc } from '../../model/state.js';
import { firewallPreview } from '../../operations/firewall-preview.js';
import { editFirewall } from '../../operations/state-edits.js';
import type { Snapshot } from '../../store/store.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { nextApply } from '../next-steps.js';

/** One firewall edit: shows the rules a node gets when it changes something, asks when `ask` says so, saves. */
async function changeFirewall(
  ctx: CliContext,
  verb: string,
  edit: (doc: StateDoc) => FirewallEdit,
  ask: (e: FirewallEdit) => boolean,
): Promise<{ edit: FirewallEdit; snapshot: Snapshot }> {
  const out = await editFirewall(ctx.store(), edit, {
    preview: ({ result: e }) => {
      if (e.changed && !ctx.json) ctx.io.stderr.write(firewallPreview(e.doc));
    },
    confirm: async ({ result: e }) => {
      if (e.changed && ask(e)) await ctx.confirm(`${verb}?`);
    },
  });
  return { edit: out.result, snapshot: out.snapshot };
}

function report(ctx: CliContext, what: string, e: FirewallEdit): void {
  ctx.log.info({ enabled: e.enabled, sources: e.sources.length, changed: e.changed }, what);
  ctx.output(
    () =>
      `${what}: firewall ${e.enabled ? 'enabled' : 'disabled'}, ${e.sources.length} administrator source(s)` +
      (e.changed ? `; run "${nextApply(ctx.opts)}" to write the ipf files on every node` : ' (nothing changed)'),
    () => ({ firewall: { enabled: e.enabled, administrator_sources: e.sources }, changed: e.changed, next: nextApply(ctx.opts) }),
  );
}

export function registerFirewall(program: Command, io: CliIo): void {
  withConfirmOption(withCommonOptions(program.command('globally-enable-firewall')))
    .description('block incoming traffic on external0 of every node except from administrator sources and other nodes')
    .argument('[sources]', 'comma-separated IPs or CIDR networks you administer from (default: the stored ones); never empty')
    .addHelpText('after', '\nExample:\n  esdc-overlay globally-enable-firewall 192.0.2.10,198.51.100.0/24\n')
    .action(async (sources: string | undefined, _opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const list = sources === undefined ? undefined : parseSources(sources);
      const { edit } = await changeFirewall(ctx, 'Enable the firewall on every node', (doc) => enableFirewall(doc, list), () => true);
      report(ctx, 'globally-enable-firewall', edit);
    });

  withConfirmOption(withCommonOptions(program.command('globally-disable-firewall')))
    .description('stop blocking unmatched incoming traffic on external0 (administrator sources are kept)')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { edit } = await changeFirewall(ctx, 'Disable the firewall on every node', disableFirewall, () => true);
      report(ctx, 'globally-disable-firewall', edit);
    });

  withConfirmOption(withCommonOptions(program.command('globally-update-firewall')))
    .description('replace the administrator sources (never with none while enabled); without sources, only show the rules')
    .argument('[sources]', 'comma-separated IPs or CIDR networks')
    .action(async (sources: string | undefined, _opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const list = sources === undefined ? undefined : parseSources(sources);
      const { edit, snapshot } = await changeFirewall(
        ctx,
        'Update the firewall on every node',
        (doc) => updateFirewall(doc, list),
        (e) => e.enabled,
      );
      if (!edit.changed && !ctx.json) io.stderr.write(firewallPreview(snapshot.doc));
      report(ctx, 'globally-update-firewall', edit);
    });
}
