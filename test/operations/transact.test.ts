/**
 * transact's order (docs/architecture.md#operations): change → preview →
 * confirm → before → save → execute; work `before` refuses leaves the state
 * as it was (nodes remove --wipe: the node leaves the state only once wiped).
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRule } from '../../src/rules/edit.js';
import { FileStore } from '../../src/store/file-store.js';
import { transact } from '../../src/operations/transact.js';
import { exampleCopy } from '../support/tmp.js';

describe('transact', () => {
  it('runs before after the confirmation and before the save, with the lock; execute after the save', async () => {
    const path = await exampleCopy();
    const store = new FileStore(path);
    const steps: string[] = [];
    const out = await transact(store, (snap) => createRule(snap.doc, snap.model, { name: 'extra' }), {
      preview: () => void steps.push('preview'),
      confirm: () => void steps.push('confirm'),
      before: async (result, base) => {
        steps.push(`before ${result.name} ${base.model.ruleByName.has('extra')}`);
        // Not saved yet.
        expect(await readFile(path, 'utf8')).not.toMatch(/extra/);
      },
      execute: async (_r, snap) => void steps.push(`execute ${snap.model.ruleByName.has('extra')}`),
    });
    expect(steps).toEqual(['preview', 'confirm', 'before extra false', 'execute true']);
    expect(out.saved).toBe(true);
    expect(await readFile(path, 'utf8')).toMatch(/extra/);
  });

  it('writes nothing when before throws', async () => {
    const path = await exampleCopy();
    const text = await readFile(path, 'utf8');
    const refused = transact(new FileStore(path), (snap) => createRule(snap.doc, snap.model, { name: 'extra' }), {
      before: () => Promise.reject(new Error('wipe failed')),
    });
    await expect(refused).rejects.toThrow('wipe failed');
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('loads an empty store as an empty document with orEmpty, and refuses it without', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'transact-'));
    try {
      const store = new FileStore(join(dir, 'state.yaml'));
      await expect(transact(store, (snap) => ({ doc: snap.doc, result: undefined }))).rejects.toThrow();
      const out = await transact(store, () => ({ doc: { version: 1 }, result: 'init' }), { orEmpty: true });
      expect(out.saved).toBe(true);
      expect(await readFile(join(dir, 'state.yaml'), 'utf8')).toMatch(/version: 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
