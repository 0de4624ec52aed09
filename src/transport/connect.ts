/**
 * From a node of the model to an open transport: the SSH target with its
 * defaults (docs/state-format.md#nodes), the client key and known_hosts, and (tests only) the
 * root prefix of simulated nodes, which comes from the harness (sim-roots.ts), never from
 * the state.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EsdcError } from '../errors.js';
import type { Node } from '../model/model.js';
import { parseKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { RootedTransport } from './rooted-transport.js';
import { endpointKey, simRootsFrom, type SimRoots } from './sim-roots.js';
import type { ParsedKey } from 'ssh2';
import type { ClientKey, SshTarget } from './ssh-transport.js';
import type { Transport } from './transport.js';
import { passphrasePrompt, type PassphrasePrompt } from './passphrase-hook.js';

export type { PassphrasePrompt };

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
  /** The identity named (--identity, $ESDC_OVERLAY_IDENTITY), else the first default. */
  identityFile: string;
  /** Files tried in order: the one named, or ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityCandidates?: readonly string[];
  identityGiven?: boolean;
  /** $SSH_AUTH_SOCK when no identity is named. */
  agentSocket?: string | undefined;
  knownHostsFile: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** Simulated nodes' roots, from the test harness's environment only (sim-roots.ts). */
  simRoots?: SimRoots | undefined;
  /** Asks for a key's passphrase (a terminal's hidden prompt); default: the one the CLI set for this run (passphrase-hook.ts), if any. */
  askPassphrase?: PassphrasePrompt | undefined;
}

/** OpenSSH's default identities, in the order ssh(1) tries them (of those it still offers by default). */
export const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

export function sshSettings(
  opts: { identity?: string; knownHosts?: string; acceptNewHostKeys?: boolean; connectTimeout?: number },
  env: NodeJS.ProcessEnv,
): SshSettings {
  const given = opts.identity ?? env.ESDC_OVERLAY_IDENTITY;
  const home = env.HOME ?? homedir();
  return {
    simRoots: simRootsFrom(env),
    identityFile: given ?? join(home, '.ssh', DEFAULT_IDENTITIES[0]),
    // An identity named on the command line is the one used; otherwise the agent and OpenSSH's default files.
    identityCandidates: given !== undefined ? [given] : DEFAULT_IDENTITIES.map((f) => join(home, '.ssh', f)),
    identityGiven: given !== undefined,
    agentSocket: given === undefined && env.SSH_AUTH_SOCK !== undefined && env.SSH_AUTH_SOCK !== '' ? env.SSH_AUTH_SOCK : undefined,
    knownHostsFile: opts.knownHosts ?? env.ESDC_OVERLAY_KNOWN_HOSTS ?? join(homedir(), '.ssh', 'known_hosts'),
    acceptNewHostKeys: opts.acceptNewHostKeys === true,
    connectTimeoutMs: opts.connectTimeout ?? 10_000,
  };
}

/** How many wrong passphrases before the key is refused, as ssh(1) allows. */
export const PASSPHRASE_ATTEMPTS = 3;

/** Opens connections; reads the key and known_hosts once for all nodes. */
export class Connector {
  private constructor(
    private readonly settings: SshSettings,
    private readonly privateKey: ClientKey | undefined,
    private readonly knownHosts: readonly KnownHostEntry[],
  ) {}

  static async create(settings: SshSettings): Promise<Connector> {
    const key = await readIdentity(settings);
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
      agent: this.settings.agentSocket,
      knownHosts: this.knownHosts,
      knownHostsFile: this.settings.knownHostsFile,
      acceptNewHostKeys: this.settings.acceptNewHostKeys,
      connectTimeoutMs: this.settings.connectTimeoutMs,
    });
    const root = this.settings.simRoots?.ssh.get(endpointKey(target.host, target.port));
    return root === undefined ? ssh : new RootedTransport(ssh, root);
  }
}

/**
 * The client key: the identity named, or the first of OpenSSH's default
 * files that exists; none is needed when an agent is there. A key with a
 * passphrase is asked for on a terminal (up to PASSPHRASE_ATTEMPTS times);
 * off a terminal it is refused, naming it and the fix (ssh-agent holds it
 * unlocked). Such a key is kept decrypted, as ssh2's parsed key, and the
 * passphrase is not kept: ssh2 would otherwise decrypt the key again for
 * every connection (bcrypt-pbkdf in JavaScript, ~0.5 s of CPU each for an
 * OpenSSH key; bench/RESULTS.md, "A key with a passphrase").
 */
async function readIdentity(settings: SshSettings): Promise<ClientKey | undefined> {
  const candidates = settings.identityCandidates ?? [settings.identityFile];
  for (const file of candidates) {
    let key: Buffer;
    try {
      key = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A default file that is absent is skipped, as ssh(1) does; a named one must be there.
      if (code === 'ENOENT' && settings.identityGiven !== true) continue;
      throw new EsdcError(
        `cannot read the SSH private key ${file} (${code ?? (err as Error).message}); pass --identity FILE or set ESDC_OVERLAY_IDENTITY`,
        { code: 'SshKeyUnreadable' },
      );
    }
    if (await isEncrypted(key)) {
      if (settings.agentSocket !== undefined && settings.identityGiven !== true) continue;
      const ask = settings.askPassphrase ?? passphrasePrompt();
      if (ask !== undefined) return await unlock(key, file, ask);
      throw new EsdcError(
        `the SSH private key ${file} is protected by a passphrase, which cannot be asked for here; ` +
          `load it into ssh-agent (eval "$(ssh-agent)"; ssh-add ${file}) and run again with SSH_AUTH_SOCK set and without --identity, ` +
          'or pass --identity with a key that has no passphrase',
        { code: 'SshKeyEncrypted' },
      );
    }
    return key;
  }
  if (settings.agentSocket !== undefined) return undefined;
  throw new EsdcError(
    `no SSH private key: none of ${candidates.join(', ')} exists and SSH_AUTH_SOCK is not set; ` +
      'pass --identity FILE, set ESDC_OVERLAY_IDENTITY, or start ssh-agent',
    { code: 'SshKeyUnreadable' },
  );
}

/**
 * Asks until the passphrase opens the key, and returns the key decrypted;
 * refused after PASSPHRASE_ATTEMPTS wrong ones (never saying what was typed).
 */
async function unlock(key: Buffer, file: string, ask: PassphrasePrompt): Promise<ParsedKey> {
  const ssh2 = (await import('ssh2')).default;
  for (let attempt = 1; attempt <= PASSPHRASE_ATTEMPTS; attempt++) {
    const parsed = ssh2.utils.parseKey(key, await ask(file, attempt));
    // An OpenSSH key file holds one key, given as a list of one.
    const first = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (first !== undefined && !(first instanceof Error) && first.isPrivateKey()) return first;
  }
  throw new EsdcError(`the passphrase of the SSH private key ${file} was wrong ${PASSPHRASE_ATTEMPTS} times; nothing was changed`, { code: 'SshKeyPassphraseWrong' });
}

/** Whether ssh2 needs a passphrase to use the key (loaded only when a node is to be reached). */
async function isEncrypted(key: Buffer): Promise<boolean> {
  // ssh2 is CommonJS: its exports are on the default export (docs/testing.md#esm-and-commonjs).
  const ssh2 = (await import('ssh2')).default;
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error && /passphrase/i.test(parsed.message);
}
