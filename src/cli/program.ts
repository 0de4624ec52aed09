/**
 * The command line: builds the commander program, runs it, and turns every
 * outcome into an exit status (docs/operations.md#commands) and text for humans or JSON.
 * This is the only place errors become words on a terminal.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EsdcError, EXIT, OutcomeReported, ValidationError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { redactIssue, redactText } from '../redact.js';
import { withCommonOptions } from './common.js';
import type { CliIo } from './context.js';
import { registerAdminOverlayInfo, registerAdminOverlayInit, registerAdminOverlayUpdate } from './commands/adminoverlay.js';
import { registerCreate } from './commands/create.js';
import { registerDelete } from './commands/delete.js';
import { registerList } from './commands/list.js';
import { registerMtu } from './commands/mtu.js';
import { registerRender } from './commands/render.js';
import { registerUpdate } from './commands/update.js';
import { registerValidate } from './commands/validate.js';
import { registerKeys } from './commands/keys.js';
import { registerFirewall } from './commands/firewall.js';
import { registerStore } from './commands/store.js';
import { registerVdc } from './commands/vdc.js';
import { registerPlan } from './commands/plan.js';
import { registerApply } from './commands/apply.js';
import { registerVerify } from './commands/verify.js';
import { registerNodes } from './commands/nodes.js';
import { registerAgent } from './commands/agent.js';

/** Subcommands, one file each; later features add theirs here. */
const COMMANDS: ReadonlyArray<(program: Command, io: CliIo) => void> = [
  registerCreate,
  registerUpdate,
  registerDelete,
  registerList,
  registerRender,
  registerValidate,
  registerKeys,
  registerFirewall,
  registerStore,
  registerVdc,
  registerAdminOverlayInit,
  registerAdminOverlayUpdate,
  registerAdminOverlayInfo,
  registerMtu,
  registerPlan,
  registerApply,
  registerVerify,
  registerNodes,
  registerAgent,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(io: CliIo): Command {
  const program = withCommonOptions(new Command('esdc-overlay'))
    .description('Overlay networking for SmartOS / Danube Cloud: rules, ARP tables, IPsec mesh, firewall, MTU')
    .version(version(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, io);
  for (const cmd of program.commands) {
    cmd.exitOverride().showHelpAfterError('(add --help for usage)').configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  }
  return program;
}

/** Runs one command line; returns the exit status. Never throws. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  try {
    const program = buildProgram(io);
    await program.parseAsync(argv.map(protectRawRule), { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return report(err, io, json);
  }
}

/**
 * A raw rule string (`"-e vxlan -p ..."`, one argument with spaces) starts
 * with a dash, so commander would take it for an unknown option. No option
 * contains a space; a leading space makes it an operand, and the rule parser
 * ignores surrounding blanks.
 */
function protectRawRule(arg: string): string {
  return /^-\S*\s/.test(arg) ? ` ${arg}` : arg;
}

function report(err: unknown, io: CliIo, json: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return EXIT.ok;
    }
    // commander has already printed its message.
    return EXIT.usage;
  }
  if (err instanceof OutcomeReported) return err.exitStatus;
  if (err instanceof EsdcError) {
    if (json) {
      const body: Record<string, unknown> = { code: err.code, message: redactText(err.message) };
      if (err instanceof ValidationError) body.issues = err.issues.map(redactIssue);
      io.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
    }
    io.stderr.write(`esdc-overlay: ${redactText(err.message)}\n`);
    return err.exitStatus;
  }
  const e = err as Error;
  io.stderr.write(`esdc-overlay: internal error: ${e?.stack ?? String(err)}\n`);
  return EXIT.failure;
}
