/** The daemon's small pure parts: line splitting, backoff, node facts, the service definition. */
import { describe, expect, it } from 'vitest';
import { factsDiffer } from '../../src/daemon/daemon.js';
import { renderDaemonService } from '../../src/daemon/install.js';
import { backoffDelay } from '../../src/daemon/node-link.js';
import { emptyDaemonStatus, renderDaemonStatus } from '../../src/daemon/status.js';
import { LineSplitter } from '../../src/transport/transport.js';
import { threeNodes, validModel } from '../support/state-fixtures.js';

describe('LineSplitter', () => {
  it('joins lines across chunks, drops a trailing CR, keeps an unfinished line for later', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 100);
    s.push('{"a":');
    s.push('1}\r\n{"b"');
    expect(lines).toEqual(['{"a":1}']);
    s.push(':2}\n\n');
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '']);
  });

  it('cuts an overlong line at max + 1 (so its parser refuses it) and skips the rest of it', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 5);
    s.push('0123456789');
    s.push('abc\nok\n');
    expect(lines).toEqual(['012345', 'ok']);
  });
});

describe('backoff', () => {
  it('doubles from the minimum up to the maximum, with up to half of it random', () => {
    const b = { minMs: 1000, maxMs: 30_000 };
    expect(backoffDelay(1, b, () => 0)).toBe(500);
    expect(backoffDelay(1, b, () => 1)).toBe(1000);
    expect(backoffDelay(3, b, () => 1)).toBe(4000);
    expect(backoffDelay(20, b, () => 1)).toBe(30_000);
    expect(backoffDelay(20, b, () => 0)).toBe(15_000);
  });
});

describe('node facts', () => {
  it('names each fact sysinfo gives that the state does not', () => {
    const model = validModel(threeNodes());
    const a1 = model.nodeByName.get('a1')!;
    const facts = { hostname: 'a1', uuid: a1.uuid, pdc: 'b', adminIp: '10.100.0.9', externalIp: '198.51.100.1', mtu: {}, overlayRules: {}, overlays: [] };
    expect(factsDiffer(a1, facts)).toEqual(['pdc: state a, node b', 'admin_ip: state 10.100.0.1, node 10.100.0.9']);
  });
});

describe('daemon install and status', () => {
  const view = { node: '/usr/node/bin/node', cli: '/opt/esdc-overlay/dist/esdc-overlay.js', storeOption: '--state' as const, store: '/opt/erigones/var/esdc-overlay/state.yaml', status: '/var/run/daemon-status.json', out: '/opt/custom/smf/esdc-overlay-daemon.xml' };
  it('renders the SMF manifest and the systemd unit with the daemon command', () => {
    expect(renderDaemonService('smartos', view)).toContain('exec="/usr/node/bin/node /opt/esdc-overlay/dist/esdc-overlay.js daemon --state /opt/erigones/var/esdc-overlay/state.yaml --status /var/run/daemon-status.json --log-level info --log-format json &amp;"');
    expect(renderDaemonService('linux', { ...view, storeOption: '--store', store: 'zk://10.0.0.1:2181,10.0.0.2:2181/esdc' })).toContain('daemon --store zk://10.0.0.1:2181,10.0.0.2:2181/esdc --status');
    expect(renderDaemonService('linux', { ...view, storeOption: '--store', store: 'zk://10.0.0.1:2181/esdc', zkAuthFile: '/opt/erigones/etc/zk-auth' })).toContain(
      'daemon --store zk://10.0.0.1:2181/esdc --zk-auth-file /opt/erigones/etc/zk-auth --status',
    );
  });
  it('refuses a store URL with credentials, or a path with shell characters', () => {
    expect(() => renderDaemonService('linux', { ...view, storeOption: '--store', store: 'zk://user:pw@10.0.0.1:2181/esdc' })).toThrow(/without credentials/);
    expect(() => renderDaemonService('linux', { ...view, status: '/tmp/x;rm -rf /' })).toThrow(/status path/);
  });
  it('status shows a disconnected node with its time and error, MACs in migration and conflict', () => {
    const s = emptyDaemonStatus();
    s.nodes.cn01 = { state: 'disconnected', since: '2026-11-30T21:00:00.000Z', last_resync: null, last_error: 'connection lost', counters: { events: 0, malformed: 2, unknown: 0, connects: 1, failures: 1 } };
    s.migrating = [{ mac: '52:54:00:aa:00:01', vm: 'v', nodes: ['cn01', 'cn02'], owner: 'cn02' }];
    s.conflicts = [{ mac: '52:54:00:aa:00:02', claims: ['vm a on cn01', 'vm b on cn02'], kept: 'cn01' }];
    const text = renderDaemonStatus(s, () => true);
    expect(text).toContain('cn01: disconnected since 2026-11-30T21:00:00.000Z; last resync never; events 0, malformed 2, unknown 0; connection lost');
    expect(text).toContain('52:54:00:aa:00:01 vm v on cn01, cn02; owner cn02');
    expect(text).toContain('52:54:00:aa:00:02: vm a on cn01; vm b on cn02; state keeps cn01');
  });
  it('status of a standby daemon names the leader and says it writes nothing', () => {
    const s = { ...emptyDaemonStatus(), state: 'standby' as const, pid: 4242, leader: 'process 17 on head-2 since 2026-12-01T05:00:00.000Z' };
    expect(renderDaemonStatus(s, () => true).split('\n')[0]).toBe(
      'state:       standby (pid 4242); process 17 on head-2 since 2026-12-01T05:00:00.000Z leads, this one writes nothing until it can lead',
    );
    expect(renderDaemonStatus(s, () => false).split('\n')[0]).toMatch(/^state: {7}standby \(pid 4242, no such process: it died without recording a stop\); process 17/);
  });
});
