/**
 * Handing out adminoverlay addresses (docs/state-format.md#adminoverlay, docs/file-formats.md#danube-defects item 1). Danube
 * starts at subnet + 11 and took "highest assigned + 1" comparing IPs as
 * strings, so `.9` beat `.100` and an address could be handed out twice.
 * Here addresses are numbers: from subnet + 11 up to the last host, then
 * the low hosts subnet + 1 ... + 10, skipping every address in use and never
 * the network or broadcast address. A full subnet is an error that says so.
 */
import { IPv4CidrRange, RangedSet, Validator } from '../ip-num-lib.js';
import { ConflictError, ValidationError, type ValidationIssue } from '../errors.js';
import { intToIpv4, ipv4ToInt, isHostOf, isIpv4, type Ipv4Network } from '../net/ipv4.js';

/** Danube's first node address: subnet + 11 (the first ten are left for gateways and management VMs). */
export const FIRST_NODE_OFFSET = 11;

/** An inclusive range of addresses, as numbers. */
export interface AddressRange {
  first: number;
  last: number;
}

/** Host addresses of a network in hand-out order. */
export function* handOutOrder(net: Ipv4Network): Generator<number> {
  const firstHost = net.prefix >= 31 ? net.first : net.first + 1;
  const lastHost = net.prefix >= 31 ? net.last : net.last - 1;
  const start = Math.min(Math.max(net.first + FIRST_NODE_OFFSET, firstHost), lastHost + 1);
  for (let ip = start; ip <= lastHost; ip++) yield ip;
  for (let ip = firstHost; ip < start; ip++) yield ip;
}

/** Hands out free addresses of one network; addresses in use or reserved are skipped. */
export class AddressPool {
  readonly net: Ipv4Network;
  private readonly used = new Set<number>();
  private readonly reserved: readonly AddressRange[];
  private readonly order: Generator<number>;

  constructor(net: Ipv4Network, inUse: Iterable<number>, reserved: readonly AddressRange[] = []) {
    this.net = net;
    for (const ip of inUse) this.used.add(ip);
    this.reserved = reserved;
    this.order = handOutOrder(net);
  }

  /** Marks an address as taken (an explicit assignment). */
  claim(ip: number): void {
    this.used.add(ip);
  }

  isFree(ip: number): boolean {
    return isHostOf(this.net, ip) && !this.used.has(ip) && !this.reserved.some((r) => ip >= r.first && ip <= r.last);
  }

  /** The next free address; throws ConflictError naming the subnet when none is left. */
  take(forWhat: string): number {
    // The order is walked once overall: an address passed over was taken, and stays taken.
    for (let next = this.order.next(); !next.done; next = this.order.next()) {
      if (this.isFree(next.value)) {
        this.used.add(next.value);
        return next.value;
      }
    }
    const hosts = this.net.prefix >= 31 ? this.net.last - this.net.first + 1 : this.net.last - this.net.first - 1;
    throw new ConflictError(
      `adminoverlay subnet ${this.net.cidr} is full: no free address left for ${forWhat} ` +
        `(${hosts} host addresses, all in use or reserved); use a larger subnet`,
      { code: 'SubnetFull' },
    );
  }
}

/**
 * Parses `--reserve`: comma-separated addresses, CIDR networks and
 * `first-last` ranges (ip-num does the range arithmetic).
 */
export function parseReserved(text: string, path = 'reserve'): AddressRange[] {
  const ranges: AddressRange[] = [];
  const issues: ValidationIssue[] = [];
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .forEach((item, i) => {
      const at = `${path}[${i}]`;
      if (isIpv4(item)) {
        const n = ipv4ToInt(item);
        ranges.push({ first: n, last: n });
      } else if (item.includes('/') && Validator.isValidIPv4CidrNotation(item)[0]) {
        const r = IPv4CidrRange.fromCidr(item);
        ranges.push({ first: Number(r.getFirst().getValue()), last: Number(r.getLast().getValue()) });
      } else if (/^[0-9.]+-[0-9.]+$/.test(item) && Validator.isValidIPv4RangeString(item)[0]) {
        const r = RangedSet.fromRangeString(item);
        ranges.push({ first: Number(r.getFirst().getValue()), last: Number(r.getLast().getValue()) });
      } else {
        issues.push({ path: at, value: item, message: 'must be an IPv4 address, a CIDR network or a range first-last' });
      }
    });
  if (issues.length > 0) throw new ValidationError(issues, '--reserve');
  return ranges;
}

export function formatIp(n: number): string {
  return intToIpv4(n);
}
