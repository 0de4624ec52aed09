/**
 * K simulated SmartOS nodes, each a real OpenSSH sshd on 127.0.0.1 with its
 * own port, host key and root directory. The node's "/" is `<dir>/nodes/<name>/root`;
 * the harness (never the state) tells the tool so: `<dir>/sim-roots.json`,
 * named by ESDC_OVERLAY_SIM_ROOTS in `env`, maps each node's 127.0.0.1:port to
 * its root, and the tool's SSH transport (the production one) is wrapped in a
 * root prefix (src/transport/rooted-transport.ts, src/transport/sim-roots.ts).
 * The simulated commands (sim-bin.mjs) record every call and keep their
 * state under that root.
 *
 * sshd runs as this user. As root it needs /run/sshd: without touching the
 * host, it gets a private mount namespace with its own /run (docs/testing.md#a-real-sshd).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { stringify } from 'yaml';
import type { StateDoc } from '../../src/model/state.js';

const { utils } = ssh2;
const SIM_BIN = resolve(dirname(fileURLToPath(import.meta.url)), 'sim-bin.mjs');
const SIM_SERVER = resolve(dirname(fileURLToPath(import.meta.url)), 'sim-server.mjs');
const SSHD = '/usr/sbin/sshd';

export interface SimNodeFacts {
  hostname: string;
  uuid: string;
  pdc: string;
  admin_ip: string;
  admin_mac: string;
  external_ip: string;
  external_mac: string;
}

export interface SimVm {
  uuid: string;
  alias: string;
  nics: Array<{ mac: string; ip: string; nic_tag: string; vlan_id?: number }>;
}

export interface SimCall {
  cmd: string;
  args: string[];
  at: number;
}

/** Where each simulated command lives on the node, as SmartOS has it. */
const COMMANDS: Record<string, string> = {
  sysinfo: '/usr/bin/sysinfo',
  vmadm: '/usr/sbin/vmadm',
  dladm: '/usr/sbin/dladm',
  svcadm: '/usr/sbin/svcadm',
  svcs: '/usr/bin/svcs',
  ikeadm: '/usr/sbin/ikeadm',
  chown: '/usr/bin/chown',
  svccfg: '/usr/sbin/svccfg',
  digest: '/usr/bin/digest',
  // Not SmartOS's: the Node an operator installs from pkgsrc-tools (docs/node-on-smartos.md); agent deploy checks it.
  node: '/opt/tools/bin/node',
  'net-virtual': '/lib/svc/method/net-virtual',
  '010-ipf-restore.sh': '/opt/custom/etc/rc-pre-network.d/010-ipf-restore.sh',
  '020-ipsec-restore.sh': '/opt/custom/etc/rc-pre-network.d/020-ipsec-restore.sh',
};

