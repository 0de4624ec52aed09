/**
 * sftpReadWithMode against an in-memory SFTP server that answers in order,
 * as sftp-server does: the requests it receives, and what a file that grows
 * between the lstat and the read gives.
 */
import type { SFTPWrapper } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { sftpReadWithMode } from '../../src/transport/sftp-read.js';

type Cb = (err: Error | null | undefined, v?: unknown) => void;

/** `sizes`: what lstat sees, then what the file holds from the open on. */
function fakeSftp(lstatSize: number, content: Buffer) {
  const log: string[] = [];
  const stats = (size: number) => ({ mode: 0o100644, size, mtime: 1, isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false });
  let open = 0;
  const sftp = {
    lstat: (_p: string, cb: Cb) => (log.push('lstat'), setImmediate(() => cb(undefined, stats(lstatSize)))),
    open: (_p: string, _f: string, cb: Cb) => (log.push('open'), open++, setImmediate(() => cb(undefined, Buffer.from([open])))),
    fstat: (_h: Buffer, cb: Cb) => (log.push('fstat'), setImmediate(() => (log.push('fstat answered'), cb(undefined, stats(content.length))))),
    read: (_h: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: (err: Error | undefined, n: number) => void) => {
      log.push('read');
      const n = content.copy(buf, off, pos, Math.min(pos + len, content.length));
      setImmediate(() => cb(undefined, n));
    },
    close: (_h: Buffer, cb: Cb) => (log.push('close'), setImmediate(() => cb(undefined))),
  };
  return { sftp: sftp as unknown as SFTPWrapper, log };
}

describe('sftpReadWithMode', () => {
  it('a small file: lstat, open, then fstat, read and close sent together', async () => {
    const { sftp, log } = fakeSftp(5, Buffer.from('hello'));
    const got = await sftpReadWithMode(sftp, '/f', 'n', 1 << 20);
    expect(got.data.toString()).toBe('hello');
    expect(got.mode).toBe(0o644);
    expect(log).toEqual(['lstat', 'open', 'fstat', 'read', 'close', 'fstat answered']);
  });

  it('a file that grew past the first read after the lstat is read again, whole', async () => {
    const big = Buffer.alloc(200 * 1024, 7);
    const { sftp, log } = fakeSftp(5, big);
    const got = await sftpReadWithMode(sftp, '/f', 'n', 1 << 20);
    expect(got.data.equals(big)).toBe(true);
    expect(log.filter((x) => x === 'open')).toHaveLength(2);
    expect(log.filter((x) => x === 'close')).toHaveLength(2);
  });

  it('a large file keeps its handle open until the last read', async () => {
    const big = Buffer.alloc(200 * 1024, 9);
    const { sftp, log } = fakeSftp(big.length, big);
    const got = await sftpReadWithMode(sftp, '/f', 'n', 1 << 20);
    expect(got.data.equals(big)).toBe(true);
    expect(log.indexOf('close')).toBe(log.length - 1);
    expect(log.filter((x) => x === 'open')).toHaveLength(1);
  });

  it('a file over one READ request (ssh2 splits those into requests sent one after another) is closed after its reads', async () => {
    // 40 KiB: under the first read's 64 KiB, over the ~31 KiB ssh2 asks of a server it does not know as OpenSSH.
    const mid = Buffer.alloc(40 * 1024, 3);
    const { sftp, log } = fakeSftp(mid.length, mid);
    const got = await sftpReadWithMode(sftp, '/f', 'n', 1 << 20);
    expect(got.data.equals(mid)).toBe(true);
    expect(log.indexOf('close')).toBe(log.length - 1);
    expect(log.filter((x) => x === 'open')).toHaveLength(1);
  });

  it('a prefix of a large file: one read, closed with it', async () => {
    const big = Buffer.alloc(200 * 1024, 1);
    const { sftp, log } = fakeSftp(big.length, big);
    const got = await sftpReadWithMode(sftp, '/f', 'n', 1 << 20, 512);
    expect(got.data.length).toBe(512);
    expect(log).toEqual(['lstat', 'open', 'fstat', 'read', 'close', 'fstat answered']);
  });
});
