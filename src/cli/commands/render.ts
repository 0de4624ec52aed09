/** `esdc-overlay render --out DIR`: every node's files as they would stand on it (docs/operations.md#render). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError, type ValidationIssue } from '../../errors.js';
import { desiredNodes } from '../../plan/desired-state.js';
import { vdcWarnings } from '../../ranges/vdc.js';
import { RenderContext } from '../../desired/render-context.js';
import { readKeySecretFile } from '../../io/key-secret-file.js';
import { IPSEC_PROFILE_HELP } from '../../ipsec/profile.js';
import { deriveRenderKey, newRenderSecret } from '../../ipsec/render-keys.js';
import { randomBytes } from 'node:crypto';
import { linuxTarget, linuxTreeFiles } from '../../linux/linux-target.js';
import { mtuWarnings } from '../../mtu/mtu-warnings.js';
import { writeRenderTree, writeTree } from '../../io/write-tree.js';
import { withCommonOptions } from '../common.js';
import { BOUND_HEAP_FROM_NODES, boundHeapGrowth } from '../heap-growth.js';
import { RenderWorker, splitNodes, workerAvailable } from '../render-threads.js';
import { KeyPrefetch } from '../key-prefetch.js';
import type { Model } from '../../model/model.js';
import { CliContext, type CliIo } from '../context.js';
import { requireKnownNodes } from '../remote.js';
import { uniqueIssues } from '../../operations/warnings.js';

function threadsOption(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--threads must be a whole number from 1 to 64 (got ${JSON.stringify(text)})`);
  return n;
}

export function registerRender(program: Command, io: CliIo): void {
  withCommonOptions(program.command('render'))
    .description('write every node\'s files under DIR/<hostname>/ (never touches the store or any node)')
    .addHelpText('after', IPSEC_PROFILE_HELP)
    .requiredOption('--out <dir>', 'output directory (absent or empty, or replaced with --force)')
    .option('--force', 'replace a non-empty output directory')
    .option('--nodes <list>', 'only these nodes (comma-separated)')
    .option('--key-secret <file>', 'derive the keys of node pairs with no stored key from this secret (owner-only file, >= 32 bytes) rather than a random one, so that two renders are byte-identical')
    .option('--threads <n>', 'smartos target: render on this many threads (default 1; each thread holds its own copy of the model: for a machine with idle cores)')
    .option('--target <os>', 'smartos (default): the files of each node; linux: iproute2 batches that build the same overlay', 'smartos')
    .action(async (opts: RenderOpts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const threadsAsked = opts.threads === undefined ? undefined : threadsOption(opts.threads);
      if (threadsAsked !== undefined && threadsAsked > 1 && !workerAvailable()) {
        throw new UsageError('--threads above 1 needs the built CLI (dist/), not the one-file bundle or the sources');
      }
      // Workers start while the state loads (src/cli/render-threads.ts); those not needed are closed.
      const early = earlyWorkers(opts.target, threadsAsked);
      try {
        await renderAction(ctx, opts, threadsAsked, early);
      } finally {
        await Promise.all(early.map((w) => w.close()));
      }
    });
}

/**
 * Whether the helper's keys would be used: node-pair keys (not \`pdc-pair\`),
 * more than one PDC, and no stored key at all (a state that has been applied
 * stores every key; one that has some would have the helper derive keys
 * the render never asks for).
 */
function derivesAhead(model: Model): boolean {
  return model.defaults.ipsec.keys === 'pair' && model.pdcs.length > 1 && model.pairKeys.length === 0;
}

function prefetchFrom(prefetch: KeyPrefetch, model: Model, secret: Buffer): (a: string, b: string) => string | undefined {
  prefetch.begin(model, secret);
  return (a, b) => prefetch.keyOf(a, b);
}

type RenderOpts = { out: string; force?: boolean; nodes?: string; target: string; keySecret?: string; threads?: string };

/** Workers for `--threads N` (N - 1 of them), started before the state loads (src/cli/render-threads.ts). */
function earlyWorkers(target: string, threadsAsked: number | undefined): RenderWorker[] {
  if (target !== 'smartos' || threadsAsked === undefined) return [];
  return Array.from({ length: threadsAsked - 1 }, () => new RenderWorker());
}

