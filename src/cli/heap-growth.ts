/**
 * A render writes megabytes per node (IPsec files of every peer, ARP
 * tables) as strings that live just long enough to be promoted, and V8
 * let that garbage grow the heap to ~4x what the render holds before a full
 * collection: the 2,000-node x 100,000-NIC render peaked at 636-647 MiB
 * while it fits in a 256 MiB heap (bench/RESULTS.md, issue 22).
 *
 * `--heap-growing-percent` is the factor V8 applies to the live size when it
 * sets the next collection's limit; it reads the flag at every such step,
 * so setting it once the process runs takes effect (checked: the same
 * render then peaks at 371 MiB). 50 %: about a third more of the render's
 * user CPU at that size for half the memory. A small render never grows its
 * heap enough for it to matter (200 nodes: 138 MiB either way) and would
 * only pay the extra collections, so only renders of many nodes set it.
 */
import { setFlagsFromString } from 'node:v8';

export const RENDER_HEAP_GROWING_PERCENT = 50;
/** Renders of at least this many nodes bound their heap's growth. */
export const BOUND_HEAP_FROM_NODES = 500;

export function boundHeapGrowth(percent: number = RENDER_HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${Math.trunc(percent)}`);
}
