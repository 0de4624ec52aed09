/**
 * The file store: atomic replacement, mode 0600, a lock against concurrent
 * commands, refusal to overwrite a file that changed underneath, and a
 * crash between write and rename that leaves the old file whole.
 */
import { spawnSync } from 'node:child_process';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError, StoreError } from '../../src/errors.js';
import { loadStateText } from '../../src/model/load.js';
import { createRule } from '../../src/rules/edit.js';
import { FileStore } from '../../src/store/file-store.js';
import { transact } from '../../src/operations/transact.js';
import { runBuiltCli } from '../support/cli.js';
import { CLI, REPO } from '../support/paths.js';
import { exampleCopy } from '../support/tmp.js';

describe('saving', () => {
  it('replaces the file atomically with mode 0600 and leaves no temporary file', async () => {
    const path = await exampleCopy();
    await chmod(path, 0o644);
    const store = new FileStore(path);
    await transact(store, (snap) => createRule(snap.doc, snap.model, { name: 'extra' }));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dirname(path))).sort()).toEqual([basename(path)]);
    expect(loadStateText(await readFile(path, 'utf8'), path).model.ruleByName.has('extra')).toBe(true);
  });

  it('saves JSON states as JSON', async () => {
    const path = await exampleCopy('state.json');
    const yamlText = await readFile(path, 'utf8');
    await writeFile(path, JSON.stringify(loadStateText(yamlText, path).doc));
    await transact(new FileStore(path), (snap) => createRule(snap.doc, snap.model, { name: 'extra' }));
    const saved = JSON.parse(await readFile(path, 'utf8')) as { overlay_rules: Record<string, unknown> };
    expect(saved.overlay_rules.extra).toEqual({ port: 4793, nodes: 'all', mtu: 1400 });
  });

  it('refuses to save over a file that changed since it was read', async () => {
    const path = await exampleCopy();
    const store = new FileStore(path);
    const snap = await store.load();
    await writeFile(path, `${await readFile(path, 'utf8')}# edited by hand\n`);
    const next = createRule(snap.doc, snap.model, { name: 'extra' }).doc;
    await expect(store.save(next, snap)).rejects.toBeInstanceOf(ConflictError);
    expect(await readFile(path, 'utf8')).toContain('# edited by hand');
  });

  it('a prepared save writes the text prepare loaded, and its model is the saved one', async () => {
    const path = await exampleCopy();
    const store = new FileStore(path);
    const snap = await store.load();
    const next = createRule(snap.doc, snap.model, { name: 'extra' }).doc;
    const prepared = await store.prepare(next, 'require', snap);
    expect(prepared.model.ruleByName.has('extra')).toBe(true);
    const saved = await store.save(next, snap);
    expect(saved.model).toBe(prepared.model);
    expect(loadStateText(await readFile(path, 'utf8'), path).model.ruleByName.get('extra')!.port).toBe(prepared.model.ruleByName.get('extra')!.port);
  });

  it('a prepared save still refuses a file that changed after prepare, and another document is loaded afresh', async () => {
    const path = await exampleCopy();
    const store = new FileStore(path);
    const snap = await store.load();
    const next = createRule(snap.doc, snap.model, { name: 'extra' }).doc;
    await store.prepare(next, 'require', snap);
    await writeFile(path, `${await readFile(path, 'utf8')}# edited by hand\n`);
    await expect(store.save(next, snap)).rejects.toBeInstanceOf(ConflictError);
    const again = await store.load();
    const other = createRule(again.doc, again.model, { name: 'other' }).doc;
    await store.prepare(createRule(again.doc, again.model, { name: 'third' }).doc, 'require', again);
    const saved = await store.save(other, again);
    expect(saved.model.ruleByName.has('other')).toBe(true);
    expect(saved.model.ruleByName.has('third')).toBe(false);
  });
});

