/**
 * A fast reader for the plain subset of YAML that state files are written in
 * (block mappings and sequences, one scalar per line), giving the same value
 * as `yaml`'s `parseDocument(text, { uniqueKeys: true }).toJS()` would.
 *
 * Why: building a `yaml` Document (CST, nodes, then values) took 0.46 s of a
 * 1 MB state's render (bench/RESULTS.md, issue 20); commands that only read
 * the state need the values, not the comments and layout a Document keeps.
 *
 * It never guesses: anything outside the subset — anchors, aliases, tags,
 * flow collections other than `[]` and `{}`, block or multi-line scalars,
 * escapes other than JSON's, floats, duplicate keys, tabs, CR, control
 * characters, document markers — makes it return `undefined`, and the caller
 * parses the text with `yaml` as before (which also gives the error messages).
 * Equality with `yaml` is checked by test/model/plain-yaml.property.test.ts.
 */

/** A line with content: its indentation (spaces) and the rest. */
interface Line {
  indent: number;
  text: string;
}

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class NotPlain extends Error {}

const notPlain = (): never => {
  throw new NotPlain();
};

/** Characters the reader refuses anywhere: tabs, CR, other C0/C1 controls, BOM, NEL, LS, PS, DEL. */
// eslint-disable-next-line no-control-regex
const REFUSED_CHARS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

/** Compact block collections (`- - x`, `? ? x`): nesting on one line, as the loader counts it. */
const COMPACT = /(?:[-?:][ \t]+){2,}/g;

/** A plain key: what field, node and rule names look like. Anything else is read by `yaml`. */
const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;

/**
 * The YAML 1.2 core schema's resolution of a plain scalar, as `yaml`'s core
 * tags do it (null, bool, int in base 8/10/16); floats, infinities and NaN
 * leave the subset. Anything that matches none of them is a string.
 */
function resolvePlain(s: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false;
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return notPlain();
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return notPlain();
  return s;
}

