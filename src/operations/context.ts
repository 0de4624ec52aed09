/**
 * What an operation needs from whoever runs it (a command, the daemon, a
 * test): the store, the environment for SSH settings, a logger, and where
 * warnings and progress go. CliContext is one; the operations print nothing
 * themselves.
 */
import type { ValidationIssue } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export interface OperationContext {
  store(): Store;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The model's warnings and the generators' (each shown once by the caller). */
  warn(issues: readonly ValidationIssue[]): void;
  /** One line of progress per node and step, for people. */
  progress(line: string): void;
}
