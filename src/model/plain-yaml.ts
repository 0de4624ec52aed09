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

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class NotPlain extends Error {}

const notPlain = (): never => {
  throw new NotPlain();
};

/** Characters the reader refuses anywhere: tabs, CR, other C0/C1 controls, BOM, NEL, LS, PS, DEL. */
// eslint-disable-next-line no-control-regex
const REFUSED_CHARS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQUOTE = 34;
const SQUOTE = 39;

/**
 * YAML's white space is the space and the tab (YAML 1.2, s-white), and tabs
 * are refused above, so only spaces are cut around tokens. `String#trim` and
 * `\s` would also cut U+00A0, U+2000-U+200A, U+3000 and the like, which YAML
 * reads as content: `a: x\u00a0` is the string `x\u00a0` (issue 20).
 */
function trimStartSpaces(s: string): string {
  let i = 0;
  while (s.charCodeAt(i) === SPACE) i++;
  return i === 0 ? s : s.slice(i);
}

/** The first index from `from` on (at most `to`) that is not a space. */
function skipSpaces(s: string, from: number, to: number): number {
  while (from < to && s.charCodeAt(from) === SPACE) from++;
  return from;
}

/** `to`, moved back over spaces (not below `from`). */
function endWithoutSpaces(s: string, from: number, to: number): number {
  while (to > from && s.charCodeAt(to - 1) === SPACE) to--;
  return to;
}

/**
 * Compact block collections (`- - x`, `? ? x`): nesting on one line, as the
 * loader counts it. Global: run once over the whole text (a match never spans
 * a line break), not once per line.
 */
const COMPACT = /(?:[-?:][ \t]+){2,}/g;

/** Character codes of a plain key: [A-Za-z0-9_./-], the first not one of `./-` (1: any place, 2: not first). */
const KEY_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_]/.test(ch)) KEY_CHAR[c] = 1;
  else if (/[./-]/.test(ch)) KEY_CHAR[c] = 2;
}

/** Characters that start something other than a plain scalar (`-` is checked apart). */
const INDICATOR = new Uint8Array(128);
for (const ch of '?:,[]{}#&*!|>%@`') INDICATOR[ch.charCodeAt(0)] = 1;

/**
 * The YAML 1.2 core schema's resolution of a plain scalar, as `yaml`'s core
 * tags do it (null, bool, int in base 8/10/16); floats, infinities and NaN
 * leave the subset. Anything that matches none of them is a string.
 * Dispatched on the first character: most scalars of a state (names, MACs as
 * strings, UUIDs) start with a letter no tag's pattern starts with, and are
 * strings without running the patterns.
 */
function resolvePlain(s: string): unknown {
  switch (s.charCodeAt(0)) {
    case 0x7e: // ~
      return s === '~' ? null : s;
    case 0x6e: // n
    case 0x4e: // N
      return s === 'null' || s === 'Null' || s === 'NULL' ? null : s;
    case 0x74: // t
    case 0x54: // T
      return s === 'true' || s === 'True' || s === 'TRUE' ? true : s;
    case 0x66: // f
    case 0x46: // F
      return s === 'false' || s === 'False' || s === 'FALSE' ? false : s;
    case 0x2b: // +
    case 0x2d: // -
    case 0x2e: // .
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: // 0-9
    case 0x35: case 0x36: case 0x37: case 0x38: case 0x39:
      return resolveNumeric(s);
    default:
      return s;
  }
}

/** resolvePlain for what starts like a number: int (base 8/10/16), or a float/inf/NaN (not plain), or a string. */
function resolveNumeric(s: string): unknown {
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return notPlain();
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return notPlain();
  return s;
}

/** After a quoted scalar (`s[from, to)`): nothing, or a comment after at least one space. */
function checkAfterQuoted(s: string, from: number, to: number): void {
  if (from === to) return;
  const k = skipSpaces(s, from, to);
  if (k > from && k < to && s.charCodeAt(k) === HASH) return;
  notPlain();
}

/**
 * A quoted scalar at `s[from]`, within `s[from, to)`: its value and the index
 * after the closing quote. `s` is the whole text and `to` the line's end, so a
 * scalar never runs past its line.
 */
