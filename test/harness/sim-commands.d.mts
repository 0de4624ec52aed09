/** Types of sim-commands.mjs (the simulated SmartOS commands, run in-process). */
export interface SimCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}
export function runSimCommand(root: string, cmd: string, args: readonly string[]): SimCommandResult;
