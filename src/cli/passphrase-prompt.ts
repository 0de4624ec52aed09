/**
 * The terminal prompt for an SSH key's passphrase (src/transport/connect.ts
 * asks through it): on stderr, typed without echo (the terminal in raw mode,
 * nothing written back), so the passphrase is never on the screen, in a
 * log, in argv or in the environment. Only when stdin and stderr are both a
 * terminal; otherwise there is no prompt and an encrypted key is refused,
 * naming ssh-add.
 */
import { NotConfirmedError } from '../errors.js';
import type { PassphrasePrompt } from '../transport/passphrase-hook.js';
import type { CliIo } from './context.js';

/** The part of a terminal's input the prompt needs (node's tty.ReadStream has it). */
interface RawInput {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?: (mode: boolean) => unknown;
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** The prompt for this run, or undefined off a terminal. */
export function terminalPassphrasePrompt(io: CliIo): PassphrasePrompt | undefined {
  const input = io.stdin as unknown as RawInput;
  if (input.isTTY !== true || io.stderr.isTTY !== true || typeof input.setRawMode !== 'function') return undefined;
  return (file, attempt) =>
    readHidden(input, io.stderr, `${attempt > 1 ? 'wrong passphrase; ' : ''}Enter passphrase for key ${file}: `);
}

/** One line from `input` in raw mode, echoing nothing; Ctrl-C or Ctrl-D on an empty line gives up. */
export function readHidden(input: RawInput, output: NodeJS.WritableStream, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Raw (no echo) before the question shows: what is typed once it is seen is never echoed.
    const wasRaw = input.isRaw === true;
    input.setRawMode!(true);
    input.resume();
    output.write(question);
    let typed = '';
    const finish = (): void => {
      input.off('data', onData);
      input.setRawMode!(wasRaw);
      input.pause();
      output.write('\n');
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && typed === '')) {
          finish();
          reject(new NotConfirmedError('no passphrase given; nothing was changed', { code: 'NotConfirmed' }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch === '\u0015') typed = '';
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}
