/**
 * Handlebars templates from templates/, compiled once per process. Always
 * with `noEscape` (config files are not HTML: escaping would turn `=` into
 * `&#x3D;`) and `strict` (a missing variable throws instead of rendering
 * as nothing, which in a firewall or IPsec file would silently change its
 * meaning).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { InternalError } from '../errors.js';
import { templatesDir } from '../paths.js';

export type Template = (view: object) => string;

const compiled = new Map<string, Template>();

/** The template `templates/<name>`, compiled. */
export function template(name: string): Template {
  let t = compiled.get(name);
  if (t) return t;
  const path = join(templatesDir(), name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InternalError(`template ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const fn = Handlebars.compile(text, { noEscape: true, strict: true });
  t = (view) => {
    try {
      return fn(view);
    } catch (err) {
      // The view is never shown: it may hold keys.
      throw new InternalError(`template ${name} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  compiled.set(name, t);
  return t;
}
