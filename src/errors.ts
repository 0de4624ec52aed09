/**
 * Error taxonomy. Every error the tool raises on purpose carries a stable
 * `code` (for `--json` consumers) and the process `exitStatus` the CLI edge
 * uses (docs/operations.md#commands: 0 done, 1 failure, 2 drift / plan not empty, 64 usage).
 * The core throws these; only `esdc-overlay.ts` turns them into text.
 */

import { redactIssue } from './redact.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  drift: 2,
  usage: 64,
} as const;

export class EsdcError extends Error {
  readonly code: string;
  readonly exitStatus: number;

  constructor(message: string, opts: { code?: string; exitStatus?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code ?? new.target.name;
    this.exitStatus = opts.exitStatus ?? EXIT.failure;
  }
}

/** One problem found in an input, located by a path such as `overlay_rules.lab.port` or `vnics[3].mac`. */
export interface ValidationIssue {
  /** Dotted path into the document; `""` for the document itself. */
  path: string;
  /** The offending value, when there is one (secrets are never put here). */
  value?: unknown;
  message: string;
}

/** Bad input. Lists every problem found, not only the first. */
export class ValidationError extends EsdcError {
  readonly issues: readonly ValidationIssue[];
  /** What was being validated, e.g. the state file's path. */
  readonly source: string | undefined;

  constructor(issues: readonly ValidationIssue[], source?: string) {
    const redacted = issues.map(redactIssue);
    super(formatIssues(redacted, source), { exitStatus: EXIT.failure });
    this.issues = redacted;
    this.source = source;
  }
}

/** The command line itself is wrong (unknown option, missing argument). */
export class UsageError extends EsdcError {
  constructor(message: string) {
    super(message, { exitStatus: EXIT.usage });
  }
}

/** The store could not be read, locked or written. */
export class StoreError extends EsdcError {}

/** A command refused to act because the state would become inconsistent (rule exists, port taken...). */
export class ConflictError extends EsdcError {}

/** A destructive command was not confirmed. */
export class NotConfirmedError extends EsdcError {}

/**
 * The command has printed its whole outcome (`vdc check` refusing an id,
 * with the reason) and only a non-zero exit status is left to give: the CLI
 * prints nothing more.
 */
export class OutcomeReported extends EsdcError {}

/** An invariant of our own code broke: a bug, never a user error. */
export class InternalError extends EsdcError {}

/** Renders one value for an error message: strings quoted, long values cut. */
export function showValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatIssue(raw: ValidationIssue): string {
  const issue = redactIssue(raw);
  const where = issue.path === '' ? '(document)' : issue.path;
  const value = 'value' in issue ? ` (got ${showValue(issue.value)})` : '';
  return `${where}: ${issue.message}${value}`;
}

function formatIssues(issues: readonly ValidationIssue[], source?: string): string {
  const head = `${source ?? 'input'} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'})`;
  return [head, ...issues.map((i) => `  - ${formatIssue(i)}`)].join('\n');
}
