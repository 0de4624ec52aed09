/**
 * The render's file writes handed to libuv's thread pool, so that the
 * kernel's copying of one node's files runs on another core while the main
 * thread makes the next node's (docs/operations.md#render-writes).
 *
 * Each file is opened (exclusively) and given its mode on the main thread,
 * where opening costs little and an error stops the render at once; its
 * bytes then go out as positioned writes (pwrite, pwritev) on the pool, and
 * the file is closed when the last of them is done. Positions make the
 * order of the pool's writes irrelevant. Memory stays bounded: past
 * IN_FLIGHT_BYTES (or IN_FLIGHT_FILES open files) not yet written, the
 * render waits (`room`) before it makes more.
 *
 * Why not one awaited open, write, chmod, close per file: that hands every
 * call to the pool and waits for it, and left the CPU idle (issue 20,
 * bench/RESULTS.md). Here nothing the main thread does waits on a write
 * unless the bound is reached.
 */
import { closeSync, fchmodSync, openSync, writev, writevSync } from 'node:fs';

/** Bytes handed to the pool and not yet written, past which the render waits. */
export const IN_FLIGHT_BYTES = 8 << 20;
/** Files open and not yet fully written, past which the render waits (each holds a descriptor). */
export const IN_FLIGHT_FILES = 256;

/** Text is written in pieces of at most this many characters (one pwrite each). */
const TEXT_PIECE = 1 << 20;
/** Buffers in one pwritev: well under IOV_MAX (1024 on Linux and illumos). */
const IOV_BATCH = 512;
/** Whole files smaller than this are written on the main thread (commands.sh, usbkey lines, ipf rules). */
export const SYNC_BELOW = 32 * 1024;

export class PoolWriter {
  private bytesInFlight = 0;
  private filesInFlight = 0;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  /** The first error of any write or close, once it has happened. */
  get error(): { error: unknown } | undefined {
    return this.failure;
  }

  /** Writes a file of text chunks; returns its length in bytes. Throws at once if the file cannot be created. */
  text(path: string, mode: number, chunks: Iterable<string>): number {
    const file = this.open(path, mode);
    let pos = 0;
    let piece = '';
    try {
      for (const chunk of chunks) {
        piece += chunk;
        if (piece.length >= TEXT_PIECE) {
          pos += this.writeText(file, piece, pos);
          piece = '';
        }
      }
      if (piece !== '') pos += this.writeText(file, piece, pos, pos === 0);
    } finally {
      this.done(file);
    }
    return pos;
  }

  /** Writes a file of byte chunks (which must not change until written); returns its length. */
  buffers(path: string, mode: number, chunks: Iterable<Uint8Array>): number {
    const file = this.open(path, mode);
    let pos = 0;
    try {
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      for (const chunk of chunks) {
        batch.push(chunk);
        batchBytes += chunk.byteLength;
        if (batch.length >= IOV_BATCH) {
          this.writeBuffers(file, batch, batchBytes, pos, false);
          pos += batchBytes;
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length > 0) {
        this.writeBuffers(file, batch, batchBytes, pos, pos === 0);
        pos += batchBytes;
      }
    } finally {
      this.done(file);
    }
    return pos;
  }

  /** Whether the bounds leave room for more; `room()` waits until they do. */
  get full(): boolean {
    return this.bytesInFlight >= IN_FLIGHT_BYTES || this.filesInFlight >= IN_FLIGHT_FILES;
  }

  /** Resolves once the writes in flight are under the bounds (at once if they are). */
  async room(): Promise<void> {
    while (this.full) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Resolves once every write has finished and every file is closed; rejects with the first error. */
  async settle(): Promise<void> {
    while (this.filesInFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure !== undefined) throw this.failure.error;
  }

  private open(path: string, mode: number): OpenFile {
    const fd = openSync(path, 'wx', mode);
    try {
      // The exact mode, whatever the umask: set before any byte is written.
      fchmodSync(fd, mode);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.filesInFlight++;
    // `writes` starts at 1: the file's own hold, released by done() once every write is handed over.
    return { fd, writes: 1 };
  }

  /**
   * The text encoded once, here (the pool needs bytes; a string handed to an
   * asynchronous write is copied by Node all the same), then written as bytes:
   * its length comes with the encoding, not from a second pass over the text.
   */
  private writeText(file: OpenFile, text: string, pos: number, whole = false): number {
    const bytes = Buffer.from(text, 'utf8');
    this.writeBuffers(file, [bytes], bytes.length, pos, whole);
    return bytes.length;
  }

  /**
   * A whole file under SYNC_BELOW bytes is written here and now: handing it
   * to the pool costs more than the copy (a wake-up of a pool thread, which
   * on a busy machine preempts this one, and a callback).
   */
  private writeBuffers(file: OpenFile, batch: Uint8Array[], bytes: number, pos: number, whole: boolean): void {
    if (whole && bytes < SYNC_BELOW) {
      writevAllSync(file.fd, batch, bytes);
      return;
    }
    this.begin(file, bytes);
    this.writevFrom(file, batch, pos, bytes);
  }

  private writevFrom(file: OpenFile, batch: Uint8Array[], pos: number, bytes: number): void {
    const want = batch.reduce((n, b) => n + b.byteLength, 0);
    writev(file.fd, batch, pos, (err, written) => {
      if (err === null && written < want) this.rest(file, skip(batch, written), pos + written, bytes);
      else this.end(file, bytes, err);
    });
  }

  private rest(file: OpenFile, batch: Uint8Array[], pos: number, bytes: number): void {
    this.writevFrom(file, batch, pos, bytes);
  }

  private begin(file: OpenFile, bytes: number): void {
    file.writes++;
    this.bytesInFlight += bytes;
  }

  private end(file: OpenFile, bytes: number, err: NodeJS.ErrnoException | null): void {
    this.bytesInFlight -= bytes;
    if (err !== null) this.fail(err);
    this.done(file);
  }

  /** One hold on the file released; the last one closes it. */
  private done(file: OpenFile): void {
    if (--file.writes > 0) return;
    try {
      closeSync(file.fd);
    } catch (err) {
      this.fail(err);
    }
    this.filesInFlight--;
    const wake = this.wake;
    if (wake !== undefined && (!this.full || this.filesInFlight === 0)) {
      this.wake = undefined;
      wake();
    }
  }

  private fail(err: unknown): void {
    this.failure ??= { error: err };
  }
}

interface OpenFile {
  fd: number;
  /** Writes not yet finished, plus one while the file is still being handed over. */
  writes: number;
}

/** writevSync until every byte is written (a short write is rare: a signal, a full disk). */
function writevAllSync(fd: number, buffers: Uint8Array[], total: number): void {
  let done = writevSync(fd, buffers);
  while (done < total) done += writevSync(fd, skip(buffers, done));
}

/** The buffers past the first `n` bytes. */
function skip(buffers: Uint8Array[], n: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let left = n;
  for (const b of buffers) {
    if (left >= b.byteLength) left -= b.byteLength;
    else {
      rest.push(left > 0 ? b.subarray(left) : b);
      left = 0;
    }
  }
  return rest;
}
