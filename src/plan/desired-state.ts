/**
 * Model → DesiredNode for every node. Each concern (rules, ARP tables, IPsec,
 * firewall) is a generator that contributes lines, files and overlays; this
 * module only assembles them in a stable order. Pure.
 */
import { InternalError } from '../errors.js';
import { filesConfigGenerator } from '../files-config/generator.js';
import { firewallGenerator } from '../firewall/generator.js';
import { ipsecGenerator } from '../ipsec/generator.js';
import type { Node } from '../model/model.js';
import { byCodePoint } from '../model/model.js';
import { mtuCheckGenerator } from '../mtu/mtu-warnings.js';
import { overlaysOfNode } from '../rules/overlays.js';
import { usbkeyLinesOf } from '../rules/usbkey-lines.js';
import type { DesiredFile, DesiredNode, NodeGenerator, OverlayLink, UsbkeyLine } from '../desired/desired.js';
import type { RenderContext } from '../desired/render-context.js';

/** /usbkey/config lines and the overlay links: the foundation's share. */
export const rulesGenerator: NodeGenerator = (ctx, node) => ({
  usbkey: usbkeyLinesOf(ctx.model, node),
  overlays: overlaysOfNode(ctx.model, node),
});

/** Every generator, in the order their contributions are concatenated. */
export const GENERATORS: readonly NodeGenerator[] = [
  rulesGenerator,
  ipsecGenerator,
  firewallGenerator,
  filesConfigGenerator,
  mtuCheckGenerator,
];

export function desiredNode(ctx: RenderContext, node: Node, generators: readonly NodeGenerator[] = GENERATORS): DesiredNode {
  const usbkey: UsbkeyLine[] = [];
  const files: DesiredFile[] = [];
  const overlays: OverlayLink[] = [];
  for (const gen of generators) {
    const c = gen(ctx, node);
    usbkey.push(...(c.usbkey ?? []));
    files.push(...(c.files ?? []));
    overlays.push(...(c.overlays ?? []));
  }
  files.sort((a, b) => byCodePoint(a.path, b.path));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.path === files[i - 1]!.path) {
      throw new InternalError(`two generators produce ${files[i]!.path} for ${node.name}`);
    }
  }
  overlays.sort((a, b) => byCodePoint(a.link, b.link));
  return { node: node.name, usbkey, overlays, files };
}

/** Desired state of every node, lazily, in node-name order: callers can stream node by node. */
export function* desiredNodes(ctx: RenderContext, only?: ReadonlySet<string>): Generator<DesiredNode> {
  for (const node of ctx.model.nodes) {
    if (only && !only.has(node.name)) continue;
    yield desiredNode(ctx, node);
  }
}
