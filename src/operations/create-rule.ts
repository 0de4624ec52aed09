/**
 * `create <rule>` (docs/architecture.md#operations): a new overlay rule in
 * one store transaction. With no MTU asked for, Danube's default is kept
 * when the rule's paths carry it, else the safe MTU of those paths is
 * stored (src/mtu/rule-mtu.ts), so that a new rule never starts above what
 * its paths carry.
 */
import { buildModel } from '../model/build-model.js';
import type { Mutation } from '../model/state.js';
import { ruleMtu } from '../mtu/rule-mtu.js';
import { createRule, type RuleChangeRequest } from '../rules/edit.js';
import type { Snapshot, Store } from '../store/store.js';
import { transact, type Transacted } from './transact.js';

type Created = ReturnType<typeof createRule>['result'];

/** The MTU stored instead of the default, and the default it replaced. */
export interface Lowered {
  from: number;
  to: number;
}

/** The creation on `snap`, at the safe MTU when none was asked for (`mtuGiven`: --mtu or mtu= in the raw string) and the default is too big. */
export function createRuleChange(snap: Snapshot, req: RuleChangeRequest, mtuGiven: boolean): Mutation<{ created: Created; lowered: Lowered | undefined }> {
  const change = createRule(snap.doc, snap.model, req);
  const as = (c: typeof change, lowered?: Lowered): Mutation<{ created: Created; lowered: Lowered | undefined }> => ({ doc: c.doc, result: { created: c.result, lowered } });
  if (mtuGiven) return as(change);
  // The new rule's safe MTU needs the model with the rule in it: a draft, never saved.
  const draft = buildModel(change.doc);
  const drafted = draft.ruleByName.get(req.name);
  const safe = drafted === undefined ? undefined : ruleMtu(draft, drafted).safe;
  if (drafted === undefined || safe === undefined || safe >= drafted.mtu) return as(change);
  const withMtu: RuleChangeRequest = req.raw !== undefined ? { ...req, raw: `${req.raw} -p mtu=${safe}` } : { ...req, options: { ...req.options, mtu: safe } };
  return as(createRule(snap.doc, snap.model, withMtu), { from: drafted.mtu, to: safe });
}

/** `create`: the rule, saved. */
export function createRuleInStore(store: Store, req: RuleChangeRequest, mtuGiven: boolean): Promise<Transacted<{ created: Created; lowered: Lowered | undefined }, undefined>> {
  return transact(store, (snap) => createRuleChange(snap, req, mtuGiven));
}
