/**
 * Hash-first reads (src/apply/digest.ts): digest(1)'s output is read only
 * in the shape illumos prints it, and the simulated `digest` of test/harness
 * prints that shape and fails the way illumos digest.c does.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestable, parseDigestOutput } from '../../src/apply/digest.js';
import { simFacts, writeNodeRoot } from '../harness/sim-cluster.js';

const H = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('digest output', () => {
  const a = '/opt/custom/a.json';
  const b = '/opt/custom/b c.json';
  it('maps each line to its path, in order, skipping files digest could not open', () => {
    expect(parseDigestOutput(`sha256 (${a}) = ${H('a')}\nsha256 (${b}) = ${H('b')}\n`, [a, b])).toEqual(new Map([[a, H('a')], [b, H('b')]]));
    expect(parseDigestOutput(`sha256 (${b}) = ${H('b')}\n`, [a, b])).toEqual(new Map([[b, H('b')]]));
    expect(parseDigestOutput('', [a, b])).toEqual(new Map());
  });

  it('trusts nothing when a line is not in that shape or out of order', () => {
    expect(parseDigestOutput(`sha256 (${b}) = ${H('b')}\nsha256 (${a}) = ${H('a')}\n`, [a, b])).toBeUndefined();
    expect(parseDigestOutput(`${H('a')}\n`, [a])).toBeUndefined();
    expect(parseDigestOutput(`sha256 (${a}) = ${H('a').toUpperCase()}\n`, [a])).toBeUndefined();
    expect(parseDigestOutput(`md5 (${a}) = ${H('a')}\n`, [a])).toBeUndefined();
    expect(parseDigestOutput(`sha256 (${a}) = ${H('a')}\nsha256 (/etc/passwd) = ${H('x')}\n`, [a])).toBeUndefined();
  });

  it('asks only about absolute one-line paths', () => {
    expect(digestable('/opt/x')).toBe(true);
    expect(digestable('-v')).toBe(false);
    expect(digestable('relative')).toBe(false);
    expect(digestable('/a\nsha256 (/b) = 00')).toBe(false);
  });
});

describe('the simulated digest', () => {
  let dir: string;
  let root: string;
  const run = (...args: string[]) => {
    const r = spawnSync(join(root, 'usr/bin/digest'), args, { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdc-digest-'));
    root = join(dir, 'root');
    await writeNodeRoot(root, simFacts(0, 1), []);
    await mkdir(join(root, 'opt/custom'), { recursive: true });
    await writeFile(join(root, 'opt/custom/a'), 'a');
    await writeFile(join(root, 'opt/custom/b'), 'bb');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints "sha256 (FILE) = HEX" per file with -v, the node path as given', () => {
    const r = run('-v', '-a', 'sha256', '/opt/custom/a', '/opt/custom/b');
    expect(r).toEqual({ status: 0, stdout: `sha256 (/opt/custom/a) = ${H('a')}\nsha256 (/opt/custom/b) = ${H('bb')}\n`, stderr: '' });
    expect(run('-a', 'sha256', '/opt/custom/a').stdout).toBe(`${H('a')}\n`);
    expect(run('-a', 'sha256', '/opt/custom/a', '/opt/custom/b').stdout).toBe(`(/opt/custom/a) = ${H('a')}\n(/opt/custom/b) = ${H('bb')}\n`);
  });

  it('skips a file it cannot open with a message and exit 2, and still digests the rest', () => {
    const r = run('-v', '-a', 'sha256', '/opt/custom/a', '/opt/custom/missing', '/opt/custom/b');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe(`sha256 (/opt/custom/a) = ${H('a')}\nsha256 (/opt/custom/b) = ${H('bb')}\n`);
    expect(r.stderr).toContain('digest: can not open input file /opt/custom/missing');
  });

  it('fails a directory with exit 1, and refuses what digest.c refuses', () => {
    const d = run('-v', '-a', 'sha256', '/opt/custom');
    expect(d.status).toBe(1);
    expect(d.stdout).toBe('');
    expect(run('-v', '/opt/custom/a').status).toBe(2);
    expect(run('-x', '-a', 'sha256', '/opt/custom/a').status).toBe(2);
    const u = run('-a', 'sha999', '/opt/custom/a');
    expect(u).toEqual({ status: 1, stdout: '', stderr: 'digest: unknown algorithm -- sha999\n' });
    expect(run('-v', '-a', 'md5', '/opt/custom/a').stdout).toBe(`md5 (/opt/custom/a) = ${createHash('md5').update('a').digest('hex')}\n`);
  });

  it('records each call, arguments with quotes and backslashes included', async () => {
    run('-v', '-a', 'sha256', '/opt/custom/a', '/opt/"q"\\b');
    const calls = (await readFile(join(root, 'var/sim/calls.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { cmd: string; args: string[] });
    expect(calls.at(-1)).toMatchObject({ cmd: 'digest', args: ['-v', '-a', 'sha256', '/opt/custom/a', '/opt/"q"\\b'] });
  });
});
