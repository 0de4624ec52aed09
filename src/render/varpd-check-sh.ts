/**
 * commands.sh's check before its varpd restart (docs/operations.md#render):
 * varpd, restarting, drops for good the instance of every overlay whose
 * files/config it cannot parse, ours or another tool's
 * (docs/smartos-rules.md#before-a-restart). apply, the agent and the daemon
 * check every table first; the script can only do so through the agent's
 * own check (`esdc-overlay agent check-tables`), where `agent deploy` put
 * it. Where no agent runs, it cannot check, so it does not restart: it says
 * why and what to run by hand. Nothing in it comes from the state.
 */

/** Where `agent deploy` puts the bundle on SmartOS (src/agent/layout.ts, AGENT_LAYOUT.smartos.cli). */
export const AGENT_BUNDLE_PATH = '/opt/custom/esdc-overlay/esdc-overlay.mjs';

/** The Node binaries `agent deploy` tries, in its order (src/agent/deploy.ts, NODE_CANDIDATES). */
export const AGENT_NODE_CANDIDATES: readonly string[] = ['/opt/tools/bin/node', '/opt/local/bin/node'];

/** The opt-in that skips the check: for an operator who has checked the tables by hand. */
export const UNCHECKED_RESTART_ENV = 'ESDC_OVERLAY_UNCHECKED_VARPD_RESTART';

/** The function's name, called on the line before `svcadm restart network/varpd`. */
export const CHECK_VARPD_TABLES = 'check_varpd_tables';

/**
 * A POSIX sh function: 0 when the agent's check says every table parses (or
 * the operator opted out with UNCHECKED_RESTART_ENV=yes); else 1, with the
 * reason on stderr. ESDC_OVERLAY_NODE and ESDC_OVERLAY_BUNDLE name the Node
 * and the bundle when they are not where `agent deploy` puts them. A Node
 * that cannot run the bundle (`--version` fails) is passed over, as deploy does.
 */
export const CHECK_VARPD_TABLES_SH = [
  `${CHECK_VARPD_TABLES}() {`,
  `  if [ "\${${UNCHECKED_RESTART_ENV}:-}" = yes ]; then echo "commands.sh: ${UNCHECKED_RESTART_ENV}=yes: restarting varpd without checking the overlays' tables" >&2; return 0; fi`,
  `  b="\${ESDC_OVERLAY_BUNDLE:-${AGENT_BUNDLE_PATH}}"`,
  `  if [ -n "\${ESDC_OVERLAY_NODE:-}" ]; then set -- "\${ESDC_OVERLAY_NODE:?}"; else set -- ${AGENT_NODE_CANDIDATES.join(' ')}; fi`,
  '  for n in "$@"; do',
  '    if [ -x "${n:?}" ] && [ -f "${b:?}" ] && "${n:?}" "${b:?}" --version >/dev/null 2>&1; then',
  '      "${n:?}" "${b:?}" agent check-tables && return 0',
  `      echo "commands.sh: not restarting varpd: the check above refused it; mend what it names, then run this script again" >&2`,
  '      return 1',
  '    fi',
  '  done',
  `  echo "commands.sh: not restarting varpd: cannot check the overlays' tables first (no Node of $* runs \${b:?}; ESDC_OVERLAY_NODE and ESDC_OVERLAY_BUNDLE name them). Check that every overlay's files/config parses as varpd reads it (docs/smartos-rules.md#before-a-restart), then run this script again with ${UNCHECKED_RESTART_ENV}=yes" >&2`,
  '  return 1',
  '}',
].join('\n');
