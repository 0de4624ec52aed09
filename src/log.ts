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

export const LOG_FORMATS = ['text', 'json'] as const;
/** `text`: for people (coloured on a terminal, plain lines otherwise); `json`: pino lines for machines (services). */
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; a writable with write(string). */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force the human-readable form (default: when the stream is a TTY). */
  pretty?: boolean;
  /** Default `text`. */
  format?: LogFormat;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * One plain line per record, `warn: <message> (key=value ...)`: what people
 * read off a terminal (a pipe, a file, CI logs), without pino's JSON.
 */
function plainLines(stream: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string): void {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        stream.write(line);
        return;
      }
      const { level, time: _time, msg, ...rest } = rec;
      const fields = Object.entries(rest)
        .filter(([k]) => k !== 'path')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      const name = LEVEL_NAMES[level as number] ?? String(level);
      stream.write(`${name}: ${String(msg ?? '')}${fields.length > 0 ? ` (${fields.join(' ')})` : ''}\n`);
    },
  };
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: null, redact: { paths: REDACT_PATHS, censor: '[secret]' } };
  if (opts.format === 'json') return pino(base, opts.stream);
  if (opts.pretty ?? opts.stream.isTTY === true) {
    // Loaded only for a terminal (a CommonJS package, so synchronously): scripts and services never pay for it.
    const pretty = loadPretty();
    return pino(base, pretty({ destination: opts.stream, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, plainLines(opts.stream));
}
