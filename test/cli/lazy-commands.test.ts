/**
 * Commands are loaded only when run (src/cli/program.ts, issue 20): the
 * program answers --version, its --help and errors before a command is
 * named from an index of names and help lines. That index must say exactly
 * what the loaded commands say, so the help is complete and unchanged, and
 * the answers must be those of the program with every command loaded.
 */
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_INDEX, run } from '../../src/cli/program.js';
import { captureIo } from '../ipsec/helpers.js';

/** What the program with every command loaded prints and returns for argv (as run() did before issue 20). */
async function eager(argv: string[]): Promise<{ out: string; err: string; threw: string | undefined }> {
  const io = captureIo();
  let threw: string | undefined;
  try {
    await (await buildProgram(io)).parseAsync(argv, { from: 'user' });
  } catch (e) {
    threw = (e as { code?: string }).code;
  }
  return { out: io.out(), err: io.err(), threw };
}

async function lazy(argv: string[]): Promise<{ out: string; err: string; status: number }> {
  const io = captureIo();
  const status = await run(argv, io);
  return { out: io.out(), err: io.err(), status };
}

describe('lazily loaded commands', () => {
  it('the index names every top-level command in order, with the help line commander prints for it', async () => {
    const program = await buildProgram(captureIo());
    const help = new Help();
    expect(COMMAND_INDEX.map((e) => e.name)).toEqual(program.commands.map((c) => c.name()));
    for (const entry of COMMAND_INDEX) {
      const cmd = program.commands.find((c) => c.name() === entry.name)!;
      expect(entry.term, entry.name).toBe(help.subcommandTerm(cmd));
      expect(entry.description, entry.name).toBe(help.subcommandDescription(cmd));
    }
  });

  it.each([[['--help']], [['help']], [['--version']], [['-V']], [['help', 'render']], [['help', 'frob']], [['help', 'vdc', 'list']], [['help', 'list', 'x']], [['render', '--help']], [['vdc', 'list', '--help']], [['frobnicate']], [['--frob', 'list']], [['list', '--frob']], [[]]])(
    '%j prints what the fully loaded program prints',
    async (argv) => {
      const before = await eager(argv);
      const after = await lazy(argv);
      expect(after.out).toBe(before.out);
      expect(after.err).toBe(before.err);
      expect(before.threw).toBeDefined();
    },
  );

  it('--help lists every command, and a command\'s help its own options', async () => {
    const help = await lazy(['--help']);
    expect(help.status).toBe(0);
    for (const entry of COMMAND_INDEX) expect(help.out).toContain(entry.term);
    expect((await lazy(['help', 'render'])).out).toContain('--out <dir>');
  });
});
