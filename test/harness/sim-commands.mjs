// Simulated SmartOS commands of one node (test/harness), as one function:
// the light nodes (light-nodes.ts) run them in their own process, and
// sim-bin.mjs runs the same function for the sshd nodes' commands that need
// Node. What they refuse is in smartos-rules.mjs, with sources. Each call is
// recorded in <root>/var/sim/calls.jsonl; state lives under <root>/var/sim.
// They stand in for the OS, never for esdc-overlay's own code.
//
// runSimCommand(root, cmd, args) -> { code, stdout, stderr }. svcadm, svcs,
// ikeadm, chown and the restore scripts are shell scripts on the sshd nodes
// (sim-cluster.ts SH_COMMANDS); the functions below follow the same rules for
// the light nodes. Synchronous: one call runs to its end before the next.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { linkHoldingVni, linkNameProblem, overlayHolder, OVERLAY_MTU_MAX, OVERLAY_MTU_MIN, parsePropArgs, parseVarpdFilesConfig, droppedEntries, unusableProxyFields } from './smartos-rules.mjs';

/** A command's early end with a status (what `exit` is in a script). */
class SimExit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

// The call being run: set by runSimCommand, read by the helpers below (calls never overlap).
let root = '';
let cmd = '';
let sim = '';
let io = { stdout: '', stderr: '' };
const under = (p) => join(root, p);
const stdout = (s) => (io.stdout += s);
const stderr = (s) => (io.stderr += s);

export function runSimCommand(nodeRoot, command, args) {
  root = nodeRoot;
  cmd = command;
  sim = join(root, 'var/sim');
  io = { stdout: '', stderr: '' };
  // varpd-restart is svcadm's helper, which has recorded the call already.
  if (cmd !== 'varpd-restart') appendFileSync(join(sim, 'calls.jsonl'), `${JSON.stringify({ cmd, args, at: Date.now() })}\n`);
  try {
    run(args);
    return { code: 0, ...io };
  } catch (err) {
    if (err instanceof SimExit) return { code: err.code, ...io };
    throw err;
  }
}

function fail(msg, code = 1) {
  stderr(`${cmd}: ${msg}\n`);
  throw new SimExit(code);
}

function usage(text, code) {
  stderr(`${text}\n`);
  throw new SimExit(code);
}

function readJson(file, fallback) {
  try {
    return JSON.parse(readFileSync(join(sim, file), 'utf8'));
  } catch {
    return fallback;
  }
}
function writeJson(file, value) {
  replaceText(join(sim, file), `${JSON.stringify(value, null, 2)}\n`);
  // The shell dladm answers the common `show-overlay -p -o link,property,value` from this.
  if (file === 'overlays.json') {
    const links = Object.keys(value).sort();
    replaceText(join(sim, 'overlays.txt'), showOverlayLines(value, ['link', 'property', 'value'], true, false, links).join(''));
    replaceText(join(sim, 'overlays.warn'), lostInstanceWarnings(value, links).join(''));
  }
}

/**
 * The simulation's own bookkeeping file replaced whole, unless it already holds `text` (every varpd
 * restart rewrote its unchanged state files: three writes and renames a restart, none of it a node's work).
 */
function replaceText(p, text) {
  let had;
  try {
    had = readFileSync(p, 'utf8');
  } catch {
    had = undefined;
  }
  if (had === text) return;
  writeFileSync(`${p}.tmp`, text);
  renameSync(`${p}.tmp`, p);
}