/** After a quoted scalar: nothing, or a comment after at least one space. */
function checkAfterQuoted(rest: string): void {
  if (rest === '') return;
  if (/^ +#/.test(rest)) return;
  notPlain();
}

/** A quoted scalar at the start of `s`: its value and what follows the closing quote. */
function quoted(s: string): { value: string; rest: string } {
  if (s[0] === '"') {
    let i = 1;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') {
        // JSON's escapes mean the same in YAML; \u, \x, \U, \0, line folding and the rest are left to `yaml`.
        if (!/["\\/bfnrt]/.test(s[i + 1] ?? '')) notPlain();
        i++;
      } else if (c === '"') break;
    }
    if (i >= s.length) notPlain();
    return { value: JSON.parse(s.slice(0, i + 1)) as string, rest: s.slice(i + 1) };
  }
  // Single quotes: '' is a quote, nothing else is special.
  let i = 1;
  let value = '';
  for (;;) {
    const j = s.indexOf("'", i);
    if (j === -1) return notPlain();
    value += s.slice(i, j);
    if (s[j + 1] === "'") {
      value += "'";
      i = j + 2;
    } else return { value, rest: s.slice(j + 1) };
  }
}

/** The value written after `key:` or `- ` on one line (`s` starts with a non-space). */
function inlineScalar(s: string): unknown {
  const c = s[0]!;
  if (c === '"' || c === "'") {
    const q = quoted(s);
    checkAfterQuoted(q.rest);
    return q.value;
  }
  const hash = s.indexOf(' #');
  const plain = (hash === -1 ? s : s.slice(0, hash)).trimEnd();
  if (plain === '[]') return [];
  if (plain === '{}') return {};
  if (plain.startsWith('[') && plain.endsWith(']')) return flowSequence(plain.slice(1, -1));
  if (plain.startsWith('{') && plain.endsWith('}')) return flowMapping(plain.slice(1, -1));
  return plainScalar(plain);
}

/** A plain scalar on one line (block or flow context), resolved by the core schema. */
function plainScalar(plain: string): unknown {
  const c = plain[0];
  if (c === undefined) return notPlain();
  // Indicators that start something other than a plain scalar; `-` starts one only before a non-space.
  if (/^[?:,[\]{}#&*!|>%@`]/.test(plain)) notPlain();
  if (c === '-' && (plain.length === 1 || plain[1] === ' ')) notPlain();
  if (plain.includes(': ') || plain.endsWith(':') || /[[\]{}]/.test(plain)) notPlain();
  return resolvePlain(plain);
}

/**
 * The scalars of a one-line flow collection (`[a, "b"]`, `{ k: v, m: "x" }`),
 * as hand-written states use them: plain or quoted scalars, no nesting, no
 * empty items; anything else is `yaml`'s. `pairs` reads `key: value` items.
 */
function flowScalars(inner: string, pairs: boolean): unknown[] {
  const out: unknown[] = [];
  let s = inner.trimStart();
  if (s === '') notPlain();
  for (;;) {
    if (pairs) {
      const entry = keyOf(s);
      if (entry === undefined || entry.rest === '') return notPlain();
      out.push(entry.key);
      s = entry.rest;
    }
    let rest: string;
    if (s[0] === '"' || s[0] === "'") {
      const q = quoted(s);
      out.push(q.value);
      rest = q.rest.trimStart();
    } else {
      const comma = s.indexOf(',');
      const plain = (comma === -1 ? s : s.slice(0, comma)).trimEnd();
      if (/[[\]{}]/.test(plain)) notPlain();
      out.push(plainScalar(plain));
      rest = comma === -1 ? '' : s.slice(comma);
    }
    if (rest === '') return out;
    if (rest[0] !== ',') notPlain();
    s = rest.slice(1).trimStart();
    if (s === '') notPlain(); // a trailing comma: left to `yaml`
  }
}

function flowSequence(inner: string): unknown[] {
  return flowScalars(inner, false);
}

function flowMapping(inner: string): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  const kv = flowScalars(inner, true);
  for (let i = 0; i < kv.length; i += 2) {
    const key = kv[i] as string;
    if (key in map) notPlain(); // a duplicate, or an inherited name: left to `yaml`
    map[key] = kv[i + 1];
  }
  return map;
}

/** A mapping key at the start of `s`, and what follows its `:`; undefined when `s` is not a `key:` line. */
function keyOf(s: string): { key: string; rest: string } | undefined {
  let key: string;
  let after: string;
  if (s[0] === '"' || s[0] === "'") {
    const q = quoted(s);
    if (q.rest[0] !== ':') return undefined;
    key = q.value;
    after = q.rest.slice(1);
  } else {
    const colon = s.indexOf(':');
    if (colon === -1) return undefined;
    const plain = s.slice(0, colon);
    if (!PLAIN_KEY.test(plain)) return undefined;
    // YAML caps implicit keys at 1024 characters; `yaml` reports longer ones.
    if (plain.length > 1024) notPlain();
    // `yaml` turns a key resolving to null, a bool or a number into a string: leave that to it.
    if (typeof resolvePlain(plain) !== 'string') notPlain();
    key = plain;
    after = s.slice(colon + 1);
  }
  if (after !== '' && after[0] !== ' ') return undefined;
  // Keys `yaml` treats specially (merge keys, the prototype) are left to it.
  if (key === '__proto__' || key === '<<') notPlain();
  const rest = after.trimStart();
  return { key, rest: rest.startsWith('#') ? '' : rest };
}

function isSeqItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/**
 * The text's content lines (no blank or comment lines), as offsets into the
 * text: a 16 MiB state has 1.5 million lines, and an object and a string
 * kept for each while the whole text is read took ~100 MiB more at the peak
 * than the values themselves (issue 22). A line's text is cut when asked for.
 */
class Lines {
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private readonly indents: Int32Array;
  /** Lines the reader rewrote (`- key: value` read as a mapping at the key's column). */
  private readonly replaced = new Map<number, Line>();
  length = 0;

  constructor(
    private readonly text: string,
    capacity: number,
  ) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.indents = new Int32Array(capacity);
  }

  push(start: number, end: number, indent: number): void {
    this.start[this.length] = start;
    this.end[this.length] = end;
    this.indents[this.length] = indent;
    this.length++;
  }

  at(i: number): Line | undefined {
    if (i >= this.length) return undefined;
    return this.replaced.get(i) ?? { indent: this.indents[i]!, text: this.text.slice(this.start[i], this.end[i]) };
  }

  set(i: number, line: Line): void {
    this.replaced.set(i, line);
  }
}

class Reader {
  private readonly lines: Lines;
  private i = 0;

  constructor(lines: Lines) {
    this.lines = lines;
  }

  read(): unknown {
    const first = this.lines.at(0);
    if (first === undefined || first.indent !== 0) return notPlain();
    const value = this.block(0);
    if (this.i !== this.lines.length) notPlain();
    return value;
  }

  private block(indent: number): unknown {
    return isSeqItem(this.lines.at(this.i)!.text) ? this.sequence(indent) : this.mapping(indent);
  }

  /** The value of a `key:` or `-` with nothing after it: a nested block, or null. */
  private nested(parentIndent: number, seqAtSameIndent: boolean): unknown {
    const next = this.lines.at(this.i);
    if (next === undefined) return null;
    if (next.indent > parentIndent) return this.block(next.indent);
    // YAML lets a mapping's value be a sequence at the key's own indentation.
    if (seqAtSameIndent && next.indent === parentIndent && isSeqItem(next.text)) return this.sequence(parentIndent);
    return null;
  }

  /** After a one-line value, a more indented line would continue it (a multi-line scalar): not plain. */
  private endOfValue(indent: number): void {
    const next = this.lines.at(this.i);
    if (next !== undefined && next.indent > indent) notPlain();
  }

  private mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (;;) {
      const line = this.lines.at(this.i);
      if (line === undefined || line.indent < indent) return map;
      if (line.indent > indent || isSeqItem(line.text)) notPlain();
      const entry = keyOf(line.text);
      if (entry === undefined) notPlain();
      const { key, rest } = entry!;
      if (seen.has(key)) notPlain(); // `yaml` refuses it (uniqueKeys) with a message
      seen.add(key);
      this.i++;
      let value: unknown;
      if (rest === '') value = this.nested(indent, true);
      else {
        value = inlineScalar(rest);
        this.endOfValue(indent);
      }
      // As `yaml` does: a key already `in` the object (an inherited name) is defined, not assigned.
      if (key in map) Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
      else map[key] = value;
    }
  }

  private sequence(indent: number): unknown[] {
    const seq: unknown[] = [];
    for (;;) {
      const line = this.lines.at(this.i);
      if (line === undefined || line.indent < indent) return seq;
      if (line.indent > indent) notPlain();
      // A sequence that is a mapping's value at the key's indentation ends at the next key.
      if (!isSeqItem(line.text)) return seq;
      const after = line.text.slice(1);
      const item = after.trimStart();
      if (item === '' || item.startsWith('#')) {
        this.i++;
        seq.push(this.nested(indent, false));
        continue;
      }
      if (isSeqItem(item)) notPlain(); // `- - x`: left to `yaml`
      const column = indent + 1 + (after.length - item.length);
      if (keyOf(item) !== undefined) {
        // `- key: value` opens a mapping whose keys stand at the column of the first one.
        this.lines.set(this.i, { indent: column, text: item });
        seq.push(this.mapping(column));
      } else {
        this.i++;
        seq.push(inlineScalar(item));
        this.endOfValue(indent);
      }
    }
  }
}

