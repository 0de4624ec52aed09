/**
 * Reading a node's file over SFTP, with its mode, in as few round trips as
 * the protocol allows. Every plan reads back every file we manage on every
 * node; a `stat` then ssh2's `readFile` cost five round trips per file
 * (stat, open, fstat, read, close).
 */
import type { SFTPWrapper, Stats } from 'ssh2';
import { checkReadable, type FileContent } from './transport.js';

/** Asked for by the first read, sent along with the fstat: most files we manage fit (large rules' ARP tables do not). */
const FIRST_READ = 64 * 1024;
/**
 * The most one SFTP READ request of ssh2 asks for, whatever the server: ~31 KiB (34,000 bytes less 2 KiB of
 * framing) from a server it does not know as OpenSSH by its version string (the light nodes' ssh2 server, an
 * older sshd); more (255 KiB) only from OpenSSH. A read whose close goes out with it must fit in one request.
 */
const ONE_REQUEST = 34_000 - 2 * 1024;
/** Later reads, for larger files; ssh2 splits each into the server's own maximum. */
const NEXT_READ = 1024 * 1024;

type Callback<T> = (err: Error | null | undefined, value: T) => void;
const call = <T>(f: (cb: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, value) => (err ? reject(err) : resolve(value))));

/**
 * The whole file and its permission bits through one handle: open, then
 * fstat, the first read and the close in flight together (two round trips
 * after the lstat for a file under 64 KiB, or a prefix). Mode and bytes belong to the same open
 * file, so a rename between them cannot pair one file's mode with another's
 * bytes. Errors are ssh2's (a missing file: code 2), or a TransportError
 * for what checkReadable refuses.
 *
 * An lstat comes first, one round trip more: sftp-server serves one request
 * at a time, and its open of a FIFO blocks until a writer comes, so the
 * session (and every later operation of the run) would hang. Only a regular
 * file is opened, and only up to `maxBytes` (a 2 GiB file once took 4 GB of
 * memory and, cut by Buffer's toString, was then reported in sync).
 */
export async function sftpReadWithMode(sftp: SFTPWrapper, path: string, node: string, maxBytes: number, prefixBytes?: number): Promise<FileContent> {
  const seen = await call<Stats>((cb) => sftp.lstat(path, cb));
  checkReadable(node, path, seen, maxBytes);
  const firstLen = Math.min(FIRST_READ, maxBytes + 1, prefixBytes ?? Infinity);
  // What the first read will hold whole if the file is still the one lstat saw: then the close
  // goes out with the fstat and the read (one round trip less per file; issue 20), and only a
  // file that grew meanwhile is read again, the long way.
  // Only what one READ request carries: ssh2 splits a larger read into requests sent one after another, and
  // the close sent with the first would overtake the rest ("bad handle" from light nodes, issue 22).
  const earlyLen = Math.min(firstLen, ONE_REQUEST);
  const oneRead = seen.size < earlyLen || (prefixBytes !== undefined && prefixBytes <= earlyLen);
  if (oneRead) {
    const got = await readHandle(sftp, path, node, maxBytes, prefixBytes, earlyLen, true);
    if (got) return got;
  }
  return (await readHandle(sftp, path, node, maxBytes, prefixBytes, firstLen, false))!;
}

/**
 * Open, then fstat and the first read in flight together, more reads up to
 * the size fstat gave, close. `closeEarly` sends the close with the fstat and
 * the first read, and gives undefined when the first read did not hold all
 * that was wanted (the caller reads again without it).
 */
async function readHandle(
  sftp: SFTPWrapper,
  path: string,
  node: string,
  maxBytes: number,
  prefixBytes: number | undefined,
  firstLen: number,
  closeEarly: boolean,
): Promise<FileContent | undefined> {
  const handle = await call<Buffer>((cb) => sftp.open(path, 'r', cb));
  // A read-only handle: nothing to lose if closing fails, and the read's own error matters more.
  const close = (): Promise<void> => call<void>((cb) => sftp.close(handle, (err) => cb(err, undefined))).catch(() => undefined);
  let closed: Promise<void> | undefined;
  try {
    const readAt = (len: number, position: number): Promise<Buffer> =>
      call<Buffer>((cb) => {
        const buf = Buffer.allocUnsafe(len);
        // At end of file ssh2 reports 0 bytes, not an error.
        sftp.read(handle, buf, 0, len, position, (err, n) => cb(err, buf.subarray(0, n ?? 0)));
      });
    const statP = call<Stats>((cb) => sftp.fstat(handle, cb));
    const firstP = readAt(firstLen, 0);
    // SFTP answers a session's requests in order: the close is served after the fstat and the read.
    if (closeEarly) closed = close();
    const [st, first] = await Promise.all([statP, firstP]);
    // The open file may not be the one lstat saw (renamed over meanwhile).
    checkReadable(node, path, st, maxBytes);
    checkReadable(node, path, { isFile: () => true, size: first.length }, maxBytes);
    const chunks = [first];
    let total = first.length;
    // Up to the size fstat gave, or end of file if it shrank meanwhile.
    // It may also grow meanwhile: never past the limit.
    const size = Math.min(st.size, maxBytes, prefixBytes ?? Infinity);
    if (closeEarly && total < size) return undefined;
    while (total < size) {
      const more = await readAt(Math.min(size - total, NEXT_READ), total);
      if (more.length === 0) break;
      chunks.push(more);
      total += more.length;
    }
    return { data: Buffer.concat(chunks, total), mode: st.mode & 0o7777, mtimeMs: st.mtime * 1000 };
  } finally {
    await (closed ?? close());
  }
}
