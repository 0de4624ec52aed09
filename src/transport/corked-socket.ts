/**
 * A TCP connection that gathers the writes of one turn of the event loop
 * into one system call (cork, then uncork on the next tick: Node's writev).
 *
 * ssh2 writes every SSH packet on its own: a read of a node's files is a few
 * SFTP requests per file, eight files at a time, each its own write(2) and
 * its own TCP segment. Sent together, they cost the head node one system
 * call and the node one wake-up instead of one each (issue 20: on 50
 * simulated nodes sharing two cores, a tenth of a no-op apply was spent in
 * socket writes). Order and bytes are unchanged: only their grouping.
 */
import { connect, type Socket } from 'node:net';

/** Connects (the socket is still connecting when returned, as net.connect's). */
export function connectCorked(host: string, port: number): Socket {
  const sock = connect({ host, port });
  // net.Socket's connect() puts its own `write` back on the instance, so a subclass's override
  // would be dropped: the wrapper goes on the instance after it.
  const write = sock.write;
  let corked = false;
  sock.write = function (this: Socket, ...args: unknown[]): boolean {
    if (!corked && !this.destroyed) {
      corked = true;
      this.cork();
      process.nextTick(() => {
        corked = false;
        this.uncork();
      });
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
  return sock;
}
