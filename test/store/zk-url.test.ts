/** `--store zk://...` URLs and store selection. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { storeSpec, zkAuth } from '../../src/store/open-store.js';
import { parseZkUrl } from '../../src/store/zk-url.js';

describe('zk:// URLs', () => {
  it('take several hosts, default the port and the root', () => {
    expect(parseZkUrl('zk://10.0.66.20:2181,cfgdb2/esdc/settings')).toEqual({ hosts: '10.0.66.20:2181,cfgdb2:2181', root: '/esdc/settings' });
    expect(parseZkUrl('zk://cfgdb')).toEqual({ hosts: 'cfgdb:2181', root: '/esdc/settings' });
    expect(parseZkUrl('zk://cfgdb:2181/custom/root/')).toEqual({ hosts: 'cfgdb:2181', root: '/custom/root' });
  });
  it('refuse credentials in the URL without echoing them', () => {
    const err = (() => {
      try {
        parseZkUrl('zk://esdc:s3cret@cfgdb/esdc/settings');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err!.message).toMatch(/ESDC_OVERLAY_ZK_AUTH/);
    expect(err!.message).not.toContain('s3cret');
  });
  it('refuse bad hosts, ports and root paths by name', () => {
    expect(() => parseZkUrl('zk://bad host/x')).toThrow(/invalid host "bad host"/);
    expect(() => parseZkUrl('zk://h:70000/x')).toThrow(/invalid port 70000/);
    expect(() => parseZkUrl('zk://h/a/../b')).toThrow(/invalid root path/);
    expect(() => parseZkUrl('zk://h/x?timeout=1')).toThrow(/query/);
  });
});

describe('store selection', () => {
  it('prefers --store/--state, then ESDC_OVERLAY_STORE, then ESDC_OVERLAY_STATE', () => {
    expect(storeSpec({ store: 'zk://a/b' }, { ESDC_OVERLAY_STATE: 'f' })).toBe('zk://a/b');
    expect(storeSpec({}, { ESDC_OVERLAY_STORE: 'zk://a/b', ESDC_OVERLAY_STATE: 'f' })).toBe('zk://a/b');
    expect(storeSpec({}, { ESDC_OVERLAY_STATE: 'f' })).toBe('f');
    expect(() => storeSpec({ store: 'a', state: 'b' }, {})).toThrow(/either --store or --state/);
  });
  it('reads digest credentials from the environment, checking their form without echoing them', () => {
    expect(zkAuth(undefined, { ESDC_OVERLAY_ZK_AUTH: 'esdc:pw' })).toBe('esdc:pw');
    expect(zkAuth(undefined, {})).toBeUndefined();
    expect(() => zkAuth(undefined, { ESDC_OVERLAY_ZK_AUTH: 'nocolon' })).toThrow(/must hold "user:password"/);
  });
});
