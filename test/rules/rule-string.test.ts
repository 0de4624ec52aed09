import { describe, expect, it } from 'vitest';
import { canonicalRuleString, overlayProperties, parseRuleString, ruleArgv, ruleProperties } from '../../src/syntax/rule-string.js';
import { nextFreePort } from '../../src/syntax/ports.js';
import { newRuleNameIssue } from '../../src/syntax/rule-name.js';

const DANUBE =
  '-e vxlan -p vxlan/listen_ip=0.0.0.0 -p vxlan/listen_port=4790 -s files -p files/config=/opt/custom/networking/customers_overlay.json -p mtu=1400';

describe('rule strings parse in the forms Danube writes', () => {
  it('repeated -p', () => {
    expect(parseRuleString(DANUBE)).toEqual({
      params: { listenIp: '0.0.0.0', port: 4790, filesConfig: '/opt/custom/networking/customers_overlay.json', mtu: 1400 },
      issues: [],
    });
  });

  it('comma-joined -p and extra blanks', () => {
    const r = parseRuleString('  -e vxlan  -s files -p vxlan/listen_ip=10.1.1.1,vxlan/listen_port=4795,mtu=1388 ');
    expect(r.issues).toEqual([]);
    expect(r.params).toEqual({ listenIp: '10.1.1.1', port: 4795, mtu: 1388 });
  });

  it('canonical form is Danube\'s and round-trips', () => {
    const params = { listenIp: '0.0.0.0', port: 4790, filesConfig: '/opt/custom/networking/customers_overlay.json', mtu: 1400 };
    expect(canonicalRuleString(params)).toBe(DANUBE);
    expect(parseRuleString(canonicalRuleString(params)).params).toEqual(params);
  });
});

describe('a rule as values, argv and string', () => {
  const params = { listenIp: '10.0.0.1', port: 4795, filesConfig: '/opt/custom/networking/lab_overlay.json', mtu: 1388 };

  it('gives dladm the argv words of the canonical string, built from the values', () => {
    expect(ruleArgv(params)).toEqual([
      '-e', 'vxlan', '-p', 'vxlan/listen_ip=10.0.0.1', '-p', 'vxlan/listen_port=4795',
      '-s', 'files', '-p', 'files/config=/opt/custom/networking/lab_overlay.json', '-p', 'mtu=1388',
    ]);
    expect(ruleArgv(params).join(' ')).toBe(canonicalRuleString(params));
  });

  it('carries the properties the argv sets, in argv order, so nothing has to read them back', () => {
    expect(ruleProperties(params)).toEqual([...overlayProperties(ruleArgv(params)).entries()]);
    expect(ruleProperties(params).map(([k]) => k)).toEqual(['vxlan/listen_ip', 'vxlan/listen_port', 'files/config', 'mtu']);
  });
});

describe('rule strings that would misbehave are refused by name', () => {
  it.each([
    ['-e vxlan -s files -p color=red', 'property "color" is not supported'],
    ['-e geneve -s files', 'encapsulation "geneve" is not supported'],
    ['-e vxlan -s direct', 'search plugin "direct" is not supported'],
    ['-e vxlan -s files -v 12', 'must not contain -v'],
    ['-e vxlan -s files -p mtu=20000', 'mtu must be 576-8900'],
    ['-e vxlan -s files -p vxlan/listen_port=0', 'vxlan/listen_port must be a UDP port'],
    ['-e vxlan -s files -p vxlan/listen_ip=10.0.0', 'vxlan/listen_ip must be an IPv4 address'],
    ['-e vxlan -s files -p files/config=/etc/shadow', 'files/config must be a file in /opt/custom/networking/'],
    ['-e vxlan -s files -p files/config=/opt/custom/esdc-overlay/bundle.json', 'files/config must not be, contain or lie in /opt/custom/esdc-overlay'],
    ['-e vxlan -s files -p mtu=1400 -p mtu=1300', 'sets property mtu twice'],
    ['-e vxlan -p mtu=1400', 'is missing "-s files"'],
    ['-e vxlan -s files -p mtu=1400;reboot', 'contains the character ";"'],
    ['-e vxlan -s files -p files/config=/opt/custom/`id`', 'contains the character "`"'],
    ['', 'is empty'],
  ])('%j', (text, message) => {
    const r = parseRuleString(text, 'rule');
    expect(r.issues.map((i) => i.message).join('; ')).toContain(message);
    expect(r.issues.every((i) => i.path === 'rule')).toBe(true);
  });
});

describe('rule names', () => {
  it.each(['customers', 'lab', 'ab', 'Net_Two', 'a234567890123456789'.slice(0, 18) + 'z'])('accepts %s', (name) => {
    expect(newRuleNameIssue(name)).toBeUndefined();
  });
  it.each([
    ['lab1', 'must not end with a digit'],
    ['customers_and_partners', 'at most 19 characters'],
    ['1net', 'must start with a letter'],
    ['net_', 'must not end with "_"'],
    ['x', 'at least 2 characters'],
    ['my-net', 'may only hold letters'],
    ['adminoverlay', 'reserved'],
  ])('refuses %s', (name, why) => {
    expect(newRuleNameIssue(name)?.message).toContain(why);
  });
});

describe('ports', () => {
  it('the first rule gets 4790, later ones the highest + 1', () => {
    expect(nextFreePort([])).toBe(4790);
    expect(nextFreePort([4790, 4792])).toBe(4793);
    expect(nextFreePort([100])).toBe(4790);
  });
  it('refuses to go past 65535', () => {
    expect(() => nextFreePort([65535])).toThrow(/no port above 65535/);
  });
});
