/**
 * Saves a changed state into the operator's YAML document instead of
 * re-serialising it, so comments, key order and flow/block style survive a
 * `create` or `update`. Values that did not change keep their nodes.
 */
import type { Document, Node as YamlNode, YAMLMap, YAMLSeq } from 'yaml';
import { yamlLib, type YamlLib } from '../yaml-lib.js';

// Only a save of a YAML state comes here: the package is loaded then (src/yaml-lib.ts).
const isMap = ((node: unknown) => yamlLib().isMap(node)) as YamlLib['isMap'];
const isSeq = ((node: unknown) => yamlLib().isSeq(node)) as YamlLib['isSeq'];
const isScalar = ((node: unknown) => yamlLib().isScalar(node)) as YamlLib['isScalar'];

export function updateYamlDocument(doc: Document, value: unknown): void {
  doc.contents = reconcile(doc, doc.contents as YamlNode | null, value, false) as typeof doc.contents;
}

function reconcile(doc: Document, node: YamlNode | null, value: unknown, flowHint: boolean): YamlNode {
  if (Array.isArray(value) && isSeq(node)) {
    const seq = node as YAMLSeq<YamlNode>;
    const siblingsFlow = seq.items.some((i) => (isMap(i) || isSeq(i)) && i.flow === true);
    value.forEach((v, i) => {
      const existing = seq.items[i] ?? null;
      seq.items[i] = reconcile(doc, existing, v, siblingsFlow);
    });
    seq.items.length = value.length;
    return seq;
  }
  if (isPlainObject(value) && isMap(node)) {
    const map = node as YAMLMap<YamlNode, YamlNode>;
    const keys = Object.keys(value);
    const siblingsFlow = map.items.some((pair) => (isMap(pair.value) || isSeq(pair.value)) && pair.value.flow === true);
    map.items = map.items.filter((pair) => keys.includes(keyOf(pair.key)));
    for (const key of keys) {
      const pair = map.items.find((it) => keyOf(it.key) === key);
      const v = (value as Record<string, unknown>)[key];
      if (pair) pair.value = reconcile(doc, pair.value ?? null, v, siblingsFlow);
      else map.items.push(doc.createPair(key, v) as (typeof map.items)[number]);
      const added = map.items.find((it) => keyOf(it.key) === key);
      if (!pair && added && siblingsFlow && (isMap(added.value) || isSeq(added.value))) added.value.flow = true;
    }
    return map;
  }
  if (isScalar(node) && node.value === value) return node;
  const created = doc.createNode(value) as YamlNode;
  if (flowHint && (isMap(created) || isSeq(created))) created.flow = true;
  return created;
}

function keyOf(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
