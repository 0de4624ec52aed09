/**
 * What every generator shares while building the desired state of many
 * nodes: the model, a memo for work that is common to many nodes (an ARP
 * table is the same for every node of one PDC but for the node's own
 * entries), and the warnings found on the way.
 */
import type { ValidationIssue } from '../errors.js';
import type { Model } from '../model/model.js';

/** How a render is made, beyond the model. */
export interface RenderOptions {
  /**
   * The secret that keys of pairs with no stored key are derived from
   * (`render --key-secret FILE`). Absent: a random one per render, so such
   * keys differ between renders.
   */
  keySecret?: Buffer;
  /**
   * Without `keySecret`: the render's random secret, made by the caller so
   * that the parts of one render split over threads derive the same keys
   * (src/cli/render-threads.ts). Absent: made at first use. Unlike
   * `keySecret`, the warning still says the keys are random.
   */
  randomSecret?: Buffer;
  /**
   * A node pair's render-only key derived ahead by a helper thread
   * (src/cli/key-prefetch.ts), or undefined when it does not have it yet:
   * the same bytes as deriving it from the render's secret, which the
   * render then does. `a` and `b` in code-point order.
   */
  derivedAhead?: (a: string, b: string) => string | undefined;
}

export class RenderContext {
  readonly model: Model;
  readonly options: RenderOptions;
  readonly warnings: ValidationIssue[] = [];
  private readonly memo = new Map<string, unknown>();

  constructor(model: Model, options: RenderOptions = {}) {
    this.model = model;
    this.options = options;
  }

  /** Computes `fn` once per key for the whole render. */
  shared<T>(key: string, fn: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = fn();
    this.memo.set(key, value);
    return value;
  }

  warn(issue: ValidationIssue): void {
    this.warnings.push(issue);
  }
}
