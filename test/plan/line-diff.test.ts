import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../src/plan/line-diff.js';

describe('the short diff of a plan', () => {
  it('is empty for equal texts', () => {
    expect(lineDiff('a\nb\n', 'a\nb\n')).toEqual([]);
  });
  it('shows a changed line as - old, + new with two lines of context', () => {
    const a = ['{', '  "m1": {', '    "arp": "10.0.0.1",', '    "ip": "10.1.0.1",', '    "port": 4790', '  }', '}'].join('\n');
    const b = a.replace('10.1.0.1', '10.1.0.2');
    expect(lineDiff(a, b)).toEqual(['@@ line 2', '   "m1": {', '     "arp": "10.0.0.1",', '-    "ip": "10.1.0.1",', '+    "ip": "10.1.0.2",', '     "port": 4790', '   }']);
  });
  it('aligns insertions and deletions in the middle', () => {
    expect(lineDiff('a\nb\nc\nd\n', 'a\nc\nx\nd\n', { context: 0 })).toEqual(['@@ line 2', '-b', '@@ line 3', '+x']);
  });
  it('cuts long diffs and says how much is left', () => {
    const a = Array.from({ length: 100 }, (_, i) => `l${i}`).join('\n');
    const b = Array.from({ length: 100 }, (_, i) => `m${i}`).join('\n');
    const d = lineDiff(a, b, { maxLines: 10 });
    expect(d).toHaveLength(11);
    expect(d[10]).toBe('... 191 more changed line(s)');
  });
});
