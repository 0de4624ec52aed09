/**
 * Text → validated Model. Parsing (YAML 1.2; JSON is a subset), the shape
 * check and the consistency check, with every problem reported at once.
 */
import { parseDocument, type Document } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { buildModel } from './build-model.js';
import { looksLikeJson, parseJsonState } from './json-text.js';
import { readPlainYaml } from './plain-yaml.js';
import type { Model } from './model.js';
import type { StateDoc } from './state.js';
import { validateShape } from './validate-shape.js';

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
  const depth = bracketDepth(text);
  if (depth > MAX_NESTING) {
    throw new ValidationError([{ path: '', message: `nests ${depth} levels deep (at most ${MAX_NESTING})` }], source);
  }
  if (looksLikeJson(text)) return { value: parseJsonState(text, source), yaml: undefined };
  if (!document) {
    const plain = readPlainYaml(text);
    if (plain !== undefined && plain.value !== null) return { value: plain.value, yaml: undefined };
  }
  return parseYamlDocument(text, source);
}

/** Parses YAML text into a `yaml` Document and its value. Throws ValidationError like parseStateText. */
export function parseYamlDocument(text: string, source: string): { value: unknown; yaml: Document } {
  const yaml = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
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
 */
function bracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  const indents = new Set<number>();
  // Compact block collections (`- - - x`, `? ? x`) nest on one line without indentation.
  let compact = 0;
  for (const m of text.matchAll(/^( *)\S/gm)) indents.add(m[1]!.length);
  for (const m of text.matchAll(/(?:[-?:][ \t]+){2,}/g)) compact = Math.max(compact, (m[0].match(/[-?:]/g) ?? []).length);
  return Math.max(max, indents.size + compact);
}

/** Validates a document (already parsed). Throws ValidationError listing every problem. */
export function validateDoc(value: unknown, source: string, consistency: Consistency = 'require'): { doc: StateDoc; model: Model; warnings: ValidationIssue[] } {
  const shape = validateShape(value);
  if (shape.length > 0) throw new ValidationError(shape, source);
  const doc = value as StateDoc;
  const model = buildModel(doc);
  if (consistency === 'require' && model.issues.length > 0) throw new ValidationError(model.issues, source);
  const warnings = consistency === 'warn' ? [...model.issues, ...model.warnings] : [...model.warnings];
  return { doc, model, warnings };
}

export function loadStateText(text: string, source: string, consistency: Consistency = 'require'): LoadedState {
  const { value, yaml } = parseStateText(text, source);
  return { ...validateDoc(value, source, consistency), yaml };
}
