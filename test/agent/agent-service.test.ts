/**
 * The agent's service loop in this process (src/agent/daemon.ts), signals
 * from an EventEmitter, on a schedule that does not fire during the test:
 * the branches the built-CLI test (agent-daemon.test.ts) does not reach, a
 * good SIGHUP reload and a stop by SIGINT.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDaemon } from '../../src/agent/daemon.js';
import { readStatus } from '../../src/agent/status.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-agent-service-'));
});
afterEach(async () => {
  await rm(dir ?? '/nonexistent-esdc-agent-service', { recursive: true, force: true });
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent service', () => {
  it('SIGHUP with a good configuration reschedules with it; SIGINT stops it once, the status says stopped and the handlers are gone', async () => {
    const configPath = join(dir, 'agent.json');
    const statusPath = join(dir, 'status.json');
    // 1 January, midnight: never during the test.
    await writeFile(configPath, JSON.stringify({ schedule: '0 0 1 1 *', status: statusPath, start_delay_max_seconds: 0 }));
    const lines: Array<{ msg: string; [k: string]: unknown }> = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const signals = new EventEmitter();
    const done = runDaemon({ configPath, env: {}, log, signals });
    await until('agent started', () => lines.some((l) => l.msg === 'agent started'));
    expect((await readStatus(statusPath))?.state).toBe('running');

    await writeFile(configPath, JSON.stringify({ schedule: '0 0 2 1 *', status: statusPath, start_delay_max_seconds: 0 }));
    signals.emit('SIGHUP');
    await until('configuration reloaded', () => lines.some((l) => l.msg === 'configuration reloaded'));
    expect(lines.find((l) => l.msg === 'configuration reloaded')).toMatchObject({ schedule: '0 0 2 1 *', config: configPath });

    signals.emit('SIGINT');
    signals.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(lines.filter((l) => l.msg === 'stopping after the current step')).toEqual([expect.objectContaining({ signal: 'SIGINT' })]);
    expect(lines.at(-1)!.msg).toBe('agent stopped');
    expect((await readStatus(statusPath))?.state).toBe('stopped');
    expect(['SIGHUP', 'SIGTERM', 'SIGINT'].map((s) => signals.listenerCount(s))).toEqual([0, 0, 0]);
    expect(lines.filter((l) => l.msg === 'agent run')).toEqual([]);
  });
});
