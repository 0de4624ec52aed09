/**
 * `adminoverlay-init <subnet> [node=ip,...]`, `adminoverlay-update
 * [node=ip,...]`, `adminoverlay-info`: the admin overlay (docs/state-format.md#adminoverlay),
 * the rule `adminoverlay` on every node with a vNIC per node.
 */
import type { Command } from 'commander';
import { parseReserved, type AddressRange } from '../../adminoverlay/addresses.js';
import {
  initAdminOverlay,
  parseAssignments,
  updateAdminOverlay,
  type AdminOverlayEditResult,
  type MemberChange,
} from '../../adminoverlay/edit.js';
import { ADMIN_OVERLAY_MAC_PREFIX } from '../../adminoverlay/mac.js';
import { paramChangeText, setAdminOverlayParams, type AdminOverlayParamChange } from '../../adminoverlay/params.js';
import type { Model } from '../../model/model.js';
import type { Snapshot } from '../../store/store.js';
import { transact } from '../../operations/transact.js';
import { intOption, withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo, type CommonOptions } from '../context.js';
import { table } from '../table.js';
import { nextApply, nextSteps } from '../next-steps.js';

function reservedOption(text: string | undefined): AddressRange[] {
  return text === undefined ? [] : parseReserved(text);
}

function changesText(verb: string, result: AdminOverlayEditResult, dryRun: boolean, opts: CommonOptions, allNodes = false): string {
  const shown = result.members.filter((m) => m.kind !== 'unchanged');
  const head = `${dryRun ? 'would be ' : ''}${verb}: adminoverlay ${result.subnet}, port ${result.port}`;
  const next = dryRun ? [] : nextSteps(opts, shown.length > 0 || verb === 'initialised' || allNodes, shown.length > 0 && !allNodes ? shown.map((m) => m.node) : 'all');
  if (shown.length === 0) return [`${head}; no node changes`, ...next].join('\n');
  return [
    head,
    table(
      ['NODE', 'IP', 'MAC', 'CHANGE'],
      shown.map((m) => [m.node, m.ip ?? '-', m.mac ?? '-', m.kind === 'address changed' ? `address ${m.before!.ip} -> ${m.ip}` : m.kind]),
    ),
    dryRun ? '(dry run: nothing was written)' : 'an address change takes effect on a node at its next reboot',
    ...next,
  ].join('\n');
}

function changesJson(result: AdminOverlayEditResult, dryRun: boolean, opts: CommonOptions): unknown {
  return {
    dry_run: dryRun,
    // A dry run's next step is the same command without --dry-run; a saved change's is the apply.
    next: dryRun ? null : nextApply(opts),
    subnet: result.subnet,
    port: result.port,
    changes: result.members
      .filter((m) => m.kind !== 'unchanged')
      .map((m: MemberChange) => ({ node: m.node, change: m.kind, ip: m.ip ?? null, mac: m.mac ?? null, before: m.before ?? null })),
  };
}

