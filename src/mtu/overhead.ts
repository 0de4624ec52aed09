/**
 * The bytes a VXLAN overlay packet carries on top of the guest's IP packet,
 * and from that the largest inner MTU an underlay MTU allows (docs/mtu.md#the-formula). Pure.
 *
 * Every size comes from one of two tables: `HEADER` (fixed protocol header
 * sizes, from their RFCs) and `ESP_SUITES` (what an ESP suite adds). The
 * ESP result is a step function: the payload is padded so that payload + 2
 * is a multiple of the cipher's block, so one more underlay byte does not
 * always buy one more overlay byte.
 */
import { UsageError } from '../errors.js';

/** Fixed header sizes in bytes. */
export const HEADER = {
  ipv4: 20,
  ipv6: 40,
  /** UDP: the VXLAN transport, and the NAT-T encapsulation (RFC 3948). */
  udp: 8,
  /** RFC 7348. */
  vxlan: 8,
  /** Inner Ethernet: destination MAC, source MAC, EtherType. */
  ethernet: 14,
  /** 802.1Q tag inside the overlay frame. */
  dot1q: 4,
  /** ESP header: SPI 4 + sequence number 4 (RFC 4303). */
  espHeader: 8,
  /** ESP trailer after the padding: pad length 1 + next header 1. */
  espTrailer: 2,
} as const;

/** The smallest MTU an IPv4 link may have (RFC 791); below it the result is useless. */
export const MIN_INNER_MTU = 68;
/** Largest IP packet. */
export const MAX_UNDERLAY_MTU = 65535;

export type EspSuiteName = 'aes-cbc-sha256' | 'aes-cbc-sha512' | 'aes-gcm';
export type EspChoice = EspSuiteName | 'none';

/** What an ESP suite adds, and how Linux names it (used by the lab and the Linux target). */
export interface EspSuite {
  /** Bytes of IV sent with every packet. */
  iv: number;
  /** The payload + trailer is padded to a multiple of this. */
  block: number;
  /** Integrity check value. */
  icv: number;
  /** `ip xfrm state` algorithm arguments, key material excluded. */
  linux:
    | { kind: 'enc-auth'; enc: string; encKeyBytes: number; auth: string; authKeyBytes: number; truncBits: number }
    | { kind: 'aead'; aead: string; keyBytes: number; icvBits: number };
}

/**
 * The suites the mesh can use. AES-CBC: 16-byte IV and block. HMAC-SHA-256
 * truncated to 128 bits, HMAC-SHA-512 to 256 bits (RFC 4868; illumos
 * `encr_auth_algs sha512`). AES-GCM (RFC 4106): 8-byte IV, 4-byte
 * alignment, 16-byte ICV; its 4-byte salt is part of the key, not the packet.
 */
export const ESP_SUITES: Readonly<Record<EspSuiteName, EspSuite>> = {
  'aes-cbc-sha256': {
    iv: 16,
    block: 16,
    icv: 16,
    linux: { kind: 'enc-auth', enc: 'cbc(aes)', encKeyBytes: 16, auth: 'hmac(sha256)', authKeyBytes: 32, truncBits: 128 },
  },
  'aes-cbc-sha512': {
    iv: 16,
    block: 16,
    icv: 32,
    linux: { kind: 'enc-auth', enc: 'cbc(aes)', encKeyBytes: 16, auth: 'hmac(sha512)', authKeyBytes: 64, truncBits: 256 },
  },
  'aes-gcm': {
    iv: 8,
    block: 4,
    icv: 16,
    linux: { kind: 'aead', aead: 'rfc4106(gcm(aes))', keyBytes: 20, icvBits: 128 },
  },
};

export const ESP_CHOICES: readonly EspChoice[] = ['none', 'aes-cbc-sha256', 'aes-cbc-sha512', 'aes-gcm'];

