// A real process that takes the state file lock through the built module
// (dist/store/file-lock.js) and logs when it holds it: "forever" holds until
// killed (and says "held" on stdout), else it holds for HOLD_MS and leaves.
import { appendFileSync } from 'node:fs';

const [modulePath, lockPath, logPath, holdMs, mode] = process.argv.slice(2);
const { withFileLock } = await import(modulePath);
await withFileLock(lockPath, { timeoutMs: 30_000, pollMs: 5 }, async () => {
  appendFileSync(logPath, `enter ${process.pid}\n`);
  if (mode === 'forever') {
    process.stdout.write('held\n');
    setInterval(() => undefined, 1 << 30);
    await new Promise(() => undefined);
  }
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  appendFileSync(logPath, `exit ${process.pid}\n`);
});
