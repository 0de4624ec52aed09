import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectCorked } from '../../src/transport/corked-socket.js';

describe('connectCorked', () => {
  it('holds the writes of one tick together, sends them on the next, bytes and order unchanged', async () => {
    const got: Buffer[] = [];
    const server = createServer((s) => s.on('data', (b: Buffer) => got.push(b)));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const sock = connectCorked('127.0.0.1', (server.address() as AddressInfo).port);
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.write('one ');
    sock.write(Buffer.from('two '));
    sock.write('three', 'utf8');
    // Corked once for the three writes, not yet sent.
    expect(sock.writableCorked).toBe(1);
    await new Promise((res) => process.nextTick(res));
    expect(sock.writableCorked).toBe(0);
    sock.write('!', () => sock.end());
    expect(sock.writableCorked).toBe(1);
    await new Promise<void>((res) => sock.once('close', () => res()));
    server.close();
    expect(Buffer.concat(got).toString()).toBe('one two three!');
  });
});