/** /usbkey/config as key → value (shell quotes removed). */
function usbkey() {
  const out = {};
  const p = under('/usbkey/config');
  if (!existsSync(p)) return out;
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** dladm create-overlay, refusing what illumos refuses (smartos-rules.mjs has each rule's source). */
function createOverlay(argv) {
  const link = argv[argv.length - 1];
  const overlays = readJson('overlays.json', {});
  const badName = linkNameProblem(link);
  if (badName) fail(`create operation failed: ${badName}: ${link}`);
  if (overlays[link]) fail(`create operation failed: object already exists: ${link}`);
  const vi = argv.indexOf('-v');
  if (vi < 0 || !/^\d+$/.test(argv[vi + 1] ?? '')) fail('a virtual network id (-v) is required');
  const vnetid = argv[vi + 1];
  const parsed = parsePropArgs(argv);
  if (parsed.error) fail(`create operation failed: ${parsed.error}`);
  const p = parsed.props;
  for (const k of ['vxlan/listen_ip', 'vxlan/listen_port', 'files/config']) if (!(k in p)) fail(`missing required property ${k}`);
  if (p.mtu !== undefined && !(/^\d+$/.test(p.mtu) && Number(p.mtu) >= OVERLAY_MTU_MIN && Number(p.mtu) <= OVERLAY_MTU_MAX)) {
    fail(`create operation failed: invalid mtu value ${p.mtu}: Invalid argument`);
  }
  const holder = linkHoldingVni(overlays, vnetid);
  if (holder) fail(`create operation failed: object already exists (vnetid ${vnetid} is used by ${holder})`);
  // The new varpd instance is started before the link is kept (libdloverlay.c:579-588: a failed
  // activation deletes the link again): the start reads files/config (libvarpd.c:304-306, vpo_start;
  // libvarpd_files.c:168-170, its open), so a missing or unparseable table fails the create.
  const start = startFiles(p['files/config']);
  if (start.error) fail(`overlay creation failed: failed to activate varpd instance: ${start.error}`);
  // The instance's number, as show-overlay's warning prints it: the simulator's own count (varpd takes one from its id space).
  const varpdId = Math.max(0, ...Object.values(overlays).map((o) => o.varpdId ?? 0)) + 1;
  overlays[link] = { vnetid, mtu: '1400', ...p, temporary: argv.includes('-t'), varpdId };
  writeJson('overlays.json', overlays);
}

/** varpd's files plugin starting on `path`: the table it reads, or why it cannot (unreadable, or refused by its parser). */
function startFiles(path) {
  let text;
  try {
    // The bytes, as varpd maps them (libvarpd_files.c:180): its parser reads chars, not UTF-8.
    text = readFileSync(under(path));
  } catch (e) {
    return { error: `${path}: ${e.code ?? e.message}` };
  }
  const r = parseVarpdFilesConfig(text);
  return r.error ? { error: `${path}: ${r.error} (at ${r.pos})` } : { table: r.table };
}

/**
 * varpd restarting: every overlay's instance is restored from varpd's own
 * store, and its files/config read again with the files plugin's rules
 * (smartos-rules.mjs). An instance whose file cannot be read or parsed fails
 * its start (libvarpd_persist.c:362-365), is destroyed, and its stored copy is
 * unlinked (:547-556), so no later restart brings it back, whatever the file
 * then holds; the link itself stays, degraded with "no varpd instance exists"
 * (:447-463, :560), until it is deleted and created again. varpd-errors.json
 * says which links lost their instance and why, which entries' lookups
 * would be dropped, and which arp, ndp or dhcp-proxy members varpd cannot
 * answer from, none of which fails the start.
 */
function varpdRestart() {
  const overlays = readJson('overlays.json', {});
  const errors = {};
  for (const [link, o] of Object.entries(overlays)) {
    const path = o['files/config'];
    if (path === undefined) continue;
    if (o.degraded) {
      errors[link] = { dropped: true, error: `${o.degraded} (lost at an earlier restart)` };
      continue;
    }
    const start = startFiles(path);
    if (start.error !== undefined) {
      errors[link] = { dropped: true, error: start.error };
      o.degraded = 'no varpd instance exists';
      continue;
    }
    const drops = droppedEntries(start.table);
    const unusable = unusableProxyFields(start.table);
    if (drops.length > 0 || unusable.length > 0) errors[link] = { dropped: false, lookupsDropped: drops, proxyFieldsUnusable: unusable };
  }
  writeJson('overlays.json', overlays);
  writeJson('varpd-errors.json', errors);
}

/** `dladm show-overlay` rows for `links`, one line per (link, property), or per link with -f. */
function showOverlayLines(overlays, fields, parseable, fabric, links) {
  const rows = [];
  for (const l of links) {
    if (fabric) {
      // dladm.c:10362-10383 (print_overlay_fma_cb): DEGRADED with the kernel's message, else ONLINE and -.
      rows.push({ link: l, status: overlays[l].degraded ? 'DEGRADED' : 'ONLINE', details: overlays[l].degraded ?? '-' });
      continue;
    }
    for (const prop of ['files/config', 'mtu', 'vnetid', 'vxlan/listen_ip', 'vxlan/listen_port']) {
      // files/config is varpd's, asked of the overlay's instance (libdloverlay.c:445-466): with none, it is not listed.
      if (prop === 'files/config' && overlays[l].degraded) continue;
      if (overlays[l][prop] !== undefined) rows.push({ link: l, property: prop, value: overlays[l][prop] });
    }
  }
  const seen = new Set();
  const out = [];
  for (const r of rows) {
    const line = fields.map((f) => (parseable ? escapeField(r[f] ?? '') : String(r[f] ?? '-'))).join(parseable ? ':' : '  ');
    if (seen.has(line)) continue;
    seen.add(line);
    out.push(`${line}\n`);
  }
  return out;
}

/** show-overlay's warning for each of `links` whose varpd instance is gone (see its caller in run). */
function lostInstanceWarnings(overlays, links) {
  return links.filter((l) => overlays[l].degraded).map((l) => `dladm: warning: failed to get varpd props for overlay ${l}, varpd id ${overlays[l].varpdId ?? 1}: ok\n`);
}

function escapeField(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

function run(args) {
  switch (cmd) {
  case 'sysinfo': {
    const node = readJson('node.json', {});
    const cfg = usbkey();
    const rules = {};
    for (const [k, v] of Object.entries(cfg)) if (/^overlay_rule_[a-zA-Z0-9_]*[a-zA-Z_]$/.test(k)) rules[k.slice('overlay_rule_'.length)] = v;
    const overlays = Object.fromEntries(Object.keys(readJson('overlays.json', {})).sort().map((l) => [l, '']));
    const vnics = readJson('vnics.json', {});
    const out = {
      UUID: node.uuid,
      Hostname: node.hostname,
      'Datacenter Name': node.pdc,
      'Network Interfaces': {
        e1000g0: { 'MAC Address': node.admin_mac, ip4addr: node.admin_ip, 'Link Status': 'up', MTU: String(node.admin_mtu ?? 1500), 'NIC Names': ['admin'] },
        e1000g1: { 'MAC Address': node.external_mac, ip4addr: '', 'Link Status': 'up', MTU: String(node.external_mtu ?? 1500), 'NIC Names': ['external'] },
      },
      'Virtual Network Interfaces': {
        ...(node.external_ip ? { external0: { 'MAC Address': node.external_mac, ip4addr: node.external_ip, 'Link Status': 'up', 'Host Interface': 'e1000g1', VLAN: '0' } } : {}),
        ...vnics,
      },
      'Link Aggregations': {},
      Overlays: overlays,
      'Overlay Rules': rules,
    };
    stdout(`${JSON.stringify(out, null, 2)}\n`);
    break;
  }
  case 'vmadm': {
    if (args[0] !== 'lookup') fail(`unsupported: vmadm ${args.join(' ')}`);
    stdout(`${JSON.stringify(readJson('vms.json', []))}\n`);
    break;
  }
  case 'dladm': {
    const sub = args[0];
    const overlays = readJson('overlays.json', {});
    if (sub === 'show-overlay') {
      const rest = args.slice(1);
      const parseable = rest.includes('-p');
      const oi = rest.indexOf('-o');
      // The default fields: dladm.c overlay_fields and overlay_fma_fields (-f).
      const fields = oi >= 0 ? rest[oi + 1].split(',') : rest.includes('-f') ? ['link', 'status', 'details'] : ['link', 'property', 'value'];
      const positional = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '-o');
      const links = positional.length > 0 ? positional : Object.keys(overlays).sort();
      for (const l of links) if (!overlays[l]) fail(`show-overlay failed: object not found`);
      const fabric = rest.includes('-f');
      stdout(showOverlayLines(overlays, fields, parseable, fabric, links).join(''));
      // An overlay whose varpd instance is gone: show-overlay walks its kernel properties, then asks varpd
      // for the instance's (libdloverlay.c:445-466), which fails (libvarpd_door.c:101-103, ENOENT); the
      // walk's error is printed as a warning (dladm.c:10227-10233, :9111-9124; the message's status is the
      // earlier lookup's, DLADM_STATUS_OK, libdloverlay.c:468-471, libdladm.c:200-201) and dladm exits 1
      // (dladm.c:10491-10497). -f reads the kernel's status only (libdloverlay.c:886-908).
      const warnings = fabric ? [] : lostInstanceWarnings(overlays, links);
      for (const w of warnings) stderr(w);
      if (warnings.length > 0) throw new SimExit(1);
    } else if (sub === 'create-overlay') {
      createOverlay(args);
    } else if (sub === 'delete-overlay') {
      // dladm.c:9971-9987 (do_delete_overlay): exactly one link name, else usage; a name that is not
      // a link fails its lookup ("object not found", libdladm.c:216); then the kernel's refusal.
      if (args.length !== 2) usage('usage:  dladm <subcommand> <args> ...\n    delete-overlay   <overlay>', 1); // dladm.c:1555-1571, 424-425 (abridged)
      const link = args[1];
      if (!overlays[link]) fail(`failed to delete ${link}: object not found`);
      if (overlayHolder(link, readJson('vms.json', []), readJson('vnics.json', {}))) fail(`failed to delete ${link}: link busy`);
      delete overlays[link];
      writeJson('overlays.json', overlays);
    } else fail(`unsupported: dladm ${sub}`);
    break;
  }
  case 'net-virtual': {
    if (args[0] !== 'refresh' && args[0] !== 'start') fail(`usage: net-virtual start|refresh`);
    const cfg = usbkey();
    const rules = {};
    for (const [k, v] of Object.entries(cfg)) if (/^overlay_rule_[a-zA-Z0-9_]*[a-zA-Z_]$/.test(k)) rules[k.slice('overlay_rule_'.length)] = v;
    // Like the platform: rewritten only when at least one rule exists (docs/file-formats.md#danube-defects, item 10).
    if (Object.keys(rules).length > 0) {
      const p = under('/var/run/smartdc/networking/overlay_rules.json');
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, `${JSON.stringify(rules, null, 4)}\n`);
    }
    // New overlay vNICs only; existing ones are never changed.
    const vnics = readJson('vnics.json', {});
    const vxlan = cfg.adminoverlay_0_vxlan_id;
    if (vxlan && rules.adminoverlay && !vnics.adminoverlay_0) {
      const link = `adminoverlay${vxlan}`;
      if (!readJson('overlays.json', {})[link]) createOverlay(['create-overlay', ...rules.adminoverlay.split(/\s+/), '-v', vxlan, '-t', link]);
      vnics.adminoverlay_0 = { 'MAC Address': cfg.adminoverlay_0_mac, ip4addr: cfg.adminoverlay_0_ip, 'Link Status': 'up', 'Host Interface': link, VLAN: cfg.adminoverlay_0_vlan_id ?? '0' };
      writeJson('vnics.json', vnics);
    }
    stdout('Changing or removing existing VNICs is currently not supported. Only adding of new VNICs will work.\n');
    break;
  }
  case 'varpd-restart':
    varpdRestart();
    break;
  case 'svcadm':
    svcadm(args);
    break;
  case 'svcs':
    svcs(args);
    break;
  case 'ikeadm':
    // in.iked re-reads ike.preshared on this (ikeadm(8)); the simulation records the call.
    if (args.join(' ') !== 'read preshared') usage('usage: ikeadm read preshared', 1);
    break;
  case '010-ipf-restore.sh':
    if (args[0] !== 'start' && args[0] !== 'refresh') usage('usage: 010-ipf-restore.sh start|refresh', 1);
    ipfRestore();
    break;
  case '020-ipsec-restore.sh':
    if (args[0] !== 'start' && args[0] !== 'refresh') usage('usage: 020-ipsec-restore.sh start|refresh', 1);
    break;
  case 'chown':
    chown(args);
    break;
  default:
    fail(`unknown simulated command`, 127);
  }
}

// The commands below are shell scripts on the sshd nodes (sim-cluster.ts SH_COMMANDS), with the same rules.

/** The file that holds when a restarted service is online again. */
function svcFile(fmri) {
  let svc = fmri.startsWith('svc:/') ? fmri.slice(5) : fmri;
  if (svc.endsWith(':default')) svc = svc.slice(0, -':default'.length);
  return join(sim, 'svc', svc.replace(/\//g, '_'));
}

// restart returns at once (svcadm(8): no -s for restart); the instance is offline, next state online, for
// var/sim/svc-delay-ms (default 200) and then online, as svcs shows. varpd's restart re-reads every files/config.
function svcadm(args) {
  const USAGE = 'usage: svcadm restart|refresh|enable|disable|clear FMRI';
  if (!['restart', 'refresh', 'enable', 'disable', 'clear'].includes(args[0]) || !args[1]) usage(USAGE, 2);
  if (args[0] !== 'restart') return;
  const file = svcFile(args[1]);
  if (file.endsWith('/network_varpd')) {
    const saved = cmd;
    cmd = 'varpd-restart';
    varpdRestart();
    cmd = saved;
  }
  let delay = 200;
  try {
    delay = Number(readFileSync(join(sim, 'svc-delay-ms'), 'utf8').trim());
  } catch {
    // the default
  }
  // Online at once (delay 0) and online already: what svcs shows stays the same, so the file is left as it is
  // (the simulation's own bookkeeping: rewriting it cost each restart a synchronous write in the node's thread).
  if (delay <= 0 && onlineFrom(file) <= Date.now()) return;
  mkdirSync(join(sim, 'svc'), { recursive: true });
  writeFileSync(file, `${Date.now() + delay}\n`);
}

/** When a restarted instance is online again (ms since the epoch; 0: never restarted). */
function onlineFrom(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return 0; // never restarted
  }
}

function svcs(args) {
  if (args.slice(0, 3).join(' ') !== '-H -o state,nstate' || !args[3]) usage('usage: svcs -H -o state,nstate FMRI', 2);
  stdout(Date.now() < onlineFrom(svcFile(args[3])) ? 'offline        online\n' : 'online         -\n');
}

// Danube's restore script concatenates every file whose name starts with the conf file's name, in `ls`
// order, into /etc/ipf (erigones/esdc-factory ansible/files/archives/opt-custom/etc/rc-pre-network.d/
// 010-ipf-restore.sh:23-25 for the directories and names, :45 `ls -1 ${RULES_DIR}/${cfgfile}*`, :54 `xargs cat`);
// a conf file with no match is left alone. A glob's `*` never matches a leading dot. `ls` order is taken
// as byte order (the C locale).
function ipfRestore() {
  const dir = under('/opt/custom/etc/ipf.d');
  if (!existsSync(dir)) return;
  mkdirSync(under('/etc/ipf'), { recursive: true });
  const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const cfgfile of ['ipf.conf', 'ipnat.conf', 'ipf6.conf']) {
    const list = names.filter((n) => n.startsWith(cfgfile));
    if (list.length === 0) continue;
    writeFileSync(under(`/etc/ipf/${cfgfile}`), list.map((n) => readFileSync(join(dir, n), 'utf8')).join(''));
  }
}

// Records owners in owners.log ("owner:group path", the last line wins); user names are SmartOS's, not this
// machine's. A staged file (`.<name>.esdc-new-<run>`) is recorded under its target's name.
function chown(args) {
  const [spec, ...paths] = args;
  if (spec === undefined || !/^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/.test(spec) || paths.length === 0) usage('usage: chown owner[:group] file...', 2);
  for (const p of paths) if (!existsSync(under(p))) usage(`chown: ${p}: No such file or directory`, 1);
  const lines = paths.map((p) => {
    const d = p.slice(0, p.lastIndexOf('/'));
    let b = p.slice(p.lastIndexOf('/') + 1);
    const m = /^\.(.*)\.esdc-new-.*$/.exec(b);
    if (m) b = m[1];
    return `${spec} ${d}/${b}\n`;
  });
  appendFileSync(join(sim, 'owners.log'), lines.join(''));
}
