#!/usr/bin/env node
// `npm run sim-vm -- --dir DIR create NODE --mac MAC --ip IP --nic-tag RULE/VNI [--vlan N]`
//                          `... delete UUID` | `... migrate UUID --to NODE`
// Changes the VMs of simulated nodes (test/harness/README.md) and emits their
// vmadm events. create prints the new VM's UUID.
import { parseArgs } from 'node:util';
import { createVm, deleteVm, migrateVm, SimVmError, appendRawEvent, nodeRoots } from './sim-vms.mjs';

const USAGE = `usage: sim-vm --dir DIR create NODE --mac MAC --ip IP --nic-tag RULE/VNI [--vlan N] [--uuid UUID]
       sim-vm --dir DIR delete UUID
       sim-vm --dir DIR migrate UUID --to NODE [--keep-source]
       sim-vm --dir DIR inject NODE LINE     (append a raw line to NODE's event stream)`;

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      mac: { type: 'string' },
      ip: { type: 'string' },
      'nic-tag': { type: 'string' },
      vlan: { type: 'string' },
      uuid: { type: 'string' },
      to: { type: 'string' },
      'keep-source': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [cmd, arg, extra] = positionals;
  if (!values.dir || !cmd || !arg) throw new SimVmError(USAGE);
  if (cmd === 'create') {
    const vlan = values.vlan === undefined ? undefined : /^\d+$/.test(values.vlan) ? Number(values.vlan) : NaN;
    process.stdout.write(`${createVm(values.dir, arg, { mac: values.mac, ip: values.ip, nicTag: values['nic-tag'], vlan, uuid: values.uuid })}\n`);
  } else if (cmd === 'delete') {
    deleteVm(values.dir, arg);
  } else if (cmd === 'migrate') {
    if (!values.to) throw new SimVmError('migrate needs --to NODE');
    migrateVm(values.dir, arg, values.to, { keepSource: values['keep-source'] === true });
  } else if (cmd === 'inject') {
    const root = nodeRoots(values.dir).get(arg);
    if (!root || extra === undefined) throw new SimVmError(USAGE);
    appendRawEvent(root, extra);
  } else throw new SimVmError(USAGE);
} catch (err) {
  process.stderr.write(`sim-vm: ${err instanceof SimVmError ? err.message : err.message ?? err}\n`);
  process.exit(err instanceof SimVmError || err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 64 : 1);
}
