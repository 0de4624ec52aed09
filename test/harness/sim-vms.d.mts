/** Types of sim-vms.mjs (the simulated nodes' VMs and their vmadm events). */
export class SimVmError extends Error {}
export interface SimVmObject {
  uuid: string;
  zonename: string;
  state: string;
  alias?: string;
  nics: Array<{ mac: string; ip: string; nic_tag: string; vlan_id?: number }>;
  [k: string]: unknown;
}
export function readVms(root: string): SimVmObject[];
export function appendRawEvent(root: string, line: string): void;
export function nodeRoots(dir: string): Map<string, string>;
export function createVm(dir: string, node: string, opts: { mac: string; ip: string; nicTag: string; vlan?: number; uuid?: string; state?: string }): string;
export function deleteVm(dir: string, uuid: string): string;
export function migrateVm(dir: string, uuid: string, to: string, opts?: { keepSource?: boolean }): string;
export function lookup(root: string, args: string[]): void;
export function events(root: string, args: string[]): void;
