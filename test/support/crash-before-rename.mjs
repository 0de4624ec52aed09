// Preloaded with `node --import` into the real CLI: kills the process with
// SIGKILL at the moment it would rename a finished temporary file over
// $CRASH_RENAME_TARGET, i.e. after the new content is written and fsynced
// but before it replaces the old file. This stands in for a power cut or an
// OOM kill; it does not replace any of our code.
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const target = process.env.CRASH_RENAME_TARGET;
const rename = fsp.rename;
fsp.rename = async (from, to) => {
  if (String(to) === target) process.kill(process.pid, 'SIGKILL');
  return rename(from, to);
};
syncBuiltinESMExports();
