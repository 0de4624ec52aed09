/**
 * The daemon's writes: the ARP tables a batch changed, on the nodes that
 * have them, through the executor `apply` uses (staged beside the target,
 * renamed into place, varpd restarted once per node), with the node's
 * bundle refreshed in the same commit so the agent checks against the new
 * tables instead of reverting them (docs/daemon.md#tables).
 *
 * Only tables that exist on the node are written: a rule not yet applied
 * there is `apply`'s to create (its manifest records it). Each node is its
 * own two-phase run: one node's failure holds back no other.
 */
import { BUNDLE_MODE, BUNDLE_PATH, parseBundle, serializeBundle } from '../agent/bundle.js';
import { executeWork, type NodeOutcome } from '../apply/execute.js';
import { settleLimit } from '../apply/pool.js';
import { arpTableFile } from '../files-config/generator.js';
import type { Model } from '../model/model.js';
import { fileText } from '../desired/desired.js';
import type { NodeWork } from '../plan/plan.js';
import { RenderContext } from '../desired/render-context.js';
import { rulesOfNode } from '../rules/usbkey-lines.js';
import type { Transport } from '../transport/transport.js';

export interface TableRequest {
  /** Rules whose tables changed, on every node that has them. */
  rules: ReadonlySet<string>;
  /** Nodes whose every table is checked (just resynced, or a failed write to retry). */
  nodes: ReadonlySet<string>;
}

export interface TableResult {
  /** Tables written, per node. */
  written: Map<string, string[]>;
  /** Nodes that failed (to retry with the next batch), with the error. */
  failed: Map<string, string>;
  /** Tables the state wants but the node does not have yet (`apply` creates them). */
  missing: Array<{ node: string; path: string }>;
  /** Nodes whose bundle was refreshed. */
  bundles: string[];
  outcomes: NodeOutcome[];
}

export interface TableOptions {
  timeoutMs: number;
  concurrency: number;
  now?: () => number;
}

/** Plans and writes the requested tables on the connected nodes (`transports`); others are left for their resync. */
export async function writeTables(model: Model, req: TableRequest, transports: ReadonlyMap<string, Transport>, opts: TableOptions): Promise<TableResult> {
  const ctx = new RenderContext(model);
  const result: TableResult = { written: new Map(), failed: new Map(), missing: [], bundles: [], outcomes: [] };
  const targets = model.nodes.filter((n) => transports.has(n.name));
  await settleLimit(targets, opts.concurrency, async (node) => {
    const t = transports.get(node.name)!;
    const rules = rulesOfNode(model, node).filter((r) => req.nodes.has(node.name) || req.rules.has(r.name));
    if (rules.length === 0) return;
    try {
      const stage: NodeWork['stage'] = [];
      for (const rule of rules) {
        const want = arpTableFile(ctx, rule, node);
        const text = fileText(want);
        const have = await t.readFile(want.path, opts.timeoutMs);
        if (have === undefined) {
          result.missing.push({ node: node.name, path: want.path });
          continue;
        }
        if (have.data.toString('utf8') === text && have.mode === want.mode) continue;
        stage.push({ path: want.path, content: text, mode: want.mode, owner: want.owner, group: want.group });
      }
      if (stage.length === 0) return;
      const bundle = await t.readFile(BUNDLE_PATH, opts.timeoutMs);
      if (bundle !== undefined) {
        // The agent's reference moves with the tables: same files otherwise, a higher version.
        const prior = parseBundle(bundle.data.toString('utf8'), `${node.name}: ${BUNDLE_PATH}`);
        const byPath = new Map(stage.map((s) => [s.path, s.content]));
        if (prior.files.some((f) => byPath.has(f.path))) {
          const { sha256: _, ...body } = prior;
          const files = prior.files.map((f) => (byPath.has(f.path) ? { ...f, content: byPath.get(f.path)! } : f));
          const version = Math.max(Math.trunc((opts.now ?? Date.now)()), prior.version + 1);
          stage.push({ path: BUNDLE_PATH, content: serializeBundle({ ...body, version, files }), mode: BUNDLE_MODE });
          result.bundles.push(node.name);
        }
      }
      const work: NodeWork = { node: node.name, stage, remove: [], leftovers: [], usbkey: undefined, createOverlays: [], services: ['varpd'], manifest: undefined };
      const run = await executeWork(new Map([[node.name, t]]), [work], { concurrency: 1, timeoutMs: opts.timeoutMs });
      result.outcomes.push(...run.outcomes);
      if (!run.ok) {
        result.failed.set(node.name, run.outcomes[0]?.error ?? 'failed');
        return;
      }
      result.written.set(node.name, stage.filter((s) => s.path !== BUNDLE_PATH).map((s) => s.path));
    } catch (err) {
      result.failed.set(node.name, (err as Error)?.message ?? String(err));
    }
  });
  return result;
}
