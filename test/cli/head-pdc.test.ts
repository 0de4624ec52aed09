/** The head node's PDC: where it comes from, and how it picks the address each node is reached on. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { headPdcOf } from '../../src/cli/remote.js';
import { buildModel } from '../../src/model/build-model.js';
import type { StateDoc } from '../../src/model/state.js';
import { sshTargetOf } from '../../src/transport/connect.js';
import { EXAMPLE } from '../support/paths.js';

async function example(headPdc?: string) {
  const doc = parse(await readFile(EXAMPLE, 'utf8')) as StateDoc;
  if (headPdc !== undefined) doc.defaults = { ...doc.defaults, head_pdc: headPdc };
  return buildModel(doc);
}

describe('head PDC', () => {
  it('once stored, remote-PDC nodes are reached on their external IP by default', async () => {
    const m = await example('prg');
    expect(m.issues).toEqual([]);
    const pdc = headPdcOf({}, {}, m);
    expect(pdc).toBe('prg');
    const local = m.nodeByName.get('cn01.prg.example.com')!;
    const remote = m.nodeByName.get('cn05.ams.example.com')!;
    expect(sshTargetOf(local, pdc).host).toBe(local.adminIp);
    expect(sshTargetOf(remote, pdc).host).toBe(remote.externalIp);
  });
  it('--head-pdc overrides the stored one; an unknown PDC is refused with the closest', async () => {
    const m = await example('prg');
    expect(headPdcOf({ headPdc: 'brn' }, {}, m)).toBe('brn');
    expect(() => headPdcOf({ headPdc: 'prag' }, {}, m)).toThrow('unknown PDC "prag" (did you mean prg?)');
    expect(() => headPdcOf({}, { ESDC_OVERLAY_HEAD_PDC: 'bnr' }, m)).toThrow('did you mean brn?');
  });
});
