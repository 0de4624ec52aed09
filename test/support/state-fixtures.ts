/** Small state documents for unit tests, built in code so each test states what it varies. */
import { buildModel } from '../../src/model/build-model.js';
import { validateDoc } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import type { NodeDoc, StateDoc } from '../../src/model/state.js';

let uuidSeq = 0;
export function node(pdc: string, adminIp: string, externalIp?: string): NodeDoc {
  uuidSeq++;
  const uuid = `564d1a2b-0000-4000-8000-${uuidSeq.toString(16).padStart(12, '0')}`;
  return externalIp === undefined ? { uuid, pdc, admin_ip: adminIp } : { uuid, pdc, admin_ip: adminIp, external_ip: externalIp };
}

/** Three nodes: a1, a2 in PDC "a", b1 in PDC "b"; one rule "net" on all of them. */
export function threeNodes(extra: Partial<StateDoc> = {}): StateDoc {
  return {
    version: 1,
    nodes: {
      a1: node('a', '10.100.0.1', '198.51.100.1'),
      a2: node('a', '10.100.0.2', '198.51.100.2'),
      b1: node('b', '10.101.0.1', '203.0.113.1'),
    },
    overlay_rules: { net: { port: 4790, nodes: 'all' } },
    ...extra,
  };
}

/** A model that must be consistent (throws ValidationError like `render` would). */
export function validModel(doc: StateDoc): Model {
  return validateDoc(doc, 'test', 'require').model;
}

/** A model built without the consistency requirement, to show what generators do on their own. */
export function rawModel(doc: StateDoc): Model {
  return buildModel(doc);
}
