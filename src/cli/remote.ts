/**
 * The options of the commands that talk to nodes (SSH, node selection,
 * concurrency and timeouts); what they mean is src/operations/remote.ts's.
 */
import type { Command } from 'commander';
import { intOption } from './common.js';

export { headPdcOf, remoteFrom, requireKnownNodes, selectNodes, type Remote, type RemoteOptions } from '../operations/remote.js';

export function withRemoteOptions(cmd: Command): Command {
  return cmd
    .option('--identity <file>', 'SSH private key (default $ESDC_OVERLAY_IDENTITY or ~/.ssh/id_ed25519)')
    .option('--known-hosts <file>', 'known_hosts file (default $ESDC_OVERLAY_KNOWN_HOSTS or ~/.ssh/known_hosts)')
    .option('--head-pdc <pdc>', 'PDC of the head node: nodes in it are reached on their admin IP, others on their external IP (default: the state\'s defaults.head_pdc, recorded by nodes discover --head)')
    .option('--concurrency <n>', 'nodes worked on at once (default 64)', intOption('--concurrency'))
    .option('--timeout <seconds>', 'limit for each file operation or command on a node (default 120)', intOption('--timeout'))
    .option('--connect-timeout <seconds>', 'limit for connecting to a node (default 10)', intOption('--connect-timeout'))
    .option('--max-file-size <MiB>', 'largest file read from a node; a larger one is refused, naming it (default 64)', intOption('--max-file-size'));
}
