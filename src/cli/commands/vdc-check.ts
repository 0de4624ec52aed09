/**
 * `esdc-overlay vdc check <vdc> [--vxlan N] [--vlan N]`: may the vDC use
 * these ids? Exit 0 when every id is allowed, 1 with the reason when not,
 * honouring `*_restrict` as Danube does.
 */
import type { Command } from 'commander';
import { OutcomeReported, UsageError } from '../../errors.js';
import { ID_KINDS, type IdKind } from '../../syntax/id-kinds.js';
import { checkId, requireVdc, usersOf, type IdUser } from '../../ranges/vdc.js';
import { intOption, withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';

const SHOWN_USERS = 5;

export function registerVdcCheck(vdc: Command, io: CliIo): void {
  withCommonOptions(vdc.command('check'))
    .description("check ids against a vDC's allowance: exit 0 if allowed, 1 with the reason if not")
    .argument('<vdc>', 'vDC name')
    .option('--vxlan <id>', 'VXLAN id (VNI) to check', intOption('--vxlan'))
    .option('--vlan <id>', 'VLAN id to check', intOption('--vlan'))
    .addHelpText('after', '\nExamples:\n  esdc-overlay vdc check customer-a --vxlan 1005\n  esdc-overlay vdc check customer-a --vxlan 1005 --vlan 20 --json\n')
    .action(async (name: string, opts: Partial<Record<IdKind, number>>, cmd: Command) => {
      const asked = ID_KINDS.filter((k) => opts[k] !== undefined);
      if (asked.length === 0) throw new UsageError('vdc check: give --vxlan ID, --vlan ID or both');
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const allowance = requireVdc(snap.model.vdcs, name);
      const checks = asked.map((kind) => {
        const check = checkId(allowance, kind, opts[kind]!, `--${kind}`);
        return { ...check, usedBy: usersOf(snap.model, kind, check.id) };
      });
      ctx.output(
        () =>
          checks
            .map((c) => `${c.allowed ? 'ok' : 'refused'}: ${c.reason}${inUse(c.usedBy)}`)
            .join('\n'),
        () => ({
          vdc: name,
          allowed: checks.every((c) => c.allowed),
          checks: checks.map((c) => ({
            kind: c.kind,
            id: c.id,
            allowed: c.allowed,
            restricted: c.restricted,
            allowed_ranges: c.allowedRanges,
            reason: c.reason,
            used_by: c.usedBy,
          })),
        }),
      );
      const refused = checks.filter((c) => !c.allowed);
      if (refused.length > 0) throw new OutcomeReported(refused.map((c) => c.reason).join('; '), { code: 'NotAllowed' });
    });
}

/** `; in use by 3 (vnics[0], vnics[4], adminoverlay)`, the first few named. */
function inUse(users: readonly IdUser[]): string {
  if (users.length === 0) return '';
  const shown = users.slice(0, SHOWN_USERS).map((u) => u.path);
  return `; in use by ${users.length} (${shown.join(', ')}${users.length > SHOWN_USERS ? ', ...' : ''})`;
}
