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

/**
 * varpd's files plugin reads files/config at start
 * (usr/src/lib/varpd/files/common/libvarpd_files.c:159, varpd_files_start)
 * with its own JSON parser (libvarpd_files.c:189 calls nvlist_parse_json of
 * libvarpd_files_json.c with NVJSON_FORCE_INTEGER), whose rules are:
 * - the text must start (after white space) with `{` or `[`
 *   (libvarpd_files_json.c:412, hdlr_rest): an empty file fails;
 * - numbers are integers only: `.`, `e` or `E` after the digits fails (:362);
 *   they are stored as int32 (:741);
 * - after `,` in an object a `"` must follow (:667, hdlr_object_comma), in an
 *   array a value (:520-568, hdlr_array_value): no trailing commas;
 * - barewords are lower-case true, false, null only (:324);
 * - string escapes: \" \\ \/ \b \f \n \r \t and \uXXXX up to 0x7f (:221, :246);
 * - text after the top-level value is not read.
 * Then libvarpd_files.c:111-150 (varpd_files_normalize_nvlist): every
 * top-level member must be an object (:127) whose key ether_aton accepts
 * (:138): `{}` is a valid, empty table; a top-level array is not (its
 * "length" member is no object). Returns { table } or { error, pos }.
 */
export function parseVarpdFilesConfig(text) {
  let pos = 0;
  const err = (message) => {
    const e = new Error(message);
    e.pos = pos;
    throw e;
  };
  const ws = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const string = () => {
    let out = '';
    for (;;) {
      if (pos >= text.length) err('EOF mid-string');
      const c = text[pos++];
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (pos >= text.length) err('EOF mid-escape sequence');
      const e = text[pos++];
      if (e === 'u') {
        const digs = text.slice(pos, pos + 4);
        if (digs.length < 4) err('EOF mid-escape sequence');
        pos += 4;
        const n = Number.parseInt(digs, 10); // the parser reads them with atoi()
        if (n > 127) err('unicode escape above 0x7f');
        out += String.fromCharCode(Number.isNaN(n) ? 0 : n);
        continue;
      }
      const map = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (!(e in map)) err('unrecognised escape sequence');
      out += map[e];
    }
  };
  const value = () => {
    ws();
    const c = text[pos];
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
    if (c !== undefined && /[a-z]/.test(c)) {
      const m = /^[a-z]*/.exec(text.slice(pos))[0];
      pos += m.length;
      if (m === 'true') return true;
      if (m === 'false') return false;
      if (m === 'null') return null;
      err("expected 'true', 'false' or 'null'");
    }
    if (c === '-' || (c !== undefined && /[0-9]/.test(c))) {
      const m = /^-?([0-9]*)/.exec(text.slice(pos));
      if (m[1] === '') err('malformed number: expected digit (0-9)');
      pos += m[0].length;
      if (/[.eE]/.test(text[pos] ?? '')) err('do not yet support FRACs or EXPs');
      return { int: Number(m[0]) };
    }
    err('unexpected character at start of value');
  };
  const object = () => {
    const out = {};
    ws();
    let c = text[pos++];
    if (c === '}') return out;
    if (c !== '"') err("expected key or '}'");
    for (;;) {
      const key = string();
      ws();
      if (text[pos++] !== ':') err("expected ':'");
      out[key] = value();
      ws();
      c = text[pos++];
      if (c === '}') return out;
      if (c !== ',') err("expected ',' or '}'");
      ws();
      if (text[pos++] !== '"') err('expected \'"\'');
    }
  };
  const array = () => {
    const out = [];
    ws();
    if (text[pos] === ']') {
      pos++;
      return out;
    }
    for (;;) {
      out.push(value());
      ws();
      const c = text[pos++];
      if (c === ']') return out;
      if (c !== ',') err("expected ',' or ']'");
    }
  };
  try {
    ws();
    const c = text[pos++];
    if (c !== '{' && c !== '[') err('EOF before object or array');
    const top = c === '{' ? object() : array();
    if (Array.isArray(top)) return { error: 'the table is an array, not an object of MAC addresses (varpd_files_normalize_nvlist)', pos };
    const table = {};
    for (const [key, v] of Object.entries(top)) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || 'int' in v) {
        return { error: `member ${JSON.stringify(key)} is not an object (varpd_files_normalize_nvlist)`, pos };
      }
      const mac = etherAton(key);
      if (!mac) return { error: `key ${JSON.stringify(key)} is not a MAC address (ether_aton)`, pos };
      table[mac] = v;
    }
    return { table };
  } catch (e) {
    return { error: e.message, pos: e.pos };
  }
}

/** ether_aton: six groups of one or two hex digits separated by `:` → canonical lower-case form. */
export function etherAton(s) {
  if (!/^[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5}$/.test(s)) return undefined;
  return s.split(':').map((x) => Number.parseInt(x, 16).toString(16)).join(':');
}

/**
 * Entries whose lookups varpd drops (libvarpd_files.c:295-320,
 * varpd_files_lookup): `port` must be an int32 of 1-65535 (:295, :300) and
 * `ip` an address inet_pton accepts (:306). These do not fail the start;
 * traffic to that MAC is dropped.
 */
export function droppedEntries(table) {
  const out = [];
  for (const [mac, e] of Object.entries(table)) {
    const port = e.port;
    const portOk = port !== null && typeof port === 'object' && 'int' in port && port.int > 0 && port.int <= 65535;
    const ipOk = typeof e.ip === 'string' && (/^\d{1,3}(\.\d{1,3}){3}$/.test(e.ip) || e.ip.includes(':'));
    if (!portOk || !ipOk) out.push(mac);
  }
  return out;
}
