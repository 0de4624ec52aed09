/**
 * One simulated node root (test/harness) with a bundle made from the
 * harness's state, the way apply makes it: for agent tests that need no sshd.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildBundle, BUNDLE_PATH } from '../../src/agent/bundle.js';
import { validateDoc } from '../../src/model/load.js';
import type { StateDoc } from '../../src/model/state.js';
import { desiredNode, GENERATORS } from '../../src/plan/desired-state.js';
import { RenderContext } from '../../src/desired/render-context.js';
import { simFacts, simState, simVms, writeNodeRoot, writeSimRoots } from '../harness/sim-cluster.js';

export interface AgentSim {
  root: string;
  /** ESDC_OVERLAY_SIM_ROOTS naming a file that gives the agent this root (the harness's seam, never the config file). */
  env: Record<string, string>;
  node: string;
  doc: StateDoc;
  /** The bundle text for a state (default the harness's), as apply would stage it. */
  bundleFor(doc: StateDoc, previous?: string, nowMs?: number): string;
  writeBundle(text: string): Promise<void>;
}

/** Node 1 of a 3-node simulated cluster, laid out under `dir/root`. */
export async function agentSim(dir: string): Promise<AgentSim> {
  const facts = [0, 1, 2].map((i) => simFacts(i, 3));
  const root = join(dir, 'root');
  await writeNodeRoot(root, facts[0]!, simVms(0, [0, 2]));
  const doc = simState(facts, facts.map(() => ({ port: 22, user: 'root' })));
  const node = facts[0]!.hostname;
  const bundleFor = (d: StateDoc, previous?: string, nowMs = Date.now()): string => {
    const model = validateDoc(d, 'sim').model;
    const ctx = new RenderContext(model);
    const desired = desiredNode(ctx, model.nodeByName.get(node)!, GENERATORS);
    return buildBundle(desired, model.nodeByName.get(node)!.pdc, previous, nowMs);
  };
  const writeBundle = async (text: string): Promise<void> => {
    const path = join(root, BUNDLE_PATH);
    await mkdir(dirname(path), { recursive: true });
    await chmod(path, 0o600).catch(() => undefined);
    await writeFile(path, text, { mode: 0o400 });
    await chmod(path, 0o400);
  };
  const env = { ESDC_OVERLAY_SIM_ROOTS: await writeSimRoots(dir, { local: root }) };
  return { root, env, node, doc, bundleFor, writeBundle };
}
