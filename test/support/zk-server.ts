/**
 * A real ZooKeeper (Debian's zookeeper package) for tests: its own data
 * directory, 127.0.0.1 on a free port, started from the jar's main class
 * (docs/testing.md#a-real-zookeeper), ready when "srvr" reports its mode (it serves requests), stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ZK_CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'].join(':');

export interface ZkServer {
  port: number;
  /** `127.0.0.1:<port>` */
  hosts: string;
  dir: string;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s); resolves when the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing flushed beyond what ZooKeeper already synced. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends a four-letter word; resolves with the answer ('' when nothing answers). */
export function fourLetter(port: number, word: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let out = '';
    const done = (): void => {
      sock.destroy();
      resolve(out);
    };
    sock.setTimeout(timeoutMs, done);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => (out += d.toString()));
    sock.on('end', done);
    sock.on('error', () => resolve(''));
  });
}

export interface ZkServerOptions {
  /** The server's jute.maxbuffer (bytes): a lower one makes "too large for one request" quick to reach. */
  juteMaxBuffer?: number;
}

export async function startZooKeeper(opts: ZkServerOptions = {}): Promise<ZkServer> {
  const dir = await mkdtemp(join(tmpdir(), 'zk-test-'));
  await mkdir(join(dir, 'data'));
  const port = await freePort();
  await writeFile(
    join(dir, 'zoo.cfg'),
    [
      'tickTime=500',
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'minSessionTimeout=1000',
      'maxSessionTimeout=20000',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,mntr',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    log = '';
    child = spawn(
      'java',
      ['-Xms32m', '-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData',
        ...(opts.juteMaxBuffer !== undefined ? [`-Djute.maxbuffer=${opts.juteMaxBuffer}`] : []), '-cp', ZK_CLASSPATH,
        'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => (log = (log + d.toString()).slice(-4000)));
    child.stderr!.on('data', (d) => (log = (log + d.toString()).slice(-4000)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ZooKeeper exited with ${child.exitCode}:\n${log}`);
      // "ruok" says imok as soon as the process listens; after a crash it may still be replaying its
      // log, and until then "srvr" says it is not serving requests. Only "Mode:" means sessions work.
      if (/^Mode: /m.test(await fourLetter(port, 'srvr', 500))) return;
      if (Date.now() > deadline) throw new Error(`ZooKeeper was not serving requests within 30 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const signal = async (sig: NodeJS.Signals, graceMs: number): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(sig);
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };

  await launch();
  return {
    port,
    hosts: `127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    stop: () => signal('SIGTERM', 5000),
    kill: () => signal('SIGKILL', 5000),
    restart: launch,
    async dispose() {
      await signal('SIGTERM', 5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