function quoted(s: string, from: number, to: number): { value: string; end: number } {
  if (s.charCodeAt(from) === DQUOTE) {
    let i = from + 1;
    for (; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x5c) {
        // JSON's escapes mean the same in YAML; \u, \x, \U, \0, line folding and the rest are left to `yaml`.
        if (i + 1 >= to || !'"\\/bfnrt'.includes(s[i + 1]!)) notPlain();
        i++;
      } else if (c === DQUOTE) break;
    }
    if (i >= to) notPlain();
    return { value: JSON.parse(s.slice(from, i + 1)) as string, end: i + 1 };
  }
  // Single quotes: '' is a quote, nothing else is special.
  let i = from + 1;
  let value = '';
  for (;;) {
    const j = s.indexOf("'", i);
    if (j === -1 || j >= to) return notPlain();
    value += s.slice(i, j);
    if (j + 1 < to && s.charCodeAt(j + 1) === SQUOTE) {
      value += "'";
      i = j + 2;
    } else return { value, end: j + 1 };
  }
}

/** The value written after `key:` or `- `: `s[from, to)`, from a non-space to the line's end. */
function inlineScalar(s: string, from: number, to: number): unknown {
  const c = s.charCodeAt(from);
  if (c === DQUOTE || c === SQUOTE) {
    const q = quoted(s, from, to);
    checkAfterQuoted(s, q.end, to);
    return q.value;
  }
  // A comment starts at ` #`; `s[from]` is no space, so the earliest is at from + 1.
  let end = to;
  for (let k = from + 1; k < to; k++) {
    if (s.charCodeAt(k) === HASH && s.charCodeAt(k - 1) === SPACE) {
      end = k - 1;
      break;
    }
  }
  const plain = s.slice(from, endWithoutSpaces(s, from, end));
  if (plain === '[]') return [];
  if (plain === '{}') return {};
  if (plain.startsWith('[') && plain.endsWith(']')) return flowSequence(plain.slice(1, -1));
  if (plain.startsWith('{') && plain.endsWith('}')) return flowMapping(plain.slice(1, -1));
  return plainScalar(plain);
}

/** A plain scalar on one line (block or flow context), resolved by the core schema. */
function plainScalar(plain: string): unknown {
  const n = plain.length;
  if (n === 0) return notPlain();
  const c = plain.charCodeAt(0);
  // Indicators that start something other than a plain scalar; `-` starts one only before a non-space.
  if (c < 128 && INDICATOR[c] === 1) notPlain();
  if (c === DASH && (n === 1 || plain.charCodeAt(1) === SPACE)) notPlain();
  // `: ` or a final `:` (a mapping), or a bracket or brace (flow collections): left to `yaml`.
  for (let i = 0; i < n; i++) {
    const d = plain.charCodeAt(i);
    if (d === COLON) {
      if (i + 1 === n || plain.charCodeAt(i + 1) === SPACE) notPlain();
    } else if (d === 0x5b || d === 0x5d || d === 0x7b || d === 0x7d) notPlain();
  }
  return resolvePlain(plain);
}

/**
 * The scalars of a one-line flow collection (`[a, "b"]`, `{ k: v, m: "x" }`),
 * as hand-written states use them: plain or quoted scalars, no nesting, no
 * empty items; anything else is `yaml`'s. `pairs` reads `key: value` items.
 */
