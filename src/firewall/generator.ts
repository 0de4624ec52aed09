/**
 * A node's ipf files (docs/file-formats.md#ipf-files): `ipf.conf-020-overlays` drops plain
 * VXLAN on external0 for every rule on the node (fail closed when IPsec is
 * down), `ipf.conf-090-administration` lets in the administrator sources and
 * every other node's external IP, then blocks the rest when the firewall is
 * enabled. Every node of the model is listed, not only the nodes of the run:
 * Danube's templates used facts of the play's hosts only, so a subset run
 * wrote firewalls that shut out the other nodes (docs/file-formats.md#danube-defects, item 6).
 * Nodes without an external IP get neither file (there is no external0 to
 * protect). Pure.
 */
import type { Model, Node } from '../model/model.js';
import type { Contribution, DesiredFile, NodeGenerator } from '../desired/desired.js';
import type { RenderContext } from '../desired/render-context.js';
import { template } from '../render/template.js';

export const IPF_DIR = '/opt/custom/etc/ipf.d';
export const IPF_OVERLAYS_PATH = `${IPF_DIR}/ipf.conf-020-overlays`;
export const IPF_ADMIN_PATH = `${IPF_DIR}/ipf.conf-090-administration`;

/** The view of ipf.conf-020-overlays. */
export function overlaysView(model: Model, node: Node & { externalIp: string }): object {
  return {
    node: node.name,
    externalIp: node.externalIp,
    rules: model.rules.filter((r) => r.port > 0 && r.nodes.includes(node.name)).map((r) => ({ name: r.name, port: r.port })),
  };
}

/** The view of ipf.conf-090-administration. */
export function administrationView(model: Model, node: Node & { externalIp: string }): object {
  return {
    node: node.name,
    externalIp: node.externalIp,
    enabled: model.firewall.enabled,
    sources: model.firewall.enabled ? [...model.firewall.administratorSources] : [],
    nodes: model.nodes
      .filter((n) => n.name !== node.name && n.externalIp !== undefined)
      .map((n) => ({ name: n.name, externalIp: n.externalIp! })),
  };
}

export function firewallFiles(ctx: RenderContext, node: Node): DesiredFile[] {
  if (node.externalIp === undefined) return [];
  const n = node as Node & { externalIp: string };
  const base = { mode: 0o640, owner: 'root', group: 'root', secret: false, refresh: 'ipf' as const };
  return [
    { ...base, path: IPF_OVERLAYS_PATH, content: () => [template('ipf.conf-020-overlays.hbs')(overlaysView(ctx.model, n))] },
    { ...base, path: IPF_ADMIN_PATH, content: () => [template('ipf.conf-090-administration.hbs')(administrationView(ctx.model, n))] },
  ];
}

export const firewallGenerator: NodeGenerator = (ctx, node): Contribution => ({ files: firewallFiles(ctx, node) });
