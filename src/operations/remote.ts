/**
 * How the operations reach nodes: SSH settings, the head node's PDC, node
 * selection, concurrency, timeouts and the largest file read. The options
 * are the CLI's (src/cli/remote.ts declares them); the daemon and tests
 * give them directly.
 */
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Model } from '../model/model.js';
import { unknownNameError } from '../model/suggest.js';
import type { Opener } from '../apply/fleet.js';
import { Connector, sshSettings, sshTargetOf } from '../transport/connect.js';
import { loggedTransport } from '../transport/logged.js';
import { MAX_READ_BYTES } from '../transport/transport.js';

/**
 * Nodes worked on at once when `--concurrency` is not given. Most of a node's
 * time in an apply is the node's own (service restarts, waiting for them to
 * come online): a 50-node first apply costs the CLI 1.3-1.6 s of CPU in all,
 * start-up included, so the bound is there for sockets and memory, not CPU.
 * 64 let that apply wait for all its nodes at once (bench/RESULTS.md,
 * "concurrency 16 against 64").
 */
export const DEFAULT_CONCURRENCY = 64;

export interface RemoteOptions {
  identity?: string;
  knownHosts?: string;
  headPdc?: string;
  concurrency?: number;
  timeout?: number;
  connectTimeout?: number;
  maxFileSize?: number;
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
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
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
