/**
 * What every subcommand gets: where output goes, the logger, the store, and
 * helpers for the two output forms (text for humans, `--json` for scripts)
 * and for confirmation of destructive steps.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { NotConfirmedError, UsageError, formatIssue, type ValidationIssue } from '../errors.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel, type Logger } from '../log.js';
import { openStore, storeSpec } from '../store/open-store.js';
import type { Consistency } from '../model/load.js';
import type { ConflictError } from '../errors.js';
import type { Store } from '../store/store.js';
import { loadState, type LoadedSnapshot } from '../operations/warnings.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** Options every command accepts (docs/operations.md#commands). */
export interface CommonOptions {
  state?: string;
  /** A zk:// URL or a state file path. */
  store?: string;
  storeTimeout?: number;
  zkAuthFile?: string;
  /** `--zk-insecure`: allow writing to ZooKeeper without credentials. */
  zkInsecure?: boolean;
  json?: boolean;
  logLevel?: string;
  /** `text` (default) or `json`. */
  logFormat?: string;
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
    const format = opts.logFormat ?? io.env.ESDC_OVERLAY_LOG_FORMAT ?? 'text';
    if (!(LOG_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(format)})`);
    }
    this.log = createLogger({ level, stream: io.stderr, format: format as LogFormat });
  }

  static fromCommand(io: CliIo, cmd: Command): CliContext {
    return new CliContext(io, cmd.optsWithGlobals<CommonOptions>());
  }

  get json(): boolean {
    return this.opts.json === true;
  }

  /** The store as given: a zk:// URL or a file path (--store, --state, $ESDC_OVERLAY_STORE, $ESDC_OVERLAY_STATE). */
  get statePath(): string {
    return storeSpec(this.opts, this.io.env);
  }

  /** `readOnly`: the command saves nothing, so a state file's parse may come from the parse cache (docs/operations.md#the-parse-cache). */
  store(opts: { readOnly?: boolean } = {}): Store {
    const store = this.openStore(this.statePath, opts);
    store.onConflict = (err, attempt) => this.onConflict(err, attempt);
    return store;
  }

  /** A store named on the command line (e.g. `store migrate --from`), with this command's timeout and credentials. */
  openStore(spec: string, opts: { readOnly?: boolean } = {}): Store {
    return openStore(
      spec,
      {
        timeoutSeconds: this.opts.storeTimeout,
        zkAuthFile: this.opts.zkAuthFile,
        zkInsecure: this.opts.zkInsecure,
        allowInsecure: this.opts.insecureState,
        readOnly: opts.readOnly,
      },
      this.io.env,
    );
  }

  /** For `transact`: tells the operator when another writer got in first and the change is re-run. */
  onConflict(err: ConflictError, attempt: number): void {
    this.log.warn({ attempt }, `${err.message.replace(/; run the command again$/, '')}; trying again on the new state`);
  }

  /** The environment, for the operations (SSH settings, the head node's PDC). */
  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  /** Prints the result: `json()` with --json, else `text()`. */
  output(text: () => string, json: () => unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(json(), null, 2)}\n`);
    else {
      const t = text();
      if (t !== '') this.io.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
    }
  }

  /**
   * The state for a command that only reads it: loaded even when it is
   * inconsistent, with its problems and warnings reported on stderr.
   */
  async loadAndWarn(): Promise<LoadedSnapshot> {
    return this.loadState('warn');
  }

  /** The state, its model's warnings (the one list every command shows, src/operations/warnings.ts) reported on stderr. */
  async loadState(consistency: Consistency, opts: { readOnly?: boolean } = {}): Promise<LoadedSnapshot> {
    return loadState(this.store(opts), consistency, (issues) => this.warn(issues));
  }

  /** Reports warnings on stderr (never on stdout, which scripts parse). */
  warn(issues: readonly ValidationIssue[]): void {
    for (const issue of issues) {
      // The model's warnings reach a command from more than one side (load, render): each is said once.
      const key = `${issue.path}\u0000${issue.message}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.log.warn({ path: issue.path }, formatIssue(issue));
    }
  }

  private readonly warned = new Set<string>();

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
