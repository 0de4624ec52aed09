/**
 * A patch worker of the light nodes (light-nodes.ts PatchPool): runs
 * `agent patch-table` for the nodes given to it, each over its own root,
 * in this thread, and answers with the exit status, output and wall time.
 */
import { parentPort } from 'node:worker_threads';
import { patchInProcess } from './light-nodes.js';

parentPort!.on('message', (m: { id: number; node: string; root: string; words: string[] }) => {
  void patchInProcess(m.node, m.root, m.words).then((r) => parentPort!.postMessage({ id: m.id, ...r }));
});
