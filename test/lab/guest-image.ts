/**
 * The lab guest: Debian's stock kernel (downloaded with `apt-get download`
 * into .lab-cache/, unpacked with `dpkg -x`) and a busybox initramfs that
 * carries iproute2's `ip` and `bridge`, iputils' `ping`, bash, perl (for the
 * NAT-T socket) with their libraries, the kernel modules the cases need in
 * dependency order, and the lab's scripts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Modules the guest loads with their dependencies, in this order (docs/mtu.md's
 * list, plus the default RNG: ESP's IV generators (seqiv, echainiv) seed
 * from "stdrng", and without drbg every `ip xfrm state add` fails with
 * "unable to initialize cryptographic operations"; nothing autoloads it in a
 * busybox guest).
 */
export const GUEST_MODULES = [
  'veth', 'vxlan', 'bridge', '8021q', 'xfrm_user', 'esp4', 'esp6', 'authenc', 'gcm', 'ghash-generic', 'ctr', 'seqiv',
  'echainiv', 'sha512_generic', 'drbg',
] as const;

/** Binaries from the host that the guest runs; busybox provides the rest. */
const HOST_BINARIES = ['ip', 'bridge', 'ping', 'bash', 'perl'];
const BUSYBOX_APPLETS = [
  'sh', 'mount', 'insmod', 'poweroff', 'awk', 'sed', 'cat', 'sleep', 'kill', 'tr', 'echo', 'mkdir', 'ln', 'sync', 'uname',
  'grep', 'head', 'tail', 'wc', 'sort', 'cut', 'ls', 'rm', 'cp', 'true', 'false', 'printf', 'seq', 'timeout', 'date', 'mktemp',
];

export interface Kernel {
  version: string;
  vmlinuz: string;
  modulesDir: string;
}

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function which(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`lab: ${name} not found on this machine`);
}

/** Downloads (once) and unpacks Debian's current amd64 kernel under `cache`. */
export function fetchKernel(cache: string, log: (s: string) => void): Kernel {
  const debs = join(cache, 'deb');
  mkdirSync(debs, { recursive: true });
  let deb = readdirSync(debs).find((f) => /^linux-image-\d.*-amd64_.*\.deb$/.test(f) && !f.includes('unsigned'));
  if (!deb) {
    // The meta package names the versioned one: download that.
    const depends = sh('apt-cache', ['depends', 'linux-image-amd64']);
    const m = /Depends: (linux-image-[0-9][^\s]*-amd64)\b/.exec(depends);
    if (!m) throw new Error(`lab: cannot find the kernel package that linux-image-amd64 depends on:\n${depends}`);
    log(`lab: apt-get download ${m[1]} into ${debs}`);
    sh('apt-get', ['download', m[1]!], { cwd: debs });
    deb = readdirSync(debs).find((f) => f.startsWith(`${m[1]}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`lab: apt-get download ${m[1]} left no .deb in ${debs}`);
  }
  const version = /^linux-image-(.+?)_/.exec(deb)![1]!;
  const root = join(cache, `kernel-${version}`);
  const vmlinuz = join(root, 'boot', `vmlinuz-${version}`);
  const modulesDir = join(root, 'lib', 'modules', version);
  if (!existsSync(vmlinuz) || !existsSync(join(modulesDir, 'modules.dep'))) {
    rmSync(root, { recursive: true, force: true });
    sh('dpkg', ['-x', join(debs, deb), root]);
    sh('depmod', ['-b', root, version]);
  }
  return { version, vmlinuz, modulesDir };
}

/** Module files to load, dependencies first, each once. */
export function moduleOrder(kernel: Kernel): string[] {
  const root = dirname(dirname(dirname(kernel.modulesDir)));
  const seen = new Set<string>();
  const order: string[] = [];
  for (const mod of GUEST_MODULES) {
    const out = sh('modprobe', ['-d', root, '-S', kernel.version, '--show-depends', mod]);
    for (const line of out.split('\n')) {
      const m = /^insmod (\S+)/.exec(line.trim());
      if (m && !seen.has(m[1]!)) {
        seen.add(m[1]!);
        order.push(m[1]!);
      }
    }
  }
  return order;
}

/** Shared libraries a binary needs (ldd), including the loader. */
function libsOf(bin: string): string[] {
  const out = sh('ldd', [bin]);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

function copyInto(root: string, src: string, dest = src): void {
  const target = join(root, dest);
  mkdirSync(dirname(target), { recursive: true });
  if (!existsSync(target)) copyFileSync(src, target);
}

/**
 * Builds the initramfs (gzip'd newc cpio) at `out`. `files` maps guest paths
 * under /lab to their content.
 */
export function buildInitramfs(cache: string, kernel: Kernel, files: Record<string, string>, out: string): void {
  const root = join(cache, 'initramfs-root');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'run', 'tmp', 'etc', 'lab/modules']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  copyInto(root, which('busybox'), '/bin/busybox');
  for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
  for (const name of HOST_BINARIES) {
    const bin = which(name);
    copyInto(root, bin, `/bin/${name}`);
    for (const lib of libsOf(bin)) copyInto(root, lib);
  }
  const order = moduleOrder(kernel);
  // Newer Debian kernels ship modules as .ko.xz; busybox insmod wants them plain.
  const names = order.map((path) => {
    const name = basename(path).replace(/\.xz$/, '');
    const target = join(root, 'lab/modules', name);
    if (path.endsWith('.xz')) writeFileSync(target, execFileSync('busybox', ['xzcat', path], { maxBuffer: 64 << 20 }));
    else copyFileSync(path, target);
    return name;
  });
  writeFileSync(join(root, 'lab/modules.order'), `${names.join('\n')}\n`);
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, 'lab', path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    chmodSync(target, 0o755);
  }
  writeFileSync(join(root, 'init'), files['init.sh'] ?? '');
  chmodSync(join(root, 'init'), 0o755);
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  execFileSync('sh', ['-c', `cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"`, 'sh', root, out]);
}
