/**
 * `npm run lab`: proves src/mtu's numbers with real packets (docs/mtu.md#values).
 *
 * Each case builds two underlay hosts, VXLAN, bridges and guests in network
 * namespaces (test/lab/case.sh) and measures the largest DF ping that is
 * answered without fragmentation. Cases this machine's kernel can run (it
 * has VXLAN and bridges, usually no ESP or 802.1Q) run here; the rest run in
 * one throw-away QEMU guest booting Debian's stock kernel, started once, in
 * parallel with the host cases. Every measured maximum must equal the
 * computed one, and one byte more must fail. Exit 0 all equal, 1 otherwise;
 * skips (exit 0, loudly) only when not run as root.
 *
 * Env: LAB_ONLY=<substring> to run matching cases, LAB_ALL_IN_GUEST=1, LAB_LANES=2,
 * LAB_ACCEL=kvm (default tcg), LAB_SEARCH=1 (every case bisects blind instead of trying the
 * computed value first).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { quoteArgv } from '../../src/shell/quote.js';
import { caseArgv, labCases, parseResult, xfrmAlgoArgs, type LabCase, type LabResult } from './cases.js';
import { buildInitramfs, fetchKernel } from './guest-image.js';
import { threeNodeFiles, checkThreeNodeLines, type ThreeNodeOutcome } from './three-nodes.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const projectRoot = join(here, '..', '..');
const cache = join(projectRoot, '.lab-cache');
const prefix = `esdclab${process.pid}`;
const log = (s: string): void => void process.stderr.write(`${s}\n`);
/** Cases try the computed value first unless LAB_SEARCH=1 (test/lab/README.md). */
const DIRECTED = process.env.LAB_SEARCH !== '1';

interface Capabilities {
  vxlan: boolean;
  vlan: boolean;
  esp: Record<string, boolean>;
}

