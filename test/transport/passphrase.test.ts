/**
 * Passphrase-protected SSH keys (issue 19): asked for through the prompt the
 * CLI provides on a terminal, up to three times, the passphrase never in an
 * error; the prompt reads without echo and gives the terminal back as it
 * was. The whole path on a pseudo-terminal against a simulated node is in
 * test/apply/passphrase-pty.integration.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readHidden, terminalPassphrasePrompt } from '../../src/cli/passphrase-prompt.js';
import { Connector, sshSettings } from '../../src/transport/connect.js';
import { tempDir } from '../support/tmp.js';

async function encryptedKey(passphrase: string): Promise<string> {
  const dir = await tempDir();
  const key = join(dir, 'id_ed25519');
  expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', key]).status).toBe(0);
  return key;
}

describe('a key with a passphrase', () => {
  it('is unlocked by the passphrase the prompt gives, after a wrong one', async () => {
    const key = await encryptedKey('correct-horse-7');
    const asked: Array<[string, number]> = [];
    const answers = ['wrong', 'correct-horse-7'];
    const settings = { ...sshSettings({ identity: key, knownHosts: join(key, '..', 'known_hosts') }, {}), askPassphrase: async (file: string, attempt: number) => {
      asked.push([file, attempt]);
      return answers.shift()!;
    } };
    await expect(Connector.create(settings)).resolves.toBeInstanceOf(Connector);
    expect(asked).toEqual([[key, 1], [key, 2]]);
  });

  it('is refused after three wrong passphrases, never saying what was typed', async () => {
    const key = await encryptedKey('correct-horse-7');
    let n = 0;
    const settings = { ...sshSettings({ identity: key, knownHosts: join(key, '..', 'known_hosts') }, {}), askPassphrase: async () => `guess-${++n}-xyzzy` };
    const err = (await Connector.create(settings).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('SshKeyPassphraseWrong');
    expect(n).toBe(3);
    expect(err.message).toContain(key);
    expect(err.message).not.toMatch(/xyzzy/);
  });

  it('without a prompt (off a terminal) is refused naming ssh-add, as before', async () => {
    const key = await encryptedKey('correct-horse-7');
    const err = (await Connector.create(sshSettings({ identity: key }, {})).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('SshKeyEncrypted');
    expect(err.message).toContain(`ssh-add ${key}`);
  });
});

/** A stand-in for a terminal's input: records the raw mode it is put in. */
class FakeTty extends EventEmitter {
  isTTY = true;
  isRaw = false;
  modes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.modes.push(mode);
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

describe('the terminal prompt', () => {
  it('reads a line in raw mode, echoes nothing, handles backspace, and restores the mode', async () => {
    const tty = new FakeTty();
    const out = new PassThrough();
    const shown: string[] = [];
    out.on('data', (c: Buffer) => shown.push(c.toString()));
    const answer = readHidden(tty, out, 'Enter passphrase for key k: ');
    tty.emit('data', Buffer.from('sek'));
    tty.emit('data', Buffer.from('\u007fcret\r'));
    await expect(answer).resolves.toBe('secret');
    expect(shown.join('')).toBe('Enter passphrase for key k: \n');
    expect(tty.modes).toEqual([true, false]);
  });

  it('Ctrl-C gives up with NotConfirmed', async () => {
    const tty = new FakeTty();
    const answer = readHidden(tty, new PassThrough(), '? ');
    tty.emit('data', Buffer.from('ab\u0003'));
    await expect(answer).rejects.toMatchObject({ code: 'NotConfirmed' });
  });

  it('is offered only when stdin and stderr are terminals', () => {
    const io = (stdinTty: boolean, stderrTty: boolean) => ({
      stdin: Object.assign(new FakeTty(), { isTTY: stdinTty }) as unknown as NodeJS.ReadableStream,
      stdout: new PassThrough(),
      stderr: Object.assign(new PassThrough(), { isTTY: stderrTty }),
      env: {},
    });
    expect(terminalPassphrasePrompt(io(true, true))).toBeTypeOf('function');
    expect(terminalPassphrasePrompt(io(false, true))).toBeUndefined();
    expect(terminalPassphrasePrompt(io(true, false))).toBeUndefined();
  });
});
