/**
 * Whether varpd's files plugin can start on a `files/config` table: the
 * check made before every varpd restart we do, on the tables we did not just
 * write (src/apply/restart-guard.ts), because a table varpd cannot parse at
 * a restart costs its overlay the varpd instance for good
 * (docs/smartos-rules.md#before-a-restart says what "parses as varpd would"
 * means here and where each rule comes from). Pure: bytes in, a reason out.
 *
 * Works on bytes, as varpd does (it maps the file and walks its chars): a
 * NUL byte ends the text, white space is C's isspace, and anything after the
 * top-level value is never read.
 */

/** Why varpd would fail to start on a table. */
export interface TableProblem {
  reason: string;
  /** Where its parser stops, in bytes from the start; absent when the text parses but is no table. */
  offset?: number;
}

class Refused extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

/** What a top-level member holds, as far as the start cares: an nvlist (object or array) or not. */
type Kind = 'nvlist' | 'scalar';

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** The one-letter escapes the parser knows besides `\u`, and the byte each stands for. */
const ESCAPES = new Map([...'"\\/'].map((c) => [c.charCodeAt(0), c.charCodeAt(0)] as [number, number]).concat([[0x62, 8], [0x66, 12], [0x6e, 10], [0x72, 13], [0x74, 9]]));

class Reader {
  pos = 0;
  constructor(private readonly data: Uint8Array) {}

  /** The byte at the cursor; 0 past the end (a NUL in the file reads the same: varpd's C strings end there). */
  peek(): number {
    return this.pos < this.data.length ? this.data[this.pos]! : 0;
  }

  pop(): number {
    const c = this.peek();
    this.pos++;
    return c;
  }

  ws(): void {
    const d = this.data;
    let i = this.pos;
    while (i < d.length && isSpace(d[i]!)) i++;
    this.pos = i;
  }

  fail(reason: string): never {
    throw new Refused(reason, Math.min(this.pos, this.data.length));
  }

  /**
   * A string's bytes after its opening quote, up to the closing one. With
   * `keep` (a top-level key, the only strings the start looks at) returns
   * them as the C string varpd keeps (cut at a NUL); else ''.
   */
  string(keep = false): string {
    const bytes: number[] = [];
    const d = this.data;
    for (;;) {
      // The plain run up to the next quote, backslash or NUL, in one go.
      let i = this.pos;
      while (i < d.length) {
        const b = d[i]!;
        if (b === 0x22 || b === 0x5c || b === 0) break;
        i++;
      }
      if (keep) for (let k = this.pos; k < i; k++) bytes.push(d[k]!);
      this.pos = i;
      const c = this.pop();
      if (c === 0x22) break;
      if (c === 0) this.fail('the text ends inside a string');
      const e = this.pop();
      if (e === 0) this.fail('the text ends inside an escape sequence');
      if (e === 0x75) {
        const digs: number[] = [];
        for (let i = 0; i < 4; i++) {
          const d = this.pop();
          if (d === 0) this.fail('the text ends inside an escape sequence');
          digs.push(d);
        }
        // The four characters are read with atoi (decimal!): above 127 is refused.
        const n = atoi(digs);
        if (n > 127) this.fail('a \\u escape above 127 (only 7-bit text is taken)');
        bytes.push(n & 0xff);
        continue;
      }
      const b = ESCAPES.get(e);
      if (b === undefined) this.fail(`an unknown escape sequence \\${String.fromCharCode(e)}`);
      if (keep) bytes.push(b!);
    }
    if (!keep) return '';
    const nul = bytes.indexOf(0);
    return String.fromCharCode(...(nul < 0 ? bytes : bytes.slice(0, nul)));
  }

  /** A value, the cursor at its first byte (white space skipped). */
  value(): Kind {
    const c = this.peek();
    if (c === 0x22) {
      this.pos++;
      this.string();
      return 'scalar';
    }
    if (c === 0x7b) {
      this.pos++;
      this.object();
      return 'nvlist';
    }
    if (c === 0x5b) {
      this.pos++;
      this.array();
      // Arrays are nvlists too (a `length` and a marker member): a member holding one passes the start.
      return 'nvlist';
    }
    if (isLower(c)) {
      const start = this.pos;
      while (isLower(this.peek())) this.pos++;
      const word = String.fromCharCode(...this.data.subarray(start, this.pos));
      if (word !== 'true' && word !== 'false' && word !== 'null') {
        this.pos = start;
        this.fail(`the bare word ${shown(word)} (only true, false and null)`);
      }
      return 'scalar';
    }
    if (c === 0x2d || isDigit(c)) {
      if (c === 0x2d) this.pos++;
      if (!isDigit(this.peek())) this.fail('a number without digits');
      const d = this.data;
      let i = this.pos;
      while (i < d.length && isDigit(d[i]!)) i++;
      this.pos = i;
      const n = this.peek();
      if (n === 0x2e || n === 0x65 || n === 0x45) this.fail('a number with a fraction or an exponent (integers only)');
      return 'scalar';
    }
    this.fail('no value where one must start');
  }

