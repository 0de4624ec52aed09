/**
 * One key style for every command's --json (issue 19, src/cli/json-style.ts):
 * snake_case keys and file modes as octal strings ("0400"), for each command
 * that works offline, run through the built CLI on a copy of the bundled
 * example. Objects keyed by data (rule, node and vDC names) are the one
 * exception, and their names here are all lower case. State changes also
 * carry `next`, the exact next command, as their text output says.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { jsonStyleOffences as offences } from '../support/json-style.js';

const EXAMPLE = join(import.meta.dirname, '../../examples/two-sites.yaml');

describe('--json key style', () => {
  it('every offline command: snake_case keys, octal-string modes; state changes name the next command', async () => {
    const dir = await tempDir();
    const state = join(dir, 'state.yaml');
    await copyFile(EXAMPLE, state);
    const secret = join(dir, 'key-secret');
    await writeFile(secret, 'x'.repeat(64), { mode: 0o600 });
    await mkdir(join(dir, 'agent'), { mode: 0o700 });
    await writeFile(join(dir, 'agent', 'agent.json'), JSON.stringify({ status: join(dir, 'agent', 'status.json'), bundle: join(dir, 'agent', 'bundle.json'), bundle_owner_uid: process.getuid?.() ?? 0 }));
    const env = { ESDC_OVERLAY_STATE: state, HOME: dir };
    const s = ['--state', state];
    const runs: Array<{ argv: string[]; next?: boolean }> = [
      { argv: ['validate'] },
      { argv: ['list'] },
      { argv: ['mtu'] },
      { argv: ['mtu', '--underlay-mtu', '1500', '--esp', 'aes-cbc-sha512'] },
      { argv: ['adminoverlay-info'] },
      { argv: ['render', '--out', join(dir, 'out'), '--key-secret', secret] },
      { argv: ['create', 'extra', 'all'], next: true },
      { argv: ['update', 'extra', 'cn01.prg.example.com'], next: true },
      { argv: ['delete', 'extra', '--yes'], next: true },
      { argv: ['adminoverlay-update', '--yes'], next: true },
      { argv: ['adminoverlay-update', '--dry-run'] },
      { argv: ['globally-update-firewall', '--yes'], next: true },
      { argv: ['vdc', 'list'] },
      { argv: ['vdc', 'overlaps'] },
      { argv: ['vdc', 'grant', 'extra', '--vxlan', '20000-20009', '--create'] },
      { argv: ['vdc', 'check', 'extra', '--vxlan', '20001'] },
      { argv: ['vdc', 'allocate', 'extra', '--vxlan', '--count', '2'] },
      { argv: ['keys', 'list'] },
      { argv: ['keys', 'generate'] },
      { argv: ['keys', 'rotate', '--all', '--yes'] },
      { argv: ['store', 'migrate', '--from', state, '--to', join(dir, 'copy.json'), '--yes'] },
      { argv: ['nodes', 'remove', 'cn05.ams.example.com', '--force', '--yes'], next: true },
      { argv: ['init', '--state', join(dir, 'new.yaml')], next: true },
      { argv: ['agent', 'status', '--config', join(dir, 'agent', 'agent.json')] },
      { argv: ['daemon', 'status', '--status', join(dir, 'daemon-status.json')] },
      { argv: ['agent', 'install', '--platform', 'smartos'] },
      { argv: ['daemon', 'install', '--platform', 'smartos'] },
      { argv: ['globally-disable-firewall', '--yes'], next: true },
    ];
    const problems: string[] = [];
    for (const r of runs) {
      const argv = r.argv[0] === 'init' ? [...r.argv, '--json'] : [...s, ...r.argv, '--json'];
      const out = runBuiltCli(argv, env);
      const name = r.argv.slice(0, 2).join(' ');
      if (out.status !== 0 && out.status !== 2) {
        problems.push(`${name}: exit ${out.status}: ${out.stderr.trim().split('\n')[0]}`);
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(out.stdout);
      } catch {
        problems.push(`${name}: stdout is not JSON: ${out.stdout.slice(0, 80)}`);
        continue;
      }
      problems.push(...offences(json).map((o) => `${name}: ${o}`));
      if (r.next && typeof (json as { next?: unknown }).next !== 'string') problems.push(`${name}: no "next" command`);
    }
    expect(problems).toEqual([]);
  });
});
