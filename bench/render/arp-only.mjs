/**
 * "ARP tables only" side of bench/render: the same work the Python baseline
 * does, done by our code. Loads the state like the CLI (`loadStateText`:
 * JSON fast path, shape and consistency checks), runs only the files/config
 * generator, and writes its files with the render's own writer (`writeTree`:
 * sibling temp dir, renamed into place). Imports the built code (`npm run build`).
 *
 *   node bench/render/arp-only.mjs STATE OUT_DIR
 *
 * Prints one JSON line: files, bytes, load and write milliseconds.
 */
import { readFileSync } from 'node:fs';
import { filesConfigGenerator } from '../../dist/src/files-config/generator.js';
import { loadStateText } from '../../dist/src/model/load.js';
import { RenderContext } from '../../dist/src/desired/render-context.js';
import { writeTree } from '../../dist/src/io/write-tree.js';

const [state, out] = process.argv.slice(2);
if (state === undefined || out === undefined) {
  process.stderr.write('usage: node bench/render/arp-only.mjs STATE OUT_DIR\n');
  process.exit(64);
}
const t0 = performance.now();
const { model } = loadStateText(readFileSync(state, 'utf8'), state);
const t1 = performance.now();
const ctx = new RenderContext(model);
function* trees() {
  for (const node of model.nodes) {
    const files = (filesConfigGenerator(ctx, node).files ?? []).map((f) => ({
      path: f.path.replace(/^\/+/, ''),
      mode: f.mode,
      content: f.content,
    }));
    yield { node: node.name, files };
  }
}
const r = await writeTree(out, trees(), { force: true });
const t2 = performance.now();
process.stdout.write(JSON.stringify({ files: r.files, bytes: r.bytes, loadMs: Math.round(t1 - t0), writeMs: Math.round(t2 - t1) }) + '\n');
