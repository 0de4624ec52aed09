/**
 * `esdc-overlay keys generate | list | rotate`: the IPsec pre-shared keys of
 * the mesh, one per node pair (`defaults.ipsec.keys: pair`) or one per PDC
 * pair (`pdc-pair`; docs/ipsec-keys.md). No key is ever printed, logged or
 * put in an error: pairs are shown by name and keys by fingerprint
 * (src/ipsec/psk.ts).
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { generateMissingKeys, keyUnit, keyUnits, parseUnitSelection, rotateKeys, storedUnitKeys, type KeyChange } from '../../ipsec/keys.js';
import { editKeys } from '../../operations/state-edits.js';
import { pairId, pairLabel, type Pair } from '../../ipsec/pairs.js';
import { pskFingerprint } from '../../ipsec/psk.js';
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

  withCommonOptions(keys.command('generate'))
    .description('store a key for every pair (node pair, or PDC pair under pdc-pair) that has none, drop keys of pairs that are gone')
    .addHelpText('after', SCHEME_HELP)
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { result: change, snapshot, saved, warnings } = await editKeys(ctx.store(), (snap) => generateMissingKeys(snap.doc, snap.model));
      ctx.warn(warnings);
      const total = keyUnits(snapshot.model).length;
      const what = change.unit === 'PDC pair' ? 'PDC pair(s)' : 'pair(s) in the mesh';
      ctx.log.info({ added: change.added.length, pruned: change.pruned.length, dropped: change.dropped, pairs: total, saved }, 'keys generated');
      ctx.output(
        () =>
          [
            ...summary(change),
            `${total} ${what}, all with a stored key${saved ? '; run "esdc-overlay apply" to install new keys' : ' (nothing changed)'}`,
          ].join('\n'),
        () => ({ scheme: snapshot.model.defaults.ipsec.keys, added: names(change.added), pruned: names(change.pruned), dropped: change.dropped, pairs: total, saved }),
      );
    });

  withCommonOptions(keys.command('list'))
    .description('list the pairs of the mesh (PDC pairs under pdc-pair) with their key fingerprints')
    .addHelpText('after', SCHEME_HELP)
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const pdc = keyUnit(snap.model) === 'PDC pair';
      const stored = storedUnitKeys(snap.model);
      const rows = keyUnits(snap.model).map((p) => {
        const key = stored.get(pairId(p));
        return { nodes: p, fingerprint: key === undefined ? null : pskFingerprint(key), status: key === undefined ? 'missing' : 'stored' };
      });
      const live = new Set(rows.map((r) => pairId(r.nodes)));
      const entries = pdc ? snap.model.pdcKeys.map((k) => ({ nodes: k.pdcs, key: k.key })) : snap.model.pairKeys;
      const stale = entries.filter((k) => !live.has(pairId(k.nodes)));
      ctx.output(
        () =>
          rows.length + stale.length === 0
            ? 'no pairs: every node is in one PDC'
            : table(
                pdc ? ['PDC_A', 'PDC_B', 'STATUS', 'FINGERPRINT'] : ['NODE_A', 'NODE_B', 'STATUS', 'FINGERPRINT'],
                [
                  ...rows.map((r) => [r.nodes[0], r.nodes[1], r.status, r.fingerprint ?? '-']),
                  ...stale.map((k) => [k.nodes[0], k.nodes[1], 'stale', pskFingerprint(k.key)]),
                ],
              ),
        () => ({
          scheme: snap.model.defaults.ipsec.keys,
          pairs: rows.map((r) => ({ [pdc ? 'pdcs' : 'nodes']: [...r.nodes], status: r.status, fingerprint: r.fingerprint })),
          stale: stale.map((k) => ({ nodes: [...k.nodes], fingerprint: pskFingerprint(k.key) })),
        }),
      );
    });

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
      const before = new Map<string, string>();
      const affected = (change: KeyChange): Pair[] => [...change.rotated, ...change.added];
      const { result: change, snapshot, saved, warnings } = await editKeys(
        ctx.store(),
        (snap) => {
          const selection = opts.all ? 'all' : parseUnitSelection(snap.model, opts.pair!);
          for (const [id, key] of storedUnitKeys(snap.model)) before.set(id, pskFingerprint(key));
          return rotateKeys(snap.doc, snap.model, selection);
        },
        {
          preview: ({ result }) => {
            const a = affected(result);
            if (a.length === 0 || ctx.json) return;
            io.stderr.write(
              `keys rotate: new keys for ${a.length} pair(s): ${a.slice(0, 10).map(pairLabel).join(', ')}` +
                `${a.length > 10 ? ` and ${a.length - 10} more` : ''}\n` +
                'the nodes keep the old keys until the next apply, which installs both ends of each pair in one commit phase\n',
            );
          },
          confirm: async ({ result }) => {
            if (affected(result).length > 0) await ctx.confirm(`Rotate ${affected(result).length} key(s)?`);
          },
        },
      );
      ctx.warn(warnings);
      const after = storedUnitKeys(snapshot.model);
      ctx.log.info({ rotated: change.rotated.length, added: change.added.length, pruned: change.pruned.length, dropped: change.dropped, saved }, 'keys rotated');
      const fp = (p: Pair): { nodes: string[]; old: string | null; new: string | null } => ({
        nodes: [p[0], p[1]],
        old: before.get(pairId(p)) ?? null,
        new: after.has(pairId(p)) ? pskFingerprint(after.get(pairId(p))!) : null,
      });
      ctx.output(
        () =>
          [
            ...summary(change),
            ...(saved ? ['run "esdc-overlay apply" to install the new keys on both ends of each pair'] : ['nothing to rotate']),
          ].join('\n'),
        () => ({ rotated: change.rotated.map(fp), added: change.added.map(fp), pruned: names(change.pruned), saved }),
      );
    });
}
