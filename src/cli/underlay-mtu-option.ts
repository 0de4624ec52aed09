/**
 * `--underlay-mtu <mtu>`, which `init` (defaults.underlay_mtu) and `mtu` (the
 * calculator) both take: one flag, parsed the same way by both, each command
 * saying what the value means for it (docs/mtu.md).
 */
import { Option } from 'commander';
import { intOption } from './common.js';

/** The option, with `meaning` as its help text; the value is a whole number. */
export function underlayMtuOption(meaning: string): Option {
  return new Option('--underlay-mtu <mtu>', meaning).argParser(intOption('--underlay-mtu'));
}
