/** Waiting for a restarted service (issue 16, defect 6): bounded, and the error names node and service. */
import { describe, expect, it } from 'vitest';
import { awaitOnline } from '../../src/apply/await-online.js';
import { TransportError, type ExecResult, type Transport } from '../../src/transport/transport.js';

function fakeNode(answers: string[]): { t: Transport; calls: string[][] } {
  const calls: string[][] = [];
  const t = {
    node: 'cn01',
    target: 'root@cn01:22',
    exec: async (argv: readonly string[]): Promise<ExecResult> => {
      calls.push([...argv]);
      const stdout = answers.length > 1 ? answers.shift()! : answers[0]!;
      return { code: 0, stdout, stderr: '' } as ExecResult;
    },
  } as unknown as Transport;
  return { t, calls };
}

describe('awaitOnline', () => {
  it('asks svcs until the instance is online with nothing pending', async () => {
    const { t, calls } = fakeNode(['offline        online\n', 'online         online\n', 'online         -\n']);
    await awaitOnline(t, 'svc:/network/varpd:default', { timeoutMs: 1000, boundMs: 5000, intervalMs: 1 });
    expect(calls).toEqual(Array(3).fill(['svcs', '-H', '-o', 'state,nstate', 'svc:/network/varpd:default']));
  });

  it('gives up after its bound, naming the node, the service and the last state', async () => {
    const { t } = fakeNode(['offline        online\n']);
    const err = await awaitOnline(t, 'svc:/network/varpd:default', { timeoutMs: 1000, boundMs: 50, intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toBe('cn01: service svc:/network/varpd:default is not online 0.05 s after its restart (state, next state: offline online)');
  });

  it('fails at once on maintenance', async () => {
    const { t, calls } = fakeNode(['maintenance    -\n']);
    await expect(awaitOnline(t, 'svc:/network/varpd:default', { timeoutMs: 1000, boundMs: 60_000, intervalMs: 1 })).rejects.toThrow(/cn01: service svc:\/network\/varpd:default is maintenance/);
    expect(calls).toHaveLength(1);
  });
});
