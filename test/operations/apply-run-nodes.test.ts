/** Which nodes an apply run covers (src/operations/apply-run-nodes.ts): --exclude as given, and what --skip-unreachable may leave out. */
import { describe, expect, it } from 'vitest';
import { NodesFailedError } from '../../src/apply/fleet.js';
import { excludedNames, unreachableToSkip, without } from '../../src/operations/apply-run-nodes.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

describe('the nodes of an apply run', () => {
  it('--exclude takes names and comma-separated lists; blanks are dropped; no option is no list', () => {
    expect(excludedNames(['a1', ' a2 , ,b1', ''])).toEqual(['a1', 'a2', 'b1']);
    expect(excludedNames([])).toEqual([]);
    expect(excludedNames(undefined)).toBeUndefined();
  });

  it('the run is the selection (every node when none) less the nodes left out', () => {
    const model = validModel(threeNodes());
    expect([...without(model, undefined, ['a2'])]).toEqual(['a1', 'b1']);
    expect([...without(model, new Set(['b1', 'a2']), ['a2'])]).toEqual(['b1']);
    expect(without(model, undefined, ['a1', 'a2', 'b1']).size).toBe(0);
  });

  it('--skip-unreachable leaves out nodes that could not be connected to, never for a host key problem or another failure', () => {
    const down = { node: 'b1', code: 'ConnectFailed', message: 'b1: connection refused' };
    const unreachable = new NodesFailedError('could not connect', [down]);
    expect(unreachableToSkip(unreachable, true)).toEqual([down]);
    expect(unreachableToSkip(unreachable, false)).toBeUndefined();
    expect(unreachableToSkip(unreachable, undefined)).toBeUndefined();
    const hostKey = new NodesFailedError('could not connect', [down, { node: 'a1', code: 'HostKeyMismatch', message: 'a1: host key changed' }]);
    expect(unreachableToSkip(hostKey, true)).toBeUndefined();
    expect(unreachableToSkip(new NodesFailedError('could not read', [down]), true)).toBeUndefined();
    expect(unreachableToSkip(new Error('could not connect'), true)).toBeUndefined();
  });
});
