/**
 * `esdc-overlay daemon install`: writes (or prints) the head node daemon's
 * SMF manifest, running the one-file bundle. The manifest only: there is no
 * daemon command yet, and the service it defines is disabled.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DAEMON_CLI, DAEMON_MANIFEST, renderDaemonService } from '../../agent/daemon-install.js';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';

export function registerDaemon(program: Command, io: CliIo): void {
  const daemon = withCommonOptions(program.command('daemon')).description('the head node daemon (not written yet): its SMF manifest');
  withConfirmOption(withCommonOptions(daemon.command('install')))
    .description(`render the head node daemon's SMF manifest (the manifest only, defining the service disabled: there is no daemon yet); prints it unless --out`)
    .option('--out <file>', `write it there (e.g. ${DAEMON_MANIFEST}); replacing a different file needs --yes`)
    .option('--node <path>', 'the node binary the service runs', '/opt/tools/bin/node')
    .option('--cli <path>', 'the one-file bundle the service runs', DAEMON_CLI)
    .action(async (opts: { out?: string; node: string; cli: string }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if (opts.out !== undefined && !opts.out.startsWith('/')) throw new UsageError(`--out must be an absolute path (got ${JSON.stringify(opts.out)})`);
      const out = opts.out ?? DAEMON_MANIFEST;
      const text = renderDaemonService({ node: opts.node, cli: opts.cli, out });
      const next = `svccfg import ${out} (the service stays disabled: there is no daemon yet)`;
      if (opts.out === undefined) {
        ctx.output(() => text, () => ({ path: out, content: text, written: false, next }));
        return;
      }
      const existing = await readFile(opts.out, 'utf8').catch(() => undefined);
      if (existing === text) {
        ctx.output(() => `${opts.out} is up to date; then: ${next}`, () => ({ path: opts.out, written: false, next }));
        return;
      }
      if (existing !== undefined) await ctx.confirm(`Replace ${opts.out}?`);
      await writeFileAtomic(opts.out, text, { mode: 0o644, mkdirMode: 0o755 });
      ctx.output(() => `wrote ${opts.out}; then: ${next}`, () => ({ path: opts.out, written: true, next }));
    });
}
