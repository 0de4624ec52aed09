/**
 * `esdc-overlay apply [nodes...]`: show the plan, ask, then stage on every
 * selected node and commit only when all staged (docs/operations.md#apply).
 */
import type { Command } from 'commander';
import { EXIT, EsdcError, OutcomeReported } from '../../errors.js';
import { executeWork, type ExecuteResult } from '../../apply/execute.js';
import { NodesFailedError, planFleet, refuseSplitPairs } from '../../apply/fleet.js';
import { updateAdminOverlay } from '../../adminoverlay/edit.js';
import { generateMissingKeys } from '../../ipsec/keys.js';
import { IPSEC_PROFILE_HELP } from '../../ipsec/profile.js';
import { adminOverlayGaps } from '../../model/build-model.js';
import { validateDoc } from '../../model/load.js';
import { planIsEmpty } from '../../plan/plan.js';
import { planJson, renderPlan } from '../../plan/render-plan.js';
import { outcomeCounts } from '../../plan/counts.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { remoteFrom, requireKnownNodes, selectNodes, withRemoteOptions, type RemoteOptions } from '../remote.js';
import { table } from '../table.js';
import { modelWarnings } from '../warnings.js';
import { commandPrefix } from '../next-steps.js';
import { quoteArgv } from '../../shell/quote.js';

export function renderSummary(result: ExecuteResult): string {
  const rows = result.outcomes.map((o) => [
    o.node,
    o.status,
    String(o.wrote),
    String(o.removed),
    o.refreshed.join(',') || '-',
    o.created.join(',') || '-',
    `${Math.round(o.ms)} ms`,
  ]);
  const lines = [table(['NODE', 'STATUS', 'WROTE', 'REMOVED', 'REFRESHED', 'OVERLAYS', 'TIME'], rows)];
  for (const o of result.outcomes) {
    if (o.status === 'stage-failed') lines.push(`\n${o.node}: staging failed: ${o.error}`);
    if (o.status === 'commit-failed') {
      lines.push(
        `\n${o.node}: commit failed: ${o.error}`,
        `  finish it with: esdc-overlay apply --yes ${o.node}`,
        '  or by hand on the node:',
        ...(o.finish ?? []).map((c) => `    ${c}`),
      );
    }
  }
  if (result.phase === 'stage' && !result.ok) lines.push('\nNothing was committed on any node; staged files were removed.');
  return lines.join('\n');
}

