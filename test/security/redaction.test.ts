/**
 * Issue 15: a PSK in the wrong place must not be echoed by the error that
 * refuses it, in text or --json, through the built CLI: Danube's layout
 * (`ipsec.psk` a map of keys), a key where a UUID belongs, and a JSON syntax
 * error next to a key (V8 quotes a slice of the text).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadStateText } from '../../src/model/load.js';
import { redactIssue } from '../../src/redact.js';
import { runBuiltCli } from '../support/cli.js';
import { FIXTURES } from '../support/paths.js';

const key = randomBytes(128).toString('hex');
/** No 8 characters of the key in a row, anywhere. */
const expectNoKey = (text: string): void => {
  for (let i = 0; i + 8 <= key.length; i += 4) expect(text).not.toContain(key.slice(i, i + 8));
};

describe('validate never echoes a misplaced key (built CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-redact-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const base = (): Record<string, any> =>
    structuredClone(loadStateText(readFileSync(join(FIXTURES, 'cfgdb', 'two-sites.yaml'), 'utf8'), 'x').doc) as Record<string, any>;
  const run = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text, { mode: 0o600 });
    const json = runBuiltCli(['--state', path, 'validate', '--json']);
    const plain = runBuiltCli(['--state', path, 'validate']);
    expect(json.status).toBe(1);
    expect(plain.status).toBe(1);
    return { json, all: json.stdout + json.stderr + plain.stdout + plain.stderr };
  };

  it('a key at ipsec.psk in Danube\'s layout (a map pair → key): the issue names ipsec.psk, the value is redacted', async () => {
    const doc = base();
    const pair = Object.keys(doc.nodes).slice(0, 2).join('-');
    doc.ipsec = { psk: { [pair]: key } };
    const { json, all } = await run('danube.yaml', stringify(doc));
    expectNoKey(all);
    const issues = JSON.parse(json.stdout).error.issues as Array<{ path: string; value?: unknown }>;
    expect(issues).toContainEqual(expect.objectContaining({ path: 'ipsec.psk', value: '<redacted>' }));
  });

  it('a key where a UUID belongs: the 256 hex characters are redacted', async () => {
    const doc = base();
    const name = Object.keys(doc.nodes)[0]!;
    doc.nodes[name].uuid = key;
    const { json, all } = await run('uuid.yaml', stringify(doc));
    expectNoKey(all);
    const issues = JSON.parse(json.stdout).error.issues as Array<{ path: string; value?: unknown }>;
    expect(issues).toContainEqual(expect.objectContaining({ path: `nodes["${name}"].uuid`, value: '<redacted>' }));
  });

  it('a JSON syntax error beside a key: the message quotes none of the text', async () => {
    const { all } = await run('bad.json', `{"version":1,"ipsec":{"psk":x${key}}}`);
    expectNoKey(all);
    expect(all).toContain("Unexpected token 'x' (not valid JSON)");
  });
});

describe('redactIssue', () => {
  it('keeps what is not secret: paths, messages, values outside ipsec without long hex runs', () => {
    const issue = { path: 'overlay_rules.web.port', value: 99999, message: 'must be <= 65535' };
    expect(redactIssue(issue)).toEqual(issue);
    expect(redactIssue({ path: 'x', message: 'm' })).toEqual({ path: 'x', message: 'm' });
    expect(redactIssue({ path: 'ipsec.psk[0].nodes', value: ['a', 'b'], message: 'm' }).value).toBe('<redacted>');
    expect(redactIssue({ path: 'x', value: { a: [`k=${key}`] }, message: `found ${key}` })).toEqual({ path: 'x', value: { a: ['k=<redacted>'] }, message: 'found <redacted>' });
    expect(redactIssue({ path: 'x', value: 'ab'.repeat(31), message: 'm' }).value).toBe('ab'.repeat(31));
  });
});
