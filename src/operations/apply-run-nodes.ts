/**
 * Which nodes an apply run covers (docs/operations.md#apply): the selection
 * less the nodes left out by `--exclude`, and less those found unreachable
 * under `--skip-unreachable`. Pure: apply does the connecting and the
 * telling, these only decide.
 */
import { NodesFailedError, type NodeFailure } from '../apply/fleet.js';
import type { Model } from '../model/model.js';

/** The nodes of the run: the selection (every node when none) minus `out`. */
export function without(model: Model, only: ReadonlySet<string> | undefined, out: readonly string[]): Set<string> {
  return new Set((only !== undefined ? [...only] : model.nodes.map((n) => n.name)).filter((n) => !out.includes(n)));
}

/** `--exclude` as given (names, or comma-separated lists of them), as names; undefined without the option. */
export function excludedNames(exclude: readonly string[] | undefined): string[] | undefined {
  if (exclude === undefined) return undefined;
  return exclude.flatMap((e) => e.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The nodes to leave out when planning failed with `err`: with
 * `--skip-unreachable`, only nodes that could not be reached at all; a host
 * key problem is never skipped. Undefined when the error stands.
 */
export function unreachableToSkip(err: unknown, skipUnreachable: boolean | undefined): readonly NodeFailure[] | undefined {
  const skippable = skipUnreachable === true && err instanceof NodesFailedError && err.message.startsWith('could not connect') && !err.failures.some((f) => f.code.startsWith('HostKey'));
  return skippable ? (err as NodesFailedError).failures : undefined;
}
