// What SmartOS refuses, in one place, for the simulated commands (sim-bin.mjs).
// Each rule names the illumos source it is read from, as file:line in
// illumos-joyent (SmartOS's illumos) at 6e2c24e1 (Dec 2019; read in a fork,
// zssfred/illumos-joyent), checked against illumos-gate today;
// docs/smartos-rules.md lists them with the same sources. Facts only: no code
// is taken from there.

/**
 * Overlay MTU range. usr/src/uts/common/io/overlay/overlay.c:844-846 define
 * OVERLAY_MTU_MIN 576 and OVERLAY_MTU_MAX 8900; overlay.c:1145
 * (overlay_m_setprop) returns EINVAL outside them.
 */
export const OVERLAY_MTU_MIN = 576;
export const OVERLAY_MTU_MAX = 8900;

/** MAXLINKNAMELEN, usr/src/uts/common/sys/param.h:209, the terminating NUL included. */
export const MAXLINKNAMELEN = 32;

/**
 * Link names. usr/src/lib/libdladm/common/libdladm.c:861-891
 * (dladm_valid_linkname): shorter than MAXLINKNAMELEN (:867); not starting
 * with a digit (:871); ending in a number without leading zeroes (:875-880);
 * only letters, digits, `_` and `.` (:887). dladm create-overlay checks it
 * first (usr/src/cmd/dladm/dladm.c:9948).
 */
export function linkNameProblem(name) {
  if (name.length === 0 || name.length >= MAXLINKNAMELEN) return `link name must have 1-${MAXLINKNAMELEN - 1} characters`;
  if (/^[0-9]/.test(name)) return 'link name must not start with a digit';
  const digits = /[0-9]+$/.exec(name)?.[0];
  if (digits === undefined) return 'link name must end with a number';
  if (digits.length > 1 && digits.startsWith('0')) return 'link name must end with a number without leading zeroes';
  if (!/^[A-Za-z0-9_.]+$/.test(name)) return 'link name may only hold letters, digits, "_" and "."';
  return undefined;
}

/** The properties an overlay created with `-e vxlan -s files` has (overlay.c overlay_dev_props, vxlan.c, libvarpd_files.c). */
export const OVERLAY_PROPERTIES = ['mtu', 'vxlan/listen_ip', 'vxlan/listen_port', 'files/config'];

/**
 * `-p` arguments. dladm create-overlay joins every -p with ','
 * (usr/src/cmd/dladm/dladm.c:9912-9915) and parses the whole with
 * dladm_parse_link_props (dladm.c:9957), which splits with dladm_parse_args
 * (libdladm.c:1065): `,` and `=` separate wherever they stand (:1092), so a
 * value cannot hold either. Returns { props } or { error }.
 */
export function parsePropArgs(argv) {
  const props = {};
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-p') continue;
    for (const piece of argv[i + 1].split(',')) {
      const m = /^([^=]+)=([^=]+)$/.exec(piece);
      if (!m) return { error: `invalid property specification: ${argv[i + 1]}` };
      if (!OVERLAY_PROPERTIES.includes(m[1])) return { error: `invalid property: ${m[1]}` };
      props[m[1]] = m[2];
    }
  }
  return { props };
}

/**
 * One overlay per VNI and encapsulation on a host. overlay.c:1327-1333
 * (overlay_i_create): a device with the same odd_vid and plugin as an existing
 * one is refused with EEXIST, whatever its name or port. Returns the link that
 * holds `vnetid`.
 */
export function linkHoldingVni(overlays, vnetid, encap = 'vxlan') {
  return Object.keys(overlays).find((l) => String(overlays[l].vnetid) === String(vnetid) && (overlays[l].encap ?? 'vxlan') === encap);
}

