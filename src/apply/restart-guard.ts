/**
 * The check before every varpd restart we make (docs/smartos-rules.md#before-a-restart):
 * varpd, restarting, drops for good the instance of any overlay whose
 * `files/config` table it cannot read or parse, ours or not (another tool's
 * writer may be mid-edit, a hand edit may have broken it). So before the
 * executor restarts varpd on a node, every overlay's table there must be one
 * varpd's files plugin starts on; if one is not, the restart is refused,
 * naming the node, the overlay and the table, and the next run tries again.
 *
 * What is read: `dladm show-overlay -p -o link,property,value` for each
 * overlay's `files/config` (overlays of another search plugin have none and
 * read no table, nor do overlays whose instance is gone: src/apply/show-overlay.ts); tables this run writes are skipped (we rendered them), and
 * so are those it removes (their overlays' loss is planned);
 * with hashes of contents known to parse (`knownGood`), one `digest` over the
 * others skips those whose hash is known; the rest are read, each up to
 * `maxBytes` (MAX_READ_BYTES unless given: a larger one is refused unchecked),
 * and parsed with varpd's rules (src/files-config/varpd-table-check.ts).
 * A failing table whose overlays all have no varpd instance already (an
 * earlier restart dropped it) refuses nothing: there is nothing left to lose.
 */
import { parseOverlayStatus, SHOW_OVERLAY_FMA_ARGV } from '../discovery/dladm.js';
import { EsdcError } from '../errors.js';
import { varpdTableProblem } from '../files-config/varpd-table-check.js';
import { checkExec, MAX_READ_BYTES, TransportError, type Transport } from '../transport/transport.js';
import { digestFiles } from './digest.js';
import { mapLimit } from './pool.js';
import { showOverlay } from './show-overlay.js';

export interface RestartGuardOptions {
  timeoutMs: number;
  /**
   * Tables this run writes before the restart (their content is ours) or
   * removes (a rule the state no longer has: its overlay is meant to lose
   * its instance at this restart, as the plan says): not read.
   */
  ours: ReadonlySet<string>;
  /** SHA-256 of table contents known to parse (ones we rendered): a table with one of them is not read. */
  knownGood?: ReadonlySet<string>;
  /** Largest table read (default MAX_READ_BYTES); a larger one is refused, unchecked. */
  maxBytes?: number;
}

/** What `dladm show-overlay -f` says of a link whose varpd instance a restart found missing. */
export const NO_INSTANCE = 'no varpd instance exists';

/** What the check did, for logs and benchmarks. */
export interface RestartGuardResult {
  /** Distinct tables the node's overlays name. */
  tables: number;
  /** Of those, read and parsed. */
  read: number;
  bytesRead: number;
}

/** One table varpd would not start on, and the overlays that use it. */
export interface BadTable {
  path: string;
  links: string[];
  reason: string;
}

/** The restart was refused: `tables` would cost their overlays their varpd instance. */
export class RestartRefusedError extends EsdcError {
  constructor(
    readonly node: string,
    readonly tables: BadTable[],
  ) {
    const each = tables.map((b) => `overlay ${b.links.join(', ')}: ${safePath(b.path)} ${b.reason}`).join('; ');
    super(
      `refusing to restart varpd on ${node}: ${each}; varpd would drop ${tables.length === 1 && tables[0]!.links.length === 1 ? "that overlay's" : 'those overlays\''} ` +
        'varpd instance for good (docs/smartos-rules.md#before-a-restart). Mend or remove the table (or delete the overlay), then run again',
      { code: 'RestartRefused' },
    );
  }
}

/** A node's path in a message: as it is when printable, else quoted with its control characters escaped. */
function safePath(path: string): string {
  return /[\x00-\x1f\x7f]/.test(path) ? JSON.stringify(path) : path;
}

