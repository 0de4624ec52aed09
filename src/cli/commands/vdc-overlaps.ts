/** `esdc-overlay vdc overlaps`: every pair of vDCs whose allowances share ids, with the shared ids. */
import type { Command } from 'commander';
import { DOMAINS } from '../../syntax/id-kinds.js';
import { overlaps } from '../../ranges/vdc.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { table } from '../table.js';

export function registerVdcOverlaps(vdc: Command, io: CliIo): void {
  withCommonOptions(vdc.command('overlaps'))
    .description('list every pair of vDCs whose VXLAN or VLAN allowances intersect, with the intersection')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const found = overlaps(snap.model.vdcs);
      ctx.output(
        () =>
          found.length === 0
            ? 'no vDC allowances overlap'
            : table(
                ['KIND', 'VDC', 'VDC', 'COUNT', 'IDS'],
                found.map((o) => [DOMAINS[o.kind].label, o.vdcs[0], o.vdcs[1], String(o.ids.size), o.ids.toString()]),
              ),
        () => ({ overlaps: found.map((o) => ({ kind: o.kind, vdcs: o.vdcs, ids: o.ids.toString(), count: o.ids.size })) }),
      );
    });
}
