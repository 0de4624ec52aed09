#!/usr/bin/env node
/**
 * Lists the longest functions under a folder (default src/), longest first:
 * `lines  file:line  name`. A function's length is the lines from its first
 * to its last (signature, body, blank lines and comments inside it), so a
 * function holding a long callback counts the callback too; the callback is
 * also listed on its own.
 *
 * Why: issue 17 asks for long functions that mix jobs to be split; this is
 * how to see which are long, before and after (the figures are in its report).
 *
 *   node scripts/function-lengths.mjs [--top N] [--over LINES] [DIR ...]
 *
 * --top N      how many rows (default 10); --over LINES lists every function
 *              longer than LINES instead. It reads .ts files (not .d.ts) with
 *              the TypeScript parser already in devDependencies; it runs none.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

function parseArgs(argv) {
  const opts = { top: 10, over: undefined, dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--top' || a === '--over') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} takes a whole number, got ${argv[i]}`);
      opts[a.slice(2)] = n;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node scripts/function-lengths.mjs [--top N] [--over LINES] [DIR ...]\n');
      process.exit(0);
    } else {
      opts.dirs.push(a);
    }
  }
  if (opts.dirs.length === 0) opts.dirs.push('src');
  return opts;
}

function listTs(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** A readable name: the declaration's own, or what it is assigned to, or where it is passed. */
function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p)) return p.name.getText();
  if (p && ts.isPropertyDeclaration(p)) return p.name.getText();
  if (p && ts.isCallExpression(p)) return `<callback of ${p.expression.getText().slice(0, 40)}>`;
  return '<anonymous>';
}

/** The class a method belongs to, for `Class.method`. */
function qualified(node) {
  const name = nameOf(node);
  const p = node.parent;
  if (p && (ts.isClassDeclaration(p) || ts.isClassExpression(p)) && p.name) return `${p.name.text}.${name}`;
  return name;
}

function functionsIn(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.end).line + 1;
      found.push({ file, line: start, lines: end - start + 1, name: qualified(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const opts = parseArgs(process.argv.slice(2));
const all = opts.dirs.flatMap(listTs).flatMap(functionsIn);
all.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
const rows = opts.over !== undefined ? all.filter((f) => f.lines > opts.over) : all.slice(0, opts.top);
for (const f of rows) {
  process.stdout.write(`${String(f.lines).padStart(5)}  ${relative(process.cwd(), f.file)}:${f.line}  ${f.name}\n`);
}
if (opts.over !== undefined) process.stdout.write(`${rows.length} of ${all.length} functions over ${opts.over} lines\n`);
