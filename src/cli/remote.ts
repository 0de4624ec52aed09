/**
 * What the commands that talk to nodes share: SSH options, node selection,
 * concurrency and timeouts, and opening the fleet.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Connector, sshSettings, sshTargetOf } from '../transport/connect.js';
import { planFleet, type FleetRun, type Opener } from '../apply/fleet.js';
import { MAX_READ_BYTES } from '../transport/transport.js';
import type { CliContext } from './context.js';
import { intOption } from './common.js';

export interface RemoteOptions {
  identity?: string;
  knownHosts?: string;
  headPdc?: string;
  concurrency?: number;
  timeout?: number;
  connectTimeout?: number;
  maxFileSize?: number;
}

export function withRemoteOptions(cmd: Command): Command {
  return cmd
    .option('--identity <file>', 'SSH private key (default $ESDC_OVERLAY_IDENTITY or ~/.ssh/id_ed25519)')
    .option('--known-hosts <file>', 'known_hosts file (default $ESDC_OVERLAY_KNOWN_HOSTS or ~/.ssh/known_hosts)')
    .option('--head-pdc <pdc>', 'PDC of the head node: nodes in it are reached on their admin IP, others on their external IP')
    .option('--concurrency <n>', 'nodes worked on at once (default 16)', intOption('--concurrency'))
    .option('--timeout <seconds>', 'limit for each file operation or command on a node (default 120)', intOption('--timeout'))
    .option('--connect-timeout <seconds>', 'limit for connecting to a node (default 10)', intOption('--connect-timeout'))
    .option('--max-file-size <MiB>', 'largest file read from a node; a larger one is refused, naming it (default 64)', intOption('--max-file-size'));
}

export interface Remote {
  open: Opener;
  concurrency: number;
  timeoutMs: number;
  /** Largest file read from a node. */
  maxReadBytes: number;
}

/**
 * Opens the fleet. Only `nodes discover` may accept a host key not yet known
 * (`trust.acceptNewHostKeys`): apply, plan and verify send keys and read
 * files, so a changed `ssh.port` in a writable store must not lead them to an
 * sshd nobody has vouched for.
 */
export async function remoteFrom(opts: RemoteOptions, env: NodeJS.ProcessEnv, trust: { acceptNewHostKeys?: boolean } = {}): Promise<Remote> {
  if (opts.concurrency !== undefined && opts.concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  if (opts.timeout !== undefined && opts.timeout < 1) throw new UsageError('--timeout must be at least 1 second');
  if (opts.maxFileSize !== undefined && (opts.maxFileSize < 1 || opts.maxFileSize > 4096)) throw new UsageError(`--max-file-size must be from 1 to 4096 MiB (got ${opts.maxFileSize})`);
  const settings = sshSettings(
    {
      ...(opts.identity !== undefined ? { identity: opts.identity } : {}),
      ...(opts.knownHosts !== undefined ? { knownHosts: opts.knownHosts } : {}),
      ...(trust.acceptNewHostKeys === true ? { acceptNewHostKeys: true } : {}),
      ...(opts.connectTimeout !== undefined ? { connectTimeout: opts.connectTimeout * 1000 } : {}),
    },
    env,
  );
  const connector = await Connector.create(settings);
  const headPdc = opts.headPdc ?? env.ESDC_OVERLAY_HEAD_PDC;
  return {
    open: (node) => connector.open(node.name, sshTargetOf(node, headPdc)),
    concurrency: opts.concurrency ?? 16,
    timeoutMs: (opts.timeout ?? 120) * 1000,
    maxReadBytes: opts.maxFileSize !== undefined ? opts.maxFileSize * 1024 * 1024 : MAX_READ_BYTES,
  };
}

/** `[nodes...]` arguments (each may be comma-separated) → a set of known node names, or undefined for all. */
export function selectNodes(model: Model, args: readonly string[]): Set<string> | undefined {
  const names = args.flatMap((a) => a.split(',')).map((s) => s.trim()).filter((s) => s !== '' && s !== 'all');
  if (names.length === 0) return undefined;
  const unknown = names.filter((n) => !model.nodeByName.has(n));
  if (unknown.length > 0) throw new UsageError(`unknown node(s): ${unknown.join(', ')} (known: ${model.nodes.map((n) => n.name).join(', ')})`);
  return new Set(names);
}

/**
 * Loads the state and reads the selected nodes over their transports into a
 * plan, changing nothing: what plan and verify both start with.
 */
export async function planSelectedNodes<T = undefined>(
  ctx: CliContext,
  nodes: readonly string[],
  opts: RemoteOptions,
  /** More reading over the same connections before they close (verify: each node's agent and sysinfo). */
  inspect?: (fleet: FleetRun, remote: Remote, model: Model) => Promise<T>,
): Promise<FleetRun & { inspected: T | undefined; model: Model }> {
  const snap = await ctx.store().load('require');
  ctx.warn(snap.warnings);
  const only = selectNodes(snap.model, nodes);
  const remote = await remoteFrom(opts, ctx.io.env);
  const fleet = await planFleet(snap.model, only, remote.open, {
    concurrency: remote.concurrency,
    timeoutMs: remote.timeoutMs,
    maxReadBytes: remote.maxReadBytes,
    onProgress: (node, line) => ctx.progress(`${node}: ${line}`),
    onRead: (node, bytesRead) => ctx.log.debug({ node, bytesRead }, 'read the node'),
  });
  let inspected: T | undefined;
  try {
    if (inspect) inspected = await inspect(fleet, remote, snap.model);
  } finally {
    await fleet.close();
  }
  return Object.assign(fleet, { inspected, model: snap.model });
}
