/**
 * A ZooKeeper answer the client library cannot decode (an error code it does
 * not know) must end the session as a lost connection, not crash the process:
 * node-zookeeper-client throws "Unknown code" from inside its socket handler.
 * Seen once when ZooKeeper restarted under the daemon (a long-lived process);
 * here a fake server sends such an answer on purpose.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ZkSession } from '../../src/store/zk-session.js';

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

/** Accepts the session, then answers every request with error code `err`. */
function fakeZooKeeper(err: number): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    let connected = false;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0);
        const body = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        if (!connected) {
          connected = true;
          const r = Buffer.alloc(4 + 4 + 8 + 4 + 16);
          r.writeInt32BE(0, 0); // protocolVersion
          r.writeInt32BE(4000, 4); // timeOut
          r.writeBigInt64BE(1n, 8); // sessionId
          r.writeInt32BE(16, 16); // passwd length, then 16 zero bytes
          sock.write(frame(r));
          continue;
        }
        const xid = body.readInt32BE(0);
        const r = Buffer.alloc(4 + 8 + 4);
        r.writeInt32BE(xid, 0);
        r.writeBigInt64BE(0n, 4);
        r.writeInt32BE(err, 12);
        sock.write(frame(r));
      }
    });
    sock.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

describe('a garbled ZooKeeper answer', () => {
  let server: Server | undefined;
  afterEach(() => void server?.close());

  it('ends the session as a lost connection; the process lives on', async () => {
    const fake = await fakeZooKeeper(126156800);
    server = fake.server;
    const session = await ZkSession.connect({ hosts: `127.0.0.1:${fake.port}`, timeoutMs: 2000 });
    await expect(session.ping()).rejects.toMatchObject({ code: 'StoreUnavailable' });
    session.close();
  });
});
