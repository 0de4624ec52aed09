/**
 * The yaml package is loaded only when a text needs it (src/yaml-lib.ts,
 * issue 20): a JSON state and a plain-YAML state are read without it, which
 * keeps its ~80 modules out of every apply's start. Checked on the built
 * CLI under plain node, where NODE_DEBUG=module names each CommonJS module
 * as it loads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStateText } from '../../src/model/load.js';
import { EXAMPLE, REPO } from '../support/paths.js';

const CLI = process.env.ESDC_OVERLAY_LAZY_YAML_CLI || join(REPO, 'dist', 'esdc-overlay.js');
const dir = mkdtempSync(join(tmpdir(), 'esdc-lazy-yaml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI's exit status and whether it loaded the yaml package. */
function run(args: string[]): { status: number | null; loadedYaml: boolean; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'module' } });
  return { status: r.status, loadedYaml: /node_modules\/yaml\//.test(r.stderr), stderr: r.stderr };
}

describe('the yaml package at start', () => {
  it('is not loaded for a JSON state or a plain-YAML one', () => {
    const json = join(dir, 'state.json');
    writeFileSync(json, JSON.stringify(loadStateText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE, 'warn').doc), { mode: 0o600 });
    for (const state of [json, EXAMPLE]) {
      const r = run(['--state', state, 'list']);
      expect(r.status, state).toBe(0);
      expect(r.loadedYaml, state).toBe(false);
    }
  });

  it('is loaded when a text needs it (an alias, refused by name)', () => {
    const state = join(dir, 'alias.yaml');
    writeFileSync(state, 'version: &v 1\nx: *v\n', { mode: 0o600 });
    const r = run(['--state', state, 'validate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('YAML alias *v is not accepted');
    expect(r.loadedYaml).toBe(true);
  });
});
