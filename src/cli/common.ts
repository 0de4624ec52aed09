/**
 * Options shared by every subcommand, accepted before or after the
 * subcommand name (`esdc-overlay --state F list` and `esdc-overlay list --state F`).
 */
import { InvalidArgumentError, type Command } from 'commander';

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--state <file>', 'state file (default $ESDC_OVERLAY_STATE or /opt/erigones/var/esdc-overlay/state.yaml)')
    .option('--store <url>', 'the store: zk://host:port[,host:port]/root (Danube cfgdb layout) or a state file path (default $ESDC_OVERLAY_STORE)')
    .option('--store-timeout <seconds>', 'ZooKeeper: give up connecting or waiting for an answer after this long (default 10)', secondsOption('--store-timeout'))
    .option('--zk-auth-file <file>', 'ZooKeeper digest credentials "user:password" from this file (mode 600); default $ESDC_OVERLAY_ZK_AUTH')
    .option('--zk-insecure', 'ZooKeeper: write without credentials, leaving every znode written (IPsec keys included) readable and writable by anyone who reaches ZooKeeper')
    .option('--json', 'print the result as JSON on stdout')
    .option('--log-level <level>', 'log level on stderr: fatal, error, warn, info, debug (each remote command and its duration), trace (and transfer sizes), silent')
    .option('--log-format <format>', 'text (default: readable, coloured on a terminal) or json (pino lines, for services and scripts; default $ESDC_OVERLAY_LOG_FORMAT)')
    .option('--insecure-state', 'load a state file holding keys even if group or others can read it');
}

export function withConfirmOption(cmd: Command): Command {
  return cmd.option('-y, --yes', 'do not ask for confirmation');
}

/** commander argument parser for a positive number of seconds. */
export function secondsOption(name: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d{1,5}(?:\.\d{1,3})?$/.test(value) || Number(value) <= 0) {
      throw new InvalidArgumentError(`${name} must be a number of seconds (got ${JSON.stringify(value)})`);
    }
    return Number(value);
  };
}

/** commander argument parser for integers, with a usage error naming the option. */
export function intOption(name: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number (got ${JSON.stringify(value)})`);
    return Number(value);
  };
}
