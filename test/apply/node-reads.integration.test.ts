/**
 * What a node may hand the tool when it reads a managed path (test/harness,
 * real sshd): a 2 GiB sparse file is refused by its size before a byte is
 * read, a FIFO is refused by its type before it is opened (sftp-server's
 * open of a FIFO blocks for good), and the plan's diff never prints a line
 * whole when it is huge.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPF_OVERLAYS_PATH } from '../../src/firewall/generator.js';
import { IKE_CONFIG_PATH } from '../../src/ipsec/generator.js';
import type { SimCluster } from '../harness/sim-cluster.js';
import { useSimCluster } from '../harness/use-sim-cluster.js';
import { runCli as cli } from '../support/cli.js';

describe('reads from a node: size and type checked first', () => {
  let c: SimCluster;
  useSimCluster({ count: 2, each: true }, (started) => (c = started));

  it('a 2 GiB sparse file at a managed path is refused naming node, path and size; memory stays small', async () => {
    const n = c.nodes[0]!;
    const p = n.path(IPF_OVERLAYS_PATH);
    await mkdir(dirname(p), { recursive: true });
    execFileSync('truncate', ['-s', '2G', p]);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const r = await cli(['plan'], c.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(n.name);
    expect(r.stderr).toContain(IPF_OVERLAYS_PATH);
    expect(r.stderr).toMatch(/2147483648 bytes, above the limit of 67108864 bytes/);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  }, 60_000);

  it('--max-file-size sets the limit: a 3 MiB file is read under the default and refused with --max-file-size 2', async () => {
    const n = c.nodes[0]!;
    const p = n.path(IPF_OVERLAYS_PATH);
    await mkdir(dirname(p), { recursive: true });
    execFileSync('truncate', ['-s', '3M', p]);
    expect((await cli(['plan'], c.env)).stderr).not.toContain('above the limit');
    const r = await cli(['plan', '--max-file-size', '2'], c.env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${n.name}: `);
    expect(r.stderr).toContain(`${IPF_OVERLAYS_PATH} is 3145728 bytes, above the limit of 2097152 bytes`);
  }, 60_000);

  it('a FIFO at a managed path fails the plan fast, naming node and path; sftp-server is not left hanging', async () => {
    const n = c.nodes[1]!;
    const p = n.path(IKE_CONFIG_PATH);
    await mkdir(dirname(p), { recursive: true });
    execFileSync('mkfifo', [p]);
    const started = performance.now();
    const r = await cli(['plan', '--timeout', '20'], c.env);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${n.name}: `);
    expect(r.stderr).toMatch(new RegExp(`${IKE_CONFIG_PATH.replace(/[.]/g, '\\.')} is a FIFO; only regular files are read`));
  }, 60_000);

  it('a changed file with one very long line: the plan shows it cut, with the count of what was left out', async () => {
    await cli(['apply', '--yes'], c.env);
    const n = c.nodes[0]!;
    await writeFile(n.path(IPF_OVERLAYS_PATH), `${'x'.repeat(1_000_000)}\n`);
    const r = await cli(['plan'], c.env);
    expect(r.stdout).toContain(`-${'x'.repeat(200)}… (999800 more characters)`);
    expect(r.stdout.length).toBeLessThan(50_000);
  }, 120_000);
});
