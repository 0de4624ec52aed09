/**
 * The executor lets go of each file's content once it is staged on its node
 * (issue 22: an apply to 1,000 nodes held every node's files, and the agent
 * bundle carrying them again, until the last commit). The commit needs only
 * paths, so the contents reach the node unchanged and the work item keeps
 * none of them; executing the same work item again is refused rather than
 * staging emptied files.
 */
import { describe, expect, it } from 'vitest';
import { executeWork } from '../../src/apply/execute.js';
import type { NodeWork } from '../../src/plan/plan.js';
import { stagedPath, type Transport } from '../../src/transport/transport.js';
import { stagingWork } from '../support/node-work.js';

/** Just what staging and committing plain files use: an in-memory node. */
function memoryNode(node: string): { t: Transport; files: Map<string, string> } {
  const files = new Map<string, string>();
  const runId = '0123456789ab';
  const t = {
    node,
    target: `root@${node}:22`,
    runId,
    async stage(path: string, content: string | Buffer): Promise<void> {
      files.set(stagedPath(path, runId), content.toString());
    },
    async commit(path: string): Promise<void> {
      const staged = stagedPath(path, runId);
      const text = files.get(staged);
      if (text === undefined) throw new Error(`nothing staged for ${path}`);
      files.delete(staged);
      files.set(path, text);
    },
    async remove(path: string): Promise<void> {
      files.delete(path);
    },
  };
  return { t: t as unknown as Transport, files };
}

function work(node: string, contents: string[]): NodeWork {
  return stagingWork(node, contents.map((content, i) => ({ path: `/opt/custom/esdc-overlay/f${i}`, content, mode: 0o644 })));
}

describe('executeWork and staged contents', () => {
  it('writes each content whole, then keeps no reference to it in the work items', async () => {
    const a = memoryNode('cn1');
    const b = memoryNode('cn2');
    const big = 'x'.repeat(1 << 20);
    const works = [work('cn1', [big, 'small one\n']), work('cn2', ['other\n'])];
    const result = await executeWork(new Map([['cn1', a.t], ['cn2', b.t]]), works, { concurrency: 2, timeoutMs: 1000, nodeLock: false });
    expect(result.ok).toBe(true);
    expect(result.outcomes.map((o) => [o.node, o.status, o.wrote])).toEqual([
      ['cn1', 'applied', 2],
      ['cn2', 'applied', 1],
    ]);
    expect(a.files.get('/opt/custom/esdc-overlay/f0')).toBe(big);
    expect(a.files.get('/opt/custom/esdc-overlay/f1')).toBe('small one\n');
    expect(b.files.get('/opt/custom/esdc-overlay/f0')).toBe('other\n');
    // Paths and modes stay (the commit and the outcome need them); the texts are gone.
    expect(works.flatMap((w) => w.stage.map((f) => [f.path, f.mode, f.content.length]))).toEqual([
      ['/opt/custom/esdc-overlay/f0', 0o644, 0],
      ['/opt/custom/esdc-overlay/f1', 0o644, 0],
      ['/opt/custom/esdc-overlay/f0', 0o644, 0],
    ]);
  });

  it('refuses to execute a work item a second time (its contents are released), staging nothing', async () => {
    const a = memoryNode('cn1');
    const works = [work('cn1', ['first\n'])];
    const transports = new Map([['cn1', a.t]]);
    expect((await executeWork(transports, works, { concurrency: 1, timeoutMs: 1000, nodeLock: false })).ok).toBe(true);
    a.files.clear();
    await expect(executeWork(transports, works, { concurrency: 1, timeoutMs: 1000, nodeLock: false })).rejects.toThrow(
      'the work for cn1 was executed before and its staged contents released; plan again',
    );
    expect([...a.files.keys()]).toEqual([]);
  });
});
