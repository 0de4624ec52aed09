/**
 * A process stream (stderr) whose writes of one turn of the event loop reach
 * the system in one call: the first write of a turn corks it, the next tick
 * uncorks it (Node's writev), like the SSH sockets (src/transport/corked-socket.ts).
 *
 * Why: at `--log-level debug` an apply logs every remote operation, one line
 * each, and stderr off a terminal is written synchronously, one write(2) per
 * line: ~900 on a 50-node no-op apply, ~0.1 s of the CLI's CPU under the
 * profiler (bench/RESULTS.md "Issue 20, third pass"). Every writer of the
 * stream goes through the same buffer, so the order of lines (logs, the
 * error printed at the CLI edge) is unchanged; only their grouping is.
 * On exit (process.exit from anywhere, or the end) what is still corked is
 * written synchronously, so no line is lost.
 */
import type { Writable } from 'node:stream';

const patched = new WeakSet<Writable>();

/**
 * Wraps `stream.write` on the instance so that the first write of a turn corks
 * the stream and the next tick uncorks it. Shared with the SSH sockets
 * (src/transport/corked-socket.ts), which get the wrapper after net.connect.
 */
export function corkWritesPerTick<S extends Writable>(stream: S): S {
  const write = stream.write;
  let corked = false;
  stream.write = function (this: S, ...args: unknown[]): boolean {
    if (!corked && !this.destroyed) {
      corked = true;
      this.cork();
      process.nextTick(() => {
        corked = false;
        this.uncork();
      });
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as S['write'];
  return stream;
}

export function corkEachTick(stream: Writable): void {
  if (patched.has(stream)) return;
  patched.add(stream);
  corkWritesPerTick(stream);
  process.on('exit', () => {
    // Still corked when exit came before the next tick: flush now (stdio pipes and files are written synchronously).
    while (stream.writableCorked > 0) stream.uncork();
  });
}
