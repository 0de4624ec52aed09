/**
 * How long `mtuReport` takes for 1000 nodes in 4 PDCs with 20 rules on all
 * nodes. Run: npx tsx bench/mtu-report.bench.ts
 */
import { validateDoc } from '../src/model/load.js';
import type { StateDoc } from '../src/model/state.js';
import { mtuReport } from '../src/mtu/rule-mtu.js';

const N = Number(process.argv[2] ?? 1000);
const RULES = 20;
const names = Array.from({ length: N }, (_, i) => `cn${String(i).padStart(4, '0')}.example.com`);
const doc: StateDoc = {
  version: 1,
  defaults: { underlay_mtu: 1500, ipsec: { encr: 'aes-cbc', auth: 'sha512' } },
  nodes: Object.fromEntries(
    names.map((n, i) => [
      n,
      {
        uuid: `564d1a2b-0000-4a6e-9c1e-${String(i).padStart(12, '0')}`,
        pdc: `pdc${i % 4}`,
        admin_ip: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        external_ip: `198.51.${(i >> 8) & 255}.${i & 255}`,
        underlay_mtu: { admin: i % 7 === 0 ? 1500 : 9000, external: 1500 },
      },
    ]),
  ),
  overlay_rules: Object.fromEntries(Array.from({ length: RULES }, (_, r) => [`rule${String.fromCharCode(97 + r)}`, { port: 4790 + r, nodes: 'all' as const, mtu: 1400 }])),
};
const { model } = validateDoc(doc, 'bench', 'warn');
for (let i = 0; i < 3; i++) mtuReport(model); // warm up
const runs = 20;
const t0 = performance.now();
for (let i = 0; i < runs; i++) mtuReport(model);
const ms = (performance.now() - t0) / runs;
console.log(`mtuReport: ${N} nodes, ${RULES} rules on all nodes: ${ms.toFixed(2)} ms per report (${(ms / RULES).toFixed(3)} ms per rule)`);