export class SimNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    readonly hostKeyPublic: string,
    private readonly configPath: string,
  ) {}

  /** The pid of this node's sshd listener (its CPU and its reaped children's: sessions, sftp-server, commands). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get root(): string {
    return join(this.dir, 'root');
  }

  /** A path on the node, on this machine. */
  path(nodePath: string): string {
    return join(this.root, nodePath);
  }

  async start(): Promise<void> {
    // As root: a private mount namespace gives sshd its /run/sshd without touching the host, and an empty
    // home, so the login shell of each session reads none of this machine's dotfiles (a pyenv init in
    // root's .bashrc once hung every session for 60 s on a stale lock): the node is its root directory only.
    const asRoot = process.getuid?.() === 0 && !existsSync('/run/sshd');
    const child = asRoot
      ? spawn(
          'unshare',
          ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && mount -t tmpfs -o mode=700 tmpfs "$HOME" && exec "$0" -D -e -r -f "$1"', SSHD, this.configPath],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        )
      : spawn(SSHD, ["-D", "-e", "-r", "-f", this.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise((res) => child.once('exit', () => res()));
    const log = join(this.dir, 'sshd.log');
    await new Promise<void>((res, rej) => {
      let seen = '';
      const timer = setTimeout(() => rej(new Error(`${this.name}: sshd not ready after 10 s:\n${seen}`)), 10_000);
      child.stderr!.on('data', (b: Buffer) => {
        const text = b.toString();
        void writeFile(log, text, { flag: 'a' });
        if (seen.length < 1 << 20) seen += text;
        if (seen.includes('Server listening on')) {
          clearTimeout(timer);
          res();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`${this.name}: sshd exited (${code}):\n${seen}`));
      });
    });
  }

  /** Stops the listener (existing connections stay, as with a real sshd restart). */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  /** The node drops off the network: the listener and every connection it serves are killed. */
  async drop(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    const victims = await descendants(pid);
    for (const p of [pid, ...victims]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.exited;
  }

  async calls(): Promise<SimCall[]> {
    try {
      const text = await readFile(this.path('/var/sim/calls.jsonl'), 'utf8');
      return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SimCall);
    } catch {
      return [];
    }
  }

  async clearCalls(): Promise<void> {
    await writeFile(this.path('/var/sim/calls.jsonl'), '');
  }

  /** SFTP operations the node's sftp-server logged (DIR/nodes/<host>/sftp.log): writes, renames, removals. */
  async sftpWrites(): Promise<string[]> {
    const text = await readFile(join(this.dir, 'sftp.log'), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => /open "[^"]*" flags [A-Z,]*WRITE|rename old|posix-rename old|remove name|mkdir name/.test(l));
  }

  /** Owner of each path as the node's chown last set it (staged paths under their target's name). */
  async owners(): Promise<Record<string, string>> {
    const text = await readFile(this.path('/var/sim/owners.log'), 'utf8').catch(() => '');
    const out: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) out[line.slice(sp + 1)] = line.slice(0, sp);
    }
    return out;
  }

  async simJson<T>(file: string, fallback: T): Promise<T> {
    try {
      return JSON.parse(await readFile(this.path(`/var/sim/${file}`), 'utf8')) as T;
    } catch {
      return fallback;
    }
  }

  async writeSimJson(file: string, value: unknown): Promise<void> {
    await writeFile(this.path(`/var/sim/${file}`), `${JSON.stringify(value, null, 2)}\n`);
  }
}

/** Every process below `pid` (from /proc): sshd's per-connection children and their sessions. */
async function descendants(pid: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/**
 * An ed25519 key pair in OpenSSH format. ssh2's generateKeyPairSync drops a
 * leading zero byte of the public key (13 of 3000 keys in a trial), which
 * neither ssh2 nor OpenSSH can then load; such a pair is drawn again.
 */
export function ed25519Pair(comment: string): { private: string; public: string } {
  for (let i = 0; i < 100; i++) {
    const k = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(k.private) instanceof Error)) return k;
  }
  throw new Error('could not generate a loadable ed25519 key');
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

export interface SimClusterOptions {
  count: number;
  /** Created if missing; everything of the cluster lives here. */
  dir: string;
}

export interface SimCluster {
  dir: string;
  nodes: SimNode[];
  statePath: string;
  identityFile: string;
  knownHostsFile: string;
  /** Environment that points esdc-overlay at the client key, known_hosts and the nodes' roots (ESDC_OVERLAY_SIM_ROOTS). */
  env: Record<string, string>;
  /** The roots file ESDC_OVERLAY_SIM_ROOTS names. */
  rootsFile: string;
  /** The state written to statePath. */
  state: StateDoc;
  node(name: string): SimNode;
  /** Processes whose CPU is the simulation's (benchmarks): every sshd listener and the sim-server. */
  harnessPids(): number[];
  stop(): Promise<void>;
}

function hex(n: number): string {
  return randomBytes(n).toString('hex');
}

