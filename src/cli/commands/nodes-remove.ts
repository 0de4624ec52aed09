/**
 * `esdc-overlay nodes remove <host> [--force] [--wipe]`: the node leaves the
 * state; with --wipe, everything esdc-overlay manages on it is taken off it
 * first, over SSH, shown as a plan and done only on confirmation
 * (docs/operator.md#wipe). The state changes only after the node was wiped;
 * an unreachable node is removed only with --force, saying what it keeps.
 */
import type { Command } from 'commander';
import type { WipePlan } from '../../operations/wipe.js';
import { LEFT_ON_NODE, removeNodeFromState, wipeAndRemoveNode } from '../../operations/remove-node.js';
import type { RemoveNodeResult } from '../../discovery/remove-node.js';
import { MANIFEST_PATH } from '../../plan/plan.js';
import { planJson, renderNodePlan } from '../../plan/render-plan.js';
import type { StateDoc } from '../../model/state.js';
import { quoteArgv } from '../../shell/quote.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { commandPrefix, nextSteps } from '../next-steps.js';
import { withRemoteOptions, type RemoteOptions } from '../remote.js';

type RemoveOptions = RemoteOptions & { force?: boolean; wipe?: boolean; dryRun?: boolean };


export function registerNodesRemove(nodes: Command, io: CliIo): void {
  withRemoteOptions(withConfirmOption(withCommonOptions(nodes.command('remove'))))
    .description('remove a node from the state (refused while VM NICs or rule node lists name it, unless --force); --wipe first removes what esdc-overlay manages from the node itself')
    .argument('<host>', 'the node\'s hostname in the state')
    .option('--force', 'also drop its VM NICs and take it out of the rule node lists; with --wipe, remove it from the state even when it cannot be reached')
    .option('--wipe', 'over SSH, first remove from the node every file, /usbkey/config line and overlay esdc-overlay made there (Danube\'s wipe, for one node)')
    .option('--dry-run', 'show what would be removed (with --wipe: from the node too) and change nothing')
    .action(async (host: string, opts: RemoveOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if (opts.wipe === true) return wipeAndRemove(ctx, io, host, opts);
      const dryRun = opts.dryRun === true;
      const { result, before } = await removeNodeFromState(ctx, { host, force: opts.force === true, dryRun }, () => ctx.confirm(`Remove node ${host} from the state?`));
      if (dryRun) {
        ctx.output(
          () => [...removedLines(ctx, result, before), '(dry run: the state was not written)'].join('\n'),
          () => snakeJson({ dry_run: true, removed: removedJson(ctx, result, before), wiped: false }),
        );
        return;
      }
      ctx.output(
        () => [...removedLines(ctx, result, before), `the node itself keeps the files apply wrote there (nodes remove --wipe takes them off); the other nodes drop it at the next apply`, ...nextSteps(ctx.opts, true, 'all')].join('\n'),
        () => snakeJson({ removed: removedJson(ctx, result, before), wiped: false, next: quoteArgv([...commandPrefix(ctx.opts), 'apply']) }),
      );
    });
}

/** The commands that put the node back into the rule lists it was taken out of, once it is added again. */
function reAddCommands(ctx: CliContext, doc: StateDoc, r: RemoveNodeResult): string[] {
  return r.rules.map((rule) => {
    const nodes = doc.overlay_rules?.[rule]?.nodes;
    const list = Array.isArray(nodes) ? [...nodes, r.node] : [r.node];
    return quoteArgv([...commandPrefix(ctx.opts), 'update', rule, list.join(',')]);
  });
}

/** `before`: the state the node was removed from (its rule lists still name the node's companions). */
function removedLines(ctx: CliContext, r: RemoveNodeResult, before: StateDoc): string[] {
  const reAdd = reAddCommands(ctx, before, r);
  return [
    `removed node ${r.node} from the state` +
      [
        r.vnics > 0 ? `, ${r.vnics} VM NIC(s)` : '',
        r.rules.length > 0 ? `, from rule(s) ${r.rules.join(', ')}` : '',
        r.adminoverlay ? ', its adminoverlay address' : '',
        r.keys > 0 ? `, ${r.keys} IPsec key(s)` : '',
      ].join(''),
    ...(r.keptIn.length > 0 ? [`rule(s) ${r.keptIn.join(', ')} name only ${r.node}: kept, as a node not known yet`] : []),
    // nodes add does not put it back into the lists it left: that is the operator's call, one command per rule.
    ...(reAdd.length > 0 ? [`nodes add does not put ${r.node} back into the node lists it left; once it is added again, run:`, ...reAdd.map((c) => `  ${c}`)] : []),
  ];
}

