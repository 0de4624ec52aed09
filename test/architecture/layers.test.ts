/**
 * The layers, kept by machine (docs/architecture.md#the-nevers): a check over
 * the import graph of src/**\/*.ts. Every `import … from`, `export … from`,
 * `import type` and `import('…')` counts: a type import is still an arrow
 * between layers. Fails when
 *  - a folder appears that is not classified as core or edge,
 *  - a core module imports an edge folder (transport, store, cli, agent, apply,
 *    io, discovery) or the logger,
 *  - a core module imports a module that reaches the OS (node:fs,
 *    child_process, net, …) or an edge package (ssh2, ZooKeeper, commander, …),
 *  - a folder-level import cycle appears that is not in today's list.
 * Each exception is listed with its reason; the lists only shrink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Pure: model → desired files → plan, deterministic, no I/O (docs/architecture.md#folders). */
const CORE = new Set([
  'adminoverlay', 'desired', 'files-config', 'firewall', 'inventory', 'ipsec', 'linux', 'model', 'mtu', 'net', 'plan', 'ranges',
  'render', 'rules', 'shell', 'syntax',
]);
/** The shell around it: I/O, processes, the network, humans. */
const EDGE = new Set(['agent', 'apply', 'cli', 'daemon', 'discovery', 'io', 'operations', 'store', 'transport']);
/** Top-level modules (src/*.ts): errors and paths are shared vocabulary; the logger is an edge. */
const TOP_EDGE = new Set(['log.ts']);

/** Modules that reach the OS or belong to an edge; a core module imports none of them. */
const IO_MODULES = new Set([
  'child_process', 'cluster', 'dgram', 'dns', 'fs', 'fs/promises', 'http', 'https', 'http2', 'net', 'os',
  'process', 'readline', 'readline/promises', 'tls', 'worker_threads',
  'commander', 'node-cron', 'node-zookeeper-client', 'pino', 'pino-pretty', 'ssh2',
]);

/** Core modules allowed an OS module today, and why (file relative to src/ → module): none since render/write-tree.ts moved to io/ (issue 20). */
const CORE_IO_ALLOWED: Record<string, { module: string; why: string }[]> = {};

/** Core → edge imports that exist today (from → to, relative to src/): none since issue 17 item 3 (Mutation went to model/state.ts). */
const CORE_TO_EDGE_ALLOWED = new Set<string>([]);

/**
 * The operations layer (docs/architecture.md#operations) is called, never
 * called back: only the commands and the daemon import it. apply, agent,
 * store or transport importing it would run an operation from inside one.
 */
const OPERATIONS_CALLERS = new Set(['cli', 'daemon', 'operations']);

/**
 * Folder edges that lie on an import cycle today: none. (Issue 17 item 1
 * moved the desired-state vocabulary to desired/ and rule, range and path
 * syntax to syntax/: 29 edges became apply ⇄ agent; item 2 made the agent's
 * bundle one more desired file, added by operations/, so apply no longer
 * imports agent.) Any edge that closes a cycle is not in this list, so the
 * test fails; an entry that no longer lies on a cycle fails too.
 */
const KNOWN_CYCLE_EDGES = new Set<string>([]);

interface Import {
  from: string; // file relative to src/, '/'-separated
  to: string; // file relative to src/ for a relative import, else the bare module name
  relative: boolean;
}

/** Every import of a source text: static, type-only, re-exports and `import('…')`. */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split(sep).join('/'))
    .sort();
}

/** Core modules that import an edge module or the logger, except the allowed ones. */
function coreToEdge(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => i.relative && CORE.has(folderOf(i.from)))
    .filter((i) => EDGE.has(folderOf(i.to)) || (folderOf(i.to) === '' && TOP_EDGE.has(i.to)))
    .map((i) => `${i.from} -> ${i.to}`)
    .filter((e) => !CORE_TO_EDGE_ALLOWED.has(e));
}

/** Imports of operations/ from a folder that is not one of its callers. */
function operationsCalledFrom(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => i.relative && folderOf(i.to) === 'operations' && !OPERATIONS_CALLERS.has(folderOf(i.from)))
    .map((i) => `${i.from} -> ${i.to}`);
}

function graph(): Import[] {
  const out: Import[] = [];
  for (const file of sourceFiles()) {
    for (const spec of new Set(importsOf(readFileSync(join(SRC, file), 'utf8')))) {
      if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(SRC, dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts');
        out.push({ from: file, to: target, relative: true });
      } else {
        out.push({ from: file, to: spec.replace(/^node:/, ''), relative: false });
      }
    }
  }
  return out;
}

/** src/<folder>/… → folder; src/x.ts → '' (top level). */
const folderOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

/** Folder edges (a -> b, a ≠ b, both folders) with the file imports behind each. */
function folderEdges(imports: Import[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const i of imports) {
    if (!i.relative) continue;
    const a = folderOf(i.from);
    const b = folderOf(i.to);
    if (a === '' || b === '' || a === b) continue;
    const key = `${a} -> ${b}`;
    edges.set(key, [...(edges.get(key) ?? []), `${i.from} -> ${i.to}`]);
  }
  return edges;
}

