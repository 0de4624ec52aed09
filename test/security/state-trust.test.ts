/**
 * Issue 15, the state's side of the trust boundary: what whoever can write
 * the state (a YAML file, or ZooKeeper) must not be able to do with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError } from '../../src/errors.js';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import { decodeState } from '../../src/store/cfgdb-layout.js';
import { FIXTURES } from '../support/paths.js';

const twoSites = (): Record<string, any> => {
  const { doc } = loadStateText(readFileSync(join(FIXTURES, 'cfgdb', 'two-sites.yaml'), 'utf8'), 'x');
  return structuredClone(doc) as Record<string, any>;
};
const issuesOf = (f: () => unknown): ValidationError => {
  try {
    f();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
};

describe('nodes.<n>.ssh.root', () => {
  it('is refused in a YAML state, naming the path, whatever the value', () => {
    for (const root of ['/home/mallory/evil', '/']) {
      const doc = twoSites();
      const name = Object.keys(doc.nodes)[0]!;
      doc.nodes[name].ssh = { root };
      const err = issuesOf(() => loadStateText(stringify(doc), 'state.yaml'));
      expect(err.issues).toEqual([{ path: `nodes["${name}"].ssh.root`, message: expect.stringContaining('is not accepted') }]);
    }
  });

  it('is refused when it comes from ZooKeeper (the cfgdb layout keeps nodes as JSON)', () => {
    const doc = twoSites();
    const name = Object.keys(doc.nodes)[0]!;
    const tree = new Map([
      ['esdc_overlay/format', '1'],
      [`esdc_overlay/nodes/${name}`, JSON.stringify({ ...doc.nodes[name], ssh: { root: '/home/mallory/evil' } })],
    ]);
    const decoded = decodeState(tree, (rel) => `/esdc/settings/${rel}`, 'zk').doc;
    const err = issuesOf(() => validateDoc(decoded, 'zk', 'warn'));
    expect(err.issues.map((i) => i.path)).toContain(`nodes["${name}"].ssh.root`);
  });
});