function removedJson(ctx: CliContext, r: RemoveNodeResult, before: StateDoc): unknown {
  return { node: r.node, vnics: r.vnics, rules: r.rules, kept_in: r.keptIn, adminoverlay: r.adminoverlay, keys: r.keys, re_add: reAddCommands(ctx, before, r) };
}

function wipeText(w: WipePlan): string {
  const out = [`wipe of ${w.node} (everything esdc-overlay manages there):`, renderNodePlan(w.plan).replace(/^[^\n]*\n?/, '')];
  for (const o of w.overlays) {
    out.push(o.action === 'delete' ? `  - overlay ${o.link} (dladm delete-overlay)` : `  = overlay ${o.link} stays: ${o.reason}`);
  }
  for (const p of w.after) out.push(`  - ${p}${p === MANIFEST_PATH ? ' (our manifest, removed last)' : ''}`);
  for (const p of w.stays) out.push(`  = ${p} stays: the agent's installation; stop and remove its service before reusing the node`);
  return out.filter((l) => l !== '').join('\n');
}

function wipeJson(w: WipePlan): unknown {
  const plan = planJson({ nodes: [w.plan] }) as { nodes: unknown[] };
  return { node: w.node, plan: plan.nodes[0], overlays: w.overlays, remove_after: w.after, stays: w.stays };
}

/** `--wipe`: the flow is src/operations/remove-node.ts's; this shows the plan, asks, and says what was done. */
async function wipeAndRemove(ctx: CliContext, io: CliIo, host: string, opts: RemoveOptions): Promise<void> {
  const again = quoteArgv([...commandPrefix(ctx.opts), 'nodes', 'remove', host, '--wipe']);
  const r = await wipeAndRemoveNode(ctx, { host, force: opts.force === true, dryRun: opts.dryRun === true, remote: opts, again }, {
    preview: ({ wipe: w, unreachable }) => {
      if (ctx.json) return;
      io.stdout.write(
        w !== undefined
          ? `${wipeText(w)}\nthen node ${host} leaves the state\n`
          : `${host} cannot be reached (${unreachable}): it is removed from the state only; it keeps ${LEFT_ON_NODE.join('; ')}\n`,
      );
    },
    confirm: ({ wipe: w }) => ctx.confirm(w !== undefined ? `Wipe ${host} and remove it from the state?` : `Remove the unreachable node ${host} from the state?`),
  });
  const { wipe: w, unreachable, wiped: result } = r;
  if (opts.dryRun === true) {
    ctx.output(
      () => '(dry run: nothing was removed from the node or the state)',
      () => snakeJson({ dry_run: true, wipe: w === undefined ? null : wipeJson(w), unreachable: unreachable ?? null, removed: removedJson(ctx, r.result, r.before) }),
    );
    return;
  }
  const refused = result?.refused ?? [];
  ctx.output(
    () =>
      [
        ...(result !== undefined
          ? [
              `wiped ${host}: ${result.execute.outcomes[0]!.removed} file(s) removed, /usbkey/config lines ${w!.plan.usbkey.length} removed, ` +
                `overlays deleted: ${result.deleted.join(', ') || 'none'}, refreshed ${result.execute.outcomes[0]!.refreshed.join(', ') || 'nothing'}`,
            ]
          : w !== undefined
            ? [`${host} had nothing of esdc-overlay's to remove`]
            : [`${host} was not wiped (unreachable): it keeps ${LEFT_ON_NODE.join('; ')}`]),
        ...refused.map((x) => `overlay ${x.link} stays until the next reboot: ${x.error}`),
        ...(w?.overlays.filter((o) => o.action === 'keep').map((o) => `overlay ${o.link} stays: ${o.reason}`) ?? []),
        ...removedLines(ctx, r.result, r.before),
        ...nextSteps(ctx.opts, true, 'all'),
      ].join('\n'),
    () =>
      snakeJson({
        dry_run: false,
        wiped: result !== undefined,
        unreachable: unreachable ?? null,
        wipe: w === undefined ? null : { ...(wipeJson(w) as object), deleted: result?.deleted ?? [], refused, removed_after: result?.removed ?? [] },
        removed: removedJson(ctx, r.result, r.before),
        next: quoteArgv([...commandPrefix(ctx.opts), 'apply']),
      }),
  );
}
