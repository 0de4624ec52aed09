/**
 * A fleet run makes each desired file's text at most twice per node: once to
 * size the node before it is read (hash first or not), once for the bundle
 * and the plan together (bench/RESULTS.md, "No-op apply: the
 * CLI's per-node work"). Each was a render of a template or an ARP table.
 */
import { describe, expect, it } from 'vitest';
import { BUNDLE_PATH, parseBundle } from '../../src/agent/bundle.js';
import type { NodeGenerator } from '../../src/desired/desired.js';
import { planFleet } from '../../src/operations/fleet.js';
import type { Transport } from '../../src/transport/transport.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

/** A node with nothing on it: every read finds no file, dladm no overlay. */
function emptyNode(node: string): Transport {
  const t = {
    node,
    target: `root@${node}:22`,
    runId: '0123456789ab',
    readFile: async () => undefined,
    stat: async () => undefined,
    list: async () => undefined,
    exec: async () => ({ code: 0, stdout: '', stderr: '' }),
    close: async () => undefined,
  };
  return t as unknown as Transport;
}

describe('desired texts in a fleet run', () => {
  it('are made twice per node and file, not once per reader, and the plan and bundle carry the same text', async () => {
    const calls = new Map<string, number>();
    const counting: NodeGenerator = (_ctx, n) => ({
      files: [
        {
          path: '/opt/custom/networking/net_overlay.json',
          mode: 0o400,
          owner: 'root',
          group: 'root',
          secret: false,
          refresh: 'varpd',
          content: () => {
            calls.set(n.name, (calls.get(n.name) ?? 0) + 1);
            return [`{"node":"${n.name}"}\n`];
          },
        },
      ],
    });
    const model = validModel(threeNodes());
    const fleet = await planFleet(model, undefined, async (n) => emptyNode(n.name), { concurrency: 3, timeoutMs: 1000, generators: [counting], now: () => 1000 });
    expect([...calls.entries()].sort()).toEqual([
      ['a1', 2],
      ['a2', 2],
      ['b1', 2],
    ]);
    const a1 = fleet.nodes.find((r) => r.desired.node === 'a1')!;
    const staged = new Map(a1.work.stage.map((s) => [s.path, s.content.toString()]));
    expect(staged.get('/opt/custom/networking/net_overlay.json')).toBe('{"node":"a1"}\n');
    expect(parseBundle(staged.get(BUNDLE_PATH)!).files.map((f) => f.content)).toEqual(['{"node":"a1"}\n']);
  });
});
