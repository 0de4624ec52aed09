import { describe, expect, it } from 'vitest';
import { editUsbkeyConfig, ownedValues } from '../../src/plan/usbkey-config.js';

const BASE = [
  '# generated',
  'hostname=cn01',
  'overlay_rule_customers="-e vxlan -p vxlan/listen_port=4790"',
  'admin_ip=10.0.0.1',
  "adminoverlay_0_ip='10.44.0.1'",
  'overlay_rule_old="-e vxlan -p vxlan/listen_port=4700"',
  'root_shadow=\'$5$x$y\'',
  '',
].join('\n');

describe('editing /usbkey/config line by line', () => {
  it('changes our lines in place, removes the ones no longer wanted, appends new ones; other lines stay byte for byte', () => {
    const { text, changes } = editUsbkeyConfig(BASE, [
      { key: 'overlay_rule_customers', value: '-e vxlan -p vxlan/listen_port=4795' },
      { key: 'adminoverlay_0_ip', value: '10.44.0.1' },
      { key: 'vnc_listen_address', value: '10.44.0.1' },
    ]);
    expect(text).toBe(
      [
        '# generated',
        'hostname=cn01',
        'overlay_rule_customers="-e vxlan -p vxlan/listen_port=4795"',
        'admin_ip=10.0.0.1',
        "adminoverlay_0_ip='10.44.0.1'",
        'root_shadow=\'$5$x$y\'',
        'vnc_listen_address="10.44.0.1"',
        '',
      ].join('\n'),
    );
    expect(changes).toEqual([
      { key: 'overlay_rule_customers', action: 'change', old: '-e vxlan -p vxlan/listen_port=4790', new: '-e vxlan -p vxlan/listen_port=4795' },
      { key: 'vnc_listen_address', action: 'add', new: '10.44.0.1' },
      { key: 'overlay_rule_old', action: 'remove', old: '-e vxlan -p vxlan/listen_port=4700' },
    ]);
  });

  it('leaves the text identical when our lines already match (quoting style aside)', () => {
    const desired = [...ownedValues(BASE)].map(([key, value]) => ({ key, value }));
    const r = editUsbkeyConfig(BASE, desired);
    expect(r.changes).toEqual([]);
    expect(r.text).toBe(BASE);
  });

  it('drops a duplicate of one of our keys, keeping the first', () => {
    const r = editUsbkeyConfig('a=1\nvnc_listen_address="1.1.1.1"\nvnc_listen_address="2.2.2.2"\n', [{ key: 'vnc_listen_address', value: '1.1.1.1' }]);
    expect(r.text).toBe('a=1\nvnc_listen_address="1.1.1.1"\n');
    expect(r.changes).toEqual([{ key: 'vnc_listen_address', action: 'remove', old: '2.2.2.2' }]);
  });

  it('refuses to write a value SmartOS would evaluate as shell', () => {
    expect(() => editUsbkeyConfig('', [{ key: 'overlay_rule_x', value: '$(reboot)' }])).toThrow(/unsafe/);
  });
});
