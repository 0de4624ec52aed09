/**
 * `esdc-overlay keys generate | list | rotate`: the IPsec pre-shared keys of
 * the mesh. No key is ever printed, logged or put in an error: pairs are
 * shown by name and keys by fingerprint (src/ipsec/psk.ts).
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { generateMissingKeys, parsePairSelection, rotateKeys, storedMeshKeys, type KeyChange, type KeyEdit } from '../../ipsec/keys.js';
import { meshPairs, pairId, pairLabel, type Pair } from '../../ipsec/pairs.js';
import { pskFingerprint } from '../../ipsec/psk.js';
import type { Snapshot, Store } from '../../store/store.js';
import { withCommonOptions, withConfirmOption } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { table } from '../table.js';

/** Loads under the lock, computes the edit, and saves only when it changes something. */
export async function editKeys(
  store: Store,
  edit: (snap: Snapshot) => KeyEdit | Promise<KeyEdit>,
): Promise<{ change: KeyChange; snapshot: Snapshot; saved: boolean }> {
  return store.withLock(async () => {
    const base = await store.load('warn');
    const { doc, change } = await edit(base);
    if (change.added.length + change.rotated.length + change.pruned.length === 0) {
      return { change, snapshot: base, saved: false };
    }
    return { change, snapshot: await store.save(doc, base), saved: true };
  });
}

const names = (pairs: readonly Pair[]): string[][] => pairs.map((p) => [p[0], p[1]]);

function summary(change: KeyChange): string[] {
  const lines: string[] = [];
  if (change.added.length > 0) lines.push(`stored new keys for ${change.added.length} pair(s) that had none`);
  if (change.rotated.length > 0) lines.push(`replaced the keys of ${change.rotated.length} pair(s)`);
  if (change.pruned.length > 0) {
    lines.push(`dropped ${change.pruned.length} key(s) of pairs no longer in the mesh: ${change.pruned.map(pairLabel).join(', ')}`);
  }
  return lines;
}

export function registerKeys(program: Command, io: CliIo): void {
  const keys = withCommonOptions(program.command('keys'))
    .description('IPsec pre-shared keys, one per pair of nodes in different PDCs (never printed)');

  withCommonOptions(keys.command('generate'))
    .description('store a key for every pair that has none, drop keys of pairs that are gone')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const { change, snapshot, saved } = await editKeys(ctx.store(), (snap) => generateMissingKeys(snap.doc, snap.model));
      ctx.warn(snapshot.warnings);
      const total = meshPairs(snapshot.model).length;
      ctx.log.info({ added: change.added.length, pruned: change.pruned.length, pairs: total, saved }, 'keys generated');
      ctx.output(
        () =>
          [
            ...summary(change),
            `${total} pair(s) in the mesh, all with a stored key${saved ? '; run "esdc-overlay apply" to install new keys' : ' (nothing changed)'}`,
          ].join('\n'),
        () => ({ added: names(change.added), pruned: names(change.pruned), pairs: total, saved }),
      );
    });

  withCommonOptions(keys.command('list'))
    .description('list the pairs of the mesh with their key fingerprints')
    .action(async (_opts, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const snap = await ctx.loadAndWarn();
      const stored = storedMeshKeys(snap.model);
      const rows = meshPairs(snap.model).map((p) => {
        const key = stored.get(pairId(p));
        return { nodes: p, fingerprint: key === undefined ? null : pskFingerprint(key), status: key === undefined ? 'missing' : 'stored' };
      });
      const mesh = new Set(rows.map((r) => pairId(r.nodes)));
      const stale = snap.model.pairKeys.filter((k) => !mesh.has(pairId(k.nodes)));
      ctx.output(
        () =>
          rows.length + stale.length === 0
            ? 'no pairs: every node is in one PDC'
            : table(
                ['NODE_A', 'NODE_B', 'STATUS', 'FINGERPRINT'],
                [
                  ...rows.map((r) => [r.nodes[0], r.nodes[1], r.status, r.fingerprint ?? '-']),
                  ...stale.map((k) => [k.nodes[0], k.nodes[1], 'stale', pskFingerprint(k.key)]),
                ],
              ),
        () => ({
          pairs: rows.map((r) => ({ nodes: [...r.nodes], status: r.status, fingerprint: r.fingerprint })),
          stale: stale.map((k) => ({ nodes: [...k.nodes], fingerprint: pskFingerprint(k.key) })),
        }),
      );
    });

  withConfirmOption(withCommonOptions(keys.command('rotate')))
    .description('replace keys: the next apply installs each new key on both ends of its pair in one commit phase')
    .option('--pair <a,b>', 'the pair to rotate (repeat for more)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--all', 'rotate every pair')
    .addHelpText(
      'after',
      '\nExamples:\n  esdc-overlay keys rotate --all --yes\n  esdc-overlay keys rotate --pair cn01.prg.example.com,cn05.ams.example.com\n',
    )
    .action(async (opts: { pair?: string[]; all?: boolean }, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if ((opts.all === true) === (opts.pair !== undefined)) {
        throw new UsageError('keys rotate needs either --all or one or more --pair a,b');
      }
      const before = new Map<string, string>();
      const { change, snapshot, saved } = await editKeys(ctx.store(), async (snap) => {
        const selection = opts.all ? 'all' : parsePairSelection(snap.model, opts.pair!);
        for (const [id, key] of storedMeshKeys(snap.model)) before.set(id, pskFingerprint(key));
        const edit = rotateKeys(snap.doc, snap.model, selection);
        const affected = [...edit.change.rotated, ...edit.change.added];
        if (affected.length > 0 && !ctx.json) {
          io.stderr.write(
            `keys rotate: new keys for ${affected.length} pair(s): ${affected.slice(0, 10).map(pairLabel).join(', ')}` +
              `${affected.length > 10 ? ` and ${affected.length - 10} more` : ''}\n` +
              'the nodes keep the old keys until the next apply, which installs both ends of each pair in one commit phase\n',
          );
        }
        if (affected.length > 0) await ctx.confirm(`Rotate ${affected.length} key(s)?`);
        return edit;
      });
      ctx.warn(snapshot.warnings);
      const after = storedMeshKeys(snapshot.model);
      ctx.log.info({ rotated: change.rotated.length, added: change.added.length, pruned: change.pruned.length, saved }, 'keys rotated');
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
