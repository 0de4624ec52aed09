/**
 * A key with a passphrase is decrypted once, when the passphrase is given,
 * not once per node: ssh2 would decrypt a key it is handed with its
 * passphrase again at every connection (bcrypt-pbkdf in JavaScript, ~0.5 s of
 * CPU each; bench/RESULTS.md, "A key with a passphrase"). The connector hands
 * every connection the decrypted key and keeps no passphrase.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import type { SshOptions } from '../../src/transport/ssh-transport.js';
import { tempDir } from '../support/tmp.js';

const opened: SshOptions[] = [];
vi.mock('../../src/transport/ssh-transport.js', () => ({
  SshTransport: {
    connect: async (opts: SshOptions) => {
      opened.push(opts);
      return { node: opts.node };
    },
  },
}));

const { Connector, sshSettings } = await import('../../src/transport/connect.js');

describe('a key with a passphrase, used for many nodes', () => {
  it('reaches every connection decrypted, without its passphrase', async () => {
    const dir = await tempDir();
    const key = join(dir, 'id_ed25519');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct-horse-7', '-f', key]).status).toBe(0);
    let asked = 0;
    const settings = { ...sshSettings({ identity: key, knownHosts: join(dir, 'known_hosts') }, {}), askPassphrase: async () => (asked++, 'correct-horse-7') };
    const connector = await Connector.create(settings);
    for (const n of ['cn01', 'cn02', 'cn03']) await connector.open(n, { host: '127.0.0.1', port: 22, user: 'root' });
    expect(asked).toBe(1);
    expect(opened).toHaveLength(3);
    for (const o of opened) {
      expect(o).not.toHaveProperty('passphrase');
      expect(Buffer.isBuffer(o.privateKey)).toBe(false);
      // ssh2 takes it as it is: parsing it again returns the same object, no passphrase needed.
      expect(ssh2.utils.parseKey(o.privateKey as Buffer)).toBe(o.privateKey);
      expect((o.privateKey as ssh2.ParsedKey).isPrivateKey()).toBe(true);
    }
    expect(new Set(opened.map((o) => o.privateKey)).size).toBe(1);
  });
});
