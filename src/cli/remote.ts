/**
 * What the commands that talk to nodes share: SSH options, node selection,
 * concurrency and timeouts, and opening the fleet.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { unknownNameError } from '../model/suggest.js';
import type { Logger } from '../log.js';
import { loggedTransport } from '../transport/logged.js';
import type { Model } from '../model/model.js';
import { Connector, sshSettings, sshTargetOf } from '../transport/connect.js';
import type { Opener } from '../apply/fleet.js';
import { planFleet, type FleetRun } from '../operations/fleet.js';
import { MAX_READ_BYTES } from '../transport/transport.js';
import type { CliContext } from './context.js';
import { intOption } from './common.js';
import { modelWarnings } from './warnings.js';

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
    .option('--head-pdc <pdc>', 'PDC of the head node: nodes in it are reached on their admin IP, others on their external IP (default: the state\'s defaults.head_pdc, recorded by nodes discover --head)')
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
export async function remoteFrom(
  opts: RemoteOptions,
  env: NodeJS.ProcessEnv,
  trust: { acceptNewHostKeys?: boolean } = {},
  /** The state's model: its recorded head PDC, and the PDCs --head-pdc may name. */
  model?: Model,
  /** At debug, each remote operation and its duration per node; at trace, bytes too. */
  log?: Logger,
): Promise<Remote> {
  if (opts.concurrency !== undefined && opts.concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  if (opts.timeout !== undefined && opts.timeout < 1) throw new UsageError('--timeout must be at least 1 second');
  if (opts.maxFileSize !== undefined && (opts.maxFileSize < 1 || opts.maxFileSize > 4096)) throw new UsageError(`--max-file-size must be from 1 to 4096 MiB (got ${opts.maxFileSize})`);
  // Before the key is read: a misspelt PDC is the operator's first problem to hear about.
  const headPdc = headPdcOf(opts, env, model);
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
  return {
    open: async (node) => {
      const t = await connector.open(node.name, sshTargetOf(node, headPdc));
      return log === undefined ? t : loggedTransport(t, log);
    },
    concurrency: opts.concurrency ?? 16,
    timeoutMs: (opts.timeout ?? 120) * 1000,
    maxReadBytes: opts.maxFileSize !== undefined ? opts.maxFileSize * 1024 * 1024 : MAX_READ_BYTES,
  };
}

/**
 * The head node's PDC: --head-pdc, else $ESDC_OVERLAY_HEAD_PDC, else the
 * state's `defaults.head_pdc`. A PDC no node is in is refused (a typo would
 * send every node's SSH to its external IP).
 */
export function headPdcOf(opts: RemoteOptions, env: NodeJS.ProcessEnv, model: Model | undefined): string | undefined {
  const given = opts.headPdc ?? env.ESDC_OVERLAY_HEAD_PDC;
  if (given !== undefined && model !== undefined && model.nodes.length > 0 && !model.pdcs.includes(given)) {
    throw unknownNameError('PDC', given, model.pdcs, `--head-pdc names the head node's PDC, one of ${model.pdcs.join(', ')}`);
  }
  return given ?? model?.defaults.headPdc;
}

/** `[nodes...]` arguments (each may be comma-separated) → a set of known node names, or undefined for all. */
export function selectNodes(model: Model, args: readonly string[]): Set<string> | undefined {
  const names = args.flatMap((a) => a.split(',')).map((s) => s.trim()).filter((s) => s !== '' && s !== 'all');
  if (names.length === 0) return undefined;
  requireKnownNodes(model, names);
  return new Set(names);
}

/**
 * Refuses names that are not nodes of the state, with the closest known
 * names. Exit 1 like every other unknown name (refused input, README's exit codes).
 */
export function requireKnownNodes(model: Model, names: Iterable<string>): void {
  for (const n of names) {
    if (!model.nodeByName.has(n)) throw unknownNameError('node', n, model.nodes.map((x) => x.name));
  }
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
  ctx.warn(modelWarnings(snap));
  const only = selectNodes(snap.model, nodes);
  const remote = await remoteFrom(opts, ctx.io.env, {}, snap.model, ctx.log);
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
