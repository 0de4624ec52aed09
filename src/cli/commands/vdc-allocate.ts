/**
 * `esdc-overlay vdc allocate <vdc> --vxlan|--vlan [--count K]`: the lowest
 * ids of the vDC's range that nothing in the installation uses. Read-only:
 * it proposes; the ids become used when a NIC with them is recorded.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { DOMAINS, ID_KINDS, type IdKind } from '../../syntax/id-kinds.js';
import { RangeSet } from '../../syntax/range-set.js';
import { allocate, allocationPool, requireVdc, usedIds } from '../../ranges/vdc.js';
import { intOption, withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';

/** More ids than any network plan needs at once; keeps the answer printable. */
export const MAX_COUNT = 100_000;

export function registerVdcAllocate(vdc: Command, io: CliIo): void {
  withCommonOptions(vdc.command('allocate'))
    .description("propose the lowest free VXLAN and/or VLAN ids in a vDC's range (read-only: nothing is recorded)")
    .argument('<vdc>', 'vDC name')
    .option('--vxlan', 'propose VXLAN ids')
    .option('--vlan', 'propose VLAN ids')
    .option('--count <k>', `how many ids of each kind (1-${MAX_COUNT}, default 1)`, intOption('--count'), 1)
    .addHelpText('after', '\nExamples:\n  esdc-overlay vdc allocate customer-a --vxlan\n  esdc-overlay vdc allocate customer-a --vxlan --vlan --count 4 --json\n')
    .action(async (name: string, opts: { vxlan?: boolean; vlan?: boolean; count: number }, cmd: Command) => {
      const kinds = ID_KINDS.filter((k) => opts[k] === true);
      if (kinds.length === 0) throw new UsageError('vdc allocate: give --vxlan, --vlan or both');
      if (opts.count < 1 || opts.count > MAX_COUNT) throw new UsageError(`--count must be 1-${MAX_COUNT} (got ${opts.count})`);
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const allowance = requireVdc(snap.model.vdcs, name);
      const used = usedIds(snap.model);
      const results = kinds.map((kind: IdKind) => ({ ...allocate(allowance, used[kind], kind, opts.count), pool: allocationPool(allowance, kind) }));
      ctx.output(
        () =>
          results
            .map((r) => `vDC ${name}: ${DOMAINS[r.kind].label} ${RangeSet.fromIds(r.ids).toString().replaceAll(',', ', ')} (${r.free} free of ${r.pool.size} in ${r.pool.toString()}; proposal only, nothing recorded)`)
            .join('\n'),
        () => ({
          vdc: name,
          ...Object.fromEntries(results.map((r) => [r.kind, { ids: r.ids, ranges: RangeSet.fromIds(r.ids).toString(), free: r.free, pool: r.pool.toString() }])),
        }),
      );
    });
}
