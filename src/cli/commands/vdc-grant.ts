/**
 * `esdc-overlay vdc grant <vdc> --vxlan RANGE | --vlan RANGE [--shared]`:
 * add ids to a vDC's allowance in the state (a new vDC only with `--create`).
 * Refuses ids another vDC is allowed, unless `--shared`.
 */
import type { Command } from 'commander';
import { DOMAINS } from '../../syntax/id-kinds.js';
import { grant } from '../../ranges/grant.js';
import { showRanges } from '../../ranges/vdc.js';
import { transact } from '../../operations/transact.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { modelWarnings } from '../../operations/warnings.js';

export function registerVdcGrant(vdc: Command, io: CliIo): void {
  withCommonOptions(vdc.command('grant'))
    .description("add VXLAN and/or VLAN ids to a vDC's allowance (refused when another vDC has any of them, unless --shared)")
    .argument('<vdc>', 'vDC name (a new one needs --create)')
    .option('--vxlan <range>', 'VXLAN ids, e.g. "10000-10999,12000"')
    .option('--vlan <range>', 'VLAN ids, e.g. "100-199"')
    .option('--shared', 'grant ids that another vDC is also allowed')
    .option('--create', 'create the vDC when it is not in the state (without it, an unknown name is refused with the closest known names)')
    .addHelpText('after', '\nExamples:\n  esdc-overlay vdc grant customer-b --vxlan 3000-3999 --vlan 100-199\n  esdc-overlay vdc grant customer-c --vxlan 4000-4999 --create\n  esdc-overlay vdc grant lab --vlan 10-20 --shared\n')
    .action(async (name: string, opts: { vxlan?: string; vlan?: string; shared?: boolean; create?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const ranges = {
        ...(opts.vxlan !== undefined ? { vxlan: opts.vxlan } : {}),
        ...(opts.vlan !== undefined ? { vlan: opts.vlan } : {}),
      };
      const { result } = await transact(ctx.store(), (snap) => {
        ctx.warn(modelWarnings(snap));
        return grant(snap.doc, { vdc: name, ranges, shared: opts.shared === true, create: opts.create === true });
      });
      for (const o of result.shared) {
        ctx.warn([{ path: `vdcs.${name}`, message: `shares ${DOMAINS[o.kind].label} ${showRanges(o.ids)} with vDC ${o.vdcs[1]} (--shared)` }]);
      }
      ctx.log.info({ vdc: name, created: result.created }, 'vdc granted');
      ctx.output(
        () =>
          [
            ...(result.created ? [`created vDC ${name}`] : []),
            ...result.changes.map((c) =>
              c.added.isEmpty
                ? `vDC ${name}: ${DOMAINS[c.kind].label} unchanged (already allowed: ${showRanges(c.allowed)})`
                : `vDC ${name}: granted ${DOMAINS[c.kind].label} ${c.added.toString()} (allowed now: ${c.allowed.toString()})`,
            ),
          ].join('\n'),
        () => ({
          vdc: name,
          created: result.created,
          ...Object.fromEntries(result.changes.map((c) => [c.kind, { added: c.added.toString(), allowed: c.allowed.toString() }])),
          shared: result.shared.map((o) => ({ kind: o.kind, vdc: o.vdcs[1], ids: o.ids.toString() })),
        }),
      );
    });
}
