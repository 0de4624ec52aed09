/**
 * stderr corked per tick (src/io/cork-each-tick.ts): the lines of one tick
 * leave in one write, in order, and none is lost when the process exits
 * before the next tick.
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { corkEachTick } from '../../src/io/cork-each-tick.js';

const run = promisify(execFile);

function recording(): { stream: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const stream = new Writable({
    writev(chunks, cb) {
      calls.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
    write(chunk, _enc, cb) {
      calls.push([String(chunk)]);
      cb();
    },
  });
  return { stream, calls };
}

describe('corkEachTick', () => {
  it('sends the writes of one tick in one call, in order, and the next tick anew', async () => {
    const { stream, calls } = recording();
    corkEachTick(stream);
    stream.write('a\n');
    stream.write('b\n');
    await Promise.resolve();
    stream.write('c\n'); // a microtask of the same turn: same batch
    await new Promise((r) => setImmediate(r));
    stream.write('d\n');
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['a\n', 'b\n', 'c\n'], ['d\n']]);
  });

  it('loses nothing when the process exits in the tick it wrote', async () => {
    const src = new URL('../../src/io/cork-each-tick.ts', import.meta.url).pathname;
    const script = `import { corkEachTick } from ${JSON.stringify(src)}; corkEachTick(process.stderr); for (let i = 0; i < 100; i++) process.stderr.write('line ' + i + '\\n'); process.exit(3);`;
    const err = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(3);
    expect(err?.stderr).toBe(Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
  });
});
