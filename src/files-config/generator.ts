/**
 * The ARP-table generator: for every rule a node has, its `files/config`
 * table at the rule's path, mode 0400, owned by netadm:netadm (varpd drops
 * to netadm and reads the file once at start, hence the varpd restart;
 * docs/file-formats.md#arp-table).
 *
 * Work is shared through the render context: a rule's entries are compiled
 * once per render and its underlay addresses once per PDC, so N nodes cost
 * one compile and P columns, not N tables; each file is streamed when written.
 */
import type { Node, OverlayRule } from '../model/model.js';
import type { DesiredFile, NodeGenerator } from '../desired/desired.js';
import type { RenderContext } from '../desired/render-context.js';
import { rulesOfNode } from '../rules/usbkey-lines.js';
import {
  arpTableBytes,
  arpTableChunks,
  arpTableText,
  compileRuleTable,
  indexOfNode,
  underlayColumn,
  type ArpTableText,
  type CompiledRuleTable,
} from './arp-table.js';

export const ARP_TABLE_MODE = 0o400;
export const ARP_TABLE_OWNER = 'netadm';

function compiled(ctx: RenderContext, rule: OverlayRule): CompiledRuleTable {
  return ctx.shared(`files-config:rule:${rule.name}`, () => compileRuleTable(ctx.model, rule));
}

/** With a concrete listen IP every viewer sees the same addresses; else they differ only by PDC. */
function scopeOf(rule: OverlayRule, viewer: Node): string {
  return rule.listenIp !== '0.0.0.0' ? '*' : viewer.pdc;
}

function column(ctx: RenderContext, rule: OverlayRule, viewer: Node): readonly string[] {
  return ctx.shared(`files-config:column:${rule.name}:${scopeOf(rule, viewer)}`, () => underlayColumn(ctx.model, rule, viewer));
}

function tableText(ctx: RenderContext, rule: OverlayRule, viewer: Node): ArpTableText {
  return ctx.shared(`files-config:text:${rule.name}:${scopeOf(rule, viewer)}`, () =>
    arpTableText(compiled(ctx, rule), column(ctx, rule, viewer)),
  );
}

/** Where a rule's ARP table goes and how varpd needs it: the same whoever writes its content. */
function arpTableTarget(rule: OverlayRule): Omit<DesiredFile, 'content'> {
  return { path: rule.filesConfig, mode: ARP_TABLE_MODE, owner: ARP_TABLE_OWNER, group: ARP_TABLE_OWNER, secret: false, refresh: 'varpd' };
}

export function arpTableFile(ctx: RenderContext, rule: OverlayRule, node: Node): DesiredFile {
  const table = compiled(ctx, rule);
  const col = column(ctx, rule, node);
  const viewer = indexOfNode(ctx.model, node);
  return {
    ...arpTableTarget(rule),
    content: () => arpTableChunks(table, col, viewer),
    bytes: () => arpTableBytes(tableText(ctx, rule, node), viewer),
  };
}

/**
 * With `defaults.arp_tables: danube`, Danube's management server writes the
 * tables (esdc-ce api/node/network/tasks.py:74-123; the write itself, with
 * mode 0400, netadm:netadm and the varpd restart, at :107-112); we only create
 * `{}` where one is missing, as Danube's own playbook does
 * (esdc-ce ans/overlays/esdc-overlay.yml:109-117), so varpd can start.
 */
function placeholder(rule: OverlayRule): DesiredFile {
  return {
    ...arpTableTarget(rule),
    content: () => ['{}\n'],
    onlyIfMissing: true,
  };
}

export const filesConfigGenerator: NodeGenerator = (ctx, node) => ({
  files: rulesOfNode(ctx.model, node).map((rule) => (ctx.model.defaults.arpTables === 'danube' ? placeholder(rule) : arpTableFile(ctx, rule, node))),
});

