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
import { EMBEDDED } from '../embedded.js';
import { InternalError } from '../errors.js';
import { templatesDir } from '../paths.js';

export type Template = (view: object) => string;

const compiled = new Map<string, Template>();

function embeddedTemplate(name: string): string {
  const text = EMBEDDED?.templates[name];
  if (text === undefined) throw new InternalError(`template ${name} is not in the bundle`);
  return text;
}

function readTemplate(name: string): string {
  const path = join(templatesDir(), name);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InternalError(`template ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

/** The template `templates/<name>`, compiled. */
export function template(name: string): Template {
  let t = compiled.get(name);
  if (t) return t;
  // The bundle carries its templates; a missing one there is a build defect, not a fallback to disk.
  const text = EMBEDDED ? embeddedTemplate(name) : readTemplate(name);
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
