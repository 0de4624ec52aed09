/**
 * pino-pretty, loaded synchronously and only when asked for (a CommonJS
 * package, so through require). Its own module so the bundle build can swap
 * the require for one esbuild follows (scripts/build-bundle.mjs): it cannot
 * see through createRequire.
 */
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';

export function loadPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}