function flowScalars(inner: string, pairs: boolean): unknown[] {
  const out: unknown[] = [];
  let s = trimStartSpaces(inner);
  if (s === '') notPlain();
  for (;;) {
    if (pairs) {
      const entry = keyOf(s, 0, s.length);
      if (entry === undefined || entry.rest === s.length) return notPlain();
      out.push(entry.key);
      s = s.slice(entry.rest);
    }
    let rest: string;
    if (s[0] === '"' || s[0] === "'") {
      const q = quoted(s, 0, s.length);
      out.push(q.value);
      rest = trimStartSpaces(s.slice(q.end));
    } else {
      const comma = s.indexOf(',');
      const plain = s.slice(0, endWithoutSpaces(s, 0, comma === -1 ? s.length : comma));
      out.push(plainScalar(plain));
      rest = comma === -1 ? '' : s.slice(comma);
    }
    if (rest === '') return out;
    if (rest[0] !== ',') notPlain();
    s = trimStartSpaces(rest.slice(1));
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

/**
 * A mapping key at `s[from]` (a line's content is `s[from, to)`), and where
 * the value after its `:` starts (`to`: none, or only a comment); undefined
 * when the line is not a `key:` line.
 */
function keyOf(s: string, from: number, to: number): { key: string; rest: number } | undefined {
  let key: string;
  let after: number;
  const c = s.charCodeAt(from);
  if (c === DQUOTE || c === SQUOTE) {
    const q = quoted(s, from, to);
    if (q.end >= to || s.charCodeAt(q.end) !== COLON) return undefined;
    key = q.value;
    after = q.end + 1;
  } else {
    // A plain key is what field, node and rule names look like ([A-Za-z0-9_][A-Za-z0-9_./-]*)
    // up to the line's first `:`; anything else is read by `yaml`.
    if (!(c < 128 && KEY_CHAR[c] === 1)) return undefined;
    let colon = from + 1;
    for (; colon < to; colon++) {
      const d = s.charCodeAt(colon);
      if (!(d < 128 && KEY_CHAR[d] !== 0)) break;
    }
    if (colon >= to || s.charCodeAt(colon) !== COLON) return undefined;
    // YAML caps implicit keys at 1024 characters; `yaml` reports longer ones.
    if (colon - from > 1024) notPlain();
    key = s.slice(from, colon);
    // `yaml` turns a key resolving to null, a bool or a number into a string: leave that to it.
    if (typeof resolvePlain(key) !== 'string') notPlain();
    after = colon + 1;
  }
  if (after < to && s.charCodeAt(after) !== SPACE) return undefined;
  // Keys `yaml` treats specially (merge keys, the prototype) are left to it.
  if (key === '__proto__' || key === '<<') notPlain();
  const rest = skipSpaces(s, after, to);
  return { key, rest: rest < to && s.charCodeAt(rest) === HASH ? to : rest };
}

/**
 * The text's content lines (no blank or comment lines), as offsets into the
 * text: a 16 MiB state has 1.5 million lines, and an object and a string
 * kept for each while the whole text is read took ~100 MiB more at the peak
 * than the values themselves (issue 22). The reader reads the text at these
 * offsets and cuts only keys and values out of it (issue 20: cutting each
 * line, and an object per line read, was much of the read's time and garbage).
 */
class Lines {
  /** Where the line's content starts; moved to the key of `- key: value` when read as a mapping. */
  readonly start: Int32Array;
  /** Where its content ends (trailing spaces cut). */
  readonly end: Int32Array;
  /** Its indentation; for `- key: value`, the key's column once read as a mapping. */
  readonly indents: Int32Array;
  length = 0;

  constructor(capacity: number) {
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
}

class Reader {
  private i = 0;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private readonly indents: Int32Array;
  private readonly length: number;

  constructor(
    private readonly text: string,
    lines: Lines,
  ) {
    this.start = lines.start;
    this.end = lines.end;
    this.indents = lines.indents;
    this.length = lines.length;
  }

  /** Line i's indentation, or -1 past the last line (less than any indentation). */
  private indentAt(i: number): number {
    return i < this.length ? this.indents[i]! : -1;
  }

  /** Whether line i is a sequence item (`-` alone or followed by a space). */
  private isSeqItem(i: number): boolean {
    const s = this.start[i]!;
    return this.text.charCodeAt(s) === DASH && (this.end[i] === s + 1 || this.text.charCodeAt(s + 1) === SPACE);
  }

  read(): unknown {
    if (this.length === 0 || this.indents[0] !== 0) return notPlain();
    const value = this.block(0);
    if (this.i !== this.length) notPlain();
    return value;
  }

  private block(indent: number): unknown {
    return this.isSeqItem(this.i) ? this.sequence(indent) : this.mapping(indent);
  }

  /** The value of a `key:` or `-` with nothing after it: a nested block, or null. */
  private nested(parentIndent: number, seqAtSameIndent: boolean): unknown {
    const next = this.indentAt(this.i);
    if (next > parentIndent) return this.block(next);
    // YAML lets a mapping's value be a sequence at the key's own indentation.
    if (seqAtSameIndent && next === parentIndent && this.isSeqItem(this.i)) return this.sequence(parentIndent);
    return null;
  }

  /** After a one-line value, a more indented line would continue it (a multi-line scalar): not plain. */
  private endOfValue(indent: number): void {
    if (this.indentAt(this.i) > indent) notPlain();
  }

  private mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (;;) {
      const i = this.i;
      const lineIndent = this.indentAt(i);
      if (lineIndent < indent) return map;
      if (lineIndent > indent || this.isSeqItem(i)) notPlain();
      const end = this.end[i]!;
      const entry = keyOf(this.text, this.start[i]!, end);
      if (entry === undefined) return notPlain();
      const { key, rest } = entry;
      this.i++;
      let value: unknown;
      if (rest === end) value = this.nested(indent, true);
      else {
        value = inlineScalar(this.text, rest, end);
        this.endOfValue(indent);
      }
      // One lookup for the usual new key. A key already `in` the object is a duplicate (`yaml` refuses it,
      // uniqueKeys, with a message) or, not own, an inherited name, which `yaml` defines, not assigns.
      if (!(key in map)) map[key] = value;
      else if (Object.hasOwn(map, key)) notPlain();
      else Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }

  private sequence(indent: number): unknown[] {
    const seq: unknown[] = [];
    for (;;) {
      const i = this.i;
      const lineIndent = this.indentAt(i);
      if (lineIndent < indent) return seq;
      if (lineIndent > indent) notPlain();
      // A sequence that is a mapping's value at the key's indentation ends at the next key.
      if (!this.isSeqItem(i)) return seq;
      const start = this.start[i]!;
      const end = this.end[i]!;
      const item = skipSpaces(this.text, start + 1, end);
      if (item === end || this.text.charCodeAt(item) === HASH) {
        this.i++;
        seq.push(this.nested(indent, false));
        continue;
      }
      // `- - x`: left to `yaml`
      if (this.text.charCodeAt(item) === DASH && (item + 1 === end || this.text.charCodeAt(item + 1) === SPACE)) notPlain();
      if (keyOf(this.text, item, end) !== undefined) {
        // `- key: value` opens a mapping whose keys stand at the column of the first one.
        this.start[i] = item;
        this.indents[i] = indent + (item - start);
        seq.push(this.mapping(indent + (item - start)));
      } else {
        this.i++;
        seq.push(inlineScalar(this.text, item, end));
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
  const lines = new Lines(capacity);
  const indents = new Set<number>();
  let lastIndent = -1;
  for (let from = 0; from <= text.length; ) {
    let to = text.indexOf('\n', from);
    if (to === -1) to = text.length;
    const lineStart = from;
    from = to + 1;
    const content = skipSpaces(text, lineStart, to);
    // Blank and comment lines are skipped.
    if (content === to || text.charCodeAt(content) === HASH) continue;
    // Directives and document markers (`%YAML`, `---`, `...`) are left to `yaml`.
    if (content === lineStart && (text.charCodeAt(lineStart) === 0x25 || text.startsWith('---', lineStart) || text.startsWith('...', lineStart))) {
      return undefined;
    }
    const indent = content - lineStart;
    lines.push(content, endWithoutSpaces(text, content, to), indent);
    if (indent !== lastIndent) {
      indents.add(indent);
      lastIndent = indent;
    }
  }
  // The loader's nesting bound counts indentation levels plus compact `- - x` runs; counted here on
  // content lines (comments after content too), so never less than it counts: past the bound, decline.
  let compact = 0;
  for (const m of text.matchAll(COMPACT)) {
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    if (text.charCodeAt(skipSpaces(text, lineStart, m.index)) === HASH) continue; // a comment line
    compact = Math.max(compact, (m[0].match(/[-?:]/g) ?? []).length);
  }
  // Block nesting never exceeds the number of indentation levels, and flow collections here are one level.
  if (indents.size + compact > maxNesting) return undefined;
  try {
    return { value: new Reader(text, lines).read() };
  } catch (err) {
    if (err instanceof NotPlain || err instanceof SyntaxError) return undefined;
    throw err;
  }
}