/**
 * An overlay with a vNIC over it cannot be deleted. overlay.c:1494-1513
 * (overlay_i_delete): the link is taken out of dls, then mac_disable runs,
 * which returns EBUSY while the mac has clients such as vNICs (mac.c:2672-2676,
 * `mi_ref > 0`); libdladm maps EBUSY to "link busy" (libdladm.c:493-494,
 * :272-273). A VM's vNIC on an overlay rule's NIC tag `RULE/VNI` sits on the
 * link `RULE` + `VNI` (usr/src/lib/brand/jcommon/statechange:236-239), created
 * with `dladm create-vnic -t` when the zone is readied (:349, run from
 * post-ready at :884-888), so only a VM that is running holds one. `vms` are
 * vmadm's VMs (a VM without a state is running, as in sim-vms.mjs); `vnics`
 * the node's other vNICs by name, each with its `Host Interface`. Returns
 * what holds `link`, or undefined.
 */
export function overlayHolder(link, vms, vnics) {
  for (const vm of vms) {
    if ((vm.state ?? 'running') !== 'running') continue;
    for (const nic of vm.nics ?? []) {
      const m = /^([A-Za-z0-9_]+)\/([0-9]+)$/.exec(nic.nic_tag ?? '');
      if (m && `${m[1]}${m[2]}` === link) return `a vNIC of VM ${vm.uuid}`;
    }
  }
  for (const [name, v] of Object.entries(vnics)) if (v['Host Interface'] === link) return `vNIC ${name}`;
  return undefined;
}

/** C's isspace in the C locale (space, \t \n \v \f \r): varpd's parser and sscanf skip these, nothing else. */
const isCSpace = (c) => c === ' ' || (c >= '\t' && c <= '\r');
const isCDigit = (c) => c >= '0' && c <= '9';
const isCLower = (c) => c >= 'a' && c <= 'z';
const isCHex = (c) => isCDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/**
 * illumos atoi (usr/src/lib/libc/port/gen/atoi.c:54-71): white space and a
 * sign only when the text does not start with a digit, then decimal digits
 * into an int. Past 32 bits the int overflows; we take the two's-complement
 * wrap a compiled loop gives (not verified on illumos).
 */
function cAtoi(text) {
  let i = 0;
  let neg = false;
  if (!isCDigit(text[i] ?? '')) {
    while (isCSpace(text[i] ?? '')) i++;
    if (text[i] === '-' || text[i] === '+') neg = text[i++] === '-';
    if (!isCDigit(text[i] ?? '')) return 0;
  }
  let n = 0n;
  while (isCDigit(text[i] ?? '')) n = n * 10n + BigInt(text.charCodeAt(i++) - 48);
  return Number(BigInt.asIntN(32, neg ? -n : n));
}

/**
 * varpd's files plugin reads files/config at start
 * (usr/src/lib/varpd/files/common/libvarpd_files.c:158-201,
 * varpd_files_start): it maps the file (:180) and parses the bytes with its
 * own JSON parser (:189, nvlist_parse_json of libvarpd_files_json.c, with
 * NVJSON_FORCE_INTEGER). `text` is those bytes: a Buffer, or a string taken
 * as the UTF-8 a file would hold. The parser's rules:
 * - it reads chars until its end or a NUL byte, which reads as the end
 *   (libvarpd_files_json.c:159-174, popchar/peekchar; a C string);
 * - white space is C's isspace (:176-182): no byte-order mark, no no-break space;
 * - the text must start (after white space) with `{` or `[` (:396-415,
 *   hdlr_rest): an empty file fails;
 * - numbers are integers only: `.`, `e` or `E` after the digits fails
 *   (:361-364); they are read with atoi and stored as int32 (:366-369, :741);
 * - after `,` in an object a `"` must follow (:666-689, hdlr_object_comma),
 *   in an array a value (:519-573, hdlr_array_value): no trailing commas;
 * - barewords are lower-case true, false, null only (:288-329);
 * - string escapes: \" \\ \/ \b \f \n \r \t (:184-186, :235-247) and \uXXXX,
 *   its four chars read with atoi, up to 127 (:204-229); a \u0000 ends the
 *   C string that is kept (strdup, :611, :699);
 * - objects and arrays are both nvlists (:417-450, add_empty_child); an
 *   array's members are named by index, with a `length` (uint32) and a
 *   marker member added (:452-467, decorate_array);
 * - a repeated key replaces the earlier one, at the end (NV_UNIQUE_NAME, :425;
 *   usr/src/common/nvpair/nvpair.c:1246-1258);
 * - text after the top-level value is not read.
 * Then libvarpd_files.c:110-156 (varpd_files_normalize_nvlist): every
 * top-level member must be an nvlist (:127), an object or an array alike,
 * whose key ether_aton_r takes (:138); it is stored under ether_ntoa_r's
 * form of that address (:143-148), the last of two keys for one address
 * winning. `{}` is a valid, empty table; a top-level array is not (its marker
 * member is no nvlist). Returns { table } or { error, pos }: the table maps
 * each address to its entry, where an int32 is { int }, an array's `length`
 * { uint32 }, and true, false and null are true, false and null.
 */