/** Each table the overlays name, with the links that use it (one rule's links share one table). */
export function overlayTables(overlays: ReadonlyMap<string, ReadonlyMap<string, string>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [link, props] of overlays) {
    const path = props.get('files/config');
    if (path === undefined) continue;
    out.set(path, [...(out.get(path) ?? []), link]);
  }
  return out;
}

/** A node's path we read: absolute, one line, no `..` (it reaches a transport's path, never a shell). */
function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/') || /[\x00-\x1f\x7f]/.test(path) || /(^|\/)\.\.(\/|$)/.test(path)) return 'is not a path this tool reads (absolute, printable, no `..`), so it cannot be checked';
  return undefined;
}

/** Why `path` would fail varpd's start, read over `t`; undefined when it would not. */
async function tableProblem(t: Transport, path: string, o: RestartGuardOptions, n: RestartGuardResult): Promise<string | undefined> {
  const bad = pathProblem(path);
  if (bad !== undefined) return bad;
  let got;
  try {
    got = await t.readFile(path, o.timeoutMs, { maxBytes: o.maxBytes ?? MAX_READ_BYTES });
  } catch (err) {
    // Not a regular file, or above the cap: not checked, so not restarted on. Anything else (a timeout) fails the check too.
    if (err instanceof TransportError) return `cannot be checked (${err.message})`;
    throw err;
  }
  if (got === undefined) return 'does not exist';
  n.read++;
  n.bytesRead += got.data.length;
  const p = varpdTableProblem(got.data);
  if (p === undefined) return undefined;
  return `does not parse as varpd reads it: ${p.reason}${p.offset !== undefined ? ` (at byte ${p.offset})` : ''}`;
}

/** Throws RestartRefusedError when a table of the node's overlays would fail varpd's start; else says what it read. */
export async function checkTablesBeforeRestart(t: Transport, o: RestartGuardOptions): Promise<RestartGuardResult> {
  // An overlay with no varpd instance lists no files/config (and makes dladm exit 1): it reads no table.
  const tables = overlayTables((await showOverlay(t, o.timeoutMs)).overlays);
  const n: RestartGuardResult = { tables: tables.size, read: 0, bytesRead: 0 };
  let others = [...tables.keys()].filter((p) => !o.ours.has(p)).sort();
  if (others.length > 0 && o.knownGood !== undefined && o.knownGood.size > 0) {
    const { hashes } = await digestFiles(t, others.filter((p) => pathProblem(p) === undefined), o.timeoutMs);
    others = others.filter((p) => !o.knownGood!.has(hashes.get(p) ?? ''));
  }
  const problems = await mapLimit(others, 4, (p) => tableProblem(t, p, o, n));
  let bad = others.flatMap((path, i) => (problems[i] === undefined ? [] : [{ path, links: tables.get(path)!, reason: problems[i]! }]));
  if (bad.length > 0) {
    // A link with no varpd instance has nothing left to lose (an earlier restart dropped it: a rule the state
    // no longer has, or damage verify reports): only tables some live instance still uses refuse the restart.
    const lost = await instanceless(t, o.timeoutMs);
    bad = bad.filter((b) => !b.links.every((l) => lost.has(l)));
  }
  if (bad.length > 0) throw new RestartRefusedError(t.node, bad);
  return n;
}

/**
 * The links varpd says have no instance: DEGRADED with the text its restart
 * gives them (libvarpd_persist.c:447-463, in dladm show-overlay -f). Read
 * only when a table failed, so the usual check costs no second command.
 */
async function instanceless(t: Transport, timeoutMs: number): Promise<Set<string>> {
  const r = checkExec(t.node, SHOW_OVERLAY_FMA_ARGV, await t.exec(SHOW_OVERLAY_FMA_ARGV, timeoutMs));
  return new Set(parseOverlayStatus(r.stdout, `${t.node}: dladm show-overlay -f`).filter((s) => s.status === 'DEGRADED' && s.details === NO_INSTANCE).map((s) => s.link));
}
