import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runsLong } from '../../src/cli/tier-up.js';

describe('which commands keep V8\'s default tier-up (src/cli/tier-up.ts)', () => {
  it('the daemon itself runs long, with or without its options', () => {
    expect(runsLong(['daemon'])).toBe(true);
    expect(runsLong(['daemon', '--state', '/var/esdc/state.yaml', '--debounce-ms', '500'])).toBe(true);
  });

  it('its status and install subcommands, and every other command, are short', () => {
    expect(runsLong(['daemon', 'status', '--json'])).toBe(false);
    expect(runsLong(['daemon', 'install', '--out', '/tmp/x.xml'])).toBe(false);
    expect(runsLong(['apply', '--state', 'daemon'])).toBe(false);
    expect(runsLong(['--version'])).toBe(false);
    expect(runsLong([])).toBe(false);
  });

  it('V8 takes the budget flag the entry sets (a rename in V8 would make it a silent no-op)', () => {
    // setFlagsFromString ignores a flag V8 does not know; --v8-options lists the ones it does.
    const flags = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    expect(flags).toMatch(/--interrupt-budget \(/);
  });
});
