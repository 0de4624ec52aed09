/** `esdc-overlay render --out DIR`: every node's files as they would stand on it (docs/operations.md#render). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { desiredNodes } from '../../plan/desired-state.js';
import { vdcWarnings } from '../../ranges/vdc.js';
import { RenderContext } from '../../desired/render-context.js';
import { readKeySecretFile } from '../../io/key-secret-file.js';
import { IPSEC_PROFILE_HELP } from '../../ipsec/profile.js';
import { deriveRenderKey } from '../../ipsec/render-keys.js';
import { randomBytes } from 'node:crypto';
import { linuxTarget, linuxTreeFiles } from '../../linux/linux-target.js';
import { mtuWarnings } from '../../mtu/mtu-warnings.js';
import { writeRenderTree, writeTree } from '../../render/write-tree.js';
import { withCommonOptions } from '../common.js';
import { BOUND_HEAP_FROM_NODES, boundHeapGrowth } from '../heap-growth.js';
import { CliContext, type CliIo } from '../context.js';
import { requireKnownNodes } from '../remote.js';
import { uniqueIssues } from '../../operations/warnings.js';

export function registerRender(program: Command, io: CliIo): void {
  withCommonOptions(program.command('render'))
    .description('write every node\'s files under DIR/<hostname>/ (never touches the store or any node)')
    .addHelpText('after', IPSEC_PROFILE_HELP)
    .requiredOption('--out <dir>', 'output directory (absent or empty, or replaced with --force)')
    .option('--force', 'replace a non-empty output directory')
    .option('--nodes <list>', 'only these nodes (comma-separated)')
    .option('--key-secret <file>', 'derive the keys of node pairs with no stored key from this secret (owner-only file, >= 32 bytes) rather than a random one, so that two renders are byte-identical')
    .option('--target <os>', 'smartos (default): the files of each node; linux: iproute2 batches that build the same overlay', 'smartos')
    .action(async (opts: { out: string; force?: boolean; nodes?: string; target: string; keySecret?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadState('require');
      const keySecret = opts.keySecret === undefined ? undefined : await readKeySecretFile(opts.keySecret);
      const rctx = new RenderContext(snap.model, keySecret === undefined ? {} : { keySecret });
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
      const writeOpts = { force: opts.force === true, onNode: (node: string, i: number) => ctx.progress(`[${i + 1}/${total}] ${node}`) };
      let result;
      if (opts.target === 'linux') {
        for (const w of mtuWarnings(snap.model)) rctx.warn(w);
        const keyFor = keySecret === undefined ? () => randomBytes(128).toString('hex') : (id: string) => deriveRenderKey(keySecret, id);
        const linux = linuxTarget(snap.model, keyFor, only);
        for (const w of linux.warnings) rctx.warn(w);
        result = await writeTree(out, linux.nodes.map((n) => ({ node: n.node, files: linuxTreeFiles(n) })), writeOpts);
      } else {
        result = await writeRenderTree(out, desiredNodes(rctx, only), writeOpts);
      }
      ctx.warn(rctx.warnings);
      const ms = Math.round(performance.now() - started);
      ctx.log.info({ out, ...result, ms }, 'rendered');
      ctx.output(
        () => `rendered ${result.nodes} node(s), ${result.files} files, ${result.bytes} bytes into ${out}`,
        () => ({ out, nodes: result.nodes, files: result.files, bytes: result.bytes, warnings: uniqueIssues([...snap.modelWarnings, ...rctx.warnings]) }),
      );
    });
}
