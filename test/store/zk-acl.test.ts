import { describe, expect, it } from 'vitest';
import { isOpenAcl, isWorldReadable, KEY_ZNODE, worldReadableKeysWarning } from '../../src/store/zk-acl.js';

const world = (perms: number) => ({ scheme: 'world', id: 'anyone', perms });
const digest = { scheme: 'digest', id: 'esdc:abc=', perms: 31 };

describe('ZooKeeper ACL policy', () => {
  it('an ACL is open when world:anyone gets anything, world-readable when it gets READ', () => {
    expect(isOpenAcl([world(31)])).toBe(true);
    expect(isOpenAcl([digest, world(2)])).toBe(true);
    expect(isWorldReadable([digest, world(2)])).toBe(false);
    expect(isWorldReadable([digest, world(1)])).toBe(true);
    expect(isOpenAcl([digest])).toBe(false);
    expect(isOpenAcl([{ scheme: 'ip', id: 'anyone', perms: 31 }])).toBe(false);
  });

  it('key znodes are the direct children of ipsec/psk', () => {
    expect(KEY_ZNODE.test('ipsec/psk/a-b')).toBe(true);
    expect(KEY_ZNODE.test('ipsec/psk')).toBe(false);
    expect(KEY_ZNODE.test('ipsec/psk/a-b/x')).toBe(false);
    expect(KEY_ZNODE.test('overlay_rules/x/port')).toBe(false);
  });

  it('the warning names at most 20 znodes, sorted, and counts the rest', () => {
    expect(worldReadableKeysWarning([])).toEqual([]);
    const paths = Array.from({ length: 25 }, (_, i) => `/r/ipsec/psk/n${String(i).padStart(2, '0')}-m`);
    const [w] = worldReadableKeysWarning([...paths].reverse());
    expect(w!.path).toBe('ipsec.psk');
    expect(w!.message).toMatch(/^25 key znode\(s\) are readable by world:anyone/);
    expect(w!.message).toContain(`${paths.slice(0, 20).join(', ')} and 5 more`);
    expect(w!.message).not.toContain(paths[20]);
  });
});
