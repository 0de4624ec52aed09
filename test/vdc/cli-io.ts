/** An in-memory CliIo for driving `run()` as the real entry point does, capturing what it prints. */
import { PassThrough, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/context.js';
import { run } from '../../src/cli/program.js';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const out = sink();
  const err = sink();
  const io: CliIo = { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), env };
  const status = await run(argv, io);
  return { status, stdout: out.text(), stderr: err.text() };
}
