/** The agent's configuration file and the service definitions `agent install` renders. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseAgentConfig } from '../../src/agent/config.js';
import { cli } from '../support/cli.js';

describe('agent configuration', () => {
  it('takes defaults for what it does not set: every 5 minutes, up to 60 s random start delay', () => {
    expect(parseAgentConfig({}, 'c')).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.schedule).toBe('*/5 * * * *');
    expect(parseAgentConfig({ schedule: '*/2 * * * * *' }, 'c').schedule).toBe('*/2 * * * * *');
  });

  it('refuses a root in the file: only the test harness (ESDC_OVERLAY_SIM_ROOTS) re-roots a node', () => {
    expect(() => parseAgentConfig({ root: '/tmp/sim' }, '/etc/a.json')).toThrow(/root: unknown setting/);
  });

  it('names every bad setting and its value', () => {
    expect(() => parseAgentConfig({ schedule: '99 * * * *', bundle: 'rel/path', start_delay_max_seconds: -1, colour: 'red' }, '/etc/a.json')).toThrow(
      /\/etc\/a\.json: invalid agent configuration:[\s\S]*colour[\s\S]*schedule[\s\S]*"99 \* \* \* \*"[\s\S]*bundle[\s\S]*start_delay_max_seconds/,
    );
  });

  it('a named config file that is missing is an error; agent --once exits 1', async () => {
    const r = await cli(['agent', '--once', '--config', '/nonexistent/agent.json']);
    expect(r.status).toBe(1);
  });
});

describe('agent install', () => {
  it('prints an SMF manifest that runs the agent, stops it with SIGTERM and reloads it with SIGHUP', async () => {
    const r = await cli(['agent', 'install', '--platform', 'smartos', '--config', '/opt/custom/esdc-overlay/agent.json', '--node', '/opt/local/bin/node']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<service name="site/esdc-overlay-agent"');
    // The bundle where agent deploy puts it on every node, not a path of the machine that rendered it.
    expect(r.stdout).toContain('exec="/opt/local/bin/node /opt/custom/esdc-overlay/esdc-overlay.mjs agent --log-format json --config /opt/custom/esdc-overlay/agent.json &amp;"');
    expect(r.stdout).toContain('name="stop" exec=":kill"');
    expect(r.stdout).toContain('name="refresh" exec=":kill -HUP"');
    // Well-formed XML: no "--" inside a comment (svccfg refuses the manifest otherwise).
    for (const comment of r.stdout.match(/<!--([\s\S]*?)-->/g) ?? []) expect(comment.slice(4, -3)).not.toContain('--');
    expect(r.stdout.match(/<!--/g)).toHaveLength(1);
  });

  it('writes a systemd unit with --out, leaves an identical one alone, and replaces a different one only with --yes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esdc-install-'));
    try {
      const out = join(dir, 'esdc-overlay-agent.service');
      const w = await cli(['agent', 'install', '--platform', 'linux', '--out', out, '--node', '/usr/bin/node']);
      expect(w.status).toBe(0);
      const unit = await readFile(out, 'utf8');
      expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/esdc-overlay\/esdc-overlay\.mjs agent --log-format json --config \/opt\/custom\/esdc-overlay\/agent\.json$/m);
      expect(unit).toContain('ExecReload=/bin/kill -HUP $MAINPID');
      expect(unit).toContain('KillSignal=SIGTERM');
      expect((await cli(['agent', 'install', '--platform', 'linux', '--out', out, '--node', '/usr/bin/node'])).stdout).toContain('up to date');
      await writeFile(out, 'edited\n');
      const refused = await cli(['agent', 'install', '--platform', 'linux', '--out', out, '--node', '/usr/bin/node']);
      expect(refused.status).not.toBe(0);
      expect(await readFile(out, 'utf8')).toBe('edited\n');
      expect((await cli(['agent', 'install', '--platform', 'linux', '--out', out, '--node', '/usr/bin/node', '--yes'])).status).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(unit);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a path that cannot go into the service file unquoted', async () => {
    const r = await cli(['agent', 'install', '--platform', 'linux', '--config', '/tmp/a b"; rm -rf /']);
    expect(r.status).toBe(64);
  });

  it('refuses an unknown platform', async () => {
    const r = await cli(['agent', 'install', '--platform', 'windows']);
    expect(r.status).toBe(64);
  });
});
