/**
 * `esdc-overlay daemon`, `daemon status`, `daemon install`: the live
 * inventory on the head node (src/daemon/, docs/daemon.md).
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { OutcomeReported, UsageError } from '../../errors.js';
import { PLATFORMS, type Platform } from '../../agent/install.js';
import { AGENT_LAYOUT } from '../../agent/layout.js';
import { processAlive } from '../../agent/status.js';
import { EXIT_LEASE_LOST, runInventoryDaemon } from '../../daemon/daemon.js';
import { DAEMON_DEFAULT_OUT, renderDaemonService } from '../../daemon/install.js';
import { DEFAULT_DAEMON_STATUS, readDaemonStatus, renderDaemonStatus } from '../../daemon/status.js';
import { intOption, withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { emitServiceFile } from '../service-file.js';
import { remoteFrom, withRemoteOptions, type RemoteOptions } from '../remote.js';

interface DaemonOptions extends RemoteOptions {
  status?: string;
  debounceMs?: number;
}

function statusPath(opts: { status?: string }, env: NodeJS.ProcessEnv, cmd?: Command): string {
  return opts.status ?? (cmd?.parent?.opts() as { status?: string } | undefined)?.status ?? env.ESDC_OVERLAY_DAEMON_STATUS ?? DEFAULT_DAEMON_STATUS;
}

export function registerDaemon(program: Command, io: CliIo): void {
  const daemon = withRemoteOptions(withCommonOptions(program.command('daemon')))
    .description('head node, foreground: follow every node\'s VMs (vmadm events), keep the state\'s vnics and the ARP tables true')
    .option('--status <file>', `status file (default $ESDC_OVERLAY_DAEMON_STATUS or ${DEFAULT_DAEMON_STATUS})`)
    .option('--debounce-ms <ms>', 'a batch runs this long after its first event (default 250)', intOption('--debounce-ms'))
    .addHelpText(
      'after',
      '\nOne daemon leads per store: it holds the store\'s daemon lease (ZooKeeper: an ephemeral node under\nesdc_overlay/locks/daemon; a state file: <state>.daemon.lock). Any other stands by, writing nothing,\nuntil it can lead. Exit status 75 when the lease is lost (the service restarts it to stand by).\n',
    )
    .action(async (opts: DaemonOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const log = ctx.opts.logLevel === undefined && io.env.ESDC_OVERLAY_LOG_LEVEL === undefined ? ctx.log.child({}, { level: 'info' }) : ctx.log;
      if (opts.debounceMs !== undefined && (opts.debounceMs < 0 || opts.debounceMs > 60_000)) throw new UsageError('--debounce-ms must be 0-60000');
      const remote = await remoteFrom(opts, io.env);
      const code = await runInventoryDaemon({
        store: ctx.store(),
        open: remote.open,
        log,
        statusPath: resolve(statusPath(opts, io.env)),
        // Commands on a node (lookup, sysinfo, one file) are small: the daemon's bound is the same as apply's per operation.
        timeoutMs: remote.timeoutMs,
        debounceMs: opts.debounceMs ?? 250,
        concurrency: remote.concurrency,
      });
      if (code === EXIT_LEASE_LOST) throw new OutcomeReported('daemon stopped: it lost its lease, and another daemon may lead now (docs/daemon.md#one-daemon)', { exitStatus: code });
      if (code !== 0) throw new OutcomeReported('daemon stopped with an error', { exitStatus: code });
    });

  withCommonOptions(daemon.command('status'))
    .description('what the daemon sees: each node connected or since when not, last resync, MACs in migration or conflict, counters')
    .option('--status <file>', 'the status file the daemon writes')
    .action(async (opts: { status?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const path = statusPath(opts, io.env, cmd);
      const status = await readDaemonStatus(path);
      if (!status) {
        ctx.output(() => `no daemon status yet (${path})`, () => ({ state: null, path }));
        return;
      }
      const alive = status.state !== 'stopped' && status.pid !== null && processAlive(status.pid);
      ctx.output(() => renderDaemonStatus(status, processAlive), () => ({ ...status, alive }));
    });

  withConfirmOption(withCommonOptions(daemon.command('install')))
    .description('render the service definition that runs the daemon on the head node: SMF manifest (smartos) or systemd unit (linux)')
    .addOption(new Option('--platform <platform>', 'smartos or linux').choices(PLATFORMS).makeOptionMandatory())
    .option('--out <file>', `write it there (e.g. ${DAEMON_DEFAULT_OUT.smartos}); replacing a different file needs --yes`)
    .option('--status <file>', `the status file the service writes (default ${DEFAULT_DAEMON_STATUS})`)
    .option('--node <path>', 'the node binary the service runs', process.execPath)
    .option('--cli <path>', `the one-file bundle the service runs (default ${AGENT_LAYOUT.smartos.cli} or ${AGENT_LAYOUT.linux.cli}, where agent deploy puts it on compute nodes)`)
    .action(async (opts: { platform: Platform; out?: string; status?: string; node: string; cli?: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const spec = ctx.statePath;
      const zk = spec.startsWith('zk://');
      const out = opts.out ?? DAEMON_DEFAULT_OUT[opts.platform];
      if (opts.out !== undefined && !opts.out.startsWith('/')) throw new UsageError(`--out must be an absolute path (got ${JSON.stringify(opts.out)})`);
      const text = renderDaemonService(opts.platform, {
        node: opts.node,
        // The head node is a SmartOS global zone too: the bundle sits where agent deploy puts it (docs/agent-deploy.md).
        cli: opts.cli ?? AGENT_LAYOUT[opts.platform].cli,
        storeOption: zk ? '--store' : '--state',
        store: zk ? spec : resolve(spec),
        ...(zk && ctx.opts.zkAuthFile !== undefined ? { zkAuthFile: resolve(ctx.opts.zkAuthFile) } : {}),
        status: statusPath(opts, {}, cmd),
        out,
      });
      const next = opts.platform === 'smartos' ? `svccfg import ${out}` : 'systemctl daemon-reload && systemctl enable --now esdc-overlay-daemon';
      await emitServiceFile(ctx, { platform: opts.platform, path: out, out: opts.out, text, next });
    });
}
