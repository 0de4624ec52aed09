/**
 * `esdc-overlay agent [--once]`, `agent status`, `agent install`: the
 * compute-node agent (src/agent/). Runs on the node itself, so it needs no
 * state file and no SSH.
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { degradedLines } from '../../discovery/overlay-health.js';
import { EXIT, EsdcError, OutcomeReported, UsageError } from '../../errors.js';
import { DEFAULT_CONFIG_PATH } from '../../agent/config.js';
import { DEFAULT_OUT, PLATFORMS, renderService, type Platform } from '../../agent/install.js';
import { AGENT_LAYOUT } from '../../agent/layout.js';
import type { RunReport } from '../../agent/reconcile.js';
import { renderStatus, EMPTY_STATUS } from '../../agent/status.js';
import { checkLocalTables, localAgentStatus, patchLocalTable, resetAgentFloor, runAgentOnce, runAgentService } from '../../operations/agent-local.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { snakeJson } from '../json-style.js';
import { emitServiceFile } from '../service-file.js';
import { withRemoteOptions, type RemoteOptions } from '../remote.js';
import { registerAgentDeploy, remoteAgents, renderRemoteAgents } from './agent-deploy.js';


interface AgentOptions {
  once?: boolean;
  config?: string;
}

/** `--config` after a subcommand name may be taken by `agent` itself (commander passes parent options through). */
function configPath(opts: { config?: string }, env: NodeJS.ProcessEnv, cmd?: Command): string | undefined {
  return opts.config ?? (cmd?.parent?.opts() as { config?: string } | undefined)?.config ?? env.ESDC_OVERLAY_AGENT_CONFIG;
}

export function renderReport(r: RunReport): string {
  const what = [...r.drift.files.map((f) => `  file ${f}`), ...r.drift.usbkey.map((k) => `  /usbkey/config ${k}`), ...r.drift.overlays.map((o) => `  overlay ${o}`)];
  const lines = [`${r.node ?? 'agent'}: ${r.result}${r.bundle_version !== null ? ` (bundle version ${r.bundle_version})` : ''}, ${r.duration_ms} ms`];
  if (r.result === 'repaired' || (r.result === 'failed' && what.length > 0)) lines.push(...what);
  if (r.refreshed.length > 0) lines.push(`  refreshed: ${r.refreshed.join(', ')}`);
  if (r.pending_reboot.length > 0) lines.push(`  pending reboot: ${r.pending_reboot.join(', ')}`);
  if (r.error !== null) lines.push(`  error: ${r.error}`);
  for (const o of r.degraded) lines.push(...degradedLines(r.node ?? 'agent', o, " after varpd's restart"));
  return lines.join('\n');
}

export function registerAgent(program: Command, io: CliIo): void {
  const agent = withCommonOptions(program.command('agent'))
    .description('reconcile this node with the bundle apply left on it: once (--once) or as a service on a cron schedule')
    .option('--once', "one run, then exit (0 in sync or repaired, 1 failed or refused, 2 an overlay of the bundle DEGRADED after the run's varpd restart)")
    .option('--config <file>', 'agent configuration (JSON; default $ESDC_OVERLAY_AGENT_CONFIG or /opt/custom/esdc-overlay/agent.json)')
    .action((opts: AgentOptions, cmd: Command) => runAgent(io, cmd, opts));
  registerStatus(agent, io);
  registerReset(agent, io);
  registerPatchTable(agent, io);
  registerCheckTables(agent, io);
  registerAgentDeploy(agent, io);
  registerInstall(agent, io);
}

/** `agent [--once]`: the service, or one run reported. */
async function runAgent(io: CliIo, cmd: Command, opts: AgentOptions): Promise<void> {
  const ctx = CliContext.fromCommand(io, cmd);
  // The service logs what it does: info by default, unless --log-level says otherwise.
  const log = ctx.opts.logLevel === undefined && io.env.ESDC_OVERLAY_LOG_LEVEL === undefined ? ctx.log.child({}, { level: 'info' }) : ctx.log;
  if (!opts.once) {
    const status = await runAgentService(configPath(opts, io.env), io.env, log);
    if (status !== 0) throw new OutcomeReported('agent stopped with an error', { exitStatus: status });
    return;
  }
  const report = await runAgentOnce(configPath(opts, io.env), io.env, log);
  ctx.output(() => renderReport(report), () => report);
  if (report.result === 'failed' || report.result === 'refused') {
    if (ctx.json) throw new OutcomeReported(`agent run ${report.result}`, { code: 'AgentRunFailed', exitStatus: EXIT.failure });
    throw new EsdcError(`agent run ${report.result}: ${report.error}`, { code: report.result === 'refused' ? 'BundleRefused' : 'AgentRunFailed' });
  }
  // Repaired, but a VM network is down until someone recreates its overlay: not "done" (as apply).
  if (report.degraded.length > 0) throw new OutcomeReported('degraded overlays', { code: 'Degraded', exitStatus: EXIT.drift });
}

