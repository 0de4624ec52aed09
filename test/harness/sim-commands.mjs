// Simulated SmartOS commands of one node (test/harness), as functions: the
// light nodes (light-nodes.ts) run them in their own process, and
// sim-bin.mjs runs the same functions for the sshd nodes. Each call is
// recorded in <root>/var/sim/calls.jsonl; state lives under <root>/var/sim.
// They stand in for the OS, never for esdc-overlay's own code.
//
// runSimCommand(root, cmd, args) → { code, stdout, stderr }. The sshd nodes
// run svcadm, chown and the restore scripts as shell scripts
// (sim-cluster.ts); the rules here are the same.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A command's early end with a status (what `exit` is in a script). */
class SimExit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

export function runSimCommand(root, cmd, args) {
  const io = { stdout: '', stderr: '' };
  const sim = join(root, 'var/sim');
  const ctx = { root, sim, cmd, io, under: (p) => join(root, p) };
  appendFileSync(join(sim, 'calls.jsonl'), `${JSON.stringify({ cmd, args, at: Date.now() })}\n`);
  try {
    const handler = COMMANDS[cmd];
    if (!handler) fail(ctx, 'unknown simulated command', 127);
    handler(ctx, args);
    return { code: 0, ...io };
  } catch (err) {
    if (err instanceof SimExit) return { code: err.code, ...io };
    throw err;
  }
}

function fail(ctx, msg, code = 1) {
  ctx.io.stderr += `${ctx.cmd}: ${msg}\n`;
  throw new SimExit(code);
}

function readJson(ctx, file, fallback) {
  try {
    return JSON.parse(readFileSync(join(ctx.sim, file), 'utf8'));
  } catch {
    return fallback;
  }
}

function writeJson(ctx, file, value) {
  const p = join(ctx.sim, file);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
  // The shell dladm answers the common `show-overlay -p -o link,property,value` from this.
  if (file === 'overlays.json') {
    writeFileSync(join(ctx.sim, 'overlays.txt.tmp'), showOverlayLines(value, ['link', 'property', 'value'], true, false, Object.keys(value).sort()).join(''));
    renameSync(join(ctx.sim, 'overlays.txt.tmp'), join(ctx.sim, 'overlays.txt'));
  }
}