  /** An object's members after its `{`: each key's kind (the last of a repeated key wins, as in an nvlist of unique names). */
  object(top = false): Map<string, Kind> {
    const members = new Map<string, Kind>();
    this.ws();
    let c = this.pop();
    if (c === 0x7d) return members;
    if (c !== 0x22) this.fail("a key or '}' expected");
    for (;;) {
      const key = this.string(top);
      this.ws();
      if (this.pop() !== 0x3a) this.fail("':' expected after a key");
      this.ws();
      const kind = this.value();
      if (top) {
        members.delete(key);
        members.set(key, kind);
      }
      this.ws();
      c = this.pop();
      if (c === 0x7d) return members;
      if (c !== 0x2c) this.fail("',' or '}' expected");
      this.ws();
      if (this.pop() !== 0x22) this.fail("a key expected after ',' (no trailing comma)");
    }
  }

  array(): void {
    this.ws();
    if (this.peek() === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      this.value();
      this.ws();
      const c = this.pop();
      if (c === 0x5d) return;
      if (c !== 0x2c) this.fail("',' or ']' expected");
    }
  }
}

/** A piece of a node's text in a message: quoted (control characters escaped), at most 40 characters. */
function shown(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

/** C's atoi over a few bytes: leading white space, a sign, decimal digits; 0 when there are none. */
function atoi(bytes: readonly number[]): number {
  let i = 0;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  let sign = 1;
  if (bytes[i] === 0x2d || bytes[i] === 0x2b) sign = bytes[i++] === 0x2d ? -1 : 1;
  let n = 0;
  while (i < bytes.length && isDigit(bytes[i]!)) n = n * 10 + (bytes[i++]! - 0x30);
  return sign * n;
}

/**
 * ether_aton_r's test of a key: `sscanf(s, " %x:%x:%x:%x:%x:%x") == 6`
 * (docs/smartos-rules.md#before-a-restart has the source lines). Each %x
 * skips white space, takes a sign, and a `0x` prefix only when a hex digit
 * follows it (else the `0` is the number and the `x` is left over); then
 * hex digits, any value (it is cut to a byte), but at most 62 of them: the
 * C library's buffer fails the 63rd. Text after the sixth is ignored.
 */
export function etherAtonAccepts(key: string): boolean {
  let i = 0;
  const at = (k: number): number => (k < key.length ? key.charCodeAt(k) : 0);
  for (let field = 0; field < 6; field++) {
    if (field > 0) {
      if (at(i) !== 0x3a) return false;
      i++;
    }
    while (isSpace(at(i))) i++;
    if (at(i) === 0x2b || at(i) === 0x2d) i++;
    if (at(i) === 0x30 && (at(i + 1) === 0x78 || at(i + 1) === 0x58) && isHex(at(i + 2))) i += 2;
    const start = i;
    while (isHex(at(i))) {
      if (i - start >= MAX_SCANF_DIGITS) return false;
      i++;
    }
    if (i === start) return false;
  }
  return true;
}

/** The most characters sscanf keeps of one number: a longer one fails the conversion. */
const MAX_SCANF_DIGITS = 62;

/**
 * Why varpd's files plugin would not start on this table, or undefined when
 * it would: its JSON parser's rules, then each top-level member an object
 * (or array) keyed by a MAC address ether_aton takes. Entries whose lookups
 * varpd would drop (a bad port or ip) do not fail the start and are not
 * reported.
 */
export function varpdTableProblem(data: Uint8Array): TableProblem | undefined {
  const r = new Reader(data);
  try {
    r.ws();
    const c = r.pop();
    if (c !== 0x7b && c !== 0x5b) {
      r.pos--;
      r.fail(data.length === 0 ? 'the file is empty' : "no '{' or '[' at the start");
    }
    if (c === 0x5b) {
      r.array();
      return { reason: 'the table is an array, not an object keyed by MAC address' };
    }
    for (const [key, kind] of r.object(true)) {
      if (kind !== 'nvlist') return { reason: `the member ${shown(key)} is not an object` };
      if (!etherAtonAccepts(key)) return { reason: `the key ${shown(key)} is not a MAC address` };
    }
    return undefined;
  } catch (err) {
    if (err instanceof Refused) return { reason: err.reason, offset: err.offset };
    // Nesting deeper than this process's stack: varpd may cope, we cannot tell; the doubt goes to not restarting.
    if (err instanceof RangeError) return { reason: 'nested too deep to check', offset: r.pos };
    throw err;
  }
}
