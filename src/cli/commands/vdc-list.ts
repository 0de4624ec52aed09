/** `esdc-overlay vdc list`: per vDC, the allowed ranges and how many ids are used and free. Works on an inconsistent state (warns). */
import type { Command } from 'commander';
import { DOMAINS } from '../../syntax/id-kinds.js';
import { usedIds, vdcUsage } from '../../ranges/vdc.js';
import { withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { table } from '../table.js';

/** Range lists can be long; a terminal table shows their start. */
const MAX_SHOWN = 40;

export function registerVdcList(vdc: Command, io: CliIo): void {
  withCommonOptions(vdc.command('list'))
    .description('list vDCs with their allowed VXLAN and VLAN ranges, and how many of those ids are used and free')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const allowances = snap.model.vdcs;
      const usage = vdcUsage(allowances, usedIds(snap.model));
      ctx.output(
        () =>
          usage.length === 0
            ? 'no vDCs'
            : table(
                ['VDC', 'KIND', 'RESTRICT', 'ALLOWED', 'COUNT', 'USED', 'FREE'],
                usage.map((u) => [
                  u.name,
                  DOMAINS[u.kind].label,
                  u.restricted ? 'yes' : 'no',
                  shorten(u.allowed.isEmpty ? '-' : u.allowed.toString()),
                  String(u.allowed.size),
                  String(u.used),
                  String(u.free),
                ]),
              ),
        () => ({
          vdcs: allowances.map((a) => ({
            name: a.name,
            ...Object.fromEntries(
              usage
                .filter((u) => u.name === a.name)
                .map((u) => [u.kind, { allowed: u.allowed.toString(), restrict: u.restricted, count: u.allowed.size, used: u.used, free: u.free }]),
            ),
          })),
        }),
      );
    });
}

function shorten(text: string): string {
  if (text.length <= MAX_SHOWN) return text;
  const cut = text.lastIndexOf(',', MAX_SHOWN);
  return `${text.slice(0, cut > 0 ? cut : MAX_SHOWN)},...`;
}