function registerStatus(agent: Command, io: CliIo): void {
  withRemoteOptions(withCommonOptions(agent.command('status')))
    .description('what the agent did last: bundle version, last run and result, drift repaired, last error; --all: every node\'s agent over SSH')
    .argument('[nodes...]', 'with --all: only these nodes (default all)')
    .option('--config <file>', 'agent configuration (names the status file)')
    .option('--all', 'ask every node of the state over SSH: agent version, Node.js, SMF state, last run')
    .action(async (nodes: string[], opts: { config?: string; all?: boolean } & RemoteOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if (opts.all) {
        const agents = await remoteAgents(ctx, nodes, opts);
        ctx.output(() => renderRemoteAgents(agents), () => snakeJson(agents));
        return;
      }
      if (nodes.length > 0) throw new UsageError('node names need --all (without it, agent status reads this machine\'s agent)');
      const { path, status } = await localAgentStatus(configPath(opts, io.env, cmd), io.env);
      if (!status && !ctx.json) {
        io.stdout.write(`no agent status yet (${path})\n`);
        return;
      }
      ctx.output(() => renderStatus(status!), () => status ?? { ...EMPTY_STATUS, state: null });
    });
}

function registerReset(agent: Command, io: CliIo): void {
  withCommonOptions(agent.command('reset'))
    .description('clear the bundle version floor (the agent then accepts the next valid bundle, whatever its version)')
    .option('--config <file>', 'agent configuration (names the status file)')
    .action(async (opts: { config?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { path, was } = await resetAgentFloor(configPath(opts, io.env, cmd), io.env);
      ctx.output(
        () =>
          was === null
            ? `no bundle version floor was recorded (${path}); nothing to clear`
            : `cleared the bundle version floor (was ${was}) in ${path}; the next run accepts any valid bundle`,
        () => ({ status: path, cleared: was }),
      );
    });
}

function registerPatchTable(agent: Command, io: CliIo): void {
  withCommonOptions(agent.command('patch-table'))
    .description('change a few entries of an ARP table on this node, as the head node\'s daemon asks (checked against the SHA-256 before and after; refused on any mismatch, or when another overlay\'s table would not survive the varpd restart); exit 2 when an overlay of the bundle is DEGRADED after the restart')
    .argument('<words...>', '<path> <from-sha256> <to-sha256> <now-ms> [set=<mac>,<arp>,<ip>,<port>[,<ndp>] | del=<mac>]... (docs/arp-deltas.md#on-the-node)')
    .option('--config <file>', 'agent configuration (its timeout_seconds)')
    .action(async (words: string[], opts: { config?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const r = await patchLocalTable(configPath(opts, io.env, cmd), io.env, words);
      ctx.output(
        () =>
          [`${r.path}: ${r.changes} change(s), sha256 ${r.sha256}${r.bundle_version !== null ? `, bundle version ${r.bundle_version}` : ''}`]
            .concat(r.degraded.flatMap((o) => degradedLines(hostname(), o, " after varpd's restart")))
            .join('\n'),
        () => r,
      );
      // The patch is in place, but an overlay is down until recreated: exit 2, as apply (the daemon reads it so).
      if (r.degraded.length > 0) throw new OutcomeReported('degraded overlays', { code: 'Degraded', exitStatus: EXIT.drift });
    });
}

function registerCheckTables(agent: Command, io: CliIo): void {
  withCommonOptions(agent.command('check-tables'))
    .description("check that varpd may restart on this node: every overlay's files/config table read and parsed as varpd reads it (exit 1 naming each one that would cost its overlay the varpd instance); commands.sh runs it before its varpd restart")
    .option('--config <file>', 'agent configuration (its timeout_seconds)')
    .action(async (opts: { config?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const r = await checkLocalTables(configPath(opts, io.env, cmd), io.env);
      ctx.output(
        () => `${hostname()}: ${r.tables} overlay table(s), ${r.read} read: each parses as varpd reads it; varpd may restart`,
        () => ({ tables: r.tables, read: r.read, bytes_read: r.bytesRead }),
      );
    });
}

function registerInstall(agent: Command, io: CliIo): void {
  withConfirmOption(withCommonOptions(agent.command('install')))
    .description('render the service definition that runs the agent: SMF manifest (smartos) or systemd unit (linux); prints it unless --out')
    .addOption(new Option('--platform <platform>', 'smartos or linux').choices(PLATFORMS).makeOptionMandatory())
    .option('--out <file>', `write it there (e.g. ${DEFAULT_OUT.smartos} or ${DEFAULT_OUT.linux}); replacing a different file needs --yes`)
    .option('--config <file>', `the agent configuration the service passes (default ${DEFAULT_CONFIG_PATH})`)
    .option('--node <path>', 'the node binary the service runs', process.execPath)
    .option('--cli <path>', `the one-file bundle the service runs (default ${AGENT_LAYOUT.smartos.cli} or ${AGENT_LAYOUT.linux.cli}, where agent deploy puts it)`)
    .action(async (opts: { platform: Platform; out?: string; config?: string; node: string; cli?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const agentConfig = configPath(opts, {}, cmd) ?? DEFAULT_CONFIG_PATH;
      const out = opts.out ?? DEFAULT_OUT[opts.platform];
      if (opts.out !== undefined && !opts.out.startsWith('/')) throw new UsageError(`--out must be an absolute path (got ${JSON.stringify(opts.out)})`);
      const text = renderService(opts.platform, { node: opts.node, cli: opts.cli ?? AGENT_LAYOUT[opts.platform].cli, config: agentConfig, out });
      const next = opts.platform === 'smartos' ? `svccfg import ${out}` : 'systemctl daemon-reload && systemctl enable --now esdc-overlay-agent';
      await emitServiceFile(ctx, { platform: opts.platform, path: out, out: opts.out, text, next });
    });
}
