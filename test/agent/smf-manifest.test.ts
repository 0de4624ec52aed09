/**
 * The SMF manifests esdc-overlay writes stay valid against SMF's service
 * bundle grammar: xmllint validates each through its DOCTYPE, which an XML
 * catalog maps to test/fixtures/smf/service-bundle-subset.dtd (the rules of
 * illumos' service_bundle.dtd.1 that our manifests use, written as our own
 * DTD with the lines it follows). Needs xmllint (libxml2-utils; .ci/run
 * installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredAgentFiles } from '../../src/agent/deploy.js';
import { renderService } from '../../src/agent/install.js';
import { renderDaemonService } from '../../src/daemon/install.js';
import { REPO } from '../support/paths.js';

const SUBSET = join(REPO, 'test/fixtures/smf/service-bundle-subset.dtd');
/** The system id every manifest names in its DOCTYPE: where SmartOS keeps the DTD. */
const SYSTEM_ID = '/usr/share/lib/xml/dtd/service_bundle.dtd.1';

let dir: string;
let catalog: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esdc-smf-'));
  catalog = join(dir, 'catalog.xml');
  await writeFile(
    catalog,
    `<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n  <system systemId="${SYSTEM_ID}" uri="file://${SUBSET}"/>\n</catalog>\n`,
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** xmllint --valid through the catalog, no network: exit status and complaints. */
async function validate(name: string, xml: string): Promise<{ status: number | null; stderr: string }> {
  const file = join(dir, name);
  await writeFile(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--valid', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', XML_CATALOG_FILES: catalog } });
  if (r.error) throw new Error(`xmllint cannot run (${r.error.message}): install libxml2-utils (.ci/run does)`);
  return { status: r.status, stderr: r.stderr };
}

const agentInstall = renderService('smartos', { node: '/opt/tools/bin/node', cli: '/opt/custom/esdc-overlay/esdc-overlay.mjs', config: '/opt/custom/esdc-overlay/agent.json', out: '/opt/custom/smf/esdc-overlay-agent.xml' });
const agentDeploy = desiredAgentFiles('#!/usr/bin/env node\n', '/opt/local/bin/node').find((f) => f.role === 'manifest')!.content;
const daemon = renderDaemonService('smartos', {
  node: '/opt/tools/bin/node',
  cli: '/opt/custom/esdc-overlay/esdc-overlay.mjs',
  storeOption: '--store',
  store: 'zk://127.0.0.1:2181/esdc',
  zkAuthFile: '/opt/custom/esdc-overlay/zk-auth',
  status: '/var/run/esdc-overlay-daemon.json',
  out: '/opt/custom/smf/esdc-overlay-daemon.xml',
});

describe('SMF manifests against the service_bundle rules', () => {
  it.each([
    ['agent install', agentInstall],
    ['agent deploy', agentDeploy],
    ['daemon install', daemon],
  ])('%s writes a valid manifest naming the platform DTD', async (name, xml) => {
    expect(xml).toContain(`<!DOCTYPE service_bundle SYSTEM "${SYSTEM_ID}">`);
    const r = await validate(`${name.replace(' ', '-')}.xml`, xml);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the check fails a manifest that breaks the rules (the order of a service\'s children, a stability level)', async () => {
    const misordered = agentInstall.replace('<single_instance/>', '').replace('<stability value="Unstable"/>', '<stability value="Unstable"/>\n    <single_instance/>');
    const r1 = await validate('misordered.xml', misordered);
    expect(r1.status).not.toBe(0);
    expect(r1.stderr).toContain('Element service content does not follow the DTD');
    const r2 = await validate('level.xml', agentInstall.replace('value="Unstable"', 'value="Experimental"'));
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain('Experimental');
  });
});
