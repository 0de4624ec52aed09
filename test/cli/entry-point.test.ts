/**
 * The real entry point under plain node (not vitest's module loader): the
 * CJS/ESM import traps of docs/testing.md#esm-and-commonjs only show there. Every command
 * answers --help; usage errors exit 64.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildProgram, run } from '../../src/cli/program.js';
import { captureIo } from '../ipsec/helpers.js';
import { runBuiltCli } from '../support/cli.js';
import { CLI_NODE, REPO } from '../support/paths.js';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';

const pkgVersion = (JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { version: string }).version;

const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
/** Every runnable command line: leaf commands, with their group's name in front (e.g. `store migrate`). */
const commands = (await buildProgram(io)).commands.flatMap((c) =>
  c.commands.length > 0 ? c.commands.map((sub) => `${c.name()} ${sub.name()}`).filter((n) => !n.endsWith(' help')) : [c.name()],
).filter((n) => n !== 'help');

describe('the built CLI', () => {
  it('prints its version and help', () => {
    const v = runBuiltCli(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toBe(`esdc-overlay ${pkgVersion} (node ${spawnSync(CLI_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()})\n`);
    const h = runBuiltCli(['--help']);
    expect(h.status).toBe(0);
    for (const name of ['create', 'update', 'delete', 'list', 'render']) expect(h.stdout).toContain(name);
  });

  it.each(commands)('%s --help exits 0 and documents --state and --json', (name) => {
    const r = runBuiltCli([...name.split(' '), '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: esdc-overlay ${name}`);
    expect(r.stdout).toContain('--state <file>');
    expect(r.stdout).toContain('--json');
  });

  it('answers --version and -V before the program loads with the line the program prints', async () => {
    const io = captureIo();
    expect(await run(['--version'], io)).toBe(0);
    // The program under vitest runs on vitest's Node; the built CLI on CLI_NODE: compare all but the Node version.
    const programLine = io.out().replace(/\(node v[^)]*\)/, '(node)');
    for (const flag of ['--version', '-V']) {
      const r = runBuiltCli([flag]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.replace(/\(node v[^)]*\)/, '(node)')).toBe(programLine);
    }
  });

  it('an unknown command or option is a usage error (64)', () => {
    expect(runBuiltCli(['frobnicate']).status).toBe(64);
    expect(runBuiltCli(['list', '--frob']).status).toBe(64);
  });

  it('runs through npx as the package bin', () => {
    const r = spawnSync('npx', ['--no-install', 'esdc-overlay', '--version'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^esdc-overlay \d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+\)\n$/);
  });
});
