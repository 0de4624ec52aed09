/**
 * `esdc-overlay vdc ...`: VXLAN and VLAN ranges of virtual datacenters, for
 * vDC admins (docs/state-format.md#vdcs). One command with a subcommand per question.
 */
import type { Command } from 'commander';
import { withCommonOptions } from '../common.js';
import type { CliIo } from '../context.js';
import { registerVdcAllocate } from './vdc-allocate.js';
import { registerVdcCheck } from './vdc-check.js';
import { registerVdcGrant } from './vdc-grant.js';
import { registerVdcList } from './vdc-list.js';
import { registerVdcOverlaps } from './vdc-overlaps.js';

export function registerVdc(program: Command, io: CliIo): void {
  const vdc = withCommonOptions(program.command('vdc'))
    .description("virtual datacenters' VXLAN and VLAN ranges: list, check, allocate, grant, overlaps")
    .addHelpText(
      'after',
      '\nVXLAN ids are 1-16777215, VLAN ids 1-4094 (0 is untagged, 4095 reserved). Ranges are written "2-100,200,300-310".\n' +
        '"Used" ids are those of the VM NICs (nic_tag <rule>/<vni>, vlan_id) and of the adminoverlay, anywhere in the installation.\n',
    );
  registerVdcList(vdc, io);
  registerVdcCheck(vdc, io);
  registerVdcAllocate(vdc, io);
  registerVdcGrant(vdc, io);
  registerVdcOverlaps(vdc, io);
}