async function renderAction(ctx: CliContext, opts: RenderOpts, threadsAsked: number | undefined, early: RenderWorker[]): Promise<void> {
  // One thread rendering every node: its keys may be derived ahead on a helper (docs/operations.md#keys-derived-ahead),
  // started now so that its start overlaps the state's read.
  const prefetch = opts.target === 'smartos' && (threadsAsked ?? 1) === 1 && opts.nodes === undefined ? new KeyPrefetch() : undefined;
  try {
    await renderWith(ctx, opts, threadsAsked, early, prefetch);
  } finally {
    prefetch?.close();
  }
}

async function renderWith(
  ctx: CliContext,
  opts: RenderOpts,
  threadsAsked: number | undefined,
  early: RenderWorker[],
  prefetch: KeyPrefetch | undefined,
): Promise<void> {
  // render writes no store: the parse may come from the parse cache (docs/operations.md#the-parse-cache).
  const snap = await ctx.loadState('require', { readOnly: true });
  const keySecret = opts.keySecret === undefined ? undefined : await readKeySecretFile(opts.keySecret);
  // Every thread of a split render derives the same keys: from --key-secret, or from one random secret made here.
  const secret = keySecret ?? newRenderSecret();
  const rctx = new RenderContext(snap.model, {
    ...(keySecret === undefined ? { randomSecret: secret } : { keySecret }),
    ...(prefetch !== undefined && derivesAhead(snap.model) ? { derivedAhead: prefetchFrom(prefetch, snap.model, secret) } : {}),
  });
  for (const w of vdcWarnings(snap.model)) rctx.warn(w);
  let only: Set<string> | undefined;
  if (opts.nodes !== undefined) {
    only = new Set(opts.nodes.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    requireKnownNodes(snap.model, only);
  }
  if (opts.target !== 'smartos' && opts.target !== 'linux') {
    throw new UsageError(`--target must be smartos or linux (got ${JSON.stringify(opts.target)})`);
  }
  const total = only?.size ?? snap.model.nodes.length;
  const out = resolve(opts.out);
  const started = performance.now();
  // Garbage, not data, made the peak of a large render (src/cli/heap-growth.ts).
  if (total >= BOUND_HEAP_FROM_NODES) boundHeapGrowth();
  let written = 0;
  const onNode = (node: string): void => ctx.progress(`[${++written}/${total}] ${node}`);
  const writeOpts = { force: opts.force === true, onNode };
  let result;
  if (opts.target === 'linux') {
    for (const w of mtuWarnings(snap.model)) rctx.warn(w);
    const keyFor = keySecret === undefined ? () => randomBytes(128).toString('hex') : (id: string) => deriveRenderKey(keySecret, id);
    const linux = linuxTarget(snap.model, keyFor, only);
    for (const w of linux.warnings) rctx.warn(w);
    result = await writeTree(out, linux.nodes.map((n) => ({ node: n.node, files: linuxTreeFiles(n) })), writeOpts);
  } else {
    const names = snap.model.nodes.map((n) => n.name).filter((n) => only === undefined || only.has(n));
    const [mine, ...others] = splitNodes(names, threadsAsked ?? 1);
    // Workers started for a render that stays on fewer threads end now, not after it.
    for (const w of early.splice(others.length)) void w.close();
    const found: ValidationIssue[][] = others.map(() => []);
    const randomSecret = rctx.options.randomSecret;
    const secrets = keySecret !== undefined ? { keySecret } : randomSecret !== undefined ? { randomSecret } : {};
    const alongside = (tmp: string) =>
      others.map(async (nodes, i) => {
        // early.shift(): a worker taken here is closed by its own end, not by the action's.
        const worker = early.shift() ?? new RenderWorker();
        const part = await worker.run({ doc: snap.doc, nodes, tmp, ...secrets }, onNode).finally(() => worker.close());
        found[i] = part.warnings;
        return part.result;
      });
    result = await writeRenderTree(out, desiredNodes(rctx, new Set(mine)), { ...writeOpts, alongside });
    // After the main thread's own: one thread would have found the later parts' warnings after its first part's.
    for (const w of found.flat()) rctx.warn(w);
  }
  ctx.warn(rctx.warnings);
  const ms = Math.round(performance.now() - started);
  ctx.log.info({ out, ...result, ms }, 'rendered');
  ctx.output(
    () => `rendered ${result.nodes} node(s), ${result.files} files, ${result.bytes} bytes into ${out}`,
    () => ({ out, nodes: result.nodes, files: result.files, bytes: result.bytes, warnings: uniqueIssues([...snap.modelWarnings, ...rctx.warnings]) }),
  );
}
