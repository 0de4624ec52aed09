/**
 * One daemon per installation on a state file (docs/daemon.md#one-daemon):
 * the lease `<state>.daemon.lock`. A second daemon waits and is told who
 * leads; it leads once the first releases or dies; a holder whose file is
 * removed or replaced learns it has lost the lease.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import type { Lease } from '../../src/store/store.js';

let dir: string;
let state: string;
const held: Lease[] = [];
const aborts: AbortController[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-lease-'));
  state = join(dir, 'state.yaml');
  await writeFile(state, 'version: 1\n');
});
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  for (const l of held.splice(0)) await l.release();
  await rm(dir ?? '/nonexistent-esdc-lease', { recursive: true, force: true });
});

const store = (): FileStore => new FileStore(state, { lease: { pollMs: 20, checkMs: 20 } });

function lead(s: FileStore, waits: string[] = []): Promise<Lease | undefined> {
  const a = new AbortController();
  aborts.push(a);
  return s.lead('daemon', { signal: a.signal, onWait: (h) => waits.push(h) }).then((l) => {
    if (l) held.push(l);
    return l;
  });
}

const settledWithin = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

describe('the daemon lease on a state file', () => {
  it('is held by one daemon at a time: the second is told who leads and leads once the first releases', async () => {
    const first = await lead(store());
    expect(first).toBeDefined();
    const holder = JSON.parse(await readFile(`${state}.daemon.lock`, 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    const waits: string[] = [];
    const second = lead(store(), waits);
    expect(await settledWithin(second, 200)).toBe('pending');
    expect(waits).toEqual([`process ${process.pid} on ${hostname()} since ${holder.since}`]);
    await first!.release();
    const l = await settledWithin(second, 2000);
    expect(l).not.toBe('pending');
    await expect((l as Lease).assertHeld()).resolves.toBeUndefined();
  });

  it('is taken over from a holder on this host that died', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    await writeFile(`${state}.daemon.lock`, JSON.stringify({ pid: dead.pid, host: hostname(), since: 'then', token: 'old' }));
    const l = await settledWithin(lead(store()), 2000);
    expect(l).not.toBe('pending');
    expect(JSON.parse(await readFile(`${state}.daemon.lock`, 'utf8')).pid).toBe(process.pid);
  });

  it('stops a waiter that is told to stop, leaving the holder alone', async () => {
    const first = await lead(store());
    const a = new AbortController();
    const waiting = store().lead('daemon', { signal: a.signal, onWait: () => undefined });
    a.abort();
    expect(await settledWithin(waiting, 2000)).toBeUndefined();
    await expect(first!.assertHeld()).resolves.toBeUndefined();
  });

  it('is lost when its file is removed or replaced: assertHeld refuses and `lost` says why', async () => {
    const l = (await lead(store()))!;
    await unlink(`${state}.daemon.lock`);
    await expect(l.assertHeld()).rejects.toMatchObject({ code: 'LeaseLost' });
    expect(await settledWithin(l.lost, 2000)).toBe(`the lease file ${state}.daemon.lock was removed`);

    const m = (await lead(store()))!;
    await writeFile(`${state}.daemon.lock`, JSON.stringify({ pid: 1, host: 'other-head', since: 'now', token: 'theirs' }));
    expect(await settledWithin(m.lost, 2000)).toBe(`the lease file ${state}.daemon.lock now names process 1 on other-head since now`);
    await m.release();
    // A release removes only a lease that is still ours.
    expect(JSON.parse(await readFile(`${state}.daemon.lock`, 'utf8')).host).toBe('other-head');
  });
});
