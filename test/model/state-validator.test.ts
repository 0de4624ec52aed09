/**
 * The committed, generated state validator (src/model/state-validator.generated.ts)
 * must be what scripts/gen-state-validator.ts makes of today's schema: a schema
 * edit without a re-run of the generator fails here, not in the field.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, generateStateValidator } from '../../scripts/gen-state-validator.js';
import { STATE_SCHEMA } from '../../src/model/schema.js';
import { makeStateValidator } from '../../src/model/state-validator.generated.js';
import { isAlignedCidr } from '../../src/model/validate-shape.js';
import { FIXTURES } from '../support/paths.js';

const FORMATS = {
  'ipv4-cidr': { validate: isAlignedCidr },
  'ipv4-source': { validate: (s: string) => (s.includes('/') ? isAlignedCidr(s) : /^\d+\.\d+\.\d+\.\d+$/.test(s)) },
};
const badStates = (await readdir(join(FIXTURES, 'bad-states'))).filter((f) => f.endsWith('.yaml')).sort();

/** The schema compiled at run time with the options the CLI used before the generated code. */
let runtime: ValidateFunction | undefined;
function runtimeValidator(): ValidateFunction {
  if (runtime) return runtime;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv, ['ipv4', 'ipv6']);
  for (const [name, f] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: f.validate });
  runtime = ajv.compile(STATE_SCHEMA);
  return runtime;
}

describe('generated state validator', () => {
  it('equals the standalone code ajv generates from src/model/schema.ts now', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generateStateValidator());
  });

  it.each(badStates)('%s: the same ajv errors as the schema compiled at run time', async (file) => {
    let doc: unknown;
    try {
      doc = parse(await readFile(join(FIXTURES, 'bad-states', file), 'utf8'));
    } catch {
      return; // refused by the YAML loader before any schema (a duplicate key)
    }
    const gen = makeStateValidator(FORMATS);
    const rt = runtimeValidator();
    expect(gen(doc)).toBe(rt(doc));
    expect(gen.errors).toEqual(rt.errors);
  });

  it('the same errors for our formats and for lengths counted in code points', () => {
    const astral = '\u{1F600}'.repeat(600); // 1,200 UTF-16 units, 600 code points: within maxLength 1024
    const doc = {
      version: 1,
      adminoverlay: { subnet: '10.0.0.5/24' },
      overlay_rules: { r1: { rule: astral }, r2: { rule: 'x'.repeat(1025) } },
    };
    const gen = makeStateValidator(FORMATS);
    const rt = runtimeValidator();
    expect(gen(doc)).toBe(false);
    rt(doc);
    expect(gen.errors).toEqual(rt.errors);
    const paths = (gen.errors ?? []).map((e) => e.instancePath);
    expect(paths).toContain('/adminoverlay/subnet');
    expect(paths).toContain('/overlay_rules/r2/rule');
    expect(paths).not.toContain('/overlay_rules/r1/rule');
  });
});