/** Facts of node i (0-based): two PDCs when there are two or more nodes. */
export function simFacts(i: number, count: number): SimNodeFacts {
  const n = i + 1;
  const pdc = count >= 2 && i >= Math.ceil(count / 2) ? 'brn' : 'prg';
  const two = (x: number): string => x.toString(16).padStart(2, '0');
  return {
    hostname: `cn${String(n).padStart(2, '0')}.sim.test`,
    uuid: `564d0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    pdc,
    admin_ip: `10.200.${pdc === 'prg' ? 1 : 2}.${n}`,
    admin_mac: `02:08:20:00:01:${two(n)}`,
    external_ip: `${pdc === 'prg' ? '198.51.100' : '203.0.113'}.${n}`,
    external_mac: `02:08:20:00:02:${two(n)}`,
  };
}

/** One VM per node on customers/1000; every second node also has one on lab/2000 if it is in lab. */
export function simVms(i: number, labNodes: readonly number[]): SimVm[] {
  const n = i + 1;
  const two = (x: number): string => x.toString(16).padStart(2, '0');
  const vms: SimVm[] = [
    { uuid: `0b1e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, alias: `web${n}`, nics: [{ mac: `52:54:00:aa:00:${two(n)}`, ip: `10.210.0.${n}`, nic_tag: 'customers/1000', vlan_id: 10 }] },
  ];
  if (labNodes.includes(i)) {
    vms.push({ uuid: `0b1e0000-0000-4000-8001-${n.toString(16).padStart(12, '0')}`, alias: `lab${n}`, nics: [{ mac: `52:54:00:bb:00:${two(n)}`, ip: `10.220.0.${n}`, nic_tag: 'lab/2000' }] });
  }
  return vms;
}