export function parseVarpdFilesConfig(input) {
  const text = typeof input === 'string' ? Buffer.from(input, 'utf8').toString('latin1') : Buffer.from(input).toString('latin1');
  let pos = 0;
  const err = (message) => {
    const e = new Error(message);
    e.pos = Math.min(pos, text.length);
    throw e;
  };
  const peek = () => (pos < text.length ? text[pos] : '\0');
  const pop = () => {
    const c = peek();
    pos++;
    return c;
  };
  const ws = () => {
    while (isCSpace(peek())) pos++;
  };
  /** An nvlist (a Map, for its order): a repeated name drops the earlier pair and is appended anew (usr/src/common/nvpair/nvpair.c:1246-1258). */
  const put = (nvl, key, v) => {
    nvl.delete(key);
    nvl.set(key, v);
  };
  const string = () => {
    let out = '';
    for (;;) {
      const c = pop();
      if (c === '"') break;
      if (c === '\0') err('EOF mid-string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = pop();
      if (e === '\0') err('EOF mid-escape sequence');
      if (e === 'u') {
        let digs = '';
        for (let i = 0; i < 4; i++) {
          const d = pop();
          if (d === '\0') err('EOF mid-escape sequence');
          digs += d;
        }
        const n = cAtoi(digs);
        if (n > 127) err('unicode escape above 0x7f');
        out += String.fromCharCode(n & 0xff);
        continue;
      }
      const map = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (!(e in map)) err('unrecognised escape sequence');
      out += map[e];
    }
    const nul = out.indexOf('\0');
    return nul < 0 ? out : out.slice(0, nul);
  };
  const value = () => {
    ws();
    const c = peek();
    if (c === '"') {
      pos++;
      return string();
    }
    if (c === '{') {
      pos++;
      return object();
    }
    if (c === '[') {
      pos++;
      return array();
    }
    if (isCLower(c)) {
      const start = pos;
      while (isCLower(peek())) pos++;
      const m = text.slice(start, pos);
      if (m === 'true') return true;
      if (m === 'false') return false;
      if (m === 'null') return null;
      err("expected 'true', 'false' or 'null'");
    }
    if (c === '-' || isCDigit(c)) {
      const neg = c === '-';
      if (neg) pos++;
      if (!isCDigit(peek())) err('malformed number: expected digit (0-9)');
      const start = pos;
      while (isCDigit(peek())) pos++;
      const digits = text.slice(start, pos);
      if (/[.eE]/.test(peek())) err('do not yet support FRACs or EXPs');
      const t = cAtoi(digits);
      return { int: neg ? Number(BigInt.asIntN(32, -BigInt(t))) : t };
    }
    err('unexpected character at start of value');
  };
  const object = () => {
    const out = new Map();
    ws();
    let c = pop();
    if (c === '}') return out;
    if (c !== '"') err("expected key or '}'");
    for (;;) {
      const key = string();
      ws();
      if (pop() !== ':') err("expected ':'");
      put(out, key, value());
      ws();
      c = pop();
      if (c === '}') return out;
      if (c !== ',') err("expected ',' or '}'");
      ws();
      if (pop() !== '"') err('expected \'"\'');
    }
  };
  const array = () => {
    const out = new Map();
    let n = 0;
    ws();
    if (peek() !== ']') {
      for (;;) {
        put(out, String(n++), value());
        ws();
        const c = pop();
        if (c === ']') break;
        if (c !== ',') err("expected ',' or ']'");
      }
    } else pos++;
    put(out, '.__json_array', true);
    put(out, 'length', { uint32: n });
    return out;
  };
  try {
    ws();
    const c = pop();
    if (c !== '{' && c !== '[') {
      pos--;
      err('EOF before object or array');
    }
    const top = c === '{' ? object() : array();
    const table = new Map();
    // An array's marker member is no nvlist, so a top-level array always fails (libvarpd_files.c:127).
    if (c === '[') return { error: 'the table is an array, not an object of MAC addresses (varpd_files_normalize_nvlist)', pos };
    for (const [key, v] of top) {
      if (!(v instanceof Map)) return { error: `member ${JSON.stringify(key)} is not an object (varpd_files_normalize_nvlist)`, pos };
      const mac = etherAton(key);
      if (!mac) return { error: `key ${JSON.stringify(key)} is not a MAC address (ether_aton)`, pos };
      put(table, mac, v);
    }
    return { table: Object.fromEntries([...table].map(([mac, v]) => [mac, plain(v)])) };
  } catch (e) {
    if (e instanceof RangeError) return { error: 'nested deeper than the simulator can follow', pos };
    return { error: e.message, pos: e.pos };
  }
}

/** An nvlist as a plain object, in its order. */
function plain(v) {
  return v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])) : v;
}

