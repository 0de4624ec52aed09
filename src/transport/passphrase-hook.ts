/**
 * Where the CLI puts, for one run, the way to ask for an SSH key's
 * passphrase (src/cli/passphrase-prompt.ts), and where the connector finds
 * it (src/transport/connect.ts). A leaf of its own so that setting it at
 * start-up loads no SSH code.
 */

/**
 * Asks for the passphrase of `file`, without echo; `attempt` counts from 1.
 * Only the CLI, on a terminal, provides one: the answer never reaches a
 * log, an error, argv or the environment.
 */
export type PassphrasePrompt = (file: string, attempt: number) => Promise<string>;

let current: PassphrasePrompt | undefined;

/** Set by the CLI for each run: a prompt on a terminal, undefined off one (an encrypted key is then refused). */
export function setPassphrasePrompt(prompt: PassphrasePrompt | undefined): void {
  current = prompt;
}

export function passphrasePrompt(): PassphrasePrompt | undefined {
  return current;
}