export function simState(facts: readonly SimNodeFacts[], ssh: ReadonlyArray<{ port: number; user: string }>): StateDoc {
  const lab = facts.length >= 3 ? [0, 2] : [0];
  const doc: StateDoc = {
    version: 1,
    defaults: { underlay_mtu: 1500, ipsec: { encr: 'aes-cbc', auth: 'sha512' } },
    nodes: Object.fromEntries(
      facts.map((f, i) => [
        f.hostname,
        { uuid: f.uuid, pdc: f.pdc, admin_ip: f.admin_ip, external_ip: f.external_ip, ssh: { host: '127.0.0.1', port: ssh[i]!.port, user: ssh[i]!.user } },
      ]),
    ),
    overlay_rules: {
      // The MTUs the cross-PDC paths allow (`esdc-overlay mtu --state`), so the simulated installation plans clean.
      customers: { port: 4790, nodes: 'all', mtu: 1388 },
      lab: { port: 4791, nodes: lab.map((i) => facts[i]!.hostname), mtu: 1392 },
    },
    adminoverlay: {
      subnet: '10.200.250.0/24',
      port: 4792,
      vxlan_id: 2,
      vlan_id: 2,
      mtu: 1300,
      nodes: Object.fromEntries(facts.map((f, i) => [f.hostname, { ip: `10.200.250.${i + 1}`, mac: `02:e5:dc:00:00:${(i + 1).toString(16).padStart(2, '0')}` }])),
    },
    firewall: { enabled: true, administrator_sources: ['192.0.2.0/26'] },
    vnics: facts.flatMap((f, i) =>
      simVms(i, lab).flatMap((vm) =>
        vm.nics.map((nic) => ({ vm: vm.uuid, node: f.hostname, mac: nic.mac, ip: nic.ip, nic_tag: nic.nic_tag, ...(nic.vlan_id ? { vlan_id: nic.vlan_id } : {}) })),
      ),
    ),
  };
  // Keys for every cross-PDC pair, so a render never has to invent one.
  const psk: Array<{ nodes: [string, string]; key: string }> = [];
  for (let a = 0; a < facts.length; a++) {
    for (let b = a + 1; b < facts.length; b++) {
      if (facts[a]!.pdc !== facts[b]!.pdc) psk.push({ nodes: [facts[a]!.hostname, facts[b]!.hostname], key: hex(128) });
    }
  }
  if (psk.length > 0) doc.ipsec = { psk };
  return doc;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Appends the call to calls.jsonl, as sim-bin.mjs does. No process per argument: only an argument holding a
 * quote or a backslash goes through sed (the same escapes). The time in milliseconds: bash's $EPOCHREALTIME
 * (seconds, a decimal point, microseconds) where the script runs in bash, else one `date`.
 */
const SH_RECORD = `rec() {
  line="{\\"cmd\\":\\"$1\\",\\"args\\":["; shift; sep=''
  for a in "$@"; do
    case "$a" in *[\\"\\\\]*) e=$(printf '%s' "$a" | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g') ;; *) e=$a ;; esac
    line="$line$sep\\"$e\\""; sep=','
  done
  at=\${EPOCHREALTIME:-}
  case "$at" in [0-9]*[.,][0-9][0-9][0-9][0-9][0-9][0-9]) at=\${at%[.,]*}\${at#*[.,]}; at=\${at%???} ;; *) at=$(date +%s%3N) ;; esac
  printf '%s],"at":%s}\\n' "$line" "$at" >> "$root/var/sim/calls.jsonl"
}
`;

/**
 * Runs a simulated command that needs Node (sim-commands.mjs) in the cluster's sim-server.mjs, over
 * bash's /dev/tcp: a Node start per call (~50 ms of CPU) is what made the simulation, not the tool, most of
 * a first apply's cost. The server's port and token are in the node's directory (`<root>/../sim-server`,
 * written by startSimCluster); without them (a root laid out outside a cluster) sim-bin.mjs runs the same
 * function in a Node of its own.
 */
const SH_SIM_CALL = `export LC_ALL=C
sim_call() {
  local port token code olen elen out
  if { read -r port token < "\${root%/*}/sim-server" && exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    printf '%s\\0' "$token" "$root" "$#" "$@" >&3
    IFS=' ' read -r code olen elen <&3 || { exec 3>&-; echo "sim-server: no answer" >&2; return 1; }
    if [ "$olen" -gt 0 ]; then IFS= read -r -N "$olen" out <&3; printf '%s' "$out"; fi
    if [ "$elen" -gt 0 ]; then IFS= read -r -N "$elen" out <&3; printf '%s' "$out" >&2; fi
    exec 3>&-
    return "$code"
  fi
  ${shQuote(process.execPath)} ${shQuote(SIM_BIN)} "$root" "$@"
}
`;

/**
 * The commands that only check their arguments and record the call are
 * shell scripts: a Node start per call is what makes the simulation slow.
 */
const SH_COMMANDS: Record<string, string> = {
  // restart returns at once (svcadm(8): no -s for restart); the instance is offline, next state online, for
  // var/sim/svc-delay-ms (default 200) and then online, as svcs shows. varpd's restart re-reads every files/config.
  svcadm: `rec svcadm "$@"
case "$1" in restart|refresh|enable|disable|clear) [ -n "$2" ] || { echo "usage: svcadm restart|refresh|enable|disable|clear FMRI" >&2; exit 2; } ;;
  *) echo "usage: svcadm restart|refresh|enable|disable|clear FMRI" >&2; exit 2 ;; esac
svc=\${2#svc:/}; svc=\${svc%:default}
if [ "$1" = restart ]; then
  if [ "$svc" = network/varpd ]; then sim_call varpd-restart || exit 1; fi
  delay=$(cat "$root/var/sim/svc-delay-ms" 2>/dev/null || echo 200)
  mkdir -p "$root/var/sim/svc"
  echo $(( $(date +%s%3N) + delay )) > "$root/var/sim/svc/$(printf '%s' "$svc" | tr / _)"
fi
exit 0
`,
  // illumos digest(1), as usr/src/cmd/cmd-crypto/digest/digest.c has it (illumos-joyent @ 6e2c24e1): options "lva:"
  // (:79); without -a or -l the usage and exit 2 (:207-211, :236-237); the digest algorithms it knows (:105-117; the
  // *_hmac and des_mac ones are mac(1)'s) and "unknown algorithm -- X", exit 1, for others (:404-407); with -v one line
  // "ALG (FILE) = HEX" per file, lower-case hex (:773-781; libcryptoutil tohexstr.c:44). A file it cannot open: a
  // message, no line, exit status 2, and the next file is still done (:723-729, :785); a read error (a directory):
  // no line, status 1 (:745-752); the last failure gives the status. Opened O_NONBLOCK (:723): a FIFO reads as empty.
  digest: `rec digest "$@"
usage() { printf 'Usage:\\n  digest -l | [-v] -a <algorithm> [file...]\\n' >&2; exit 2; }
v=0; a=; l=0
while getopts lva: o; do case $o in v) v=1 ;; a) a=$OPTARG ;; l) l=1 ;; *) usage ;; esac; done
shift $((OPTIND - 1))
[ -n "$a" ] || [ $l = 1 ] || usage
if [ $l = 1 ]; then printf 'sha1\\nmd5\\nsha256\\nsha384\\nsha512\\n'; exit 0; fi
case "$a" in md5) sum=md5sum ;; sha1) sum=sha1sum ;; sha256) sum=sha256sum ;; sha384) sum=sha384sum ;; sha512) sum=sha512sum ;;
  *) echo "digest: unknown algorithm -- $a" >&2; exit 1 ;; esac
if [ $# -eq 0 ]; then $sum | cut -d' ' -f1; exit 0; fi
# One $sum over every regular file, in argument order: a few processes per call, not per file (the simulation's
# cost must not stand in for the node's). Then one line per file in argument order, as digest writes them.
files=
for f in "$@"; do case "$f" in /*) p="$root$f" ;; *) p=$f ;; esac; [ -f "$p" ] && [ -r "$p" ] && files="$files$p
"; done
hashes=$(printf '%s' "$files" | tr '\\n' '\\0' | xargs -0 -r $sum --)
exec 3<<EOF
$hashes
EOF
status=0; n=$#
for f in "$@"; do
  case "$f" in /*) p="$root$f" ;; *) p=$f ;; esac
  if [ ! -e "$p" ] || [ ! -r "$p" ]; then printf 'digest: can not open input file %s\\n\\n' "$f" >&2; status=2; continue; fi
  if [ -d "$p" ]; then printf 'digest: error reading file: Is a directory\\ndigest: crypto operation failed for file %s: CKR_GENERAL_ERROR\\n\\n' "$f" >&2; status=1; continue; fi
  if [ -f "$p" ]; then read -r h _ <&3; else h=$(printf '' | $sum | cut -d' ' -f1); fi
  if [ $v = 1 ]; then printf '%s (%s) = %s\\n' "$a" "$f" "$h"; elif [ $n -gt 1 ]; then printf '(%s) = %s\\n' "$f" "$h"; else printf '%s\\n' "$h"; fi
done
exit $status
`,
  // in.iked re-reads ike.preshared on this (ikeadm(8)); the simulation records the call.
  ikeadm: `rec ikeadm "$@"
[ "$*" = "read preshared" ] && exit 0
echo "usage: ikeadm read preshared" >&2; exit 1
`,
  // Danube's restore script concatenates every file whose name starts with the conf file's name, in `ls`
  // order, into /etc/ipf (erigones/esdc-factory ansible/files/archives/opt-custom/etc/rc-pre-network.d/
  // 010-ipf-restore.sh:23-25 for the directories and names, :45 `ls -1 ${RULES_DIR}/${cfgfile}*`, :54 `xargs cat`);
  // a conf file with no match is left alone. A glob's `*` never matches a leading dot.
  '010-ipf-restore.sh': `rec 010-ipf-restore.sh "$@"
case "$1" in
start|refresh)
  [ -d "$root/opt/custom/etc/ipf.d" ] || exit 0
  mkdir -p "$root/etc/ipf"
  for cfgfile in ipf.conf ipnat.conf ipf6.conf; do
    list=$(ls -1 "$root/opt/custom/etc/ipf.d/$cfgfile"* 2>/dev/null)
    [ -n "$list" ] || continue
    printf '%s\\n' "$list" | while IFS= read -r f; do cat "$f"; done > "$root/etc/ipf/$cfgfile"
  done
  exit 0 ;;
esac
echo "usage: 010-ipf-restore.sh start|refresh" >&2; exit 1
`,
  '020-ipsec-restore.sh': `rec 020-ipsec-restore.sh "$@"
case "$1" in start|refresh) exit 0 ;; esac
echo "usage: 020-ipsec-restore.sh start|refresh" >&2; exit 1
`,
  // The read every plan makes is answered from overlays.txt (kept by sim-bin.mjs), by bash alone (no process:
  // it runs on every node at every plan); the rest goes to sim-bin.mjs.
  dladm: `if [ "$*" = "show-overlay -p -o link,property,value" ]; then
  rec dladm "$@"
  IFS= read -r -d '' out < "$root/var/sim/overlays.txt"
  printf '%s' "$out"
  # An overlay with no varpd instance: a warning each and exit 1 after the listing (sim-commands.mjs says why).
  warn=
  [ -f "$root/var/sim/overlays.warn" ] && IFS= read -r -d '' warn < "$root/var/sim/overlays.warn"
  [ -z "$warn" ] || { printf '%s' "$warn" >&2; exit 1; }
  exit 0
fi
sim_call dladm "$@"
`,
  // svccfg(8) "import [-V] file" (illumos-gate usr/src/man/man8/svccfg.8, Service Manifest Subcommands): only that
  // subcommand. Imports a manifest that exists and is a service_bundle of type manifest; the instance it creates is
  // online when create_default_instance says enabled="true" (service_bundle.dtd.1:899-902), else disabled.
  svccfg: `rec svccfg "$@"
[ "$1" = import ] && shift; [ "$1" = -V ] && shift
[ $# -eq 1 ] || { echo "usage: svccfg import [-V] file" >&2; exit 2; }
f="$root$1"
[ -f "$f" ] || { echo "svccfg: couldn't open \"$1\": No such file or directory" >&2; exit 1; }
grep -q '<service_bundle type="manifest"' "$f" || { echo "svccfg: $1 is not a service manifest" >&2; exit 1; }
name=$(sed -n 's/.*<service name="\\([^"]*\\)".*/\\1/p' "$f" | head -n 1)
[ -n "$name" ] || { echo "svccfg: $1: no service" >&2; exit 1; }
mkdir -p "$root/var/sim/smf"
state=disabled; grep -q '<create_default_instance enabled="true"' "$f" && state=online
printf '%s\n' "$state" > "$root/var/sim/smf/$(printf '%s' "$name" | tr / _)"
`,
  // svcs(1) "-H -o state FMRI" and "-H -o state,nstate FMRI" only. A service of ours (esdc-overlay in its name)
  // exists once svccfg imported it, in the state that import recorded; any other FMRI stands for a platform
  // service, online. After `svcadm restart` a service is offline (next state online) until the node's delay
  // has passed: svcadm(8) restart is asynchronous.
  svcs: `rec svcs "$@"
[ "$1" = -H ] && [ "$2" = -o ] && [ $# -eq 4 ] || { echo "usage: svcs -H -o state[,nstate] FMRI" >&2; exit 2; }
case "$3" in state|state,nstate) ;; *) echo "usage: svcs -H -o state[,nstate] FMRI" >&2; exit 2 ;; esac
name=$(printf '%s' "$4" | sed 's,^svc:/,,; s,:default$,,')
key=$(printf '%s' "$name" | tr / _)
state=online; nstate=-
if [ -f "$root/var/sim/smf/$key" ]; then state=$(cat "$root/var/sim/smf/$key")
else case "$name" in *esdc-overlay*) echo "svcs: Pattern '$4' doesn't match any instances" >&2; exit 1 ;; esac
fi
f="$root/var/sim/svc/$key"
if [ -f "$f" ] && [ "$(date +%s%3N)" -lt "$(cat "$f")" ]; then state=offline; nstate=online; fi
if [ "$3" = state ]; then echo "$state"; else printf '%-14s %s\n' "$state" "$nstate"; fi
`,
  // node --version prints var/sim/node-version; node FILE --version runs FILE (a path on the node) with this machine's Node.
  // Nothing else: FILE would run with no root mapping, so the agent bundle's commands (patch-table, --once)
  // would act on this machine's own /opt and /usbkey, as root. Light nodes run patch-table under their root.
  node: `rec node "$@"
if [ "$1" = --version ]; then cat "$root/var/sim/node-version"; exit 0; fi
case "$1" in /*)
  if [ $# -eq 2 ] && [ "$2" = --version ]; then f="$root$1"; shift; exec ${shQuote(process.execPath)} "$f" "$@"; fi
  echo "node: this simulated node runs a script only with --version (no root mapping: it would act on this machine's /opt and /usbkey)" >&2; exit 9 ;;
esac
echo "node: only --version or an absolute script path here" >&2; exit 9
`,
  // Records owners in owners.log ("owner:group path", the last line wins); user names are SmartOS's, not this machine's.
  chown: `rec chown "$@"
spec=$1; shift
if ! printf '%s' "$spec" | grep -Eq '^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$' || [ $# -eq 0 ]; then
  echo "usage: chown owner[:group] file..." >&2; exit 2
fi
for p in "$@"; do [ -e "$root$p" ] || { echo "chown: $p: No such file or directory" >&2; exit 1; }; done
for p in "$@"; do
  d=\${p%/*}; b=\${p##*/}
  case "$b" in .*.esdc-new-*) b=\${b#.}; b=\${b%.esdc-new-*} ;; esac
  printf '%s %s\\n' "$spec" "$d/$b" >> "$root/var/sim/owners.log"
done
`,
};

/** vmadm: `lookup` and `events` (which streams until the channel closes) run in a Node of their own (sim-bin.mjs). */
const SH_VMADM = `case "$1" in lookup|events) exec ${shQuote(process.execPath)} ${shQuote(SIM_BIN)} "$root" vmadm "$@" ;; esac
sim_call vmadm "$@"
`;

/**
 * Writes `<dir>/sim-roots.json`, the roots of simulated nodes the tool reads
 * through ESDC_OVERLAY_SIM_ROOTS (src/transport/sim-roots.ts): `ssh` maps
 * "127.0.0.1:port" to a node's root, `local` is the agent's. Returns its path.
 */
export async function writeSimRoots(dir: string, roots: { ssh?: Record<string, string>; local?: string }): Promise<string> {
  const file = join(dir, 'sim-roots.json');
  await writeFile(file, `${JSON.stringify(roots, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** Lays out a simulated node's root directory: commands, /usbkey/config, facts, VMs. */
export async function writeNodeRoot(root: string, facts: SimNodeFacts, vms: SimVm[]): Promise<void> {
  await mkdir(join(root, 'var/sim'), { recursive: true });
  await mkdir(join(root, 'usbkey'), { recursive: true });
  for (const [name, path] of Object.entries(COMMANDS)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    const body = SH_COMMANDS[name] ?? (name === 'vmadm' ? SH_VMADM : `sim_call ${name} "$@"\n`);
    // bash only where the sim-server is called (/dev/tcp); dash starts faster for the rest.
    const script = body.includes('sim_call')
      ? `#!/bin/bash\nroot=${shQuote(root)}\n${SH_RECORD}${SH_SIM_CALL}${body}`
      : `#!/bin/sh\nroot=${shQuote(root)}\n${SH_RECORD}${body}`;
    await writeFile(file, script, { mode: 0o755 });
  }
  // A /usbkey/config as SmartOS has it, with lines that are not ours and must survive every edit.
  await writeFile(
    join(root, 'usbkey/config'),
    [
      '#',
      '# This file was auto-generated and must be source-able by bash.',
      '#',
      `hostname=${facts.hostname.split('.')[0]}`,
      `admin_nic=${facts.admin_mac}`,
      `admin_ip=${facts.admin_ip}`,
      'admin_netmask=255.255.255.0',
      `datacenter_name=${facts.pdc}`,
      `external0_ip=${facts.external_ip}`,
      'root_shadow=\'$5$simulated$notarealhash\'',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  await writeFile(join(root, 'var/sim/node.json'), `${JSON.stringify(facts, null, 2)}\n`);
  await writeFile(join(root, 'var/sim/vms.json'), `${JSON.stringify(vms, null, 2)}\n`);
  await writeFile(join(root, 'var/sim/overlays.json'), '{}\n');
  await writeFile(join(root, 'var/sim/overlays.txt'), '');
  await writeFile(join(root, 'var/sim/overlays.warn'), '');
  await writeFile(join(root, 'var/sim/calls.jsonl'), '');
  await writeFile(join(root, 'var/sim/node-version'), 'v20.11.1\n');
}

function sshdConfig(port: number, hostKey: string, authorizedKeys: string, user: string, sftpLog: string): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    user === 'root' ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
    `AllowUsers ${user}`,
    // -l INFO logs every SFTP open/rename/remove, so tests can prove "no write". internal-sftp would log to
    // syslog, which has no /dev/log here: those lines were lost and "no write" held vacuously. The external
    // server logs to stderr (-e), which the shell sshd runs it with sends to a file of ours.
    // `exec`: the shell sshd runs it with makes the redirection, then becomes the server (no process more).
    `Subsystem sftp exec /usr/lib/openssh/sftp-server -e -l INFO 2>>${sftpLog}`,
    'LogLevel VERBOSE',
    'MaxStartups 100',
    'MaxSessions 100',
    '',
  ].join('\n');
}

/**
 * The cluster's sim-server.mjs (one Node for the simulated commands of all its nodes): its port, the
 * token it wants, and how to stop it. It also ends when this process does (its stdin closes).
 */
async function startSimServer(roots: readonly string[]): Promise<{ port: number; token: string; pid: number | undefined; stop(): Promise<void> }> {
  const token = hex(16);
  const child = spawn(process.execPath, [SIM_SERVER, token, ...roots], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) res(Number(out.trim()));
    });
    child.once('exit', (code) => rej(new Error(`sim-server.mjs exited (${code}) before listening`)));
  });
  return {
    port,
    token,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Starts `count` simulated nodes under `dir` and writes state.yaml, known_hosts and the client key there. */
export async function startSimCluster(opts: SimClusterOptions): Promise<SimCluster> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const user = userInfo().username;
  const client = ed25519Pair('esdc-overlay-sim');
  const identityFile = join(dir, 'id_ed25519');
  await writeFile(identityFile, client.private, { mode: 0o600 });
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, `${client.public}\n`, { mode: 0o600 });
  const count = opts.count;
  const facts = Array.from({ length: count }, (_, i) => simFacts(i, count));
  const lab = count >= 3 ? [0, 2] : [0];
  const ports = await Promise.all(facts.map(() => freePort()));
  const server = await startSimServer(facts.map((f) => join(dir, 'nodes', f.hostname, 'root')));
  const nodes: SimNode[] = [];
  await Promise.all(
    facts.map(async (f, i) => {
      const ndir = join(dir, 'nodes', f.hostname);
      await rm(ndir, { recursive: true, force: true });
      await mkdir(ndir, { recursive: true, mode: 0o700 });
      const host = ed25519Pair(f.hostname);
      const hostKey = join(ndir, 'ssh_host_ed25519_key');
      await writeFile(hostKey, host.private, { mode: 0o600 });
      const cfg = join(ndir, 'sshd_config');
      await writeFile(cfg, sshdConfig(ports[i]!, hostKey, authorizedKeys, user, join(ndir, 'sftp.log')));
      await writeNodeRoot(join(ndir, 'root'), f, simVms(i, lab));
      await writeFile(join(ndir, 'sim-server'), `${server.port} ${server.token}\n`, { mode: 0o600 });
      nodes[i] = new SimNode(f.hostname, ndir, ports[i]!, host.public, cfg);
    }),
  );
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, nodes.map((n) => `[127.0.0.1]:${n.port} ${n.hostKeyPublic.split(' ').slice(0, 2).join(' ')}\n`).join(''), { mode: 0o600 });
  const state = simState(facts, nodes.map((n) => ({ port: n.port, user })));
  const statePath = join(dir, 'state.yaml');
  await writeFile(
    statePath,
    `# ${count} simulated SmartOS nodes (test/harness/sim-cluster.ts); ESDC_OVERLAY_SIM_ROOTS maps each node's / into its directory.\n${stringify(state, { lineWidth: 0 })}`,
    { mode: 0o600 },
  );
  const rootsFile = await writeSimRoots(dir, { ssh: Object.fromEntries(nodes.map((n) => [`127.0.0.1:${n.port}`, n.root])) });
  const started = await Promise.allSettled(nodes.map((n) => n.start()));
  const failed = started.find((r) => r.status === 'rejected');
  const cluster: SimCluster = {
    dir,
    nodes,
    statePath,
    identityFile,
    knownHostsFile,
    env: { ESDC_OVERLAY_STATE: statePath, ESDC_OVERLAY_IDENTITY: identityFile, ESDC_OVERLAY_KNOWN_HOSTS: knownHostsFile, ESDC_OVERLAY_SIM_ROOTS: rootsFile },
    rootsFile,
    state,
    node: (name) => {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no simulated node ${name}`);
      return n;
    },
    harnessPids: () => [...nodes.flatMap((n) => (n.pid === undefined ? [] : [n.pid])), ...(server.pid === undefined ? [] : [server.pid])],
    stop: async () => {
      await Promise.all(nodes.map((n) => n.drop()));
      await server.stop();
    },
  };
  if (failed) {
    await cluster.stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  return cluster;
}
