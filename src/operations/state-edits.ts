/**
 * The state edits whose commands show something and ask before saving: the
 * IPsec keys and the firewall. Each is one store transaction
 * (src/operations/transact.ts); a conflict with another writer is reported,
 * not retried, since the operator saw and answered for one preview.
 */
import type { FirewallEdit } from '../firewall/edit.js';
import type { KeyChange, KeyEdit } from '../ipsec/keys.js';
import type { Mutation, StateDoc } from '../model/state.js';
import type { Snapshot, Store } from '../store/store.js';
import { transact, type TransactOptions, type Transacted } from './transact.js';

type Ask<T> = Pick<TransactOptions<T, undefined>, 'preview' | 'confirm'>;

/** A key edit as a state change: the document is written only when a key is added, rotated or dropped. */
export function keyMutation(snap: Snapshot, edit: KeyEdit): Mutation<KeyChange> {
  const { doc, change } = edit;
  return { doc: change.added.length + change.rotated.length + change.pruned.length + change.dropped === 0 ? snap.doc : doc, result: change };
}

/** keys generate and keys rotate. */
export function editKeys(store: Store, edit: (snap: Snapshot) => KeyEdit, ask: Ask<KeyChange> = {}): Promise<Transacted<KeyChange, undefined>> {
  return transact(store, (snap) => keyMutation(snap, edit(snap)), { ...ask, attempts: 1 });
}

/** The globally-*-firewall commands: written only when the edit changes something. */
export function editFirewall(store: Store, edit: (doc: StateDoc) => FirewallEdit, ask: Ask<FirewallEdit> = {}): Promise<Transacted<FirewallEdit, undefined>> {
  return transact(
    store,
    (base) => {
      const e = edit(base.doc);
      return { doc: e.changed ? e.doc : base.doc, result: e };
    },
    { ...ask, attempts: 1 },
  );
}
