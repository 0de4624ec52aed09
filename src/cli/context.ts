/**
 * What every subcommand gets: where output goes, the logger, the store, and
 * helpers for the two output forms (text for humans, `--json` for scripts)
 * and for confirmation of destructive steps.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { NotConfirmedError, UsageError, formatIssue, type ValidationIssue } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel, type Logger } from '../log.js';
import { DEFAULT_STATE_PATH, FileStore } from '../store/file-store.js';
import type { Store } from '../store/store.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** Options every command accepts (DESIGN.md §6). */
export interface CommonOptions {
  state?: string;
  json?: boolean;
  logLevel?: string;
  yes?: boolean;
  insecureState?: boolean;
}

export class CliContext {
  readonly io: CliIo;
  readonly opts: CommonOptions;
  readonly log: Logger;

  constructor(io: CliIo, opts: CommonOptions) {
    this.io = io;
    this.opts = opts;
    const level = (opts.logLevel ?? io.env.ESDC_OVERLAY_LOG_LEVEL ?? 'warn') as LogLevel;
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(level)})`);
    }
    this.log = createLogger({ level, stream: io.stderr });
  }

  static fromCommand(io: CliIo, cmd: Command): CliContext {
    return new CliContext(io, cmd.optsWithGlobals<CommonOptions>());
  }

  get json(): boolean {
    return this.opts.json === true;
  }

  get statePath(): string {
    return this.opts.state ?? this.io.env.ESDC_OVERLAY_STATE ?? DEFAULT_STATE_PATH;
  }

  store(): Store {
    return new FileStore(this.statePath, { allowInsecure: this.opts.insecureState === true });
  }

  /** Prints the result: `json()` with --json, else `text()`. */
  output(text: () => string, json: () => unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(json(), null, 2)}\n`);
    else {
      const t = text();
      if (t !== '') this.io.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
    }
  }

  /** Reports warnings on stderr (never on stdout, which scripts parse). */
  warn(issues: readonly ValidationIssue[]): void {
    for (const issue of issues) {
      this.log.warn({ path: issue.path }, formatIssue(issue));
    }
  }

  /** Progress for humans on stderr; silent for --json and when stderr is not a terminal. */
  progress(line: string): void {
    if (!this.json && this.io.stderr.isTTY) this.io.stderr.write(`${line}\n`);
  }

  /**
   * Asks before a destructive step. `--yes` answers for the operator; without a
   * terminal to ask on, the answer is no.
   */
  async confirm(question: string): Promise<void> {
    if (this.opts.yes) return;
    if (!this.io.stdin.isTTY) {
      throw new NotConfirmedError('not confirmed: pass --yes to proceed without a terminal', { code: 'NotConfirmed' });
    }
    const rl = createInterface({ input: this.io.stdin, output: this.io.stderr });
    try {
      const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
      if (answer !== 'y' && answer !== 'yes') throw new NotConfirmedError('not confirmed; nothing was changed', { code: 'NotConfirmed' });
    } finally {
      rl.close();
    }
  }
}
