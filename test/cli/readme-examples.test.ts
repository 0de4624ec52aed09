/**
 * The README's command examples run as written (issue 19): each `sh` block
 * line for an offline command is run by /bin/sh with `esdc-overlay` on PATH
 * (the built CLI), against a copy of examples/two-sites.yaml standing in for
 * `state.yaml`, in order, and must exit 0.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, CLI_NODE, EXAMPLE, REPO } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';

/** Offline commands whose README examples must succeed on the example state. */
const RUN = /^esdc-overlay (--state \S+ )?(list|create|update|delete|validate|render|adminoverlay-update|adminoverlay-info|vdc (list|grant|overlaps|allocate)|keys (list|generate)|mtu)\b/;

async function readmeCommands(): Promise<string[]> {
  const text = await readFile(join(REPO, 'README.md'), 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').replace(/\s+\[[^\]]*\]/g, '').trim())
    // Not offline (ZooKeeper), or meant to exit 2 (--exit-code on the example's too-big MTUs).
    .filter((l) => RUN.test(l) && !l.includes('zk://') && !l.includes('--exit-code'));
}

describe('README examples', () => {
  it('run as written on the bundled example', async () => {
    const dir = await tempDir();
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'esdc-overlay'), `#!/bin/sh\nexec '${CLI_NODE}' '${CLI}' "$@"\n`, { mode: 0o755 });
    await copyFile(EXAMPLE, join(dir, 'state.yaml'));
    await mkdir(join(dir, 'examples'));
    await copyFile(EXAMPLE, join(dir, 'examples', 'two-sites.yaml'));
    const commands = await readmeCommands();
    // The ones the issue named are among them.
    expect(commands.some((c) => c.includes('create dmz cn01.prg.example.com,cn05.ams.example.com'))).toBe(true);
    expect(commands.some((c) => c.startsWith('esdc-overlay adminoverlay-update cn01.prg.example.com='))).toBe(true);
    const failed: string[] = [];
    for (const [i, c] of commands.entries()) {
      let cmd = c.replace(/\bDIR\b/g, join(dir, `out-${i}`));
      // Commands that ask ("asks, or --yes") get the answer a terminal would have given.
      if (/^esdc-overlay (--state \S+ )?(delete|adminoverlay-update)\b/.test(cmd) && !cmd.includes('--yes')) cmd += ' --yes';
      const r = spawnSync('/bin/sh', ['-c', cmd], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, ESDC_OVERLAY_STATE: join(dir, 'state.yaml') },
        timeout: 30_000,
      });
      if (r.status !== 0) failed.push(`${c}\n  -> exit ${r.status}: ${r.stderr.split('\n').filter((l) => !l.startsWith('warn: ')).join(' ')}`);
    }
    expect(failed).toEqual([]);
  });
});
