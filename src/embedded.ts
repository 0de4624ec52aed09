/**
 * What the single-file bundle (dist/esdc-overlay.mjs) carries inside itself
 * instead of reading it from the package directory: the package version and
 * the templates. This module is replaced at bundle time by
 * scripts/build-bundle.mjs; from src/ (vitest) and dist/ (tsc) it is null
 * and the files are read from disk as before.
 */
export interface Embedded {
  /** package.json's version. */
  version: string;
  /** templates/<name> → its text, every file under templates/. */
  templates: Readonly<Record<string, string>>;
}

export const EMBEDDED: Embedded | null = null;
