/**
 * Hostile input never reaches a node. Rule names, hostnames, node lists,
 * firewall sources, `node=ip` lists and files/config paths carrying shell
 * metacharacters, quotes, newlines, `..` or paths outside /opt/custom/ are
 * refused by validation and leave the state byte-identical; a state edited
 * by hand to carry them is refused before any node is contacted. Then a
 * real apply runs, and every command the simulated nodes recorded, every
 * SFTP operation sshd logged and every file on the nodes is searched for
 * the marker each hostile input carries: none is there.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

const MARK = 'PWNED';

let c: SimCluster;
useSimCluster({ count: 3 }, (started) => (c = started));

/** Every text a node holds about what it was told: recorded calls, sshd's log, its files. */
async function everythingOnNodes(): Promise<string> {
  const parts: string[] = [];
  for (const n of c.nodes) {
    parts.push(JSON.stringify(await n.calls()));
    parts.push(await readFile(join(n.dir, 'sshd.log'), 'utf8'));
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        parts.push(p);
        if (e.isDirectory()) await walk(p);
        else parts.push(await readFile(p, 'utf8'));
      }
    };
    await walk(n.root);
  }
  return parts.join('\n');
}

const n1 = 'cn01.sim.test';
const HOSTILE: Array<[string, string[]]> = [
  ['rule name with ;', ['create', `x;touch ${MARK}`, 'all']],
  ['rule name with $()', ['create', `x$(touch ${MARK})`, 'all']],
  ['rule name with a newline', ['create', `x\ntouch ${MARK}`, 'all']],
  ['rule name with quotes', ['create', `x'"${MARK}`, 'all']],
  ['node list with ;', ['create', 'good', `${n1};touch ${MARK}`]],
  ['node list with a backquote', ['create', 'good', `${n1},\`${MARK}\``]],
  ['node list with ..', ['create', 'good', `../${MARK}`]],
  ['raw rule with a newline', ['create', 'good', 'all', `-e vxlan -p vxlan/listen_port=4795\nx=${MARK}`]],
  ['raw rule with ;', ['create', 'good', 'all', `-e vxlan -p mtu=1400;touch ${MARK}`]],
  ['files/config outside /opt/custom', ['create', 'good', 'all', `-e vxlan -p files/config=/etc/${MARK}`]],
  ['files/config escaping by ..', ['create', 'good', 'all', `-e vxlan -p files/config=/opt/custom/../../etc/${MARK}`]],
  ['files/config relative', ['create', 'good', 'all', `-e vxlan -p files/config=opt/custom/${MARK}`]],
  ['files/config with a space', ['create', 'good', 'all', `-e vxlan -p files/config=/opt/custom/a ${MARK}`]],
  ['update with a hostile node list', ['update', 'customers', `${n1}|${MARK}`]],
  ['firewall source with ;', ['globally-enable-firewall', `192.0.2.1;touch ${MARK}`]],
  ['firewall source with a newline', ['globally-enable-firewall', `192.0.2.0/24\npass in all ${MARK}`]],
  ['firewall source with a host name', ['globally-update-firewall', `${MARK}.example.com`]],
  ['node=ip list with $()', ['adminoverlay-update', `${n1}=10.200.250.40$(touch ${MARK})`]],
  ['node=ip list with a hostile node', ['adminoverlay-update', `${n1};${MARK}=10.200.250.41`]],
  ['apply to a hostile node name', ['apply', '--yes', `${n1};touch ${MARK}`]],
  ['plan of a node name with ..', ['plan', `../../${MARK}`]],
];

describe('hostile arguments are refused and change nothing', () => {
  for (const [what, argv] of HOSTILE) {
    it(what, async () => {
      const before = await readFile(c.statePath, 'utf8');
      const r = await cli([...argv, '--json'], c.env);
      expect(r.status, r.stdout + r.stderr).not.toBe(0);
      const err = JSON.parse(r.stdout).error as { code: string; message: string };
      // A name that is not in the state is refused as such (exit 1, with the closest names).
      expect(['ValidationError', 'UsageError', 'UnknownNode'], err.message).toContain(err.code);
      expect(await readFile(c.statePath, 'utf8')).toBe(before);
    });
  }
});

describe('a state edited by hand to carry hostile values', () => {
  const edits: Array<[string, (doc: Record<string, any>) => void]> = [
    ['a rule name', (d) => (d.overlay_rules[`x;${MARK}`] = { port: 4799, nodes: 'all' })],
    ['a node name', (d) => (d.nodes[`cn09$(${MARK})`] = structuredClone(d.nodes[n1]))],
    ['an SSH user', (d) => (d.nodes[n1].ssh.user = `root;${MARK}`)],
    ['a files_config path', (d) => (d.overlay_rules.customers.files_config = `/opt/custom/../../${MARK}`)],
    ['a firewall source', (d) => (d.firewall = { enabled: true, administrator_sources: [`192.0.2.1;${MARK}`] })],
  ];
  for (const [what, edit] of edits) {
    it(`${what}: apply refuses before contacting any node`, async () => {
      const good = await readFile(c.statePath, 'utf8');
      for (const n of c.nodes) await n.clearCalls();
      const logs = await Promise.all(c.nodes.map((n) => readFile(join(n.dir, 'sshd.log'), 'utf8')));
      const doc = parse(good) as Record<string, any>;
      edit(doc);
      await writeFile(c.statePath, stringify(doc), { mode: 0o600 });
      try {
        const r = await cli(['apply', '--yes', '--json'], c.env);
        expect(r.status).toBe(1);
        expect(JSON.parse(r.stdout).error.code).toBe('ValidationError');
        expect(r.stdout).toContain(MARK);
        for (const [i, n] of c.nodes.entries()) {
          expect(await n.calls()).toEqual([]);
          // No connection was even opened.
          expect(await readFile(join(n.dir, 'sshd.log'), 'utf8')).toBe(logs[i]);
        }
      } finally {
        await writeFile(c.statePath, good, { mode: 0o600 });
      }
    });
  }
});

describe('what the nodes received', () => {
  it('after all of the above and a real apply, no node holds or ran anything hostile', async () => {
    const r = await cli(['apply', '--yes'], c.env);
    expect(r.status, r.stderr).toBe(0);
    const seen = await everythingOnNodes();
    // The apply did reach them: commands ran and files were written.
    expect(seen).toContain('net-virtual');
    expect(seen).toContain('overlay_rule_customers=');
    expect(seen).not.toContain(MARK);
    expect((await readFile(c.statePath, 'utf8')).includes(MARK)).toBe(false);
  });
});
