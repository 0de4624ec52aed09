// The VMs of simulated SmartOS nodes (test/harness), and vmadm's two views of
// them: `vmadm lookup -j` and `vmadm events -jr`. Shared by sim-bin.mjs (the
// node's vmadm), sim-vm.mjs (the operator's `npm run sim-vm`) and the tests.
//
// A node keeps its VMs in <root>/var/sim/vms.json and every change as one
// event line, appended to <root>/var/sim/events.jsonl, in the shape vminfod
// gives its subscribers (smartos-live src/vm/node_modules/vminfod/vminfod.js:305-350:
// type, date, zonename, uuid, the whole VM as `vm` for create and modify,
// `changes` for modify; delete has no `vm`). The simulated `vmadm events`
// tails that file.
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SimVmError extends Error {}

const simDir = (root) => join(root, 'var/sim');

/** A VM as vmadm prints it: a SmartOS VM's zonename is its UUID; one without a state is running. */
function full(vm) {
  return { zonename: vm.uuid, state: 'running', brand: 'joyent', ...vm };
}

export function readVms(root) {
  try {
    return JSON.parse(readFileSync(join(simDir(root), 'vms.json'), 'utf8')).map(full);
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
}

function writeVms(root, vms) {
  const p = join(simDir(root), 'vms.json');
  writeFileSync(`${p}.tmp`, `${JSON.stringify(vms, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
}

function appendEvent(root, ev) {
  appendFileSync(join(simDir(root), 'events.jsonl'), `${JSON.stringify({ type: ev.type, date: new Date().toISOString(), ...ev })}\n`);
}

/** Appends a raw line to a node's event stream (tests: malformed lines). */
export function appendRawEvent(root, line) {
  appendFileSync(join(simDir(root), 'events.jsonl'), `${line}\n`);
}

const MAC = /^[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const TAG = /^[A-Za-z0-9_]+(\/[0-9]{1,10})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The node roots under a cluster directory: name → root. */
export function nodeRoots(dir) {
  const base = join(dir, 'nodes');
  if (!existsSync(base)) throw new SimVmError(`${dir} holds no simulated nodes (no ${base})`);
  return new Map(readdirSync(base).filter((n) => existsSync(join(base, n, 'root/var/sim'))).map((n) => [n, join(base, n, 'root')]));
}

function rootOf(dir, node) {
  const root = nodeRoots(dir).get(node);
  if (!root) throw new SimVmError(`no simulated node ${node} under ${dir}`);
  return root;
}

function findVm(dir, uuid) {
  if (!UUID.test(uuid)) throw new SimVmError(`${uuid} is not a VM UUID`);
  for (const [node, root] of nodeRoots(dir)) {
    const vm = readVms(root).find((v) => v.uuid === uuid);
    if (vm) return { node, root, vm };
  }
  throw new SimVmError(`no VM ${uuid} on any simulated node`);
}

/**
 * Creates a VM with one NIC on `node` and emits its create event. Refuses what
 * vmadm's property list refuses (smartos-live src/vm/man/vmadm.8.md:1671-1680
 * nics.*.mac is a MAC address, :1756-1760 nics.*.vlan_id an integer 0-4095), an
 * IP that is not IPv4 or "dhcp", and a MAC another VM on the node already has
 * (dladm refuses a second vNIC with a MAC in use). Returns the UUID.
 */
export function createVm(dir, node, { mac, ip, nicTag, vlan, uuid, state }) {
  const root = rootOf(dir, node);
  if (typeof mac !== 'string' || !MAC.test(mac)) throw new SimVmError(`--mac ${mac}: not a MAC address`);
  if (typeof ip !== 'string' || !(ip === 'dhcp' || IPV4.test(ip))) throw new SimVmError(`--ip ${ip}: not an IPv4 address or dhcp`);
  if (typeof nicTag !== 'string' || !TAG.test(nicTag)) throw new SimVmError(`--nic-tag ${nicTag}: not a nic tag (RULE/VNI)`);
  const nic = { mac: mac.toLowerCase(), ip, nic_tag: nicTag, primary: true };
  if (vlan !== undefined) {
    if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4095) throw new SimVmError(`--vlan ${vlan}: not 0-4095`);
    if (vlan !== 0) nic.vlan_id = vlan;
  }
  const id = uuid ?? randomUUID();
  const vms = readVms(root);
  if (vms.some((v) => v.uuid === id)) throw new SimVmError(`VM ${id} already exists on ${node}`);
  const norm = (m) => m.split(':').map((o) => o.toLowerCase().padStart(2, '0')).join(':');
  if (vms.some((v) => (v.nics ?? []).some((n) => norm(n.mac) === norm(mac)))) throw new SimVmError(`MAC ${mac} is in use on ${node}`);
  const vm = full({ uuid: id, alias: `vm-${id.slice(0, 8)}`, state: state ?? 'running', nics: [nic] });
  writeVms(root, [...vms, vm]);
  appendEvent(root, { type: 'create', zonename: id, uuid: id, vm });
  return id;
}

function setState(root, uuid, state) {
  const vms = readVms(root);
  const vm = vms.find((v) => v.uuid === uuid);
  const old = vm.state;
  vm.state = state;
  writeVms(root, vms);
  appendEvent(root, { type: 'modify', zonename: uuid, uuid, vm, changes: [{ path: ['state'], prettyPath: 'state', action: 'changed', oldValue: old, newValue: state }] });
}

function removeVm(root, uuid) {
  writeVms(root, readVms(root).filter((v) => v.uuid !== uuid));
  appendEvent(root, { type: 'delete', zonename: uuid, uuid });
}

/** Deletes a VM wherever it is and emits its delete event; returns the node. */
export function deleteVm(dir, uuid) {
  const { node, root } = findVm(dir, uuid);
  removeVm(root, uuid);
  return node;
}

/**
 * Moves a VM to another node the way smartos-live src/vm/README.migration:5-35
 * does by hand: stop on the source, receive and start on the target, delete on
 * the source; each step emits its event. `keepSource` stops after the start on
 * the target (both nodes have the VM, one running). Returns the source node.
 */
export function migrateVm(dir, uuid, to, { keepSource = false } = {}) {
  const { node, root, vm } = findVm(dir, uuid);
  if (node === to) throw new SimVmError(`VM ${uuid} is already on ${to}`);
  const target = rootOf(dir, to);
  if (vm.state === 'running') setState(root, uuid, 'stopped');
  const copy = { ...vm, state: 'stopped' };
  writeVms(target, [...readVms(target), copy]);
  appendEvent(target, { type: 'create', zonename: uuid, uuid, vm: copy });
  setState(target, uuid, 'running');
  if (!keepSource) removeVm(root, uuid);
  return node;
}

// ---- the node's side: `vmadm lookup -j` and `vmadm events -jr`

export function lookup(root, args) {
  if (!args.includes('-j')) throw new SimVmError('the simulated vmadm lookup supports -j only');
  process.stdout.write(`${JSON.stringify(readVms(root))}\n`);
}

/**
 * `vmadm events -j [-r]`: with -r, first the ready event (smartos-live
 * src/vm/sbin/vmadm.js:775-795 prints it; vminfod.js:1034-1039 gives it `vms`,
 * keyed by zonename once VM.js parsed it, VM.js:19560-19565), then one line per
 * event as it happens (vmadm.js:742-747), forever. It ends when the SSH channel
 * goes (stdin closes, stdout breaks) or its parent dies.
 */
export function events(root, args) {
  const flags = new Set(args.flatMap((a) => (/^-[a-z]+$/.test(a) ? [...a.slice(1)].map((c) => `-${c}`) : [a])));
  for (const f of flags) if (!['-j', '-r', '-f', '--json', '--ready', '--full'].includes(f)) throw new SimVmError(`unsupported: vmadm events ${args.join(' ')}`);
  if (!flags.has('-j') && !flags.has('--json')) throw new SimVmError('the simulated vmadm events supports -j only');
  const file = join(simDir(root), 'events.jsonl');
  if (!existsSync(file)) writeFileSync(file, '');
  // The offset first, then the VMs: an event written in between is both in `vms` and streamed, never in neither.
  let offset = statSync(file).size;
  if (flags.has('-r') || flags.has('--ready')) {
    const vms = Object.fromEntries(readVms(root).map((v) => [v.zonename, v]));
    process.stdout.write(`${JSON.stringify({ type: 'ready', date: new Date().toISOString(), uuid: randomUUID(), vms })}\n`);
  }
  let pending = '';
  const pump = () => {
    const size = statSync(file).size;
    if (size <= offset) return;
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    closeSync(fd);
    offset = size;
    pending += buf.toString('utf8');
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    process.stdout.write(pending.slice(0, cut + 1));
    pending = pending.slice(cut + 1);
  };
  const watcher = watch(file, () => pump());
  const poll = setInterval(() => {
    pump();
    if (process.ppid === 1) process.exit(0);
  }, 200);
  const stop = () => {
    watcher.close();
    clearInterval(poll);
    process.exit(0);
  };
  process.stdout.on('error', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
