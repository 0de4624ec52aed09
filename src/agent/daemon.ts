/**
 * The agent as a service: runs `runOnce` on a cron schedule (node-cron),
 * one run at a time. SIGTERM (and SIGINT) let the current step finish and
 * then stop with exit 0; SIGHUP reloads the configuration file and
 * reschedules, keeping the running configuration if the new one is bad.
 */
import nodeCron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { runOnce } from './reconcile.js';
import { EMPTY_STATUS, readStatus, writeStatus } from './status.js';

export interface DaemonOptions {
  configPath: string | undefined;
  /** The environment: ESDC_OVERLAY_SIM_ROOTS gives a simulated node's root (tests only). */
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Where signals come from (tests pass an EventEmitter). */
  signals?: NodeJS.EventEmitter;
}

async function markState(config: AgentConfig, state: 'running' | 'stopped', log: Logger): Promise<void> {
  try {
    const status = (await readStatus(config.status)) ?? { ...EMPTY_STATUS };
    const at = new Date().toISOString();
    await writeStatus(config.status, {
      ...status,
      state,
      pid: process.pid,
      ...(state === 'running' ? { started_at: at, stopped_at: null } : { stopped_at: at }),
    });
  } catch (err) {
    log.error({ error: (err as Error).message }, 'cannot write the agent status');
  }
}

/** Runs until SIGTERM or SIGINT; resolves with the exit status. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { log } = opts;
  const signals = opts.signals ?? process;
  let { config, source } = await loadAgentConfig(opts.configPath, opts.env);
  let stopping = false;
  let current: Promise<unknown> | undefined;
  let task: ScheduledTask | undefined;

  const tick = async (): Promise<void> => {
    if (stopping || current) {
      if (current) log.warn('previous run still in progress; this one is skipped');
      return;
    }
    current = runOnce(config, { log, state: 'running', shouldStop: () => stopping });
    try {
      await current;
    } finally {
      current = undefined;
    }
  };
  const schedule = (c: AgentConfig): ScheduledTask =>
    nodeCron.schedule(c.schedule, tick, {
      name: 'esdc-overlay-agent',
      noOverlap: true,
      maxRandomDelay: Math.round(c.start_delay_max_seconds * 1000),
      // node-cron's own messages (missed or overlapping executions) as log lines like ours.
      logger: {
        info: (m) => log.debug({ source: 'node-cron' }, String(m)),
        warn: (m) => log.warn({ source: 'node-cron' }, String(m)),
        error: (m, e) => log.error({ source: 'node-cron', error: (e ?? m) instanceof Error ? ((e ?? m) as Error).message : undefined }, String(m)),
        debug: (m) => log.debug({ source: 'node-cron' }, String(m)),
      },
    });

  await markState(config, 'running', log);
  task = schedule(config);
  log.info({ schedule: config.schedule, config: source, start_delay_max_seconds: config.start_delay_max_seconds }, 'agent started');

  return new Promise<number>((resolve) => {
    const onHup = (): void => {
      void (async () => {
        try {
          const next = await loadAgentConfig(opts.configPath, opts.env);
          await task?.destroy();
          config = next.config;
          source = next.source;
          task = schedule(config);
          log.info({ schedule: config.schedule, config: source }, 'configuration reloaded');
        } catch (err) {
          log.error({ error: (err as Error).message }, 'configuration not reloaded; keeping the running one');
        }
      })();
    };
    const onStop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping after the current step');
      void (async () => {
        await task?.destroy();
        await current?.catch(() => undefined);
        await markState(config, 'stopped', log);
        signals.off('SIGHUP', onHup);
        signals.off('SIGTERM', onTerm);
        signals.off('SIGINT', onInt);
        log.info('agent stopped');
        resolve(0);
      })();
    };
    const onTerm = (): void => onStop('SIGTERM');
    const onInt = (): void => onStop('SIGINT');
    signals.on('SIGHUP', onHup);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
  });
}