/** /usbkey/config as key → value (shell quotes removed). */
function usbkey(ctx) {
  const out = {};
  const p = ctx.under('/usbkey/config');
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

/** `-p a=b,c=d -p e=f` → { a: b, c: d, e: f }. */
function props(argv) {
  const out = {};
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-p') continue;
    for (const kv of argv[i + 1].split(',')) {
      const eq = kv.indexOf('=');
      if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return out;
}

function createOverlay(ctx, argv) {
  const link = argv[argv.length - 1];
  const overlays = readJson(ctx, 'overlays.json', {});
  if (overlays[link]) fail(ctx, `create operation failed: object already exists: ${link}`);
  const vi = argv.indexOf('-v');
  if (vi < 0 || !/^\d+$/.test(argv[vi + 1] ?? '')) fail(ctx, 'a virtual network id (-v) is required');
  const p = props(argv);
  for (const k of ['vxlan/listen_ip', 'vxlan/listen_port', 'files/config']) if (!(k in p)) fail(ctx, `missing required property ${k}`);
  overlays[link] = { vnetid: argv[vi + 1], mtu: '1400', ...p, temporary: argv.includes('-t') };
  writeJson(ctx, 'overlays.json', overlays);
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

function overlayRules(cfg) {
  const rules = {};
  for (const [k, v] of Object.entries(cfg)) if (/^overlay_rule_[a-zA-Z0-9_]*[a-zA-Z_]$/.test(k)) rules[k.slice('overlay_rule_'.length)] = v;
  return rules;
}

/** Arguments a refresh method takes (the restore scripts: start|refresh). */
function startOrRefresh(ctx, args) {
  if (args[0] === 'start' || args[0] === 'refresh') return;
  ctx.io.stderr += `usage: ${ctx.cmd} start|refresh\n`;
  throw new SimExit(1);
}

const COMMANDS = {
  sysinfo(ctx) {
    const node = readJson(ctx, 'node.json', {});
    const rules = overlayRules(usbkey(ctx));
    const overlays = Object.fromEntries(Object.keys(readJson(ctx, 'overlays.json', {})).sort().map((l) => [l, '']));
    const vnics = readJson(ctx, 'vnics.json', {});
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
    ctx.io.stdout += `${JSON.stringify(out, null, 2)}\n`;
  },
  vmadm(ctx, args) {
    if (args[0] !== 'lookup') fail(ctx, `unsupported: vmadm ${args.join(' ')}`);
    ctx.io.stdout += `${JSON.stringify(readJson(ctx, 'vms.json', []))}\n`;
  },
  dladm(ctx, args) {
    const sub = args[0];
    const overlays = readJson(ctx, 'overlays.json', {});
    if (sub === 'show-overlay') {
      const rest = args.slice(1);
      const parseable = rest.includes('-p');
      const oi = rest.indexOf('-o');
      const fields = oi >= 0 ? rest[oi + 1].split(',') : ['link', 'property', 'value'];
      const positional = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '-o');
      const links = positional.length > 0 ? positional : Object.keys(overlays).sort();
      for (const l of links) if (!overlays[l]) fail(ctx, `show-overlay failed: object not found`);
      ctx.io.stdout += showOverlayLines(overlays, fields, parseable, rest.includes('-f'), links).join('');
    } else if (sub === 'create-overlay') {
      createOverlay(ctx, args);
    } else if (sub === 'delete-overlay') {
      const link = args[args.length - 1];
      if (!overlays[link]) fail(ctx, 'delete operation failed: object not found');
      delete overlays[link];
      writeJson(ctx, 'overlays.json', overlays);
    } else fail(ctx, `unsupported: dladm ${sub}`);
  },
  'net-virtual'(ctx, args) {
    if (args[0] !== 'refresh' && args[0] !== 'start') fail(ctx, `usage: net-virtual start|refresh`);
    const cfg = usbkey(ctx);
    const rules = overlayRules(cfg);
    // Like the platform: rewritten only when at least one rule exists (docs/file-formats.md#danube-defects, item 10).
    if (Object.keys(rules).length > 0) {
      const p = ctx.under('/var/run/smartdc/networking/overlay_rules.json');
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, `${JSON.stringify(rules, null, 4)}\n`);
    }
    // New overlay vNICs only; existing ones are never changed.
    const vnics = readJson(ctx, 'vnics.json', {});
    const vxlan = cfg.adminoverlay_0_vxlan_id;
    if (vxlan && rules.adminoverlay && !vnics.adminoverlay_0) {
      const link = `adminoverlay${vxlan}`;
      if (!readJson(ctx, 'overlays.json', {})[link]) createOverlay(ctx, ['create-overlay', ...rules.adminoverlay.split(/\s+/), '-v', vxlan, '-t', link]);
      vnics.adminoverlay_0 = { 'MAC Address': cfg.adminoverlay_0_mac, ip4addr: cfg.adminoverlay_0_ip, 'Link Status': 'up', 'Host Interface': link, VLAN: cfg.adminoverlay_0_vlan_id ?? '0' };
      writeJson(ctx, 'vnics.json', vnics);
    }
    ctx.io.stdout += 'Changing or removing existing VNICs is currently not supported. Only adding of new VNICs will work.\n';
  },
  // The same rules as the shell scripts of the sshd nodes (sim-cluster.ts SH_COMMANDS).
  svcadm(ctx, args) {
    if (['restart', 'refresh', 'enable', 'disable', 'clear'].includes(args[0]) && args[1]) return;
    ctx.io.stderr += 'usage: svcadm restart|refresh|enable|disable|clear FMRI\n';
    throw new SimExit(2);
  },
  '010-ipf-restore.sh': startOrRefresh,
  '020-ipsec-restore.sh': startOrRefresh,
  // Records owners in owners.log ("owner:group path", the last line wins); user names are SmartOS's, not this machine's.
  chown(ctx, args) {
    const [spec, ...paths] = args;
    if (spec === undefined || !/^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/.test(spec) || paths.length === 0) {
      ctx.io.stderr += 'usage: chown owner[:group] file...\n';
      throw new SimExit(2);
    }
    for (const p of paths) if (!existsSync(ctx.under(p))) fail(ctx, `${p}: No such file or directory`);
    appendFileSync(join(ctx.sim, 'owners.log'), paths.map((p) => `${spec} ${p.replace(/\.esdc-new$/, '')}\n`).join(''));
  },
};
