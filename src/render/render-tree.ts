/**
 * DesiredNode → the files of the render tree (docs/operations.md#render), relative to
 * `DIR/<hostname>/`. Pure: writing them is src/io/write-tree.ts's job.
 */
import { quoteArgv } from '../shell/quote.js';
import type { DesiredNode } from '../desired/desired.js';
import { AWAIT_ONLINE_SH, refreshShellLines, SERVICE_REFRESH, sortServices, type ServiceName } from '../desired/services.js';
import { usbkeyLineText } from '../rules/usbkey-lines.js';
import { CHECK_VARPD_TABLES, CHECK_VARPD_TABLES_SH } from './varpd-check-sh.js';

export interface TreeFile {
  /** Relative to the node's directory, `/`-separated, no leading `/`. */
  path: string;
  mode: number;
  content: () => Iterable<string>;
  /** The same bytes as buffers, when the file has them (see DesiredFile.bytes). */
  bytes?: (() => Iterable<Uint8Array>) | undefined;
}

export const USBKEY_FRAGMENT = 'usbkey/config.overlay';
export const COMMANDS_FILE = 'commands.sh';

/** The services a node's desired state feeds, in refresh order. */
export function servicesOf(desired: DesiredNode): ServiceName[] {
  const names: ServiceName[] = desired.files.flatMap((f) => (f.refresh === null ? [] : [f.refresh]));
  if (desired.usbkey.length > 0) names.push('net-virtual');
  return sortServices(names);
}

export function usbkeyFragment(desired: DesiredNode): string {
  return desired.usbkey.map((l) => `${usbkeyLineText(l)}\n`).join('');
}

/**
 * The steps, one per line, that bring a node to the desired state, in the
 * order apply runs them: refresh each service once (waiting for a restarted
 * service to come online; varpd only once every overlay's table is checked),
 * then create each overlay that does not exist yet.
 * Run again on a node that has them, it changes nothing it should not:
 * `dladm create-overlay` of an existing link fails, so each is guarded.
 */
export function commandsScript(desired: DesiredNode): string {
  const services = servicesOf(desired);
  const waits = services.some((s) => SERVICE_REFRESH[s].awaitOnline !== undefined);
  const restartsVarpd = services.includes('varpd');
  const lines = [
    `# ${desired.node}: steps in order (as apply runs them); an overlay that already exists is left as it is`,
    'set -e',
    ...(waits ? [AWAIT_ONLINE_SH] : []),
    ...(restartsVarpd ? [CHECK_VARPD_TABLES_SH] : []),
    // varpd's restart only after every overlay's table is checked, as apply does (src/render/varpd-check-sh.ts).
    ...services.flatMap((s) => [...(s === 'varpd' ? [CHECK_VARPD_TABLES] : []), ...refreshShellLines(s, quoteArgv)]),
    ...desired.overlays.map((o) => `dladm show-overlay -f ${quoteArgv([o.link])} >/dev/null 2>&1 || ${quoteArgv(o.argv)}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function treeFiles(desired: DesiredNode): TreeFile[] {
  const files: TreeFile[] = [
    { path: COMMANDS_FILE, mode: 0o644, content: () => [commandsScript(desired)] },
    { path: USBKEY_FRAGMENT, mode: 0o644, content: () => [usbkeyFragment(desired)] },
    ...desired.files.map((f) => ({ path: f.path.replace(/^\/+/, ''), mode: f.mode, content: f.content, bytes: f.bytes })),
  ];
  return files;
}