/**
 * ether_aton_r (usr/src/lib/libsocket/inet/ether_addr.c:291-303):
 * sscanf(s, " %x:%x:%x:%x:%x:%x") must fill all six, each cut to a byte
 * (:300-301). sscanf's %x (usr/src/lib/libc/port/stdio/doscan.c): skips
 * white space (:513-520), takes a sign (:736-744) and a 0x or 0X prefix only
 * when a hex digit follows it, else the 0 is the number and the x is left
 * (:745-777); then hex digits, at most 62 of them, the 63rd failing the
 * conversion (:778-795); a negative number is negated (:796-799). The `:`
 * between parts must follow at once (:245-249); what follows the sixth part
 * is not read. Returns the form ether_ntoa_r prints (ether_addr.c:263-271:
 * `%x` per byte, lower case, no leading zeroes), or undefined.
 */
export function etherAton(s) {
  let i = 0;
  const at = (k) => (k < s.length ? s[k] : '\0');
  const bytes = [];
  for (let part = 0; part < 6; part++) {
    if (part > 0) {
      if (at(i) !== ':') return undefined;
      i++;
    }
    while (isCSpace(at(i))) i++;
    let neg = false;
    if (at(i) === '-' || at(i) === '+') neg = s[i++] === '-';
    if (at(i) === '0' && (at(i + 1) === 'x' || at(i + 1) === 'X') && isCHex(at(i + 2))) i += 2;
    const start = i;
    while (isCHex(at(i))) {
      if (i - start >= 62) return undefined;
      i++;
    }
    if (i === start) return undefined;
    // Only the last two digits reach the byte.
    const low = Number.parseInt(s.slice(Math.max(start, i - 2), i), 16);
    bytes.push(neg ? (256 - low) & 0xff : low);
  }
  return bytes.map((b) => b.toString(16)).join(':');
}

/**
 * inet_pton(AF_INET) (usr/src/lib/libc/port/inet/inet_pton.c:82-119):
 * exactly four dot-separated decimal parts of 0-255, leading zeroes allowed,
 * nothing else (no white space, no empty part).
 */
export function inetPton4(s) {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^[0-9]+$/.test(p) && Number.parseInt(p, 10) <= 255);
}

