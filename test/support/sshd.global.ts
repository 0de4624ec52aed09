/**
 * Global setup of the `ssh` vitest project. Each test file starts its own
 * simulated nodes (test/harness/sim-cluster.ts, under a second for ten), so
 * there is no shared server here: this only fails early, with the fix, when
 * this machine cannot run them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export default function setup(): void {
  if (!existsSync('/usr/sbin/sshd')) {
    throw new Error('the ssh tests need OpenSSH sshd at /usr/sbin/sshd: apt-get install -y openssh-server');
  }
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) {
    try {
      execFileSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore' });
    } catch {
      throw new Error('as root, sshd needs /run/sshd: run "mkdir -p /run/sshd", or allow unshare --mount');
    }
  }
}
