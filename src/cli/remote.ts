/**
 * What the commands that talk to nodes share: SSH options, node selection,
 * concurrency and timeouts, and opening the fleet.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Connector, sshSettings, sshTargetOf } from '../transport/connect.js';
import { planFleet, type FleetRun, type Opener } from '../apply/fleet.js';
import type { CliContext } from './context.js';
import { intOption } from './common.js';

export interface RemoteOptions {
  identity?: string;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
  headPdc?: string;
  concurrency?: number;
  timeout?: number;
  connectTimeout?: number;
}

export function withRemoteOptions(cmd: Command): Command {
  return cmd
    .option('--identity <file>', 'SSH private key (default $ESDC_OVERLAY_IDENTITY or ~/.ssh/id_ed25519)')
    .option('--known-hosts <file>', 'known_hosts file (default $ESDC_OVERLAY_KNOWN_HOSTS or ~/.ssh/known_hosts)')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts (a changed key is still refused)')
    .option('--head-pdc <pdc>', 'PDC of the head node: nodes in it are reached on their admin IP, others on their external IP')
    .option('--concurrency <n>', 'nodes worked on at once (default 16)', intOption('--concurrency'))
    .option('--timeout <seconds>', 'limit for each file operation or command on a node (default 120)', intOption('--timeout'))
    .option('--connect-timeout <seconds>', 'limit for connecting to a node (default 10)', intOption('--connect-timeout'));
}

export interface Remote {
  open: Opener;
  concurrency: number;
  timeoutMs: number;
}

export async function remoteFrom(opts: RemoteOptions, env: NodeJS.ProcessEnv): Promise<Remote> {
  if (opts.concurrency !== undefined && opts.concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  if (opts.timeout !== undefined && opts.timeout < 1) throw new UsageError('--timeout must be at least 1 second');
  const settings = sshSettings(
    {
      ...(opts.identity !== undefined ? { identity: opts.identity } : {}),
      ...(opts.knownHosts !== undefined ? { knownHosts: opts.knownHosts } : {}),
      ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
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
  /** More reading over the same connections before they close (verify: each node's agent). */
  inspect?: (fleet: FleetRun, remote: Remote) => Promise<T>,
): Promise<FleetRun & { inspected: T | undefined }> {
  const snap = await ctx.store().load('require');
  ctx.warn(snap.warnings);
  const only = selectNodes(snap.model, nodes);
  const remote = await remoteFrom(opts, ctx.io.env);
  const fleet = await planFleet(snap.model, only, remote.open, {
    concurrency: remote.concurrency,
    timeoutMs: remote.timeoutMs,
    onProgress: (node, line) => ctx.progress(`${node}: ${line}`),
  });
  let inspected: T | undefined;
  try {
    if (inspect) inspected = await inspect(fleet, remote);
  } finally {
    await fleet.close();
  }
  return Object.assign(fleet, { inspected });
}
