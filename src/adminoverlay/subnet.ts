/**
 * The adminoverlay subnet as an operator types it: CIDR (`10.44.0.0/24`) or
 * Danube's `<net>/<dotted netmask>` (`10.44.0.0/255.255.255.0`,
 * docs/state-format.md#adminoverlay). Either way the network address must be the network itself (Danube
 * checks `net == net & mask`); we say which network was probably meant.
 */
import { IPv4Mask, Validator } from '../ip-num-lib.js';
import { ValidationError } from '../errors.js';
import { intToIpv4, ipv4ToInt, isIpv4, parseNetwork, type Ipv4Network } from '../net/ipv4.js';

/** A /30 has two host addresses; anything smaller holds no node. */
export const MAX_ADMIN_PREFIX = 30;

export function parseAdminSubnet(text: string, path = 'subnet'): Ipv4Network {
  const fail = (message: string): never => {
    throw new ValidationError([{ path, value: text, message }], 'adminoverlay subnet');
  };
  const m = /^([0-9.]+)\/([0-9.]+)$/.exec(text.trim());
  if (!m) return fail('must be a network as 10.44.0.0/24 or 10.44.0.0/255.255.255.0');
  const [, addr, maskText] = m as unknown as [string, string, string];
  if (!isIpv4(addr)) return fail(`has ${JSON.stringify(addr)}, which is not an IPv4 address`);
  let prefix: number;
  if (/^\d{1,2}$/.test(maskText)) {
    prefix = Number(maskText);
    if (prefix > 32) return fail('has a prefix length above 32');
  } else if (isIpv4(maskText)) {
    if (!Validator.isValidIPv4Mask(maskText)[0]) return fail(`has netmask ${maskText}, whose one bits are not contiguous`);
    prefix = IPv4Mask.fromDecimalDottedString(maskText).prefix;
  } else {
    return fail(`has ${JSON.stringify(maskText)}, which is neither a prefix length nor a dotted netmask`);
  }
  if (prefix < 1 || prefix > MAX_ADMIN_PREFIX) return fail(`must have a prefix length of 1-${MAX_ADMIN_PREFIX} (has /${prefix})`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ipv4ToInt(addr) & mask) >>> 0;
  if (network !== ipv4ToInt(addr)) {
    return fail(`has host bits set: the network of ${addr}/${prefix} is ${intToIpv4(network)}/${prefix}`);
  }
  const net = parseNetwork(`${addr}/${prefix}`);
  if (!net) return fail('is not a valid network');
  return net;
}
