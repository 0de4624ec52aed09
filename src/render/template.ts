/**
 * Handlebars templates from templates/, precompiled at build time
 * (scripts/gen-templates.ts → templates.generated.ts) and made into
 * functions once per process by Handlebars' runtime alone: the compiler
 * and its parser are never loaded (~28 ms of every apply's CPU, bench/RESULTS.md
 * "Issue 20, fourth pass"). Always with `noEscape` (config files are not
 * HTML: escaping would turn `=` into `&#x3D;`) and `strict` (a missing
 * variable throws instead of rendering as nothing, which in a firewall or
 * IPsec file would silently change its meaning): both are compile options,
 * so the generator passes them.
 */
import type HandlebarsFull from 'handlebars';
import runtime from 'handlebars/runtime.js';
import { InternalError } from '../errors.js';
import { PRECOMPILED } from './templates.generated.js';

export type Template = (view: object) => string;

// handlebars/runtime.js is the runtime's own build (no compiler); its declaration file is empty, the API is the package's.
const Handlebars = runtime as unknown as Pick<typeof HandlebarsFull, 'template'>;

const compiled = new Map<string, Template>();

/** The template `templates/<name>`, ready to render. */
export function template(name: string): Template {
  let t = compiled.get(name);
  if (t) return t;
  const spec = PRECOMPILED[name];
  // Every file under templates/ is precompiled (a test holds the generated file to templates/).
  if (spec === undefined) throw new InternalError(`template ${name} is not among the precompiled templates`);
  const fn = Handlebars.template(spec as Parameters<typeof Handlebars.template>[0]);
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
