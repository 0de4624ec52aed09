/**
 * Waits until an SMF instance a step restarted is online again. `svcadm
 * restart` returns once svc.startd has the request (svcadm(8) gives -s only to
 * enable and disable), so the next step could otherwise meet a service that
 * is still stopping or starting: varpd's door is what net-virtual and
 * create-overlay need. Bounded; the error names the node and the service.
 */
import { svcsStateArgv } from '../desired/services.js';
import { checkExec, TransportError, type Transport } from '../transport/transport.js';

export interface AwaitOnlineOptions {
  /** Per `svcs` call. */
  timeoutMs: number;
  /** The whole wait. */
  boundMs: number;
  /** Between two looks. */
  intervalMs?: number;
}

/** `svcs -H -o state,nstate` output → [state, next state]. */
export function parseSvcsState(stdout: string): [string, string] | undefined {
  const f = stdout.trim().split(/\s+/);
  return f.length === 2 && f[0] !== '' ? [f[0]!, f[1]!] : undefined;
}

export async function awaitOnline(t: Transport, fmri: string, o: AwaitOnlineOptions): Promise<void> {
  const argv = svcsStateArgv(fmri);
  const started = performance.now();
  let last = '(no answer)';
  for (;;) {
    const state = parseSvcsState(checkExec(t.node, argv, await t.exec(argv, o.timeoutMs)).stdout);
    if (state) {
      last = state.join(' ');
      if (state[0] === 'online' && state[1] === '-') return;
      // Maintenance or disabled with nothing pending does not recover by waiting.
      if ((state[0] === 'maintenance' || state[0] === 'disabled') && state[1] === '-') {
        throw new TransportError(t.node, `service ${fmri} is ${state[0]} after its restart (svcs -x ${fmri} says why)`, { code: 'ServiceNotOnline' });
      }
    }
    if (performance.now() - started >= o.boundMs) {
      throw new TransportError(t.node, `service ${fmri} is not online ${o.boundMs / 1000} s after its restart (state, next state: ${last})`, {
        code: 'ServiceNotOnline',
      });
    }
    await new Promise((res) => setTimeout(res, o.intervalMs ?? 200));
  }
}
