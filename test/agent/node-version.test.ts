/** The Node version check agent deploy makes on each node. */
import { describe, expect, it } from 'vitest';
import { MIN_NODE_TEXT, nodeUsable, parseNodeVersion } from '../../src/agent/node-version.js';

describe('node version check', () => {
  it('parses node --version output and nothing else', () => {
    expect(parseNodeVersion('v18.20.4\n')).toEqual({ major: 18, minor: 20, patch: 4 });
    expect(parseNodeVersion('v0.10.26')).toEqual({ major: 0, minor: 10, patch: 26 });
    for (const bad of ['', '18.20.4', 'v18.20', 'node: not found', 'v18.20.4; rm -rf /']) expect(parseNodeVersion(bad)).toBeNull();
  });

  it('accepts the minimum and above, refuses below (the platform node 0.10 among them)', () => {
    expect(MIN_NODE_TEXT).toBe('v18.20.0');
    expect(nodeUsable(parseNodeVersion('v18.20.0')!)).toBe(true);
    expect(nodeUsable(parseNodeVersion('v20.1.0')!)).toBe(true);
    expect(nodeUsable(parseNodeVersion('v18.19.9')!)).toBe(false);
    expect(nodeUsable(parseNodeVersion('v0.10.26')!)).toBe(false);
  });

  it('the bundle is built for the same minimum', async () => {
    const { readFile } = await import('node:fs/promises');
    const script = await readFile(new URL('../../scripts/build-bundle.mjs', import.meta.url), 'utf8');
    expect(script).toContain(`TARGET = 'node${MIN_NODE_TEXT.slice(1).split('.').slice(0, 2).join('.')}'`);
  });
});
