/**
 * One daemon per installation (docs/daemon.md#one-daemon): a second daemon
 * on the same store stands by (its status says so and names the leader) and
 * takes over when the first stops; a daemon whose lease is lost stops with
 * EXIT_LEASE_LOST and saves nothing more. A state without nodes: only the
 * lease is under test here.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_LEASE_LOST, runInventoryDaemon } from '../../src/daemon/daemon.js';
import { readDaemonStatus } from '../../src/daemon/status.js';
import { FileStore } from '../../src/store/file-store.js';
import { waitFor } from './daemon-helpers.js';

let dir: string;
let state: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-one-daemon-'));
  state = join(dir, 'state.yaml');
  await writeFile(state, 'version: 1\n');
});
afterEach(async () => {
  await rm(dir ?? '/nonexistent-esdc-one-daemon', { recursive: true, force: true });
});

function daemon(name: string): { signals: EventEmitter; statusPath: string; done: Promise<number> } {
  const signals = new EventEmitter();
  const statusPath = join(dir, `${name}-status.json`);
  const done = runInventoryDaemon(
    {
      store: new FileStore(state, { lease: { pollMs: 20, checkMs: 20 } }),
      open: () => Promise.reject(new Error('no nodes in this state')),
      log: pino({ level: 'silent' }),
      statusPath,
      timeoutMs: 5000,
    },
    signals,
  );
  return { signals, statusPath, done };
}

const state_ = async (path: string): Promise<string | undefined> => (await readDaemonStatus(path).catch(() => undefined))?.state;

describe('one daemon per installation', () => {
  it('stands a second daemon by until the first stops, then it leads', async () => {
    const a = daemon('a');
    await waitFor('a to run', 5000, async () => (await state_(a.statusPath)) === 'running');
    const b = daemon('b');
    await waitFor('b to stand by', 5000, async () => (await state_(b.statusPath)) === 'standby');
    const standby = (await readDaemonStatus(b.statusPath))!;
    expect(standby.leader).toMatch(new RegExp(`^process ${process.pid} on \\S+ since `));
    expect(JSON.parse(await readFile(`${state}.daemon.lock`, 'utf8')).pid).toBe(process.pid);

    a.signals.emit('SIGTERM');
    expect(await a.done).toBe(0);
    await waitFor('b to lead', 5000, async () => (await state_(b.statusPath)) === 'running');
    b.signals.emit('SIGTERM');
    expect(await b.done).toBe(0);
    // Both gone: the lease file went with the last holder.
    await expect(readFile(`${state}.daemon.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops with EXIT_LEASE_LOST when its lease is taken from it', async () => {
    const a = daemon('a');
    await waitFor('a to run', 5000, async () => (await state_(a.statusPath)) === 'running');
    await unlink(`${state}.daemon.lock`);
    expect(await a.done).toBe(EXIT_LEASE_LOST);
    expect(await state_(a.statusPath)).toBe('stopped');
  });

  it('leaves without leading when told to stop while standing by', async () => {
    const a = daemon('a');
    await waitFor('a to run', 5000, async () => (await state_(a.statusPath)) === 'running');
    const b = daemon('b');
    await waitFor('b to stand by', 5000, async () => (await state_(b.statusPath)) === 'standby');
    b.signals.emit('SIGTERM');
    expect(await b.done).toBe(0);
    expect(await state_(a.statusPath)).toBe('running');
    a.signals.emit('SIGTERM');
    expect(await a.done).toBe(0);
  });
});