/** Strongly connected components (Tarjan); each component of two or more folders holds a cycle. */
function cyclicComponents(edges: Iterable<string>): string[][] {
  const adj = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = e.split(' -> ') as [string, string];
    adj.set(a, [...(adj.get(a) ?? []), b]);
    if (!adj.has(b)) adj.set(b, []);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of adj.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of [...adj.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** Folder edges whose both ends are in one cyclic component: the edges on some cycle. */
function cycleEdges(edges: Iterable<string>): string[] {
  const all = [...edges];
  const comps = cyclicComponents(all);
  return all
    .filter((e) => {
      const [a, b] = e.split(' -> ') as [string, string];
      return comps.some((c) => c.includes(a) && c.includes(b));
    })
    .sort();
}

describe('the import graph of src/', () => {
  const imports = graph();
  const edges = folderEdges(imports);

  it('is read completely: static, type-only, re-exported and dynamic imports', () => {
    expect(importsOf("import type { A } from './a.js';\nexport { b } from '../b.js';\nconst c = await import('./c.js');"))
      .toEqual(['./a.js', '../b.js', './c.js']);
    // Known arrows, so that an empty graph cannot pass.
    expect(edges.get('cli -> store')?.length).toBeGreaterThan(0);
    expect(imports).toContainEqual({ from: 'store/zk-store.ts', to: 'store/zk-session.ts', relative: true });
  });

  it('has every folder classified as core or edge', () => {
    const folders = [...new Set(sourceFiles().map(folderOf))].filter((f) => f !== '');
    const unclassified = folders.filter((f) => !CORE.has(f) && !EDGE.has(f));
    expect(unclassified, 'add each new folder to CORE or EDGE in this test (docs/architecture.md#folders)').toEqual([]);
  });

  it('never lets a core module import transport, store, CLI, agent, apply, io, discovery or the logger', () => {
    expect(coreToEdge(imports), 'a core module imports an edge module (docs/architecture.md#the-nevers)').toEqual([]);
  });

  it('lets only the commands and the daemon call the operations layer', () => {
    expect(operationsCalledFrom(imports), 'only cli/ and daemon/ import operations/ (docs/architecture.md#operations)').toEqual([]);
    // Known arrows, so that a layer nobody calls cannot pass.
    expect(edges.get('cli -> operations')?.length).toBeGreaterThan(0);
    expect(edges.get('daemon -> operations')?.length).toBeGreaterThan(0);
  });

  it('never lets a core module reach the OS or an edge package', () => {
    const bad = imports
      .filter((i) => !i.relative && CORE.has(folderOf(i.from)) && IO_MODULES.has(i.to))
      .filter((i) => !(CORE_IO_ALLOWED[i.from] ?? []).some((a) => a.module === i.to))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(bad, 'a core module imports an I/O module (docs/architecture.md#the-nevers)').toEqual([]);
  });

  it('keeps the listed exceptions real, so the lists only shrink', () => {
    const seen = new Set(imports.map((i) => `${i.from} -> ${i.to}`));
    expect([...CORE_TO_EDGE_ALLOWED].filter((e) => !seen.has(e)), 'remove these from CORE_TO_EDGE_ALLOWED').toEqual([]);
    const io = Object.entries(CORE_IO_ALLOWED).flatMap(([f, list]) => list.map((a) => `${f} -> ${a.module}`));
    expect(io.filter((e) => !seen.has(e)), 'remove these from CORE_IO_ALLOWED').toEqual([]);
  });

  it('grows no new folder cycle', () => {
    const onCycles = cycleEdges(edges.keys());
    const fresh = onCycles.filter((e) => !KNOWN_CYCLE_EDGES.has(e)).map((e) => `${e}  (${edges.get(e)!.join(', ')})`);
    expect(fresh, 'these imports close a new folder cycle (docs/architecture.md#the-nevers)').toEqual([]);
    const gone = [...KNOWN_CYCLE_EDGES].filter((e) => !onCycles.includes(e));
    expect(gone, 'no longer on a cycle: remove from KNOWN_CYCLE_EDGES').toEqual([]);
  });
});

describe('the layer checks on fixtures', () => {
  const rel = (from: string, to: string): Import => ({ from, to, relative: true });

  it('refuses a core module importing operations/, and the apply executor calling it', () => {
    expect(EDGE.has('operations')).toBe(true);
    expect(coreToEdge([rel('plan/plan.ts', 'operations/fleet.ts'), rel('plan/plan.ts', 'desired/desired.ts')])).toEqual(['plan/plan.ts -> operations/fleet.ts']);
    expect(operationsCalledFrom([rel('apply/execute.ts', 'operations/transact.ts'), rel('agent/reconcile.ts', 'operations/fleet.ts'), rel('cli/commands/apply.ts', 'operations/apply.ts')]))
      .toEqual(['apply/execute.ts -> operations/transact.ts', 'agent/reconcile.ts -> operations/fleet.ts']);
  });

  it('finds the cycle the bundle used to close (apply ⇄ agent), and the one an agent calling operations would', () => {
    expect(cycleEdges(folderEdges([rel('apply/fleet.ts', 'agent/bundle.ts'), rel('agent/reconcile.ts', 'apply/execute.ts')]).keys())).toEqual(['agent -> apply', 'apply -> agent']);
    expect(cycleEdges(folderEdges([rel('operations/fleet.ts', 'agent/bundle.ts'), rel('agent/reconcile.ts', 'operations/fleet.ts')]).keys()))
      .toEqual(['agent -> operations', 'operations -> agent']);
  });
});

describe('the cycle finder', () => {
  it('finds a cycle through three folders and only its edges', () => {
    expect(cycleEdges(['a -> b', 'b -> c', 'c -> a', 'c -> d', 'd -> e'])).toEqual(['a -> b', 'b -> c', 'c -> a']);
    expect(cycleEdges(['a -> b', 'b -> c', 'a -> c'])).toEqual([]);
  });
});
