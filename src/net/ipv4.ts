/**
 * IPv4 arithmetic on plain numbers for the hot paths (allocation, membership
 * over thousands of NICs). Parsing and CIDR validation defer to ip-num's
 * validator so the accepted syntax is one library's.
 */
import { IPv4CidrRange, Validator } from '../ip-num-lib.js';

/** Dotted quad → unsigned 32-bit number. Throws on a malformed address. */
export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) throw new TypeError(`not an IPv4 address: ${ip}`);
    const octet = Number(part);
    if (octet > 255) throw new TypeError(`not an IPv4 address: ${ip}`);
    n = n * 256 + octet;
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIpv4(s: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(s) && Validator.isValidIPv4String(s)[0];
}

/** An IPv4 network, with its bounds as numbers. */
export interface Ipv4Network {
  cidr: string;
  /** Network address (first), as a number. */
  first: number;
  /** Broadcast address (last), as a number. */
  last: number;
  prefix: number;
  netmask: string;
  network: string;
}

/** Parses an aligned CIDR (`10.44.0.0/24`); undefined when malformed or host bits are set. */
export function parseNetwork(cidr: string): Ipv4Network | undefined {
  if (!/^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/.test(cidr) || !Validator.isValidIPv4CidrRange(cidr)[0]) {
    return undefined;
  }
  const range = IPv4CidrRange.fromCidr(cidr);
  const prefix = Number(range.getPrefix().getValue());
  return {
    cidr,
    first: Number(range.getFirst().getValue()),
    last: Number(range.getLast().getValue()),
    prefix,
    netmask: range.getPrefix().toMask().toString(),
    network: range.getFirst().toString(),
  };
}

/** True when `ip` is a usable host address of `net`: inside it, not its network or broadcast address. */
export function isHostOf(net: Ipv4Network, ip: number): boolean {
  if (net.prefix >= 31) return ip >= net.first && ip <= net.last; // RFC 3021 point-to-point
  return ip > net.first && ip < net.last;
}
