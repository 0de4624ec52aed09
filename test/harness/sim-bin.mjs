#!/usr/bin/env node
// Simulated SmartOS commands for one node (test/harness) that need state:
// sysinfo, vmadm, dladm, net-virtual, and varpd's restart for svcadm (svcadm,
// svcs, ikeadm, chown and the restore scripts are shell scripts, see
// sim-cluster.ts). What they refuse is in smartos-rules.mjs, with sources. Each call is
// recorded in <root>/var/sim/calls.jsonl; state lives under <root>/var/sim.
// They stand in for the OS, never for esdc-overlay's own code.
// Usage: node sim-bin.mjs <root> <command> [args...]
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { linkHoldingVni, linkNameProblem, OVERLAY_MTU_MAX, OVERLAY_MTU_MIN, parsePropArgs, parseVarpdFilesConfig, droppedEntries } from './smartos-rules.mjs';

const [root, cmd, ...args] = process.argv.slice(2);
const sim = join(root, 'var/sim');
const under = (p) => join(root, p);

function readJson(file, fallback) {
  try {
    return JSON.parse(readFileSync(join(sim, file), 'utf8'));
  } catch {
    return fallback;
  }
}
function writeJson(file, value) {
  const p = join(sim, file);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
  // The shell dladm answers the common `show-overlay -p -o link,property,value` from this.
  if (file === 'overlays.json') {
    writeFileSync(join(sim, 'overlays.txt.tmp'), showOverlayLines(value, ['link', 'property', 'value'], true, false, Object.keys(value).sort()).join(''));
    renameSync(join(sim, 'overlays.txt.tmp'), join(sim, 'overlays.txt'));
  }
}
function fail(msg, code = 1) {
  process.stderr.write(`${cmd}: ${msg}\n`);
  process.exit(code);
}

// varpd-restart is svcadm's helper, which has recorded the call already.
if (cmd !== 'varpd-restart') appendFileSync(join(sim, 'calls.jsonl'), `${JSON.stringify({ cmd, args, at: Date.now() })}\n`);

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
  overlays[link] = { vnetid, mtu: '1400', ...p, temporary: argv.includes('-t') };
  writeJson('overlays.json', overlays);
}

/**
 * varpd restarting: every files/config is read again with the files plugin's
 * rules; an overlay whose file fails loses its lookups, modelled as the
 * overlay being gone (varpd-errors.json says why). Entries whose lookups
 * would drop are listed there too, without dropping the overlay.
 */
function varpdRestart() {
  const overlays = readJson('overlays.json', {});
  const errors = {};
  for (const [link, o] of Object.entries(overlays)) {
    const path = o['files/config'];
    if (path === undefined) continue;
    let text;
    try {
      text = readFileSync(under(path), 'utf8');
    } catch (e) {
      text = undefined;
      errors[link] = { dropped: true, error: `${path}: ${e.code ?? e.message}` };
    }
    if (text === undefined) {
      delete overlays[link];
      continue;
    }
    const r = parseVarpdFilesConfig(text);
    if (r.error) {
      errors[link] = { dropped: true, error: `${path}: ${r.error} (at ${r.pos})` };
      delete overlays[link];
      continue;
    }
    const drops = droppedEntries(r.table);
    if (drops.length > 0) errors[link] = { dropped: false, lookupsDropped: drops };
  }
  writeJson('overlays.json', overlays);
  writeJson('varpd-errors.json', errors);
}

/** `dladm show-overlay` rows for `links`, one line per (link, property), or per link with -f. */
function showOverlayLines(overlays, fields, parseable, fabric, links) {
  const rows = [];
  for (const l of links) {
    if (fabric) {
      rows.push({ link: l, status: 'ONLINE', details: '-' });
      continue;
    }
    for (const prop of ['files/config', 'mtu', 'vnetid', 'vxlan/listen_ip', 'vxlan/listen_port']) {
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

function escapeField(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

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
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    break;
  }
  case 'vmadm': {
    if (args[0] !== 'lookup') fail(`unsupported: vmadm ${args.join(' ')}`);
    process.stdout.write(`${JSON.stringify(readJson('vms.json', []))}\n`);
    break;
  }
  case 'dladm': {
    const sub = args[0];
    const overlays = readJson('overlays.json', {});
    if (sub === 'show-overlay') {
      const rest = args.slice(1);
      const parseable = rest.includes('-p');
      const oi = rest.indexOf('-o');
      const fields = oi >= 0 ? rest[oi + 1].split(',') : ['link', 'property', 'value'];
      const positional = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '-o');
      const links = positional.length > 0 ? positional : Object.keys(overlays).sort();
      for (const l of links) if (!overlays[l]) fail(`show-overlay failed: object not found`);
      process.stdout.write(showOverlayLines(overlays, fields, parseable, rest.includes('-f'), links).join(''));
    } else if (sub === 'create-overlay') {
      createOverlay(args);
    } else if (sub === 'delete-overlay') {
      const link = args[args.length - 1];
      if (!overlays[link]) fail('delete operation failed: object not found');
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
    process.stdout.write('Changing or removing existing VNICs is currently not supported. Only adding of new VNICs will work.\n');
    break;
  }
  case 'varpd-restart':
    varpdRestart();
    break;
  default:
    fail(`unknown simulated command`, 127);
}
