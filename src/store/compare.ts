/**
 * Whether two stores hold the same state: compares the models (what every
 * artifact is computed from), not the documents, because stores keep the
 * same state in different forms (a YAML rule's fields vs Danube's rule
 * string; VM NICs grouped by node in cfgdb).
 */
import { isDeepStrictEqual } from 'node:util';
import { byCodePoint, type Model } from '../model/model.js';

/** The parts of a model that decide artifacts, in an order independent of how the store listed them. */
export function comparableModel(m: Model): Record<string, unknown> {
  const vnics = m.vnics
    .map(({ index: _index, ...v }) => v)
    .sort((a, b) => byCodePoint(key(a), key(b)));
  return {
    defaults: m.defaults,
    nodes: m.nodes,
    rules: m.rules,
    adminOverlay: m.adminOverlay,
    vnics,
    firewall: m.firewall,
    pairKeys: m.pairKeys,
    pdcs: m.pdcs,
    vdcs: m.doc.vdcs ?? {},
  };
}

function key(v: { node: string; rule: string; vni: number; mac: string; ip: string }): string {
  return `${v.node}\0${v.rule}\0${String(v.vni).padStart(10, '0')}\0${v.mac}\0${v.ip}`;
}

/** Names of the parts that differ; empty when the two models are the same state. */
export function modelDifferences(a: Model, b: Model): string[] {
  const x = comparableModel(a);
  const y = comparableModel(b);
  return Object.keys(x).filter((k) => !isDeepStrictEqual(x[k], y[k]));
}