/**
 * The value of `text` when it is plain YAML as described above, else
 * undefined (parse it with `yaml`). Never throws.
 */
export function readPlainYaml(text: string, maxNesting: number): { value: unknown } | undefined {
  if (REFUSED_CHARS.test(text)) return undefined;
  let capacity = 1;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) capacity++;
  const lines = new Lines(text, capacity);
  const indents = new Set<number>();
  let compact = 0;
  for (let from = 0; from <= text.length; ) {
    const nl = text.indexOf('\n', from);
    const to = nl === -1 ? text.length : nl;
    const lineStart = from;
    from = to + 1;
    // Cut for the checks and dropped: only the offsets are kept.
    const raw = text.slice(lineStart, to);
    const content = raw.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    // Directives and document markers (`%YAML`, `---`, `...`) are left to `yaml`.
    if (raw.startsWith('%') || raw.startsWith('---') || raw.startsWith('...')) return undefined;
    const indent = raw.length - content.length;
    lines.push(lineStart + indent, lineStart + indent + content.trimEnd().length, indent);
    indents.add(indent);
    // The loader's nesting bound counts indentation levels plus compact `- - x` runs; counted
    // here on whole lines (comments too), so never less than it counts: past the bound, decline.
    for (const m of content.matchAll(COMPACT)) compact = Math.max(compact, (m[0].match(/[-?:]/g) ?? []).length);
  }
  // Block nesting never exceeds the number of indentation levels, and flow collections here are one level.
  if (indents.size + compact > maxNesting) return undefined;
  try {
    return { value: new Reader(lines).read() };
  } catch (err) {
    if (err instanceof NotPlain || err instanceof SyntaxError) return undefined;
    throw err;
  }
}
