/**
 * Text → validated Model. Parsing (YAML 1.2; JSON is a subset), the shape
 * check and the consistency check, with every problem reported at once.
 */
import type { Document } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { redactIssue } from '../redact.js';
import { buildModel } from './build-model.js';
import { looksLikeJson, parseJsonState } from './json-text.js';
import { readPlainYaml } from './plain-yaml.js';
import type { Model } from './model.js';
import type { StateDoc } from './state.js';
import { validateShape } from './validate-shape.js';
import { yamlLib } from '../yaml-lib.js';

/** Larger states are refused before parsing: 50,000 NICs take about 8 MiB of YAML. */
export const MAX_STATE_BYTES = 32 * 1024 * 1024;
/** No legitimate state nests deeper than a handful of levels. */
export const MAX_NESTING = 64;

/** How strictly consistency problems count (docs/state-format.md#two-levels-of-validation: read-only listings only warn). */
export type Consistency = 'require' | 'warn';

export interface LoadedState {
  doc: StateDoc;
  model: Model;
  /**
   * The parsed YAML document, kept so a save can preserve comments and layout;
   * undefined when the text was read by a fast path (JSON, plain YAML): the
   * file store then builds it from the file's text when it saves.
   */
  yaml: Document | undefined;
  /** Warnings, and consistency problems when loaded with `warn`. */
  warnings: readonly ValidationIssue[];
}

/**
 * Parses state text. Throws ValidationError with line and column for syntax
 * errors. Plain YAML (plain-yaml.ts) is read without a Document unless
 * `document` asks for one.
 */
export function parseStateText(text: string, source: string, document = false): { value: unknown; yaml: Document | undefined } {
  if (Buffer.byteLength(text) > MAX_STATE_BYTES) {
    throw new ValidationError(
      [{ path: '', message: `is larger than ${MAX_STATE_BYTES / 1024 / 1024} MiB; refusing to parse it` }],
      source,
    );
  }
  if (!document && !looksLikeJson(text)) {
    // Plain YAML nests at most MAX_NESTING levels by nestingDepth's own count (the
    // reader declines otherwise) and has no aliases: the checks below would pass.
    const plain = readPlainYaml(text, MAX_NESTING);
    if (plain !== undefined && plain.value !== null) return { value: plain.value, yaml: undefined };
  }
  const json = looksLikeJson(text);
  const depth = json ? jsonNestingDepth(text) : nestingDepth(text);
  if (depth > MAX_NESTING) {
    throw new ValidationError([{ path: '', message: `nests ${depth} levels deep (at most ${MAX_NESTING})` }], source);
  }
  if (json) return { value: parseJsonState(text, source), yaml: undefined };
  return parseYamlDocument(text, source);
}

