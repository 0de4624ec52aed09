/**
 * Logging: pino JSON lines on stderr (stdout carries command output), a
 * readable form when stderr is a terminal. Redaction is a second line of
 * defence: secrets are kept out of log calls in the first place.
 */
import { pino, type Logger } from 'pino';
import { loadPretty } from './log-pretty.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REDACT_PATHS = ['key', 'psk', '*.key', '*.psk', 'keys', '*.keys', 'ipsec.psk', '*.ipsec.psk'];

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; a writable with write(string). */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force the human-readable form (default: when the stream is a TTY). */
  pretty?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: null, redact: { paths: REDACT_PATHS, censor: '[secret]' } };
  if (opts.pretty ?? opts.stream.isTTY === true) {
    // Loaded only for a terminal (a CommonJS package, so synchronously): scripts and services never pay for it.
    const pretty = loadPretty();
    return pino(base, pretty({ destination: opts.stream, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, opts.stream);
}
