/**
 * The command line: builds the commander program, runs it, and turns every
 * outcome into an exit status (docs/operations.md#commands) and text for humans or JSON.
 * This is the only place errors become words on a terminal.
 */
import { setPassphrasePrompt } from '../transport/passphrase-hook.js';
import { terminalPassphrasePrompt } from './passphrase-prompt.js';
import { Command, CommanderError, Help } from 'commander';
import { EsdcError, EXIT, OutcomeReported, ValidationError } from '../errors.js';
import { redactIssue, redactText } from '../redact.js';
import { versionLine } from '../version.js';
import { withCommonOptions } from './common.js';
import type { CliIo } from './context.js';

/** Adds one command (or a few, e.g. the three firewall commands) to the program. */
export type Registrar = (program: Command, io: CliIo) => void;

/**
 * A top-level command as the program's --help shows it, and how to load it.
 * Commands are loaded only when run: every command module used to be
 * imported at start-up, and with them ajv, ip-num, handlebars, yaml, pino,
 * ssh2 and the ZooKeeper client, so `--version` took 0.49 s (issue 20).
 * `term` and `description` are what commander's help prints for the loaded
 * command; test/cli/lazy-commands.test.ts checks them against it.
 */
export interface CommandEntry {
  name: string;
  term: string;
  description: string;
  load: () => Promise<Registrar>;
}

/** Subcommands in help order, one file each (src/cli/commands); later features add theirs here. */
export const COMMAND_INDEX: readonly CommandEntry[] = [
  {
    name: 'create',
    term: 'create [options] <rule> [nodes] [raw-rule]',
    description: 'create an overlay rule (port: next free unless given)',
    load: async () => (await import('./commands/create.js')).registerCreate,
  },
  {
    name: 'update',
    term: 'update [options] [rule] [nodes] [raw-rule]',
    description: "change a rule's nodes or parameters (a port, MTU or listen IP change takes effect on SmartOS at the next reboot)",
    load: async () => (await import('./commands/update.js')).registerUpdate,
  },
  {
    name: 'delete',
    term: 'delete [options] <rule>',
    description: 'delete an overlay rule (its /usbkey/config line and ARP table go from every node at the next apply)',
    load: async () => (await import('./commands/delete.js')).registerDelete,
  },
  {
    name: 'list',
    term: 'list [options]',
    description: 'list overlay rules with their port, MTU and nodes',
    load: async () => (await import('./commands/list.js')).registerList,
  },
  {
    name: 'render',
    term: 'render [options]',
    description: "write every node's files under DIR/<hostname>/ (never touches the store or any node)",
    load: async () => (await import('./commands/render.js')).registerRender,
  },
  {
    name: 'validate',
    term: 'validate [options]',
    description: 'check the state: shape, and consistency (known nodes and rules, unique ports, MACs and IPs)',
    load: async () => (await import('./commands/validate.js')).registerValidate,
  },
  {
    name: 'keys',
    term: 'keys [options]',
    description: 'IPsec pre-shared keys, one per pair of nodes in different PDCs, or one per pair of PDCs (never printed)',
    load: async () => (await import('./commands/keys.js')).registerKeys,
  },
  {
    name: 'globally-enable-firewall',
    term: 'globally-enable-firewall [options] [sources]',
    description: 'block incoming traffic on external0 of every node except from administrator sources and other nodes',
    load: async () => (await import('./commands/firewall.js')).registerFirewall,
  },
  {
    name: 'globally-disable-firewall',
    term: 'globally-disable-firewall [options]',
    description: 'stop blocking unmatched incoming traffic on external0 (administrator sources are kept)',
    load: async () => (await import('./commands/firewall.js')).registerFirewall,
  },
  {
    name: 'globally-update-firewall',
    term: 'globally-update-firewall [options] [sources]',
    description: 'replace the administrator sources (never with none while enabled); without sources, only show the rules',
    load: async () => (await import('./commands/firewall.js')).registerFirewall,
  },
  {
    name: 'store',
    term: 'store',
    description: 'work with stores: state files and ZooKeeper (Danube cfgdb)',
    load: async () => (await import('./commands/store.js')).registerStore,
  },
  {
    name: 'vdc',
    term: 'vdc [options]',
    description: "virtual datacenters' VXLAN and VLAN ranges: list, check, allocate, grant, overlaps",
    load: async () => (await import('./commands/vdc.js')).registerVdc,
  },
  {
    name: 'adminoverlay-init',
    term: 'adminoverlay-init [options] <subnet> [assignments]',
    description: 'create the admin overlay: rule "adminoverlay" on all nodes (VNI 2, VLAN 2, MTU 1300) and a vNIC address and MAC for every node',
    load: async () => (await import('./commands/adminoverlay.js')).registerAdminOverlayInit,
  },
  {
    name: 'adminoverlay-update',
    term: 'adminoverlay-update [options] [assignments]',
    description: 'change adminoverlay addresses of the nodes named, and give nodes without one an address and a MAC (MACs are kept)',
    load: async () => (await import('./commands/adminoverlay.js')).registerAdminOverlayUpdate,
  },
  {
    name: 'adminoverlay-info',
    term: 'adminoverlay-info [options]',
    description: "show the admin overlay: subnet, VNI, VLAN, MTU, port, and each node's address and MAC",
    load: async () => (await import('./commands/adminoverlay.js')).registerAdminOverlayInfo,
  },
  {
    name: 'mtu',
    term: 'mtu [options]',
    description: 'largest safe overlay MTU: for one underlay (--underlay-mtu), or per rule of the state',
    load: async () => (await import('./commands/mtu.js')).registerMtu,
  },
  {
    name: 'plan',
    term: 'plan [options] [nodes...]',
    description: 'show, per node, what apply would change (files with a short diff, /usbkey/config lines, overlays, refreshes)',
    load: async () => (await import('./commands/plan.js')).registerPlan,
  },
  {
    name: 'apply',
    term: 'apply [options] [nodes...]',
    description: 'apply the desired state to nodes over SSH: plan, confirm, stage everywhere, then commit and refresh',
    load: async () => (await import('./commands/apply.js')).registerApply,
  },
  {
    name: 'verify',
    term: 'verify [options] [nodes...]',
    description: "compare every node's files, sysinfo facts and overlays' fault state with the desired state without changing anything; exit 2 on drift",
    load: async () => (await import('./commands/verify.js')).registerVerify,
  },
  {
    name: 'nodes',
    term: 'nodes [options]',
    description: 'compute nodes: discovery, removal',
    load: async () => (await import('./commands/nodes.js')).registerNodes,
  },
  {
    name: 'agent',
    term: 'agent [options]',
    description: 'reconcile this node with the bundle apply left on it: once (--once) or as a service on a cron schedule',
    load: async () => (await import('./commands/agent.js')).registerAgent,
  },
  {
    name: 'daemon',
    term: 'daemon [options]',
    description: "head node, foreground: follow every node's VMs (vmadm events), keep the state's vnics and the ARP tables true",
    load: async () => (await import('./commands/daemon.js')).registerDaemon,
  },
  {
    name: 'init',
    term: 'init [options]',
    description: 'write a minimal valid state to start from (refused when the store already holds one)',
    load: async () => (await import('./commands/init.js')).registerInit,
  },
];

