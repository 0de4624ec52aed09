/**
 * A command of the CLI runs for a second or two, most of it in code that
 * runs a few hundred times (a node's SSH packets, its SFTP requests, the
 * render of its files). V8's optimizing compiler (TurboFan) picks such
 * functions after about 66 KB of their bytecode has run, and compiles
 * them on background threads: on a no-op apply to 50 nodes that was a
 * quarter of the CLI's CPU (perf), spent on code the process then ran only
 * briefly before it exited, on the two cores the nodes' side shares.
 *
 * `--interrupt-budget` is that threshold; 16 times it (~1 MiB of bytecode
 * a function) left the no-op's CLI CPU at 0.69 s against 0.97 s, the
 * same as no TurboFan at all, while a render of 200 nodes (a second of
 * hot loops) kept its time (1.02-1.09 s user against 1.03-1.13 s): what
 * runs long is still optimized, a little later (bench/RESULTS.md, "Issue
 * 20, fourth pass"). Set before anything runs: V8 reads it when it gives
 * a function its budget.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Node 20's V8 default (`node --v8-options`: 67,584), times 16. The flag is
 * V8's in Node 18 (the bundle's oldest) to 22 (where the default is twice
 * that, and Maglev, not affected, tiers first): measured on Node 20 only.
 */
export const CLI_INTERRUPT_BUDGET = 16 * 66 * 1024;

export function delayTierUp(budget: number = CLI_INTERRUPT_BUDGET): void {
  setFlagsFromString(`--interrupt-budget=${Math.trunc(budget)}`);
}

/**
 * Whether `argv` (after the program name) runs the daemon itself: `daemon`
 * with its options, not its `status` or `install` subcommands. The daemon
 * runs for days and its work comes in bursts (a VM move re-renders and
 * patches every node's table), so a later tier-up only makes its first
 * bursts run slower; V8's default suits it. The daemon's benchmarks
 * (bench/daemon/) run it in-process with that default too, so this keeps
 * the service what they measure. The command is always argv's first word
 * (the program has no options of its own besides --version and --help); a
 * subcommand is any later word of that name (an option's value that happens
 * to be one only costs that run the CLI's setting, a matter of speed).
 */
export function runsLong(argv: readonly string[]): boolean {
  return argv[0] === 'daemon' && !argv.slice(1).some((a) => a === 'status' || a === 'install');
}
