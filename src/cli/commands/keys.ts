/**
 * `esdc-overlay keys generate | list | rotate`: the IPsec pre-shared keys of
 * the mesh, one per node pair (`defaults.ipsec.keys: pair`) or one per PDC
 * pair (`pdc-pair`; docs/ipsec-keys.md). No key is ever printed, logged or
 * put in an error: pairs are shown by name and keys by fingerprint
 * (src/ipsec/psk.ts). What each does is src/operations/keys.ts; this file
 * parses options and prints.
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { KeyChange } from '../../ipsec/keys.js';
import { affectedPairs, generateKeys, listKeys, rotateKeysInStore } from '../../operations/keys.js';
import { pairLabel, type Pair } from '../../ipsec/pairs.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { table } from '../table.js';

const names = (pairs: readonly Pair[]): string[][] => pairs.map((p) => [p[0], p[1]]);

/** How many pairs a summary names before it counts the rest. */
const NAMED = 20;

function summary(change: KeyChange): string[] {
  const lines: string[] = [];
  const unit = change.unit === 'PDC pair' ? 'PDC pair(s)' : 'pair(s)';
  if (change.added.length > 0) lines.push(`stored new keys for ${change.added.length} ${unit} that had none`);
  if (change.rotated.length > 0) lines.push(`replaced the keys of ${change.rotated.length} ${unit}`);
  if (change.pruned.length > 0) {
    const more = change.pruned.length > NAMED ? ` and ${change.pruned.length - NAMED} more` : '';
    lines.push(`dropped ${change.pruned.length} key(s) of ${unit} no longer in the mesh: ${change.pruned.slice(0, NAMED).map(pairLabel).join(', ')}${more}`);
  }
  if (change.dropped > 0) {
    lines.push(`dropped ${change.dropped} key(s) of the other scheme (defaults.ipsec.keys is ${change.unit === 'PDC pair' ? 'pdc-pair' : 'pair'})`);
  }
  return lines;
}

/** Said in --help: what is not proven on illumos. */
const SCHEME_HELP =
  '\nKey schemes (defaults.ipsec.keys, docs/ipsec-keys.md):\n' +
  '  pair      one key per pair of nodes in different PDCs (Danube\'s scheme, the default)\n' +
  '  pdc-pair  one key per pair of PDCs, shared by every node pair between them; each node\'s\n' +
  '            ike.preshared still has one entry per peer. UNVERIFIED ON ILLUMOS: the file\n' +
  '            form is the documented one, but Danube never ran one key for many pairs.\n' +
  '  cert      refused: per-node certificates are not built\n';

export function registerKeys(program: Command, io: CliIo): void {
  const keys = withCommonOptions(program.command('keys'))
    .description('IPsec pre-shared keys, one per pair of nodes in different PDCs, or one per pair of PDCs (never printed)')
    .addHelpText('after', SCHEME_HELP);
  registerGenerate(keys, io);
  registerList(keys, io);
  registerRotate(keys, io);
}

function registerGenerate(keys: Command, io: CliIo): void {
  withCommonOptions(keys.command('generate'))
    .description('store a key for every pair (node pair, or PDC pair under pdc-pair) that has none, drop keys of pairs that are gone')
    .addHelpText('after', SCHEME_HELP)
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { change, saved, warnings, scheme, total } = await generateKeys(ctx);
      ctx.warn(warnings);
      const what = change.unit === 'PDC pair' ? 'PDC pair(s)' : 'pair(s) in the mesh';
      ctx.log.info({ added: change.added.length, pruned: change.pruned.length, dropped: change.dropped, pairs: total, saved }, 'keys generated');
      ctx.output(
        () =>
          [
            ...summary(change),
            `${total} ${what}, all with a stored key${saved ? '; run "esdc-overlay apply" to install new keys' : ' (nothing changed)'}`,
          ].join('\n'),
        () => ({ scheme, added: names(change.added), pruned: names(change.pruned), dropped: change.dropped, pairs: total, saved }),
      );
    });
}

function registerList(keys: Command, io: CliIo): void {
  withCommonOptions(keys.command('list'))
    .description('list the pairs of the mesh (PDC pairs under pdc-pair) with their key fingerprints')
    .addHelpText('after', SCHEME_HELP)
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { scheme, pdc, rows, stale } = await listKeys(ctx);
      ctx.output(
        () =>
          rows.length + stale.length === 0
            ? 'no pairs: every node is in one PDC'
            : table(
                pdc ? ['PDC_A', 'PDC_B', 'STATUS', 'FINGERPRINT'] : ['NODE_A', 'NODE_B', 'STATUS', 'FINGERPRINT'],
                [
                  ...rows.map((r) => [r.nodes[0], r.nodes[1], r.status, r.fingerprint ?? '-']),
                  ...stale.map((k) => [k.nodes[0], k.nodes[1], 'stale', k.fingerprint]),
                ],
              ),
        () => ({
          scheme,
          pairs: rows.map((r) => ({ [pdc ? 'pdcs' : 'nodes']: [...r.nodes], status: r.status, fingerprint: r.fingerprint })),
          stale: stale.map((k) => ({ nodes: [...k.nodes], fingerprint: k.fingerprint })),
        }),
      );
    });
}

function registerRotate(keys: Command, io: CliIo): void {
  withConfirmOption(withCommonOptions(keys.command('rotate')))
    .description('replace keys: the next apply installs each new key on both ends of its pair in one commit phase')
    .option('--pair <a,b>', 'the pair to rotate: two node names, or two PDC names under pdc-pair (repeat for more)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--all', 'rotate every pair')
    .addHelpText(
      'after',
      '\nExamples:\n  esdc-overlay keys rotate --all --yes\n  esdc-overlay keys rotate --pair cn01.prg.example.com,cn05.ams.example.com\n' +
        '  esdc-overlay keys rotate --pair prg,ams     (pdc-pair: every node pair between prg and ams)\n' +
        SCHEME_HELP,
    )
    .action(async (opts: { pair?: string[]; all?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if ((opts.all === true) === (opts.pair !== undefined)) {
        throw new UsageError('keys rotate needs either --all or one or more --pair a,b');
      }
      const { change, saved, warnings, rotated, added } = await rotateKeysInStore(ctx, opts.all ? 'all' : opts.pair!, {
        preview: ({ result }) => {
          const a = affectedPairs(result);
          if (a.length === 0 || ctx.json) return;
          io.stderr.write(
            `keys rotate: new keys for ${a.length} pair(s): ${a.slice(0, 10).map(pairLabel).join(', ')}` +
              `${a.length > 10 ? ` and ${a.length - 10} more` : ''}\n` +
              'the nodes keep the old keys until the next apply, which installs both ends of each pair in one commit phase\n',
          );
        },
        confirm: async ({ result }) => {
          if (affectedPairs(result).length > 0) await ctx.confirm(`Rotate ${affectedPairs(result).length} key(s)?`);
        },
      });
      ctx.warn(warnings);
      ctx.log.info({ rotated: change.rotated.length, added: change.added.length, pruned: change.pruned.length, dropped: change.dropped, saved }, 'keys rotated');
      ctx.output(
        () =>
          [
            ...summary(change),
            ...(saved ? ['run "esdc-overlay apply" to install the new keys on both ends of each pair'] : ['nothing to rotate']),
          ].join('\n'),
        () => ({ rotated, added, pruned: names(change.pruned), saved }),
      );
    });
}
