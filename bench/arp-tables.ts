/**
 * The ARP-table share of `render`, apart from the other generators (IPsec,
 * firewall) that `render` runs too. Loads a state the way the CLI does
 * (`loadStateText`: YAML parser, shape and consistency checks), then either
 * drains every files/config table without writing it, or, with `--out DIR`,
 * writes the render tree of the rule lines and ARP tables only.
 *
 *   npx tsx bench/arp-tables.ts STATE [--out DIR]
 *
 * Peak RSS: run under `/usr/bin/time -v`.
 */
import { readFileSync } from 'node:fs';
import { filesConfigGenerator } from '../src/files-config/generator.js';
import { loadStateText } from '../src/model/load.js';
import { desiredNode, rulesGenerator } from '../src/plan/desired-state.js';
import { RenderContext } from '../src/desired/render-context.js';
import { writeRenderTree } from '../src/io/write-tree.js';

const [path, flag, outDir] = process.argv.slice(2);
if (path === undefined || (flag !== undefined && (flag !== '--out' || outDir === undefined))) {
  process.stderr.write('usage: npx tsx bench/arp-tables.ts STATE [--out DIR]\n');
  process.exit(64);
}
const mib = (): number => Math.round(process.memoryUsage().rss / 1048576);
let t = performance.now();
const { model } = loadStateText(readFileSync(path, 'utf8'), path);
const loadMs = Math.round(performance.now() - t);
const loadRss = mib();
t = performance.now();
const ctx = new RenderContext(model);
let files = 0;
let bytes = 0;
if (outDir === undefined) {
  for (const node of model.nodes) {
    for (const f of filesConfigGenerator(ctx, node).files ?? []) {
      files++;
      for (const chunk of f.content()) bytes += chunk.length;
    }
  }
} else {
  const generators = [rulesGenerator, filesConfigGenerator];
  const result = await writeRenderTree(outDir, (function* () {
    for (const node of model.nodes) yield desiredNode(ctx, node, generators);
  })(), { force: true });
  files = result.files;
  bytes = result.bytes;
}
const genMs = Math.round(performance.now() - t);
process.stdout.write(
  `${model.nodes.length} nodes, ${model.vnics.length} NICs: load ${loadMs} ms (rss ${loadRss} MiB); ` +
    `${files} files, ${bytes} bytes ${outDir === undefined ? 'generated' : 'written'} in ${genMs} ms; rss ${mib()} MiB\n`,
);
