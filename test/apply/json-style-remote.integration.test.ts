/**
 * The --json key style (src/cli/json-style.ts) of the commands that reach
 * nodes, on simulated nodes: snake_case keys and octal-string modes, the
 * offline commands' twin (test/cli/json-style-audit.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runBuiltCli } from '../support/cli.js';
import { jsonStyleOffences } from '../support/json-style.js';

let c: SimCluster;
useSimCluster({ count: 2 }, (started) => (c = started));

describe('--json key style of the remote commands', () => {
  it('nodes discover, plan, apply, verify, agent status --all, agent deploy, nodes remove --wipe --dry-run', () => {
    const [a] = c.nodes.map((n) => n.name) as [string, string];
    const runs = [
      ['nodes', 'discover', a, '--dry-run'],
      ['plan'],
      ['apply', '--yes'],
      ['verify'],
      ['agent', 'status', '--all'],
      ['agent', 'deploy', '--yes'],
      ['nodes', 'remove', a, '--wipe', '--dry-run', '--force'],
    ];
    const problems: string[] = [];
    for (const argv of runs) {
      const r = runBuiltCli([...argv, '--json'], c.env);
      const name = argv.slice(0, 2).join(' ');
      if (r.status !== 0 && r.status !== 2) {
        problems.push(`${name}: exit ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
        continue;
      }
      problems.push(...jsonStyleOffences(JSON.parse(r.stdout)).map((o) => `${name}: ${o}`));
    }
    expect(problems).toEqual([]);
  });
});
