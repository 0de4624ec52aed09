/**
 * A TCP proxy in front of a test server that can freeze: while frozen it
 * forwards nothing either way and passes on no close, as a network partition
 * or a paused host looks to both ends. The server then expires a ZooKeeper
 * session whose pings stop, while the client still believes it is connected.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  hosts: string;
  freeze(): void;
  /** Forwards again; what the other end closed meanwhile is closed now. */
  thaw(): void;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let frozen = false;
  const pairs = new Set<{ a: Socket; b: Socket; closed: boolean }>();
  const server = createServer((a) => {
    const b = createConnection({ host: targetHost, port: targetPort });
    const pair = { a, b, closed: false };
    pairs.add(pair);
    a.pipe(b);
    b.pipe(a);
    const gone = (): void => {
      if (frozen) pair.closed = true;
      else {
        a.destroy();
        b.destroy();
        pairs.delete(pair);
      }
    };
    a.on('close', gone).on('error', gone);
    b.on('close', gone).on('error', gone);
    if (frozen) {
      a.pause();
      b.pause();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    hosts: `127.0.0.1:${port}`,
    freeze() {
      frozen = true;
      for (const p of pairs) {
        p.a.unpipe(p.b);
        p.b.unpipe(p.a);
        p.a.pause();
        p.b.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const p of [...pairs]) {
        if (p.closed) {
          p.a.destroy();
          p.b.destroy();
          pairs.delete(p);
        } else {
          p.a.pipe(p.b);
          p.b.pipe(p.a);
        }
      }
    },
    async close() {
      for (const p of pairs) {
        p.a.destroy();
        p.b.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
