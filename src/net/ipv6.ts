/**
 * IPv6 spelling. One address has many spellings (`2001:DB8:0::1`,
 * `2001:db8::1`); duplicates are found and tables are written in one
 * canonical form, RFC 5952 (lower case, longest zero run compressed), which
 * is what the WHATWG URL parser produces for a bracketed host.
 */

/** The RFC 5952 form of an IPv6 address; undefined when `ip` is not one. */
export function canonicalIpv6(ip: string): string | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(ip) || !ip.includes(':')) return undefined;
  try {
    const host = new URL(`http://[${ip}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}
