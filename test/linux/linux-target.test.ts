import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { directionKey, linuxTarget, type LinuxNodeFiles } from '../../src/linux/linux-target.js';
import { loadStateText } from '../../src/model/load.js';
import { runCli } from '../support/cli.js';

const FIXTURE = new URL('../fixtures/linux-three-nodes.yaml', import.meta.url);
const model = () => loadStateText(readFileSync(FIXTURE, 'utf8'), 'linux-three-nodes.yaml').model;
const N1 = 'n1.one.example.com';
const N2 = 'n2.one.example.com';
const N3 = 'n3.two.example.com';
const PSK13 = 'a1'.repeat(128);

function render(randomKey = () => 'ff'.repeat(128)) {
  const t = linuxTarget(model(), randomKey);
  const by = new Map<string, LinuxNodeFiles>(t.nodes.map((n) => [n.node, n]));
  return { ...t, by };
}
const lines = (text: string, prefix: string): string[] => text.split('\n').filter((l) => l.startsWith(prefix));

describe('VXLAN segments per node', () => {
  it('one VXLAN device (nolearning, proxy) and bridge per rule and VNI the node has NICs on', () => {
    const { by } = render();
    expect(lines(by.get(N1)!.ipBatch, 'link add vx')).toEqual([
      'link add vx4790-100 mtu 1300 type vxlan id 100 dstport 4790 nolearning proxy',
      'link add vx4790-200 mtu 1300 type vxlan id 200 dstport 4790 nolearning proxy',
    ]);
    expect(lines(by.get(N2)!.ipBatch, 'link add vx')).toEqual(['link add vx4790-100 mtu 1300 type vxlan id 100 dstport 4790 nolearning proxy']);
    expect(by.get(N2)!.segments).toEqual([{ rule: 'web', vni: 100, vxlan: 'vx4790-100', bridge: 'br4790-100' }]);
  });

  it('forwarding and neighbour entries point at admin IPs in the PDC and external IPs across', () => {
    const { by } = render();
    const n1 = by.get(N1)!;
    expect(lines(n1.bridgeBatch, 'fdb append 52:54:00:10:00:02')).toEqual(['fdb append 52:54:00:10:00:02 dev vx4790-100 dst 10.200.1.2 self permanent']);
    expect(lines(n1.bridgeBatch, 'fdb append 52:54:00:10:00:03')).toEqual(['fdb append 52:54:00:10:00:03 dev vx4790-100 dst 198.51.100.3 self permanent']);
    expect(lines(n1.bridgeBatch, 'fdb append 52:54:00:10:00:05')).toEqual(['fdb append 52:54:00:10:00:05 dev vx4790-200 dst 198.51.100.3 self permanent']);
    expect(n1.bridgeBatch).not.toContain('52:54:00:10:00:01'); // its own NIC is local
    expect(lines(n1.ipBatch, 'neigh replace 10.200.100.3 ')).toEqual(['neigh replace 10.200.100.3 lladdr 52:54:00:10:00:03 dev vx4790-100 nud permanent']);
    expect(lines(n1.bridgeBatch, 'fdb append 00:00:00:00:00:00 dev vx4790-100')).toEqual([
      'fdb append 00:00:00:00:00:00 dev vx4790-100 dst 10.200.1.2 self permanent',
      'fdb append 00:00:00:00:00:00 dev vx4790-100 dst 198.51.100.3 self permanent',
    ]);
  });
});

describe('ESP between PDCs', () => {
  it('has states and policies only for pairs in different PDCs', () => {
    const { by } = render();
    expect(lines(by.get(N1)!.ipBatch, 'xfrm state')).toHaveLength(2);
    expect(by.get(N1)!.ipBatch).not.toContain('198.51.100.2');
    expect(lines(by.get(N3)!.ipBatch, 'xfrm state')).toHaveLength(4);
    expect(lines(by.get(N3)!.ipBatch, 'xfrm policy')).toHaveLength(4);
  });

  it('both ends derive the same keys and SPI for a direction from the pair\'s PSK, with the suite\'s algorithms', () => {
    const { by } = render();
    const out13 = lines(by.get(N1)!.ipBatch, 'xfrm state add src 198.51.100.1 dst 198.51.100.3');
    const in13 = lines(by.get(N3)!.ipBatch, 'xfrm state add src 198.51.100.1 dst 198.51.100.3');
    expect(out13).toHaveLength(1);
    expect(out13).toEqual(in13);
    const enc = directionKey(PSK13, N1, N3, 'enc', 16);
    const auth = directionKey(PSK13, N1, N3, 'auth', 64);
    expect(out13[0]).toContain(`enc cbc(aes) ${enc} auth-trunc hmac(sha512) ${auth} 256`);
    // The reverse direction has its own keys.
    expect(lines(by.get(N1)!.ipBatch, 'xfrm state add src 198.51.100.3')[0]).not.toContain(enc);
    expect(by.get(N1)!.ipBatch).not.toContain(PSK13);
  });

  it('derives from one random key, shared by both ends, for a pair with no PSK, and warns once', () => {
    let calls = 0;
    const t = render(() => `${(++calls).toString(16).padStart(2, '0')}`.repeat(128));
    expect(calls).toBe(1);
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]!.message).toContain(`${N2} - ${N3}`);
    const a = lines(t.by.get(N2)!.ipBatch, 'xfrm state add src 198.51.100.2 dst 198.51.100.3');
    const b = lines(t.by.get(N3)!.ipBatch, 'xfrm state add src 198.51.100.2 dst 198.51.100.3');
    expect(a).toEqual(b);
    expect(a[0]).toContain(directionKey('01'.repeat(128), N2, N3, 'enc', 16));
  });

  it('gives each source a distinct SPI towards one destination', () => {
    const { by } = render();
    const spis = [N1, N2].map((n) => /spi (\S+)/.exec(lines(by.get(n)!.ipBatch, 'xfrm state add src 198.51.1')[0]!)![1]);
    expect(new Set(spis).size).toBe(2);
  });

  it('uses the AEAD form for aes-gcm', () => {
    const text = readFileSync(FIXTURE, 'utf8').replace('encr: aes-cbc', 'encr: aes-gcm');
    const t = linuxTarget(loadStateText(text, 'gcm').model, () => 'ff'.repeat(128));
    expect(lines(t.nodes[0]!.ipBatch, 'xfrm state')[0]).toMatch(/ aead rfc4106\(gcm\(aes\)\) 0x[0-9a-f]{40} 128$/);
  });
});

/** The fixture holds keys: the file store loads it only when others cannot read it. */
function privateCopy(dir: string): string {
  const path = join(dir, 'state.yaml');
  writeFileSync(path, readFileSync(FIXTURE, 'utf8'), { mode: 0o600 });
  return path;
}

describe('`render --target linux`', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes each node\'s batches, the keys file 0600, and warns about the missing key', async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-linux-'));
    const out = join(dir, 'out');
    const r = await runCli(['render', '--target', 'linux', '--state', privateCopy(dir), '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`no key for ${N2} - ${N3}`);
    expect(statSync(join(out, N1, 'linux/ip.batch')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, N1, 'linux/apply.sh')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(out, N1, 'linux/bridge.batch'), 'utf8')).toContain('dst 10.200.1.2');
    expect(r.stderr).not.toContain(PSK13);
  });

  it('refuses an unknown target with exit 64', async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdc-linux-'));
    const r = await runCli(['render', '--target', 'bsd', '--state', privateCopy(dir), '--out', join(dir, 'o')]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('"bsd"');
  });
});
