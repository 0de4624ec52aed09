/**
 * The agent as a service: runs `runOnce` on a cron schedule (node-cron),
 * one run at a time. SIGTERM (and SIGINT) let the current step finish and
 * then stop with exit 0; SIGHUP reloads the configuration file and
 * reschedules, keeping the running configuration if the new one is bad.
 */
import nodeCron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
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
  const signals = opts.signals ?? process;
  const { config, source } = await loadAgentConfig(opts.configPath, opts.env);
  const agent = new AgentService(config, source, opts);
  await agent.start();
  return untilStopped(agent, signals, opts.log);
}

/**
 * The signals wired to the agent: SIGHUP reloads, the first SIGTERM or
 * SIGINT stops it; resolves with exit 0 once it has stopped and the
 * handlers are gone.
 */
function untilStopped(agent: AgentService, signals: NodeJS.EventEmitter, log: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    const onHup = (): void => void agent.reload();
    const onStop = (signal: string): void => {
      if (agent.stopping) return;
      void agent.stop(signal).then(() => {
        signals.off('SIGHUP', onHup);
        signals.off('SIGTERM', onTerm);
        signals.off('SIGINT', onInt);
        log.info('agent stopped');
        resolve(0);
      });
    };
    const onTerm = (): void => onStop('SIGTERM');
    const onInt = (): void => onStop('SIGINT');
    signals.on('SIGHUP', onHup);
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
  });
}

/** The running agent: the configuration in force, its cron task, and the run in progress (one at a time). */
class AgentService {
  stopping = false;
  private current: Promise<unknown> | undefined;
  private task: ScheduledTask | undefined;

  constructor(
    private config: AgentConfig,
    private source: string,
    private readonly opts: DaemonOptions,
  ) {}

  /** The status says running, the schedule starts. */
  async start(): Promise<void> {
    const { log } = this.opts;
    await markState(this.config, 'running', log);
    this.task = this.schedule();
    log.info({ schedule: this.config.schedule, config: this.source, start_delay_max_seconds: this.config.start_delay_max_seconds }, 'agent started');
  }

  /** SIGHUP: the configuration file again and a new schedule; a bad file keeps the running configuration. */
  async reload(): Promise<void> {
    const { log } = this.opts;
    try {
      const next = await loadAgentConfig(this.opts.configPath, this.opts.env);
      await this.task?.destroy();
      this.config = next.config;
      this.source = next.source;
      this.task = this.schedule();
      log.info({ schedule: this.config.schedule, config: this.source }, 'configuration reloaded');
    } catch (err) {
      log.error({ error: (err as Error).message }, 'configuration not reloaded; keeping the running one');
    }
  }

  /** No run starts from now on; the one in progress ends after its current step; then the status says stopped. */
  async stop(signal: string): Promise<void> {
    this.stopping = true;
    this.opts.log.info({ signal }, 'stopping after the current step');
    await this.task?.destroy();
    await this.current?.catch(() => undefined);
    await markState(this.config, 'stopped', this.opts.log);
  }

  /** One scheduled run, unless one is still going (or the agent is stopping). */
  private async tick(): Promise<void> {
    if (this.stopping || this.current) {
      if (this.current) this.opts.log.warn('previous run still in progress; this one is skipped');
      return;
    }
    this.current = runOnce(this.config, { log: this.opts.log, state: 'running', shouldStop: () => this.stopping });
    try {
      await this.current;
    } finally {
      this.current = undefined;
    }
  }

  private schedule(): ScheduledTask {
    return nodeCron.schedule(this.config.schedule, () => this.tick(), {
      name: 'esdc-overlay-agent',
      noOverlap: true,
      maxRandomDelay: Math.round(this.config.start_delay_max_seconds * 1000),
      logger: cronLogger(this.opts.log),
    });
  }
}

/** node-cron's own messages (missed or overlapping executions) as log lines like ours. */
function cronLogger(log: Logger): CronLogger {
  return {
    info: (m) => log.debug({ source: 'node-cron' }, String(m)),
    warn: (m) => log.warn({ source: 'node-cron' }, String(m)),
    error: (m, e) => log.error({ source: 'node-cron', error: (e ?? m) instanceof Error ? ((e ?? m) as Error).message : undefined }, String(m)),
    debug: (m) => log.debug({ source: 'node-cron' }, String(m)),
  };
}
