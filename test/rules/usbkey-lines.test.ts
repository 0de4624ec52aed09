import { describe, expect, it } from 'vitest';
import { adminOverlayLines, isOwnedUsbkeyKey, ruleKey, usbkeyKeyOwner } from '../../src/rules/usbkey-lines.js';
import { loadStateText } from '../../src/model/load.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'two-sites.yaml'), 'utf8');

describe('what one of our /usbkey/config keys sets', () => {
  it('is read from the key the way ruleKey and adminOverlayLines write it', () => {
    expect(usbkeyKeyOwner(ruleKey('customers'))).toEqual({ kind: 'rule', rule: 'customers' });
    expect(usbkeyKeyOwner(ruleKey('a_b'))).toEqual({ kind: 'rule', rule: 'a_b' });
    const model = loadStateText(EXAMPLE, 'two-sites.yaml').model;
    const lines = adminOverlayLines(model, model.nodes[0]!);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((l) => usbkeyKeyOwner(l.key))).toEqual([
      { kind: 'adminoverlay', field: 'vxlan_id' },
      { kind: 'adminoverlay', field: 'vlan_id' },
      { kind: 'adminoverlay', field: 'ip' },
      { kind: 'adminoverlay', field: 'netmask' },
      { kind: 'adminoverlay', field: 'mac' },
      { kind: 'vnc' },
    ]);
  });

  it('is nothing for the keys of others, which are never ours to change', () => {
    for (const key of ['admin_nic', 'overlay_rule', 'adminoverlay0_ip', 'vnc_listen_address_x', 'external_nic']) {
      expect(usbkeyKeyOwner(key), key).toBeUndefined();
      expect(isOwnedUsbkeyKey(key), key).toBe(false);
    }
  });
});
