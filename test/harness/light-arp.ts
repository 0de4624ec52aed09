/**
 * ARP tables on light simulated nodes (light-nodes.ts) without an apply: a
 * state of one rule over every node with `nics` VM NICs, each node's table
 * and a bundle listing it laid out as apply leaves them, and the agent's
 * bundle file present so the node's Node runs `agent patch-table`. For the
 * daemon's table writes (test/daemon/arp-delta.integration.test.ts,
 * bench/daemon/arp-delta.ts).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildBundle, BUNDLE_PATH } from '../../src/agent/bundle.js';
import { AGENT_LAYOUT } from '../../src/agent/layout.js';
import { remoteFrom } from '../../src/cli/remote.js';
import { fileText } from '../../src/desired/desired.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { arpTableFile } from '../../src/files-config/generator.js';
import { validateDoc } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import type { StateDoc } from '../../src/model/state.js';
import type { Transport } from '../../src/transport/transport.js';
import { lightNodesDoc, type LightCluster } from './light-nodes.js';
import type { SimNodeFacts } from './sim-cluster.js';

export const RULE = 'customers';

/** NIC i's MAC: 52:54:<i in 4 bytes>. */
export function nicMac(i: number): string {
  const h = i.toString(16).padStart(8, '0');
  return `52:54:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}`;
}

/** One rule on every node, `nics` NICs round-robin over the nodes. */
export function arpDoc(c: LightCluster, facts: (i: number, count: number) => SimNodeFacts, nics: number): StateDoc {
  return {
    version: 1,
    nodes: lightNodesDoc(c, facts),
    overlay_rules: { [RULE]: { port: 4790, nodes: 'all', mtu: 1388 } },
    vnics: Array.from({ length: nics }, (_, i) => ({
      node: c.nodes[i % c.nodes.length]!.name,
      mac: nicMac(i),
      ip: `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      nic_tag: `${RULE}/1000`,
    })),
  };
}

export function modelOf(doc: StateDoc): Model {
  return validateDoc(structuredClone(doc), 'light-arp', 'warn').model;
}

/** The same state with NIC `index` moved to node `to`. */
export function moved(doc: StateDoc, index: number, to: string): StateDoc {
  const next = structuredClone(doc);
  next.vnics![index] = { ...next.vnics![index]!, node: to };
  return next;
}

/** Each node's table as `model` renders it, a bundle listing it, the agent's bundle file, services online at once. */
export async function seedTables(c: LightCluster, model: Model, opts: { agent?: boolean } = {}): Promise<void> {
  const ctx = new RenderContext(model);
  const rule = model.rules.find((r) => r.name === RULE)!;
  for (const n of c.nodes) {
    const node = model.nodeByName.get(n.name)!;
    const file = arpTableFile(ctx, rule, node);
    await put(join(n.root, file.path), fileText(file), 0o400);
    const bundle = buildBundle({ node: n.name, files: [file], usbkey: [], overlays: [] }, node.pdc, undefined, Date.now());
    await put(join(n.root, BUNDLE_PATH), bundle, 0o400);
    if (opts.agent !== false) await put(join(n.root, AGENT_LAYOUT.smartos.cli), '// the agent bundle (light nodes run its patch-table in process)\n', 0o644);
    await writeFile(join(n.root, 'var/sim/svc-delay-ms'), '0\n');
  }
}

async function put(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await chmod(path, 0o600).catch(() => undefined);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
}

/** One production SSH transport per node, as the daemon's links hold them. */
export async function lightTransports(c: LightCluster, model: Model): Promise<Map<string, Transport>> {
  const remote = await remoteFrom({ connectTimeout: 30 }, { ...process.env, ...c.env });
  const out = new Map<string, Transport>();
  await Promise.all(model.nodes.map(async (n) => out.set(n.name, await remote.open(n))));
  return out;
}
