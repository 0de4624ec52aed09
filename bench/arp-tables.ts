/**
 * ARP-table generation without disk I/O: loads a state (JSON, for speed),
 * builds every node's desired state and drains every files/config table.
 * Separates generation cost from the YAML parser and the file writes that
 * dominate `render`. Usage: npx tsx bench/arp-tables.ts STATE.json
 */
import { readFileSync } from 'node:fs';
import { filesConfigGenerator } from '../src/files-config/generator.js';
import { validateDoc } from '../src/model/load.js';
import { RenderContext } from '../src/plan/render-context.js';

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: npx tsx bench/arp-tables.ts STATE.json\n');
  process.exit(64);
}
const mib = (): number => Math.round(process.memoryUsage().rss / 1048576);
let t = performance.now();
const { model } = validateDoc(JSON.parse(readFileSync(path, 'utf8')), path);
const loadMs = Math.round(performance.now() - t);
t = performance.now();
const ctx = new RenderContext(model);
let files = 0;
let chars = 0;
for (const node of model.nodes) {
  for (const f of filesConfigGenerator(ctx, node).files ?? []) {
    files++;
    for (const chunk of f.content()) chars += chunk.length;
  }
}
const genMs = Math.round(performance.now() - t);
process.stdout.write(
  `${model.nodes.length} nodes, ${model.vnics.length} NICs: load+validate ${loadMs} ms; ` +
    `${files} tables, ${chars} bytes generated in ${genMs} ms; rss ${mib()} MiB\n`,
);
