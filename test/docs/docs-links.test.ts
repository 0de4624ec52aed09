/**
 * The documentation's links resolve: every relative markdown link in docs/*.md
 * and the READMEs names a file that exists and, with `#anchor`, a heading of
 * that file (GitHub's slugs); every docs page cited with an anchor in a
 * comment under src/ or test/ resolves the same way. Docs drift from code
 * silently; a dangling link is the one part of that drift a test can see.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Markdown text outside fenced code blocks, line by line (headings and links inside fences are not rendered). */
function proseLines(text: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === undefined) fence = m[1]![0]!.repeat(3);
      else if (m[1]!.startsWith(fence)) fence = undefined;
      out.push('');
      continue;
    }
    out.push(fence === undefined ? line : '');
  }
  return out;
}

/**
 * GitHub's heading anchor: the rendered text lower-cased, everything but
 * letters, digits, spaces, `-` and `_` dropped, each space a `-`; a repeated
 * slug gets `-1`, `-2`, … in order.
 */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** Every anchor a markdown file offers: heading slugs (deduplicated as GitHub does) and explicit `<a id|name>`. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = githubSlug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]!);
  }
  return anchors;
}

/** Relative link targets of a markdown file (outside code), with their line numbers. */
export function linksOf(text: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  proseLines(text).forEach((raw, i) => {
    const line = raw.replace(/(`+)[^`]*?\1/g, ''); // inline code spans are not links
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      out.push({ line: i + 1, target });
    }
    for (const m of line.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1]!)) out.push({ line: i + 1, target: m[1]! });
    }
  });
  return out;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOfFile(path: string): Set<string> {
  let a = anchorCache.get(path);
  if (!a) {
    a = anchorsOf(readFileSync(path, 'utf8'));
    anchorCache.set(path, a);
  }
  return a;
}

/** Why `target` (relative to `fromFile`) does not resolve, or undefined when it does. */
function problem(fromFile: string, target: string): string | undefined {
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const file = pathPart === '' ? fromFile : resolve(dirname(fromFile), pathPart);
  if (!existsSync(file)) return `no such file ${relative(ROOT, file)}`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `#${anchor} on a file that is not markdown`;
  return anchorsOfFile(file).has(anchor) ? undefined : `no heading #${anchor} in ${relative(ROOT, file)}`;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  return [...docs, ...['README.md', 'test/README.md', 'test/harness/README.md', 'bench/README.md'].map((f) => join(ROOT, f)).filter((f) => existsSync(f))];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'fixtures') out.push(...sourceFiles(p));
    } else if (/\.(?:ts|mts|js|mjs|sh)$/.test(entry.name)) out.push(p);
  }
  return out;
}

describe('githubSlug and anchorsOf (the rules the link check relies on)', () => {
  it('slugs headings as GitHub does', () => {
    expect(githubSlug('The nevers')).toBe('the-nevers');
    expect(githubSlug('`esdc-overlay agent deploy [nodes...]`')).toBe('esdc-overlay-agent-deploy-nodes');
    expect(githubSlug('Without credentials: refused unless `--zk-insecure`')).toBe('without-credentials-refused-unless---zk-insecure');
    expect(githubSlug('File store (default)')).toBe('file-store-default');
    expect(githubSlug('overlay_rules')).toBe('overlay_rules');
    expect(githubSlug('varpd\'s files plugin (`files/config`)')).toBe('varpds-files-plugin-filesconfig');
  });
  it('numbers repeated headings and ignores headings inside code fences', () => {
    const a = anchorsOf('# A\n## Step\n```\n# not a heading\n```\n## Step\n<a id="x"></a>\n');
    expect([...a].sort()).toEqual(['a', 'step', 'step-1', 'x']);
  });
  it('finds relative links but not URLs or links inside code', () => {
    const links = linksOf('[a](b.md#c) [u](https://x.invalid/) `[n](no.md)`\n```\n[f](fenced.md)\n```\n');
    expect(links).toEqual([{ line: 1, target: 'b.md#c' }]);
  });
});

describe('documentation links', () => {
  it('every relative link and #anchor in docs/*.md and the READMEs resolves', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      for (const { line, target } of linksOf(readFileSync(file, 'utf8'))) {
        const why = problem(file, target);
        if (why) broken.push(`${relative(ROOT, file)}:${line}: (${target}) ${why}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every docs/<page>.md and docs/<page>.md#anchor cited under src/ and test/ resolves', () => {
    const broken: string[] = [];
    const self = fileURLToPath(import.meta.url);
    const cite = /(?<![\w/.-])docs\/([A-Za-z0-9_-]+\.md)(#[A-Za-z0-9_-]+)?/g;
    for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'test'))]) {
      if (file === self) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          for (const m of text.matchAll(cite)) {
            const why = problem(join(ROOT, 'README.md'), `docs/${m[1]}${m[2] ?? ''}`);
            if (why) broken.push(`${relative(ROOT, file)}:${i + 1}: docs/${m[1]}${m[2] ?? ''}: ${why}`);
          }
        });
    }
    expect(broken).toEqual([]);
  });

  it('every page in docs/ has its row in the index, docs/README.md (as the index asks)', () => {
    const index = readFileSync(join(ROOT, 'docs', 'README.md'), 'utf8');
    const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(pages.filter((p) => !index.includes(`| [${p}](${p}) |`))).toEqual([]);
  });
});
