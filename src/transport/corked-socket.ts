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
import { corkWritesPerTick } from '../io/cork-each-tick.js';

/** Connects (the socket is still connecting when returned, as net.connect's). */
export function connectCorked(host: string, port: number): Socket {
  // net.Socket's connect() puts its own `write` back on the instance, so a subclass's override
  // would be dropped: the wrapper goes on the instance after it.
  return corkWritesPerTick(connect({ host, port }));
}
