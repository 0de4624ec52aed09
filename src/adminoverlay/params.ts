/**
 * `adminoverlay-update --mtu N --port P`: the adminoverlay rule's MTU and
 * UDP port, as a pure edit of the state. Both reach SmartOS only when the
 * overlay is created again, i.e. at the next reboot (an existing overlay
 * keeps its properties: dladm(8) create-overlay sets them once), and a port
 * change cuts the adminoverlay between nodes that have rebooted and nodes
 * that have not: each change carries its mark.
 */
import { ConflictError, EsdcError, ValidationError, type ValidationIssue } from '../errors.js';
import type { Model } from '../model/model.js';
import { OVERLAY_MTU_MAX, OVERLAY_MTU_MIN } from '../syntax/overlay-limits.js';
import type { StateDoc } from '../model/state.js';
import { ADMIN_OVERLAY_RULE } from '../syntax/rule-name.js';

export interface AdminOverlayParamChange {
  field: 'mtu' | 'port';
  from: number;
  to: number;
  /** Written now, live on each node at its next reboot. */
  reboot: true;
  /** Nodes on the old and the new port cannot talk over the adminoverlay until all have rebooted. */
  disruptive: boolean;
}

export function setAdminOverlayParams(
  doc: StateDoc,
  model: Model,
  want: { mtu?: number; port?: number },
): { doc: StateDoc; changes: AdminOverlayParamChange[] } {
  const ao = model.adminOverlay;
  if (!ao || !doc.adminoverlay) throw new EsdcError('there is no adminoverlay; create it with adminoverlay-init', { code: 'NoAdminOverlay' });
  const issues: ValidationIssue[] = [];
  if (want.mtu !== undefined && (want.mtu < OVERLAY_MTU_MIN || want.mtu > OVERLAY_MTU_MAX)) {
    issues.push({ path: '--mtu', value: want.mtu, message: `must be ${OVERLAY_MTU_MIN}-${OVERLAY_MTU_MAX} (the illumos overlay driver's range)` });
  }
  if (want.port !== undefined && (want.port < 1 || want.port > 65535)) issues.push({ path: '--port', value: want.port, message: 'must be a UDP port 1-65535' });
  if (issues.length > 0) throw new ValidationError(issues, 'adminoverlay-update');
  if (want.port !== undefined && want.port !== ao.port) {
    const owner = model.rules.find((r) => r.name !== ADMIN_OVERLAY_RULE && r.port === want.port);
    if (owner) throw new ConflictError(`port ${want.port} is already used by rule ${owner.name}`, { code: 'PortInUse' });
  }
  const changes: AdminOverlayParamChange[] = [];
  const next = { ...doc.adminoverlay };
  if (want.mtu !== undefined && want.mtu !== ao.mtu) {
    changes.push({ field: 'mtu', from: ao.mtu, to: want.mtu, reboot: true, disruptive: false });
    next.mtu = want.mtu;
  }
  if (want.port !== undefined && want.port !== ao.port) {
    changes.push({ field: 'port', from: ao.port, to: want.port, reboot: true, disruptive: true });
    next.port = want.port;
  }
  return changes.length === 0 ? { doc, changes } : { doc: { ...doc, adminoverlay: next }, changes };
}

/** The change as the operator reads it, with its marks. */
export function paramChangeText(c: AdminOverlayParamChange): string {
  return (
    `adminoverlay ${c.field} ${c.from} -> ${c.to} (takes effect at each node's next reboot` +
    (c.disruptive ? '; DISRUPTIVE: nodes on the old and the new port cannot reach each other over the adminoverlay until every node has rebooted)' : ')')
  );
}