/** The program without its commands: global options, version, output and error handling. */
function rootProgram(io: CliIo): Command {
  return withCommonOptions(new Command('esdc-overlay'))
    .description('Overlay networking for SmartOS / Danube Cloud: rules, ARP tables, IPsec mesh, firewall, MTU')
    .version(versionLine(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
}

/** Subcommands report like the program: errors are thrown, never process.exit. */
function configureCommands(program: Command, io: CliIo): Command {
  for (const cmd of program.commands) {
    cmd.exitOverride().showHelpAfterError('(add --help for usage)').configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  }
  return program;
}

/** The program with the given commands loaded. */
export function programWith(io: CliIo, registrars: readonly Registrar[]): Command {
  const program = rootProgram(io);
  for (const register of registrars) register(program, io);
  return configureCommands(program, io);
}

/** The program with every command loaded (tests, and anything that walks the whole command tree). */
export async function buildProgram(io: CliIo): Promise<Command> {
  const registrars = await Promise.all(COMMAND_INDEX.map((e) => e.load()));
  return programWith(io, [...new Set(registrars)]);
}

/**
 * Parses argv against a program whose commands are placeholders (name and
 * help line only), which answers --version, the program's --help and errors
 * before any command is named, exactly as the full program would. Returns the
 * command named, whose module is then loaded; a placeholder takes any
 * options and arguments (its own --help included), so the loaded command is
 * the one that checks them.
 */
async function selectCommand(argv: readonly string[], io: CliIo): Promise<CommandEntry | 'all' | undefined> {
  const program = rootProgram(io);
  let chosen: CommandEntry | 'all' | undefined;
  const terms = new Map<string, string>();
  const placeholder = (name: string, description: string, action: (args: string[]) => void): void => {
    program
      .command(name)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action((...params: unknown[]) => action((params.at(-1) as Command).args));
  };
  for (const entry of COMMAND_INDEX) {
    terms.set(entry.name, entry.term);
    placeholder(entry.name, entry.description, () => {
      chosen = entry;
    });
  }
  // commander's own `help <command>` would print the placeholder's help: this one
  // picks the command named, which then answers `help <command>` itself.
  const help = new Help();
  program.helpCommand(false);
  terms.set(HELP_COMMAND.name, HELP_COMMAND.term);
  placeholder(HELP_COMMAND.name, HELP_COMMAND.description, (args) => {
    const named = COMMAND_INDEX.find((e) => e.name === args[0]);
    chosen = args.length === 1 && named ? named : 'all';
  });
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
  await configureCommands(program, io).parseAsync(argv, { from: 'user' });
  return chosen;
}

/** commander's implicit help command, as its --help lists it. */
const HELP_COMMAND = { name: 'help', term: 'help [command]', description: 'display help for command' } as const;

/** Runs one command line; returns the exit status. Never throws. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  // An encrypted SSH key is asked for on a terminal only (src/cli/passphrase-prompt.ts).
  setPassphrasePrompt(terminalPassphrasePrompt(io));
  try {
    const args = argv.map(protectRawRule);
    const chosen = await selectCommand(args, io);
    if (chosen === undefined) return EXIT.ok;
    // `help` with anything but one command name: the fully loaded program answers.
    const program = chosen === 'all' ? await buildProgram(io) : programWith(io, [await chosen.load()]);
    await program.parseAsync(args, { from: 'user' });
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
    // `commander.help` with a non-zero code is a group (`vdc`, `keys`, `nodes`...) or the program run
    // without a subcommand: the help was printed to stderr, and it is a usage error like any other.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0)) {
      return EXIT.ok;
    }
    // commander has already printed its message on stderr; scripts get it as JSON too.
    if (json) {
      const message = err.code === 'commander.help' ? 'a subcommand is required (add --help for the list)' : err.message.replace(/^error: /, '');
      io.stdout.write(`${JSON.stringify({ error: { code: 'Usage', message: redactText(message) } }, null, 2)}\n`);
    }
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
