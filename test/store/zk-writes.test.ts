/** Planning a save as ZooKeeper multi operations, pure. */
import { describe, expect, it } from 'vitest';
import { planWrites, type ReadZnode } from '../../src/store/zk-writes.js';

const base = (entries: [string, string, number?][]): Map<string, ReadZnode> =>
  new Map(entries.map(([p, data, version]) => [p, { data, version: version ?? 0 }]));

describe('planWrites', () => {
  it('creates parents first, sets changed leaves with their version, checks unchanged Danube leaves, removes children first', () => {
    const b = base([
      ['overlay_rules', ''],
      ['overlay_rules/old', ''],
      ['overlay_rules/old/port', '4790', 3],
      ['overlay_rules/keep', ''],
      ['overlay_rules/keep/port', '4791', 5],
      ['overlay_rules/keep/rule', 'AAAA', 7],
      ['esdc_overlay', '{}', 9],
      ['esdc_overlay/format', '1', 0],
    ]);
    const desired = new Map([
      ['overlay_rules', ''],
      ['overlay_rules/keep', ''],
      ['overlay_rules/keep/port', '4791'],
      ['overlay_rules/keep/rule', 'BBBB'],
      ['overlay_rules/new', ''],
      ['overlay_rules/new/port', '4792'],
      ['esdc_overlay', ''],
      ['esdc_overlay/format', '1'],
    ]);
    expect(planWrites(b, desired)).toEqual([
      { op: 'create', path: 'overlay_rules/new', data: '' },
      { op: 'create', path: 'overlay_rules/new/port', data: '4792' },
      { op: 'set', path: 'overlay_rules/keep/rule', data: 'BBBB', version: 7 },
      { op: 'check', path: 'overlay_rules/keep/port', version: 5 },
      { op: 'remove', path: 'overlay_rules/old/port', version: 3 },
      { op: 'remove', path: 'overlay_rules/old', version: 0 },
    ]);
  });

  it('never deletes keys it does not know, nor the directories holding them, nor shared containers', () => {
    const b = base([
      ['overlay_rules', ''],
      ['overlay_rules/x', ''],
      ['overlay_rules/x/port', '4790', 1],
      ['overlay_rules/x/comment', 'by hand', 1],
      ['ipsec', ''],
      ['ipsec/psk', ''],
      ['ipsec/psk/a-b', 'k', 2],
    ]);
    expect(planWrites(b, new Map())).toEqual([
      { op: 'remove', path: 'ipsec/psk/a-b', version: 2 },
      { op: 'remove', path: 'overlay_rules/x/port', version: 1 },
    ]);
  });
});
