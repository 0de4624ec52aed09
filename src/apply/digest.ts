/**
 * SHA-256 of a node's files in one command, so that a plan reads back only
 * the files that differ (issue 20: a no-op apply read every managed file in
 * full, hundreds of MB of ARP tables over SSH for nothing).
 *
 * illumos digest(1), `digest -v -a sha256 FILE...` (illumos-gate
 * usr/src/cmd/cmd-crypto/digest/digest.c, read in illumos-joyent @ 6e2c24e1):
 * - for each file it can open, one line `sha256 (FILE) = HEX`: the algorithm
 *   name with -v (:773-774), `(FILE) = ` with -v and a file (:777-778), then
 *   the digest (:781) in lower-case hex (usr/src/lib/libcryptoutil/common/tohexstr.c:44);
 * - a file it cannot open (missing) gets a message on stderr and no line,
 *   and the exit status becomes 2 (EXIT_USAGE, :74), but the other files are
 *   still digested (:723-729, `continue` in the do-while of :785);
 * - a read error (a directory) gets no line either and status 1 (:745-752).
 * The file is opened O_RDONLY|O_NONBLOCK (:723), so a FIFO cannot block it.
 */
import { checkExec, type Transport } from '../transport/transport.js';

/** The command, for paths that `digestPaths` accepted. */
export function digestArgv(paths: readonly string[]): string[] {
  return ['digest', '-v', '-a', 'sha256', ...paths];
}

/**
 * Paths digest is asked about: absolute (so none reads as an option) and on
 * one line (its output is read line by line). Others are simply read.
 */
export function digestable(path: string): boolean {
  return path.startsWith('/') && !/[\n\r\0]/.test(path);
}

/**
 * The hashes in digest's output, by path. Lines come in the order of
 * `paths`, one for each file digest could read; a line that is not one of
 * them, in order, makes the whole output untrusted (undefined), and the
 * caller reads every file as it would without digest.
 */
export function parseDigestOutput(stdout: string, paths: readonly string[]): Map<string, string> | undefined {
  const hashes = new Map<string, string>();
  let next = 0;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    let found = false;
    while (next < paths.length && !found) {
      const path = paths[next++]!;
      const prefix = `sha256 (${path}) = `;
      if (line.startsWith(prefix) && /^[0-9a-f]{64}$/.test(line.slice(prefix.length))) {
        hashes.set(path, line.slice(prefix.length));
        found = true;
      }
    }
    if (!found) return undefined;
  }
  return hashes;
}

/** What one digest run gave: hashes by path (empty when digest is missing or failed) and the bytes it printed. */
export interface DigestResult {
  hashes: ReadonlyMap<string, string>;
  bytesRead: number;
}

/**
 * Runs digest once over `paths` on the node. Exit 0, 1 (a file could not be
 * read) and 2 (a file could not be opened) all carry valid lines; anything
 * else (no digest on the node, a timeout) gives no hashes, and the caller
 * reads the files: slower, never wrong.
 */
export async function digestFiles(t: Transport, paths: readonly string[], timeoutMs: number): Promise<DigestResult> {
  const asked = paths.filter(digestable);
  if (asked.length === 0) return { hashes: new Map(), bytesRead: 0 };
  const argv = digestArgv(asked);
  let out: string;
  try {
    const r = await t.exec(argv, timeoutMs);
    out = r.stdout;
    if (r.code !== 1 && r.code !== 2) checkExec(t.node, argv, r);
  } catch {
    return { hashes: new Map(), bytesRead: 0 };
  }
  return { hashes: parseDigestOutput(out, asked) ?? new Map(), bytesRead: Buffer.byteLength(out) };
}
