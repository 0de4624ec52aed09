/** Reads a node's facts over a transport: `sysinfo` and `vmadm lookup -j`. */
import { ValidationError } from '../errors.js';
import { checkExec, type Transport } from '../transport/transport.js';
import type { Discovered } from './merge.js';
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
