import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/model/model.js';
import { RootedTransport } from '../../src/transport/rooted-transport.js';
import { sshTargetOf } from '../../src/transport/connect.js';
import type { ExecResult, Transport } from '../../src/transport/transport.js';

const node = (over: Partial<Node> = {}): Node => ({
  name: 'cn05',
  uuid: 'u',
  pdc: 'ams',
  adminIp: '10.102.0.15',
  externalIp: '192.0.2.15',
  underlayMtu: { admin: 1500, external: 1500 },
  ssh: {},
  ...over,
});

describe('the SSH target of a node', () => {
  it('is the admin IP in the head node\'s PDC, or when no head PDC is given; port 22, user root', () => {
    expect(sshTargetOf(node(), 'ams')).toEqual({ host: '10.102.0.15', port: 22, user: 'root' });
    expect(sshTargetOf(node(), undefined).host).toBe('10.102.0.15');
  });
  it('is the external IP in another PDC', () => {
    expect(sshTargetOf(node(), 'prg').host).toBe('192.0.2.15');
  });
  it('is what nodes.<host>.ssh says, field by field', () => {
    expect(sshTargetOf(node({ ssh: { port: 2222, user: 'admin' } }), 'prg')).toEqual({
      host: '192.0.2.15',
      port: 2222,
      user: 'admin',
    });
  });
});

describe('the root prefix of a simulated node', () => {
  const seen: Array<readonly string[]> = [];
  const inner = {
    node: 'n',
    target: 't',
    exec: async (argv: readonly string[]): Promise<ExecResult> => {
      seen.push(argv);
      return { code: 0, stdout: '', stderr: '' };
    },
  } as unknown as Transport;
  const t = new RootedTransport(inner, '/sim/n1/root');

  it('maps node paths under the root, and never above it', () => {
    expect(t.map('/usbkey/config')).toBe('/sim/n1/root/usbkey/config');
    expect(t.map('/../../etc/passwd')).toBe('/sim/n1/root/etc/passwd');
  });
  it('runs absolute commands under the root and finds bare ones on the root\'s PATH', async () => {
    await t.exec(['/lib/svc/method/net-virtual', 'refresh'], 1000);
    await t.exec(['svcadm', 'restart', 'network/varpd'], 1000);
    expect(seen[0]!.slice(3)).toEqual(['/sim/n1/root/lib/svc/method/net-virtual', 'refresh']);
    expect(seen[1]![0]).toBe('env');
    expect(seen[1]![1]).toMatch(/^PATH=\/sim\/n1\/root\/usr\/sbin:\/sim\/n1\/root\/usr\/bin:/);
    expect(seen[1]!.slice(3)).toEqual(['svcadm', 'restart', 'network/varpd']);
  });
});
