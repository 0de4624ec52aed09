/**
 * From a node of the model to an open transport: the SSH target with its
 * defaults (docs/state-format.md#nodes), the client key and known_hosts, and (tests only) the
 * root prefix of simulated nodes, which comes from the harness (sim-roots.ts), never from
 * the state.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EsdcError, UsageError } from '../errors.js';
import type { Node } from '../model/model.js';
import { parseKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { RootedTransport } from './rooted-transport.js';
import { endpointKey, simRootsFrom, type SimRoots } from './sim-roots.js';
import type { SshTarget } from './ssh-transport.js';
import type { Transport } from './transport.js';

export type ResolvedTarget = SshTarget;

/**
 * How the head node reaches `node`: what `nodes.<host>.ssh` says, else the
 * admin IP when the node is in the head node's PDC (or no head PDC is
 * given), else its external IP; port 22, user root.
 */
export function sshTargetOf(node: Node, headPdc: string | undefined): ResolvedTarget {
  const sameSite = headPdc === undefined || node.pdc === headPdc;
  return {
    host: node.ssh.host ?? (sameSite ? node.adminIp : (node.externalIp ?? node.adminIp)),
    port: node.ssh.port ?? 22,
    user: node.ssh.user ?? 'root',
  };
}

/** Where keys come from: options, then environment, then ~/.ssh. */
export interface SshSettings {
  identityFile: string;
  knownHostsFile: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** Simulated nodes' roots, from the test harness's environment only (sim-roots.ts). */
  simRoots?: SimRoots | undefined;
}

export function sshSettings(
  opts: { identity?: string; knownHosts?: string; acceptNewHostKeys?: boolean; connectTimeout?: number },
  env: NodeJS.ProcessEnv,
): SshSettings {
  return {
    simRoots: simRootsFrom(env),
    identityFile: opts.identity ?? env.ESDC_OVERLAY_IDENTITY ?? join(homedir(), '.ssh', 'id_ed25519'),
    knownHostsFile: opts.knownHosts ?? env.ESDC_OVERLAY_KNOWN_HOSTS ?? join(homedir(), '.ssh', 'known_hosts'),
    acceptNewHostKeys: opts.acceptNewHostKeys === true,
    connectTimeoutMs: opts.connectTimeout ?? 10_000,
  };
}

/** Opens connections; reads the key and known_hosts once for all nodes. */
export class Connector {
  private constructor(
    private readonly settings: SshSettings,
    private readonly privateKey: Buffer,
    private readonly knownHosts: readonly KnownHostEntry[],
  ) {}

  static async create(settings: SshSettings): Promise<Connector> {
    let key: Buffer;
    try {
      key = await readFile(settings.identityFile);
    } catch (err) {
      throw new UsageError(
        `cannot read the SSH private key ${settings.identityFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
          'pass --identity FILE or set ESDC_OVERLAY_IDENTITY',
      );
    }
    let text = '';
    try {
      text = await readFile(settings.knownHostsFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new EsdcError(`cannot read known_hosts ${settings.knownHostsFile}: ${(err as Error).message}`, { code: 'KnownHostsUnreadable' });
      }
    }
    return new Connector(settings, key, parseKnownHosts(text));
  }

  async open(nodeName: string, target: ResolvedTarget): Promise<Transport> {
    // ssh2 is loaded at the first connection, not at start-up: most commands reach no node.
    const { SshTransport } = await import('./ssh-transport.js');
    const ssh = await SshTransport.connect({
      node: nodeName,
      host: target.host,
      port: target.port,
      user: target.user,
      privateKey: this.privateKey,
      knownHosts: this.knownHosts,
      knownHostsFile: this.settings.knownHostsFile,
      acceptNewHostKeys: this.settings.acceptNewHostKeys,
      connectTimeoutMs: this.settings.connectTimeoutMs,
    });
    const root = this.settings.simRoots?.ssh.get(endpointKey(target.host, target.port));
    return root === undefined ? ssh : new RootedTransport(ssh, root);
  }
}