function quiet(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** What this machine's kernel can do, tried in a namespace of our own. */
function hostCapabilities(): Capabilities {
  const ns = `${prefix}-probe`;
  const caps: Capabilities = { vxlan: false, vlan: false, esp: {} };
  if (!quiet('ip', ['netns', 'add', ns])) return caps;
  try {
    const x = (...args: string[]): boolean => quiet('ip', ['netns', 'exec', ns, ...args]);
    caps.vxlan = x('ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'nolearning') && x('ip', 'link', 'add', 'br0', 'type', 'bridge');
    caps.vlan = x('ip', 'link', 'add', 'dummy0', 'type', 'dummy') && x('ip', 'link', 'add', 'link', 'dummy0', 'name', 'dummy0.100', 'type', 'vlan', 'id', '100');
    for (const suite of ['aes-cbc-sha256', 'aes-cbc-sha512', 'aes-gcm'] as const) {
      caps.esp[suite] = x('ip', 'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x42', 'mode', 'transport', ...xfrmAlgoArgs(suite)) &&
        x('ip', 'xfrm', 'state', 'flush');
    }
  } finally {
    quiet('ip', ['netns', 'del', ns]);
  }
  return caps;
}

function runsOnHost(c: LabCase, caps: Capabilities): boolean {
  if (process.env.LAB_ALL_IN_GUEST === '1') return false;
  return caps.vxlan && (!c.needs.vlan || caps.vlan) && (c.needs.esp === 'none' || caps.esp[c.needs.esp] === true);
}

/** Runs cases one after another on this machine. */
async function runOnHost(cases: readonly LabCase[]): Promise<LabResult[]> {
  const results: LabResult[] = [];
  for (const c of cases) {
    const out = await new Promise<string>((resolve) => {
      const p = spawn('bash', [join(here, 'case.sh'), ...caseArgv(c, prefix, DIRECTED)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.on('close', () => resolve(text));
    });
    const line = out.split('\n').find((l) => l.includes('LAB-RESULT'));
    results.push(line ? parseResult(line)! : { id: c.id, error: 'no_result_line' });
    log(`  host: ${line ?? `${c.id}: no result`}`);
  }
  return results;
}

/**
 * Software emulation by default, as docs/mtu.md#values describes: nested KVM on the
 * machines here accepts the guest and then hangs it. LAB_ACCEL=kvm opts in.
 */
function accel(): string[] {
  return process.env.LAB_ACCEL === 'kvm' ? ['-accel', 'kvm'] : ['-accel', 'tcg'];
}

/**
 * Guest cases run in this many lanes at once, each lane in namespaces of its
 * own: a failing probe waits out a timeout, and lanes overlap those waits.
 */
const LANES = Math.max(1, Number(process.env.LAB_LANES ?? 2));

/** The guest's case list: lanes in the background, one case after another in each. */
function lanesScript(cases: readonly LabCase[], lanes: number): string {
  const out: string[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    const mine = cases.filter((_, i) => i % lanes === lane);
    if (mine.length === 0) continue;
    out.push('(', ...mine.map((c) => `  bash /lab/case.sh ${quoteArgv(caseArgv(c, `l${lane}`, DIRECTED))}`), ') &');
  }
  out.push('wait');
  return `${out.join('\n')}\n`;
}

interface GuestRun {
  lines: string[];
  seconds: number;
  accel: string;
}

/** Boots the guest once; it runs every case and powers off. */
async function runInGuest(kernelPath: string, initrd: string, timeoutMs: number): Promise<GuestRun> {
  const acc = accel();
  const args = [
    ...acc, '-m', '1024', '-smp', String(LANES), '-nographic', '-no-reboot', '-monitor', 'none', '-nodefaults', '-serial', 'stdio',
    '-kernel', kernelPath, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init',
  ];
  const started = performance.now();
  log(`lab: qemu-system-x86_64 ${args.join(' ')}`);
  return await new Promise<GuestRun>((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const lines: string[] = [];
    const accelUsed = acc[1]!;
    const timer = setTimeout(() => {
      log(`lab: the guest did not finish within ${timeoutMs / 1000} s; stopping it`);
      q.kill('SIGKILL');
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        if (/LAB-|THREE-/.test(line)) {
          lines.push(line.slice(line.search(/LAB-|THREE-/)));
          log(`  guest: ${lines[lines.length - 1]}`);
        }
      }
    };
    q.stdout.on('data', onData);
    q.stderr.on('data', (d: Buffer) => {
      process.stderr.write(`  qemu: ${d.toString()}`);
    });
    q.on('error', reject);
    q.on('close', () => {
      clearTimeout(timer);
      resolve({ lines, seconds: (performance.now() - started) / 1000, accel: accelUsed });
    });
  });
}

function cleanupNamespaces(): void {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(`${prefix}-`)) quiet('ip', ['netns', 'del', name]);
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    log('\n*** LAB SKIPPED: the MTU lab needs root (network namespaces, VXLAN, xfrm). Run `sudo npm run lab`. ***\n');
    return 0;
  }
  const t0 = performance.now();
  const only = process.env.LAB_ONLY;
  const cases = labCases().filter((c) => only === undefined || c.id.includes(only));
  const caps = hostCapabilities();
  log(`lab: host kernel: vxlan=${caps.vxlan} vlan=${caps.vlan} esp=${JSON.stringify(caps.esp)}`);
  const hostCases = cases.filter((c) => runsOnHost(c, caps));
  const guestCases = cases.filter((c) => !runsOnHost(c, caps));
  const withThreeNodes = only === undefined || only === 'three';

  let guest: Promise<GuestRun> | undefined;
  let three: ThreeNodeOutcome | undefined;
  if (guestCases.length > 0 || withThreeNodes) {
    mkdirSync(cache, { recursive: true });
    const kernel = fetchKernel(cache, log);
    const tb = performance.now();
    const files: Record<string, string> = {
      'init.sh': readFileSync(join(here, 'guest-init.sh'), 'utf8'),
      'case.sh': readFileSync(join(here, 'case.sh'), 'utf8'),
      'cases.sh': lanesScript(guestCases, LANES),
    };
    if (withThreeNodes) Object.assign(files, await threeNodeFiles(here));
    const initrd = join(cache, 'initramfs.cpio.gz');
    buildInitramfs(cache, kernel, files, initrd);
    log(`lab: kernel ${kernel.version}, initramfs built in ${((performance.now() - tb) / 1000).toFixed(1)} s; ${guestCases.length} case(s) in the guest`);
    guest = runInGuest(kernel.vmlinuz, initrd, 20 * 60_000);
  }
  let hostResults: LabResult[] = [];
  const th = performance.now();
  try {
    hostResults = await runOnHost(hostCases);
  } finally {
    cleanupNamespaces();
  }
  const hostSeconds = (performance.now() - th) / 1000;
  const g = guest ? await guest : undefined;
  const guestResults = (g?.lines ?? []).map(parseResult).filter((r): r is LabResult => r !== undefined);
  if (withThreeNodes && g) three = checkThreeNodeLines(g.lines);

  // Compare.
  const byId = new Map<string, LabResult>([...hostResults, ...guestResults].map((r) => [r.id, r]));
  let failures = 0;
  const rows: string[] = [];
  for (const c of cases) {
    const r = byId.get(c.id);
    const where = hostCases.includes(c) ? 'host' : 'guest';
    let verdict: string;
    if (!r) verdict = 'NO RESULT';
    else if (r.error) verdict = `ERROR ${r.error}`;
    else if (r.measured !== c.expected) verdict = `MISMATCH measured ${r.measured}`;
    else if (r.next !== 'fail') verdict = 'MISMATCH one byte more passed';
    else verdict = r.directed ? 'ok' : 'ok (searched)';
    if (!verdict.startsWith('ok')) failures++;
    rows.push(`${c.id.padEnd(40)} ${where.padEnd(5)} computed ${String(c.expected).padStart(4)}  measured ${String(r?.measured ?? '-').padStart(4)}  ${verdict}`);
  }
  process.stdout.write(`\nMTU lab: ${cases.length} case(s)\n${rows.join('\n')}\n`);
  if (three) {
    process.stdout.write(`\nthree nodes, two PDCs, built from \`render --target linux\`:\n${three.report.join('\n')}\n`);
    if (!three.ok) failures++;
  }
  const total = (performance.now() - t0) / 1000;
  process.stdout.write(
    `\nhost cases: ${hostCases.length} in ${hostSeconds.toFixed(1)} s; ` +
      (g ? `guest (${g.accel}): ${guestCases.length} case(s) in ${g.seconds.toFixed(1)} s; ` : '') +
      `lab total ${total.toFixed(1)} s\n`,
  );
  process.stdout.write(failures === 0 ? 'MTU lab: every measured maximum equals the computed one; all checks passed\n' : `MTU lab: ${failures} FAILED\n`);
  return failures === 0 ? 0 : 1;
}

process.on('SIGINT', () => {
  cleanupNamespaces();
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    cleanupNamespaces();
    log(`lab: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);
