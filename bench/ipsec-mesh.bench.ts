/**
 * How long the IPsec mesh and firewall take for large installations:
 * `keys generate` (pure edit) and rendering every node's IPsec and ipf files
 * (text, not disk). Run: npx tsx bench/ipsec-mesh.bench.ts [nodes...]
 */
import { stringify } from 'yaml';
import { generateMissingKeys } from '../src/ipsec/keys.js';
import { meshPairs } from '../src/ipsec/pairs.js';
import { loadStateText } from '../src/model/load.js';
import type { NodeDoc, StateDoc } from '../src/model/state.js';
import { desiredNode } from '../src/plan/desired-state.js';
import { fileText } from '../src/desired/desired.js';
import { RenderContext } from '../src/desired/render-context.js';

function doc(n: number): StateDoc {
  const nodes: Record<string, NodeDoc> = {};
  for (let i = 0; i < n; i++) {
    nodes[`cn${String(i).padStart(4, '0')}.pdc${i % 3}.example.com`] = {
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      pdc: `pdc${i % 3}`,
      admin_ip: `10.200.${i >> 8}.${i & 255}`,
      external_ip: `10.201.${i >> 8}.${i & 255}`,
    };
  }
  return {
    version: 1,
    nodes,
    overlay_rules: { customers: { port: 4790, nodes: 'all' }, lab: { port: 4791, nodes: 'all' } },
    firewall: { enabled: true, administrator_sources: ['192.0.2.0/24'] },
  };
}

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [30, 100, 300]) {
  const d = doc(n);
  const model = loadStateText(stringify(d), 'bench').model;
  let t = performance.now();
  const { doc: withKeys } = generateMissingKeys(d, model);
  const genMs = performance.now() - t;
  const keyed = loadStateText(stringify(withKeys), 'bench').model;
  t = performance.now();
  const ctx = new RenderContext(keyed);
  let bytes = 0;
  let files = 0;
  for (const node of keyed.nodes) {
    for (const f of desiredNode(ctx, node).files) {
      bytes += fileText(f).length;
      files++;
    }
  }
  const renderMs = performance.now() - t;
  console.log(
    `${n} nodes, ${meshPairs(keyed).length} pairs: keys generate ${genMs.toFixed(0)} ms; ` +
      `render ${files} files (${(bytes / 1e6).toFixed(1)} MB) ${renderMs.toFixed(0)} ms`,
  );
}
