/**
 * A render worker thread (src/cli/render-threads.ts): builds the model from
 * the validated document it is given, renders its share of the nodes into
 * the tree's temporary directory, and reports each node, then what it wrote
 * and the warnings it found.
 */
import { parentPort } from 'node:worker_threads';
import { RenderContext, type RenderOptions } from '../desired/render-context.js';
import { buildModel } from '../model/build-model.js';
import { desiredNodes } from '../plan/desired-state.js';
import { renderNodeTrees, writeNodesInto, type NodeTree } from '../io/write-tree.js';
import { failedMessage, type RenderPartMessage, type RenderPartRequest } from './render-threads.js';

function post(m: RenderPartMessage): void {
  parentPort!.postMessage(m);
}

function* reported(trees: Iterable<NodeTree>): Generator<NodeTree> {
  let last: string | undefined;
  for (const t of trees) {
    if (last !== undefined) post({ kind: 'node', node: last });
    yield t;
    last = t.node;
  }
  if (last !== undefined) post({ kind: 'node', node: last });
}

/** A structured clone turns a Buffer into a plain Uint8Array. */
function buffer(b: Uint8Array | undefined): Buffer | undefined {
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

parentPort!.once('message', (req: RenderPartRequest) => {
  try {
    // The main thread validated this very document before sending it (validateDoc): only the model is built again.
    const model = buildModel(req.doc);
    const options: RenderOptions = {};
    const keySecret = buffer(req.keySecret);
    const randomSecret = buffer(req.randomSecret);
    if (keySecret !== undefined) options.keySecret = keySecret;
    if (randomSecret !== undefined) options.randomSecret = randomSecret;
    const rctx = new RenderContext(model, options);
    const result = writeNodesInto(req.tmp, reported(renderNodeTrees(desiredNodes(rctx, new Set(req.nodes)))));
    post({ kind: 'done', result, warnings: rctx.warnings });
  } catch (err) {
    post(failedMessage(err));
  }
  // One request per worker: its port closes, and the thread ends.
  parentPort!.close();
});