/** Parses YAML text into a `yaml` Document and its value. Throws ValidationError like parseStateText. */
export function parseYamlDocument(text: string, source: string): { value: unknown; yaml: Document } {
  const { LineCounter, parseDocument, visit } = yamlLib();
  const lines = new LineCounter();
  const yaml = parseDocument(text, { uniqueKeys: true, prettyErrors: true, lineCounter: lines });
  if (yaml.errors.length > 0) {
    throw new ValidationError(
      yaml.errors.map((e) => {
        const pos = e.linePos?.[0];
        const text = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${text}` };
      }),
      source,
    );
  }
  // The tool never writes an alias, and an alias of a large list expands without bound (a 1.7 MB
  // state took 4.5 GB): refuse them all, naming each place.
  const aliases: ValidationIssue[] = [];
  visit(yaml, {
    Alias(_key, node) {
      if (aliases.length >= 20) return visit.BREAK;
      const pos = lines.linePos(node.range?.[0] ?? 0);
      aliases.push({ path: '', message: `line ${pos.line}, column ${pos.col}: YAML alias *${node.source} is not accepted in a state (write the value out)` });
      return undefined;
    },
  });
  if (aliases.length > 0) throw new ValidationError(aliases, source);
  let value: unknown;
  try {
    value = yaml.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved or excessive aliases surface only when the document is turned into values.
    throw new ValidationError([{ path: '', message: (err as Error).message.split('\n')[0] ?? 'cannot be read' }], source);
  }
  if (value === null || value === undefined) {
    throw new ValidationError([{ path: '', message: 'is empty; a state needs at least "version: 1"' }], source);
  }
  return { value, yaml };
}

/**
 * A cheap upper bound on nesting before the YAML parser recurses: flow
 * brackets and indentation levels. Refuses pathological input quickly.
 * Brackets are counted on the YAML lexer's tokens (which does not recurse),
 * so those inside comments and quoted scalars do not count; it stops as soon
 * as the limit is passed.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const kept: string[] = [];
  for (const token of new (yamlLib().Lexer)().lex(text)) {
    if (token === '[' || token === '{') {
      max = Math.max(max, ++depth);
      // Refused: say how deep, by the plain count of brackets (no need to lex the rest).
      if (max > MAX_NESTING) return Math.max(max, plainBracketDepth(text));
    } else if ((token === ']' || token === '}') && depth > 0) depth--;
    // Comments are dropped; control tokens (below U+0020, but line breaks) carry no text.
    if (token.startsWith('#') || (token.length === 1 && token < ' ' && token !== '\n')) continue;
    kept.push(token);
  }
  // Compact block collections (`- - - x`, `? ? x`) nest on one line without indentation.
  return Math.max(max, indentationDepth(kept.join('')));
}

/**
 * nestingDepth's figure for JSON text, without the YAML lexer: in JSON the
 * lexer's flow brackets are the brackets outside strings, and its tokens
 * joined are the text itself (no comments), so the same count comes from one
 * scan. The lexer and its token list took 30 ms and ~40 MiB more for a 50-node
 * state, and most of a large JSON state's peak memory (issue 20, issue 22).
 */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      max = Math.max(max, ++depth);
      if (max > MAX_NESTING) return Math.max(max, plainBracketDepth(text));
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
    else if (c === 0x22) {
      // A string: to its closing quote, stepping over escapes (an unterminated one ends the text).
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    }
  }
  return Math.max(max, indentationDepth(text));
}

/** The indentation levels (and compact collections) nestingDepth counts on the text of its tokens. */
function indentationDepth(code: string): number {
  const indents = new Set<number>();
  let compact = 0;
  for (const m of code.matchAll(/^( *)\S/gm)) indents.add(m[1]!.length);
  for (const m of code.matchAll(/(?:[-?:][ \t]+){2,}/g)) compact = Math.max(compact, (m[0].match(/[-?:]/g) ?? []).length);
  return indents.size + compact;
}

/** Bracket depth counting every bracket, quoted or commented or not: an upper bound, linear and cheap. */
function plainBracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return max;
}

/** Validates a document (already parsed). Throws ValidationError listing every problem. */
export function validateDoc(value: unknown, source: string, consistency: Consistency = 'require'): { doc: StateDoc; model: Model; warnings: ValidationIssue[] } {
  const { doc, model } = checkedState(value, source);
  return withConsistency(doc, model, source, consistency);
}

/** A document whose shape is valid, and its model (with the model's issues and warnings, whatever the consistency asked). */
export interface CheckedState {
  doc: StateDoc;
  model: Model;
}

/** The shape check and the model: what does not depend on the consistency asked. Throws ValidationError for a bad shape. */
export function checkedState(value: unknown, source: string): CheckedState {
  const shape = validateShape(value);
  if (shape.length > 0) throw new ValidationError(shape, source);
  const doc = value as StateDoc;
  return { doc, model: buildModel(doc) };
}

/** validateDoc's last step: the model's issues refused (`require`) or reported (`warn`). */
export function withConsistency(doc: StateDoc, model: Model, source: string, consistency: Consistency): { doc: StateDoc; model: Model; warnings: ValidationIssue[] } {
  if (consistency === 'require' && model.issues.length > 0) throw new ValidationError(model.issues, source);
  const warnings = (consistency === 'warn' ? [...model.issues, ...model.warnings] : [...model.warnings]).map(redactIssue);
  return { doc, model, warnings };
}

export function loadStateText(text: string, source: string, consistency: Consistency = 'require'): LoadedState {
  const { value, yaml } = parseStateText(text, source);
  return { ...validateDoc(value, source, consistency), yaml };
}
