/**
 * What the firewall commands show before they ask
 * (docs/architecture.md#operations): the ipf.conf-090-administration file
 * one node gets under a state document, as a sample of what every node
 * gets. The document is the edited one, not saved yet: its model is built
 * here, once per preview.
 */
import { administrationView, IPF_ADMIN_PATH } from '../firewall/generator.js';
import { buildModel } from '../model/build-model.js';
import type { Node } from '../model/model.js';
import type { StateDoc } from '../model/state.js';
import { template } from '../render/template.js';

/** The 090 file of one node under `doc`, indented, with a line saying which node and how many others. */
export function firewallPreview(doc: StateDoc): string {
  const model = buildModel(doc);
  const withExt = model.nodes.filter((n): n is Node & { externalIp: string } => n.externalIp !== undefined);
  if (withExt.length === 0) return 'no node has an external IP: no firewall file is written\n';
  const sample = withExt[0]!;
  const others = withExt.length - 1;
  return (
    `${IPF_ADMIN_PATH} on ${sample.name}${others > 0 ? ` (and the same with their own address on ${others} other node(s))` : ''}:\n` +
    template('ipf.conf-090-administration.hbs')(administrationView(model, sample))
      .split('\n')
      .map((l) => (l === '' ? l : `  ${l}`))
      .join('\n')
  );
}