export function registerApply(program: Command, io: CliIo): void {
  withConfirmOption(withRemoteOptions(withCommonOptions(program.command('apply'))))
    .description('apply the desired state to nodes over SSH: plan, confirm, stage everywhere, then commit and refresh')
    .argument('[nodes...]', 'only these nodes (names, or comma-separated lists; default all)')
    .option('--exclude <nodes>', 'leave these nodes out of the run (comma-separated; repeatable); refused when that splits an IPsec pair', (v: string, prev: string[] = []) => [...prev, v])
    .option('--skip-unreachable', 'leave out nodes that cannot be connected to (never one whose host key is unknown or changed); refused when that splits an IPsec pair')
    .option('--assign-adminoverlay', 'give each node without an adminoverlay address the next free one and a MAC (stored on confirmation), as adminoverlay-update does')
    .addHelpText('after', IPSEC_PROFILE_HELP)
    .action(async (nodes: string[], opts: RemoteOptions & { assignAdminoverlay?: boolean; exclude?: string[]; skipUnreachable?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const store = ctx.store();
      // One apply at a time per store: a second one waits for the lock (then plans afresh and finds the
      // work done) or gives up with StateLocked. Staged names are the run's own (.<name>.esdc-new-<run>),
      // but two runs would still commit over the same targets and manifest, each from its own plan.
      // The key save below runs under this same lock.
      await store.withLock(async (lock) => {
        const snap = await store.load('require');
        ctx.warn(modelWarnings(snap));
        let only = selectNodes(snap.model, nodes);
        // Nodes left out of this run, by request or unreachable: said at the end with the command that finishes them.
        const left: string[] = [];
        if (opts.exclude !== undefined) {
          const excluded = opts.exclude.flatMap((e) => e.split(',')).map((s) => s.trim()).filter((s) => s !== '');
          requireKnownNodes(snap.model, excluded);
          left.push(...excluded);
          only = new Set((only !== undefined ? [...only] : snap.model.nodes.map((n) => n.name)).filter((n) => !excluded.includes(n)));
        }
        // Pairs without a key get one now, so what is applied is what the state will hold;
        // it is stored only once the operator confirms, and before any node is touched.
        const keys = generateMissingKeys(snap.doc, snap.model);
        const newKeys = keys.change.added.length + keys.change.pruned.length + keys.change.dropped > 0;
        let doc = keys.doc;
        // Nodes the adminoverlay rule reaches without an address get no adminoverlay vNIC: on request they
        // get one now (stored with the keys, on confirmation); otherwise the model's warning named them.
        const gaps = opts.assignAdminoverlay ? adminOverlayGaps(snap.model.nodes, snap.model.adminOverlay) : [];
        const edit = gaps.length > 0 ? updateAdminOverlay(doc, snap.model, {}) : undefined;
        const assigned = edit?.result.members.filter((m) => m.kind !== 'unchanged') ?? [];
        if (edit && assigned.length > 0) doc = edit.doc;
        const changedDoc = newKeys || assigned.length > 0;
        const model = changedDoc ? validateDoc(doc, store.location).model : snap.model;
        const remote = await remoteFrom(opts, io.env, {}, model, ctx.log);
        const progress = (node: string, line: string): void => ctx.progress(`${node}: ${line}`);
        const fleetOpts = { concurrency: remote.concurrency, timeoutMs: remote.timeoutMs, maxReadBytes: remote.maxReadBytes, onProgress: progress,
          onRead: (node: string, bytesRead: number) => ctx.log.debug({ node, bytesRead }, 'read the node') };
        let fleet;
        try {
          fleet = await planFleet(model, only, remote.open, fleetOpts);
        } catch (err) {
          // Only nodes that could not be reached at all; a host key problem is never skipped.
          const skippable =
            opts.skipUnreachable === true && err instanceof NodesFailedError && err.message.startsWith('could not connect') && !err.failures.some((f) => f.code.startsWith('HostKey'));
          if (!skippable) throw err;
          const down = (err as NodesFailedError).failures.map((f) => f.node);
          for (const f of (err as NodesFailedError).failures) io.stderr.write(`skipping unreachable node ${f.node}: ${f.message}\n`);
          left.push(...down);
          only = new Set((only !== undefined ? [...only] : model.nodes.map((n) => n.name)).filter((n) => !down.includes(n)));
          fleet = await planFleet(model, only, remote.open, fleetOpts);
        }
        if (only !== undefined && only.size === 0) throw new EsdcError('no node is left to apply to', { code: 'NoNodes' });
        try {
          ctx.warn(fleet.warnings);
          // Before anything is shown as to be done: a run that would cut IPsec pairs is not offered.
          refuseSplitPairs(model, fleet);
          const empty = planIsEmpty(fleet.plan);
          if (!ctx.json) io.stdout.write(`${renderPlan(fleet.plan)}\n`);
          if (newKeys && !ctx.json) {
            const unit = keys.change.unit === 'PDC pair' ? 'PDC pair(s)' : 'pair(s)';
            io.stdout.write(`IPsec: ${keys.change.added.length} ${unit} get a new key, stored in the state on confirmation.\n`);
          }
          if (assigned.length > 0 && !ctx.json) {
            io.stdout.write(`adminoverlay: ${assigned.map((m) => `${m.node} gets ${m.ip} (${m.mac})`).join(', ')}; stored in the state on confirmation.\n`);
          }
          if (!empty) await ctx.confirm(`Apply these changes to ${fleet.plan.nodes.filter((n) => n.changed).length} node(s)?`);
          if (changedDoc) {
            // Refuses (ConflictError) if the state changed since it was read: nothing was staged yet.
            await store.save(doc, snap);
          }
          // An empty plan may still owe bookkeeping (our manifest); that runs without asking.
          const result = await executeWork(
            fleet.transports,
            fleet.nodes.map((n) => n.work),
            // The lock is checked again before staging and before committing: a ZooKeeper lock goes with a lost session.
            { concurrency: remote.concurrency, timeoutMs: remote.timeoutMs, onProgress: progress, lock },
          );
          ctx.output(
            () => (empty ? '' : `\n${renderSummary(result)}`),
            () => snakeJson({ ok: result.ok, phase: result.phase, plan: planJson(fleet.plan), outcomes: result.outcomes.map((o) => ({ ...o, counts: outcomeCounts(o) })) }),
          );
          if (left.length > 0 && !ctx.json) {
            io.stdout.write(`\nleft out of this run: ${left.join(', ')}; finish them with: ${quoteArgv([...commandPrefix(ctx.opts), 'apply', ...left])}\n`);
          }
          if (!result.ok) {
            if (ctx.json) throw new OutcomeReported('apply failed', { code: 'ApplyFailed', exitStatus: EXIT.failure });
            const failed = result.outcomes.filter((o) => o.status === 'stage-failed' || o.status === 'commit-failed').map((o) => o.node);
            throw new EsdcError(`apply failed on ${failed.join(', ')} (see the summary above)`, { code: 'ApplyFailed' });
          }
        } finally {
          await fleet.close();
        }
      });
    });
}
