/**
 * Issue 15: a state save on a full disk said "internal error". A 64 KiB
 * tmpfs, mounted in a private mount namespace (`unshare --mount`, so the host
 * never sees it, and gone when the namespace's last process exits), holds
 * the state and a filler that leaves room for the lock but not for the new
 * state; the built CLI's `create` must say what happened and that nothing
 * changed, and the state must be byte-identical. Needs root and unshare.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, EXAMPLE } from '../support/paths.js';

function canUnshareMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare --mount is not available here (${(probe.stderr || String(probe.error)).trim()})`;
  return undefined;
}
const skipWhy = canUnshareMount();

describe.skipIf(skipWhy !== undefined)(`a state save on a full disk${skipWhy ? ` (skipped: ${skipWhy})` : ''}`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-enospc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is reported as no space left on the device, naming the file, and nothing changes', () => {
    const mnt = join(dir, 'mnt');
    // The state padded to ~20 KiB with a comment (kept on save), so its new copy needs 5 pages of the 16.
    const state = `# ${'x'.repeat(20_000)}\n${readFileSync(EXAMPLE, 'utf8')}`;
    const script = [
      'set -eu',
      'mkdir -p "${MNT:?}"',
      'mount -t tmpfs -o size=64k,mode=700 esdc-enospc "$MNT"',
      'printf %s "$STATE" > "$MNT/state.yaml"',
      'chmod 600 "$MNT/state.yaml"',
      'cp "$MNT/state.yaml" "$OUT/before.yaml"',
      // Fill the rest, then free two pages: room for the lock, none for the new state.
      'dd if=/dev/zero of="$MNT/filler" bs=4096 2>/dev/null || true',
      'truncate -s -8192 "$MNT/filler"',
      'set +e',
      '"$NODE" "$CLI" --state "$MNT/state.yaml" create backup > "$OUT/stdout" 2> "$OUT/stderr"',
      'echo $? > "$OUT/status"',
      'cp "$MNT/state.yaml" "$OUT/after.yaml"',
      'ls -a "$MNT" > "$OUT/ls"',
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MNT: mnt, OUT: dir, STATE: state, NODE: process.execPath, CLI, ESDC_OVERLAY_LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const stderr = readFileSync(join(dir, 'stderr'), 'utf8');
    expect(readFileSync(join(dir, 'status'), 'utf8').trim()).toBe('1');
    expect(stderr).toContain(`cannot save ${mnt}/state.yaml: no space left on the device (ENOSPC); the state file was not changed`);
    expect(stderr).not.toContain('internal error');
    expect(readFileSync(join(dir, 'after.yaml'), 'utf8')).toBe(readFileSync(join(dir, 'before.yaml'), 'utf8'));
    // No temporary file or lock left behind.
    expect(readFileSync(join(dir, 'ls'), 'utf8').split('\n').filter((l) => l !== '').sort()).toEqual(['.', '..', 'filler', 'state.yaml']);
  });
});