describe('the lock', () => {
  it('serialises concurrent commands: both rules are created, with different ports', async () => {
    const path = await exampleCopy();
    const a = transact(new FileStore(path), (snap) => createRule(snap.doc, snap.model, { name: 'one' }));
    const b = transact(new FileStore(path), (snap) => createRule(snap.doc, snap.model, { name: 'two' }));
    await Promise.all([a, b]);
    const m = loadStateText(await readFile(path, 'utf8'), path).model;
    expect([m.ruleByName.get('one')!.port, m.ruleByName.get('two')!.port].sort()).toEqual([4793, 4794]);
  });

  it('times out with a message naming the holder', async () => {
    const path = await exampleCopy();
    const holder = new FileStore(path);
    const waiter = new FileStore(path, { lockTimeoutMs: 200 });
    await holder.withLock(async () => {
      await expect(waiter.withLock(async () => undefined)).rejects.toThrow(
        new RegExp(`locked by process ${process.pid} on .* \\(${path}\\.lock\\)`),
      );
    });
  });

  it('takes over a lock left by a process that died', async () => {
    const path = await exampleCopy();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(`${path}.lock`, JSON.stringify({ pid: Number(dead.stdout), host: (await import('node:os')).hostname(), since: 'then' }));
    await new FileStore(path, { lockTimeoutMs: 200 }).withLock(async () => undefined);
  });
});

describe('errors', () => {
  it('names a missing, unreadable or directory state', async () => {
    const path = await exampleCopy();
    await expect(new FileStore(join(dirname(path), 'nope.yaml')).load()).rejects.toThrow(/does not exist/);
    await expect(new FileStore(dirname(path)).load()).rejects.toThrow(/is a directory/);
    await expect(new FileStore(dirname(path)).load()).rejects.toBeInstanceOf(StoreError);
  });
});

describe('a crash between write and rename', () => {
  it('leaves the old file whole and loadable; the next command succeeds', async () => {
    const path = await exampleCopy();
    const before = await readFile(path, 'utf8');
    const r = spawnSync(process.execPath, ['--import', join(REPO, 'test/support/crash-before-rename.mjs'), CLI, '--state', path, 'create', 'extra'], {
      encoding: 'utf8',
      env: { ...process.env, CRASH_RENAME_TARGET: path },
    });
    expect(r.signal).toBe('SIGKILL');
    expect(await readFile(path, 'utf8')).toBe(before);
    // The new content had been written completely to the temporary file before the kill.
    const tmp = (await readdir(dirname(path))).find((f) => f.startsWith(`.${basename(path)}.tmp-`));
    expect(tmp).toBeDefined();
    expect(await readFile(join(dirname(path), tmp!), 'utf8')).toContain('extra:');
    // The dead process's lock is taken over and the command goes through.
    const again = runBuiltCli(['--state', path, 'create', 'extra']);
    expect(again.status).toBe(0);
    expect(loadStateText(await readFile(path, 'utf8'), path).model.ruleByName.has('extra')).toBe(true);
  });
});

describe('a state holding keys', () => {
  const KEY = 'ab'.repeat(128);
  async function stateWithKey(mode: number): Promise<string> {
    const path = await exampleCopy();
    await writeFile(path, `${await readFile(path, 'utf8')}ipsec:\n  psk:\n    - { nodes: [cn01.prg.example.com, cn03.brn.example.com], key: "${KEY}" }\n`);
    await chmod(path, mode);
    return path;
  }

  it('refuses to load when group or others can read it, naming the mode and the fix', async () => {
    const path = await stateWithKey(0o644);
    await expect(new FileStore(path).load()).rejects.toThrow(`holds IPsec keys but is readable by others (mode 0644); run chmod 600 ${path}`);
  });

  it('loads at 0600, or with --insecure-state', async () => {
    await expect(new FileStore(await stateWithKey(0o600)).load()).resolves.toBeDefined();
    await expect(new FileStore(await stateWithKey(0o640), { allowInsecure: true }).load()).resolves.toBeDefined();
  });
});
