/**
 * ZooKeeper store timings against a real local ZooKeeper (Debian's 3.8):
 * the first save of a whole state (what `store migrate` does), a load, a
 * save that changes nothing, and a save that changes one rule.
 * Run: npx tsx bench/zk-store.ts   (results: bench/zk-store.md)
 */
import { randomUUID } from 'node:crypto';
import { validateDoc } from '../src/model/load.js';
import type { StateDoc } from '../src/model/state.js';
import { ZkStore } from '../src/store/zk-store.js';
import { startZooKeeper } from '../test/support/zk-server.js';

function state(nodes: number, nicsPerNode: number): StateDoc {
  const doc: StateDoc = { version: 1, nodes: {}, overlay_rules: {}, vnics: [] };
  for (let r = 0; r < 10; r++) doc.overlay_rules![`rule${String.fromCharCode(97 + r)}x`] = { port: 4790 + r, nodes: 'all', mtu: 1400 };
  for (let i = 0; i < nodes; i++) {
    const name = `cn${String(i).padStart(4, '0')}.dc${i % 4}.example.com`;
    doc.nodes![name] = {
      uuid: `564d1a2b-0000-4000-8000-${String(i).padStart(12, '0')}`,
      pdc: 'prg',
      admin_ip: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
    };
    for (let j = 0; j < nicsPerNode; j++) {
      const n = i * nicsPerNode + j;
      const hex = n.toString(16).padStart(6, '0');
      doc.vnics!.push({
        vm: `0b1e0000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        node: name,
        mac: `52:54:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`,
        ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        nic_tag: `rule${String.fromCharCode(97 + (n % 10))}x/${1000 + (n % 10)}`,
      });
    }
  }
  return doc;
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t) / 1e6];
}

const zk = await startZooKeeper();
try {
  console.log('| nodes | VM NICs | znodes written | first save ms | load ms | no-op save ms | one-rule save ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [nodes, per] of [[50, 10], [200, 10], [1000, 4], [2000, 2]] as const) {
    const doc = state(nodes, per);
    validateDoc(doc, 'bench');
    const store = new ZkStore({ hosts: zk.hosts, root: `/bench-${randomUUID().slice(0, 8)}/esdc/settings` }, { timeoutMs: 30_000, insecure: true });
    const empty = await store.loadOrEmpty();
    let first: string;
    try {
      const [, ms] = await time(() => store.save(doc, empty));
      first = ms.toFixed(0);
    } catch (err) {
      console.log(`| ${nodes} | ${nodes * per} | - | ${(err as Error).message.slice(0, 120)} | | | |`);
      continue;
    }
    const [snap, loadMs] = await time(() => store.load());
    const [, noopMs] = await time(() => store.save(snap.doc, snap));
    const changed = structuredClone(snap.doc);
    changed.overlay_rules!.ruleax!.mtu = 1300;
    const snap2 = await store.load();
    const [, oneMs] = await time(() => store.save(changed, snap2));
    const znodes = nodes * 2 + 10 * 4 + 3;
    console.log(`| ${nodes} | ${nodes * per} | ~${znodes} | ${first} | ${loadMs.toFixed(0)} | ${noopMs.toFixed(0)} | ${oneMs.toFixed(0)} |`);
  }
} finally {
  await zk.dispose();
}
