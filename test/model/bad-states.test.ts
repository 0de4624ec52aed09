/**
 * Every file in test/fixtures/bad-states/ is a state that must be refused:
 * exit 1, a message naming the field (path) and the offending value, and no
 * change to any file. Each fixture says what it expects in its header:
 *   # expect-path: <path named in the message>
 *   # expect-text: <value or phrase the message shows>
 */
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { loadStateText } from '../../src/model/load.js';
import { runBuiltCli, runCli } from '../support/cli.js';
import { FIXTURES } from '../support/paths.js';

const DIR = join(FIXTURES, 'bad-states');
const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml')).sort();

async function expectation(file: string): Promise<{ text: string; path: string; value: string }> {
  const text = await readFile(join(DIR, file), 'utf8');
  const path = /^# expect-path: (.*)$/m.exec(text)?.[1] ?? '';
  const value = /^# expect-text: (.*)$/m.exec(text)?.[1] ?? '';
  return { text, path, value };
}

describe('bad state files are refused with the field and the value named', () => {
  it('has at least 20 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s', async (file) => {
    const { text, path, value } = await expectation(file);
    let error: unknown;
    try {
      loadStateText(text, file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const v = error as ValidationError;
    expect(v.exitStatus).toBe(1);
    if (path !== '') expect(v.issues.map((i) => i.path)).toContain(path);
    expect(v.message).toContain(value);
  });
});

describe('the CLI refuses them and changes nothing', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'esdc-bad-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it.each(files)('%s: validate and create exit 1, the file is untouched', async (file) => {
    const state = join(work, file);
    await copyFile(join(DIR, file), state);
    const before = await readFile(state);
    const mtime = (await stat(state)).mtimeMs;
    const { path } = await expectation(file);

    const validate = await runCli(['--state', state, 'validate']);
    expect(validate.status).toBe(1);
    if (path !== '') expect(validate.stderr).toContain(path);

    const create = await runCli(['--state', state, 'create', 'extras']);
    expect(create.status).toBe(1);
    expect(await readFile(state)).toEqual(before);
    expect((await stat(state)).mtimeMs).toBe(mtime);
    expect((await readdir(work)).filter((f) => f.startsWith(`.${file}`) || f.endsWith('.lock'))).toEqual([]);
  });

  it('the built CLI under plain node prints the same diagnosis, and --json carries every issue', async () => {
    const state = join(work, 'json-case.yaml');
    await copyFile(join(DIR, 'rule-port-used-twice.yaml'), state);
    const r = runBuiltCli(['--state', state, 'validate', '--json']);
    expect(r.status).toBe(1);
    const body = JSON.parse(r.stdout) as { error: { code: string; issues: { path: string; value: unknown }[] } };
    expect(body.error.code).toBe('ValidationError');
    expect(body.error.issues).toContainEqual(expect.objectContaining({ path: 'overlay_rules.lab.port', value: 4792 }));
    expect(r.stderr).toContain('overlay_rules.lab.port: is also the port of rule adminoverlay (got 4792)');
  });
});

describe('secrets are never echoed in a validation message', () => {
  it('a malformed key is reported by path without its value', async () => {
    const { text } = await expectation('psk-key-malformed.yaml');
    try {
      loadStateText(text, 'psk');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('ipsec.psk[0].key');
      expect((e as Error).message).not.toContain('notasecrethexvalue');
    }
  });
});
