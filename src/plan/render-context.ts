/**
 * What every generator shares while building the desired state of many
 * nodes: the model, a memo for work that is common to many nodes (an ARP
 * table is the same for every node of one PDC but for the node's own
 * entries), and the warnings found on the way.
 */
import type { ValidationIssue } from '../errors.js';
import type { Model } from '../model/model.js';

export class RenderContext {
  readonly model: Model;
  readonly warnings: ValidationIssue[] = [];
  private readonly memo = new Map<string, unknown>();

  constructor(model: Model) {
    this.model = model;
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