/** One underlay path as the MTU arithmetic sees it. */
export interface PathSpec {
  /** Link MTU of the underlay path (the smaller end). */
  underlayMtu: number;
  /** Outer IP version. */
  ipVersion: 4 | 6;
  /** The overlay frame carries an 802.1Q tag. */
  vlan: boolean;
  /** ESP transport mode between the two underlay hosts, or none. */
  esp: EspChoice;
  /** ESP inside UDP port 4500 (RFC 3948); only with ESP. */
  natT: boolean;
}

/** Bytes per header; they and `inner_mtu` add up to the underlay MTU. */
export interface Overhead {
  outer_ip: number;
  nat_t_udp: number;
  esp_header: number;
  esp_iv: number;
  vxlan_udp: number;
  vxlan: number;
  inner_ethernet: number;
  inner_vlan: number;
  /** Bytes lost to block alignment: the padding the largest packet leaves unused. */
  esp_padding: number;
  esp_trailer: number;
  esp_icv: number;
}

export interface InnerMtu {
  inner_mtu: number;
  overhead: Overhead;
}

/** The largest inner (vNIC) MTU for one path, with the overhead of each header. */
export function innerMtu(spec: PathSpec): InnerMtu {
  const U = spec.underlayMtu;
  if (!Number.isInteger(U) || U < MIN_INNER_MTU || U > MAX_UNDERLAY_MTU) {
    throw new UsageError(`underlay MTU must be a whole number ${MIN_INNER_MTU}-${MAX_UNDERLAY_MTU} (got ${String(U)})`);
  }
  if (spec.natT && spec.esp === 'none') throw new UsageError('NAT-T needs ESP: choose an ESP suite or drop --nat-t');

  const frame = {
    vxlan_udp: HEADER.udp,
    vxlan: HEADER.vxlan,
    inner_ethernet: HEADER.ethernet,
    inner_vlan: spec.vlan ? HEADER.dot1q : 0,
  };
  const frameBytes = frame.vxlan_udp + frame.vxlan + frame.inner_ethernet + frame.inner_vlan;
  const outerIp = spec.ipVersion === 4 ? HEADER.ipv4 : HEADER.ipv6;

  let overhead: Overhead;
  let inner: number;
  if (spec.esp === 'none') {
    inner = U - outerIp - frameBytes;
    overhead = { outer_ip: outerIp, nat_t_udp: 0, esp_header: 0, esp_iv: 0, ...frame, esp_padding: 0, esp_trailer: 0, esp_icv: 0 };
  } else {
    const suite = ESP_SUITES[spec.esp];
    const natT = spec.natT ? HEADER.udp : 0;
    // What is left for the encrypted part: payload + padding + trailer.
    const room = U - outerIp - natT - HEADER.espHeader - suite.iv - suite.icv;
    const aligned = Math.floor(room / suite.block) * suite.block;
    inner = aligned - HEADER.espTrailer - frameBytes;
    overhead = {
      outer_ip: outerIp,
      nat_t_udp: natT,
      esp_header: HEADER.espHeader,
      esp_iv: suite.iv,
      ...frame,
      esp_padding: room - aligned,
      esp_trailer: HEADER.espTrailer,
      esp_icv: suite.icv,
    };
  }
  if (inner < MIN_INNER_MTU) {
    throw new UsageError(`underlay MTU ${U} leaves ${inner} bytes for the overlay, below the minimum ${MIN_INNER_MTU}`);
  }
  return { inner_mtu: inner, overhead };
}

/** The suite `defaults.ipsec` names: GCM authenticates itself, so its `auth` does not matter. */
export function suiteOf(ipsec: { encr: 'aes-cbc' | 'aes-gcm'; auth: 'sha256' | 'sha512' }): EspSuiteName {
  return ipsec.encr === 'aes-gcm' ? 'aes-gcm' : ipsec.auth === 'sha256' ? 'aes-cbc-sha256' : 'aes-cbc-sha512';
}
