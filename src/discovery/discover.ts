/** Reads a node's facts over a transport: `sysinfo` and `vmadm lookup -j`; and checks them against the state (`verify`). */
import { ValidationError } from '../errors.js';
import type { Node } from '../model/model.js';
import { checkExec, type Transport } from '../transport/transport.js';
import type { Discovered } from './merge.js';
import { compareFacts, recordFactsCommand, type FactChange } from './facts.js';
import { parseSysinfo } from './sysinfo.js';
import { parseVmadmLookup } from './vmadm.js';

function json(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError([{ path: '', message: `is not JSON: ${(err as Error).message}` }], source);
  }
}

export async function discoverNode(t: Transport, timeoutMs: number): Promise<Omit<Discovered, 'ssh'>> {
  const sys = checkExec(t.node, ['sysinfo'], await t.exec(['sysinfo'], timeoutMs));
  const facts = parseSysinfo(json(sys.stdout, `${t.node}: sysinfo`), `${t.node}: sysinfo`);
  const vm = checkExec(t.node, ['vmadm', 'lookup', '-j'], await t.exec(['vmadm', 'lookup', '-j'], timeoutMs));
  const vnics = parseVmadmLookup(json(vm.stdout, `${t.node}: vmadm lookup -j`), facts.hostname, `${t.node}: vmadm lookup -j`);
  return { facts, vnics };
}

/** `verify`'s reading of a node's facts: what its sysinfo gives against the state, or why it could not tell. */
export type FactsCheck =
  | { status: 'ok' }
  | { status: 'changed'; changed: FactChange[]; record: string }
  | { status: 'unknown'; reason: string };

/**
 * Reads `sysinfo` and compares it with the state's node. Never throws: a node
 * whose sysinfo fails, times out or does not parse has facts "unknown", with
 * the reason on one line, and the caller goes on with the rest.
 */
export async function checkNodeFacts(t: Transport, node: Node, timeoutMs: number): Promise<FactsCheck> {
  try {
    const sys = checkExec(t.node, ['sysinfo'], await t.exec(['sysinfo'], timeoutMs));
    const changed = compareFacts(node, parseSysinfo(json(sys.stdout, `${t.node}: sysinfo`), `${t.node}: sysinfo`));
    return changed.length === 0 ? { status: 'ok' } : { status: 'changed', changed, record: recordFactsCommand(node.name, changed) };
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter((l) => l !== '').join('; ');
    return { status: 'unknown', reason };
  }
}
