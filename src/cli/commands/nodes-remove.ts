/**
 * `esdc-overlay nodes remove <host> [--force] [--wipe]`: the node leaves the
 * state; with --wipe, everything esdc-overlay manages on it is taken off it
 * first, over SSH, shown as a plan and done only on confirmation
 * (docs/operator.md#wipe). The state changes only after the node was wiped;
 * an unreachable node is removed only with --force, saying what it keeps.
 */
import type { Command } from 'commander';
import { EsdcError } from '../../errors.js';
import { NodesFailedError } from '../../apply/fleet.js';
import { executeWipe, planWipe, wipeIsEmpty, type WipePlan, type WipeResult } from '../../operations/wipe.js';
import { removeNode, type RemoveNodeResult } from '../../discovery/remove-node.js';
import { MANIFEST_PATH } from '../../plan/plan.js';
import { planJson, renderNodePlan } from '../../plan/render-plan.js';
import type { StateDoc } from '../../model/state.js';
import { quoteArgv } from '../../shell/quote.js';
import { transact } from '../../operations/transact.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { commandPrefix, nextSteps } from '../next-steps.js';
import { remoteFrom, withRemoteOptions, type RemoteOptions } from '../remote.js';
import { modelWarnings } from '../../operations/warnings.js';

type RemoveOptions = RemoteOptions & { force?: boolean; wipe?: boolean; dryRun?: boolean };

/** What an unreachable node keeps when it leaves the state without a wipe. */
export const LEFT_ON_NODE = [
  `the files listed in ${MANIFEST_PATH} and that manifest`,
  'the overlay_rule_* and adminoverlay_* lines of /usbkey/config',
  'its overlay links (until its next reboot, or for good while those lines stay)',
];

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
      if (opts.dryRun === true) {
        const snap = await ctx.loadAndWarn();
        const change = removeNode(snap.doc, snap.model, host, opts.force === true);
        ctx.output(
          () => [...removedLines(ctx, change.result, snap.doc), '(dry run: the state was not written)'].join('\n'),
          () => snakeJson({ dry_run: true, removed: removedJson(ctx, change.result, snap.doc), wiped: false }),
        );
        return;
      }
      let before: StateDoc | undefined;
      const { result, warnings } = await transact(
        ctx.store(),
        (snap) => {
          before = snap.doc;
          return removeNode(snap.doc, snap.model, host, opts.force === true);
        },
        { confirm: () => ctx.confirm(`Remove node ${host} from the state?`) },
      );
      ctx.warn(warnings);
      ctx.output(
        () => [...removedLines(ctx, result, before!), `the node itself keeps the files apply wrote there (nodes remove --wipe takes them off); the other nodes drop it at the next apply`, ...nextSteps(ctx.opts, true, 'all')].join('\n'),
        () => snakeJson({ removed: removedJson(ctx, result, before!), wiped: false, next: quoteArgv([...commandPrefix(ctx.opts), 'apply']) }),
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

async function wipeAndRemove(ctx: CliContext, io: CliIo, host: string, opts: RemoveOptions): Promise<void> {
  const store = ctx.store();
  const force = opts.force === true;
  await store.withLock(async (lock) => {
    const snap = await store.load('require');
    ctx.warn(modelWarnings(snap));
    // Refused (unknown node, still referenced without --force) before any node is contacted.
    const change = removeNode(snap.doc, snap.model, host, force);
    const remote = await remoteFrom(opts, io.env, {}, snap.model, ctx.log);
    const progress = (node: string, line: string): void => ctx.progress(`${node}: ${line}`);
    let planned: Awaited<ReturnType<typeof planWipe>> | undefined;
    let unreachable: string | undefined;
    try {
      planned = await planWipe(snap.model, host, remote.open, { concurrency: 1, timeoutMs: remote.timeoutMs, maxReadBytes: remote.maxReadBytes, onProgress: progress });
    } catch (err) {
      // Only a node that cannot be connected to; a host key problem, or a node that answers wrongly, is never passed over.
      const down = err instanceof NodesFailedError && err.message.startsWith('could not connect') && !err.failures.some((f) => f.code.startsWith('HostKey'));
      if (!down) throw err;
      unreachable = (err as NodesFailedError).failures.map((f) => f.message).join('; ');
      if (!force) {
        throw new EsdcError(
          `${host} cannot be wiped: ${unreachable}; nothing was changed. To remove it from the state anyway (it then keeps ${LEFT_ON_NODE.join('; ')}), add --force`,
          { code: 'NodeUnreachable' },
        );
      }
    }
    try {
      const w = planned?.wipe;
      if (!ctx.json) {
        io.stdout.write(
          w !== undefined
            ? `${wipeText(w)}\nthen node ${host} leaves the state\n`
            : `${host} cannot be reached (${unreachable}): it is removed from the state only; it keeps ${LEFT_ON_NODE.join('; ')}\n`,
        );
      }
      if (opts.dryRun === true) {
        ctx.output(
          () => '(dry run: nothing was removed from the node or the state)',
          () => snakeJson({ dry_run: true, wipe: w === undefined ? null : wipeJson(w), unreachable: unreachable ?? null, removed: removedJson(ctx, change.result, snap.doc) }),
        );
        return;
      }
      await ctx.confirm(w !== undefined ? `Wipe ${host} and remove it from the state?` : `Remove the unreachable node ${host} from the state?`);
      let result: WipeResult | undefined;
      if (w !== undefined && !wipeIsEmpty(w)) {
        result = await executeWipe(planned!.fleet.transports.get(host)!, w, { timeoutMs: remote.timeoutMs, lock, onProgress: progress });
        if (!result.ok) {
          const o = result.execute.outcomes[0]!;
          const why = result.error ?? o.error ?? o.status;
          throw new EsdcError(
            `wipe of ${host} failed (${why}); it stays in the state. ` +
              (o.finish !== undefined ? `Finish by hand on the node: ${o.finish.join('; ')}; or ` : '') +
              `run ${quoteArgv([...commandPrefix(ctx.opts), 'nodes', 'remove', host, '--wipe'])} again`,
            { code: 'WipeFailed' },
          );
        }
      }
      // Only now, the node wiped: the same edit on the state as read under this lock.
      const saved = await store.save(change.doc, snap);
      ctx.warn(modelWarnings(saved));
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
            ...refused.map((r) => `overlay ${r.link} stays until the next reboot: ${r.error}`),
            ...(w?.overlays.filter((o) => o.action === 'keep').map((o) => `overlay ${o.link} stays: ${o.reason}`) ?? []),
            ...removedLines(ctx, change.result, snap.doc),
            ...nextSteps(ctx.opts, true, 'all'),
          ].join('\n'),
        () =>
          snakeJson({
            dry_run: false,
            wiped: result !== undefined,
            unreachable: unreachable ?? null,
            wipe: w === undefined ? null : { ...(wipeJson(w) as object), deleted: result?.deleted ?? [], refused, removed_after: result?.removed ?? [] },
            removed: removedJson(ctx, change.result, snap.doc),
            next: quoteArgv([...commandPrefix(ctx.opts), 'apply']),
          }),
      );
    } finally {
      await planned?.fleet.close();
    }
  });
}