/**
 * inet_pton(AF_INET6) (inet_pton.c:135-220): groups of 1-4 hex digits
 * (:158-167) split by `:`, at most one `::` (:168-174), a leading `:` only as
 * `::` (:149-151), no trailing single `:` (:175-177), an IPv4 dotted quad as
 * the last 32 bits (:186-191), and 16 bytes in all (:194-217).
 */
export function inetPton6(s) {
  let i = 0;
  if (s[0] === ':') {
    if (s[1] !== ':') return false;
    i = 1;
  }
  let bytes = 0;
  let gap = false;
  let sawDigit = false;
  let val = 0;
  let token = i;
  for (; i < s.length; i++) {
    const c = s[i];
    if (isCHex(c)) {
      val = val * 16 + Number.parseInt(c, 16);
      if (val > 0xffff) return false;
      sawDigit = true;
      continue;
    }
    if (c === ':') {
      token = i + 1;
      if (!sawDigit) {
        if (gap) return false;
        gap = true;
        continue;
      }
      if (i + 1 === s.length) return false;
      if (bytes + 2 > 16) return false;
      bytes += 2;
      sawDigit = false;
      val = 0;
      continue;
    }
    if (c === '.' && bytes + 4 <= 16 && inetPton4(s.slice(token))) {
      bytes += 4;
      sawDigit = false;
      break;
    }
    return false;
  }
  if (sawDigit) {
    if (bytes + 2 > 16) return false;
    bytes += 2;
  }
  if (gap) return bytes < 16;
  return bytes === 16;
}

/** What nvlist_lookup_string finds: a string, else nothing. */
const str = (v) => (typeof v === 'string' ? v : undefined);

/**
 * Entries whose lookups varpd drops (libvarpd_files.c:290-323,
 * varpd_files_lookup): the entry has no int32 `port` (:295; a string "4789"
 * or true is none) of 1-65535 (:300), or no string `ip` that inet_pton takes
 * as IPv6 or else as IPv4 (:306-323). An entry that is an array has neither.
 * Unknown members are never looked at. These do not fail the start; traffic
 * to that MAC is dropped.
 */
export function droppedEntries(table) {
  const out = [];
  for (const [mac, e] of Object.entries(table)) {
    const port = e.port;
    const portOk = port !== null && typeof port === 'object' && 'int' in port && port.int > 0 && port.int <= 65535;
    const ip = str(e.ip);
    const ipOk = ip !== undefined && (inetPton6(ip) || inetPton4(ip));
    if (!portOk || !ipOk) out.push(mac);
  }
  return out;
}

/**
 * Proxy answers varpd cannot give from an entry (libvarpd_files.c:458-529,
 * varpd_files_proxy_arp, and :531-569, varpd_files_proxy_dhcp): an `arp`
 * that is no string IPv4 address (:497-501), an `ndp` that is no string IPv6
 * address (:507-511), a `dhcp-proxy` that is no string ether_aton_r takes
 * (:557-565). Such an entry is skipped for that question; a missing member
 * is simply no answer and not listed. The first entry, in the table's order,
 * whose address matches answers an ARP or NDP question (:479-525).
 */
export function unusableProxyFields(table) {
  const out = [];
  for (const [mac, e] of Object.entries(table)) {
    const check = [
      ['arp', inetPton4],
      ['ndp', inetPton6],
      ['dhcp-proxy', (v) => etherAton(v) !== undefined],
    ];
    for (const [field, ok] of check) {
      if (!(field in e)) continue;
      const v = str(e[field]);
      if (v === undefined || !ok(v)) out.push({ mac, field });
    }
  }
  return out;
}

/** The MAC varpd answers an ARP question for `ip` with (libvarpd_files.c:479-525), or undefined. */
export function proxyArpAnswer(table, ip) {
  for (const [mac, e] of Object.entries(table)) {
    const arp = str(e.arp);
    if (arp !== undefined && inetPton4(arp) && inet4Bytes(arp) === inet4Bytes(ip)) return mac;
  }
  return undefined;
}

const inet4Bytes = (s) => s.split('.').map((p) => Number.parseInt(p, 10)).join('.');