export function registerAdminOverlayInit(program: Command, io: CliIo): void {
  withCommonOptions(program.command('adminoverlay-init'))
    .description('create the admin overlay: rule "adminoverlay" on all nodes (VNI 2, VLAN 2, MTU 1300) and a vNIC address and MAC for every node')
    .argument('<subnet>', 'IPv4 network, CIDR (10.44.0.0/24) or net/netmask (10.44.0.0/255.255.255.0)')
    .argument('[assignments]', 'node=ip,... for nodes that need a given address; the others get subnet+11 upward')
    .option('--port <port>', 'UDP port of the adminoverlay rule (default: highest in use + 1)', intOption('--port'))
    .option('--reserve <list>', 'addresses never handed out automatically: IPs, CIDRs, first-last ranges (not stored)')
    .option('--dry-run', 'show what would be assigned; write nothing')
    .addHelpText('after', `\nNew vNIC MACs are ${ADMIN_OVERLAY_MAC_PREFIX}:xx:xx:xx (locally administered), random, unique in the state.\n` +
      'Examples:\n  esdc-overlay adminoverlay-init 10.44.0.0/24\n  esdc-overlay adminoverlay-init 10.44.0.0/255.255.255.0 cn01=10.44.0.50 --reserve 10.44.0.1-10.44.0.10\n')
    .action(async (subnet: string, assignments: string | undefined, opts: { port?: number; reserve?: string; dryRun?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const list = assignments === undefined ? [] : parseAssignments(assignments);
      const reserved = reservedOption(opts.reserve);
      const change = (snap: Snapshot) =>
        initAdminOverlay(snap.doc, snap.model, {
          subnet,
          assignments: list,
          reserved,
          ...(opts.port !== undefined ? { port: opts.port } : {}),
        });
      const result = opts.dryRun ? change(await ctx.store().load('warn')).result : (await transact(ctx.store(), change)).result;
      ctx.log.info({ subnet: result.subnet, port: result.port }, 'adminoverlay initialised');
      ctx.output(() => changesText('initialised', result, opts.dryRun === true, ctx.opts), () => changesJson(result, opts.dryRun === true, ctx.opts));
    });
}

export function registerAdminOverlayUpdate(program: Command, io: CliIo): void {
  withConfirmOption(withCommonOptions(program.command('adminoverlay-update')))
    .description('change adminoverlay addresses of the nodes named, and give nodes without one an address and a MAC (MACs are kept)')
    .argument('[assignments]', 'node=ip,... ; without it only nodes that have no address get one')
    .option('--reserve <list>', 'addresses never handed out automatically: IPs, CIDRs, first-last ranges (not stored)')
    .option('--dry-run', 'show what would change; write nothing')
    .option('--mtu <mtu>', "the adminoverlay's MTU (takes effect at each node's next reboot)", intOption('--mtu'))
    .option('--port <port>', "the adminoverlay's UDP port (disruptive: takes effect at each node's next reboot; asks, or --yes)", intOption('--port'))
    .action(async (assignments: string | undefined, opts: { reserve?: string; dryRun?: boolean; mtu?: number; port?: number }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const list = assignments === undefined ? [] : parseAssignments(assignments);
      const reserved = reservedOption(opts.reserve);
      let params: AdminOverlayParamChange[] = [];
      const compute = (snap: Snapshot) => {
        const members = updateAdminOverlay(snap.doc, snap.model, { assignments: list, reserved });
        const p = setAdminOverlayParams(members.doc, snap.model, {
          ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
        });
        params = p.changes;
        const port = p.changes.find((c) => c.field === 'port')?.to ?? members.result.port;
        return { doc: p.doc, result: { ...members.result, port } };
      };
      let result: AdminOverlayEditResult;
      if (opts.dryRun) result = compute(await ctx.store().load('warn')).result;
      else {
        ({ result } = await transact(ctx.store(), compute, {
          confirm: async (edit) => {
            const moved = edit.result.members.filter((m) => m.kind === 'address changed');
            if (moved.length > 0) {
              // A node's adminoverlay address is how VNC and monitoring reach it: ask before moving it.
              await ctx.confirm(`change the adminoverlay address of ${moved.map((m) => `${m.node} (${m.before!.ip} -> ${m.ip})`).join(', ')}?`);
            }
            if (params.some((c) => c.disruptive)) {
              if (!ctx.json) for (const c of params) io.stderr.write(`${paramChangeText(c)}\n`);
              await ctx.confirm('change the adminoverlay port?');
            }
          },
        }));
      }
      ctx.output(
        () => [...params.map(paramChangeText), changesText('updated', result, opts.dryRun === true, ctx.opts, params.length > 0)].join('\n'),
        () => ({ ...(changesJson(result, opts.dryRun === true, ctx.opts) as object), params: params.map((c) => ({ field: c.field, from: c.from, to: c.to, reboot: c.reboot, disruptive: c.disruptive })) }),
      );
    });
}

function infoJson(model: Model): unknown {
  const ao = model.adminOverlay;
  if (!ao) return { adminoverlay: null };
  const members = new Set(ao.members.map((m) => m.node));
  return {
    adminoverlay: {
      subnet: ao.subnet,
      network: ao.network,
      netmask: ao.netmask,
      prefix: ao.prefix,
      vxlan_id: ao.vxlanId,
      vlan_id: ao.vlanId,
      mtu: ao.mtu,
      port: ao.port,
      port_pinned: model.doc.adminoverlay?.port !== undefined,
      nodes: ao.members.map((m) => ({ node: m.node, ip: m.ip, mac: m.mac })),
      nodes_without_address: model.nodes.filter((n) => !members.has(n.name)).map((n) => n.name),
    },
  };
}

function infoText(model: Model): string {
  const ao = model.adminOverlay;
  if (!ao) {
    return model.doc.adminoverlay
      ? `the adminoverlay section is invalid (subnet ${JSON.stringify(model.doc.adminoverlay.subnet)})`
      : 'no adminoverlay (create one with: esdc-overlay adminoverlay-init <subnet>)';
  }
  const members = new Set(ao.members.map((m) => m.node));
  const missing = model.nodes.filter((n) => !members.has(n.name)).map((n) => n.name);
  const lines = [
    `subnet    ${ao.subnet} (netmask ${ao.netmask})`,
    `vxlan_id  ${ao.vxlanId}`,
    `vlan_id   ${ao.vlanId}`,
    `mtu       ${ao.mtu}`,
    `port      ${ao.port}${model.doc.adminoverlay?.port === undefined ? ' (not pinned yet)' : ''}`,
    '',
    ao.members.length === 0 ? 'no node has an adminoverlay address' : table(['NODE', 'IP', 'MAC'], ao.members.map((m) => [m.node, m.ip, m.mac])),
  ];
  if (missing.length > 0) lines.push('', `nodes without an address (run adminoverlay-update): ${missing.join(', ')}`);
  return lines.join('\n');
}

export function registerAdminOverlayInfo(program: Command, io: CliIo): void {
  withCommonOptions(program.command('adminoverlay-info'))
    .description('show the admin overlay: subnet, VNI, VLAN, MTU, port, and each node\'s address and MAC')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      ctx.output(() => infoText(snap.model), () => infoJson(snap.model));
    });
}
