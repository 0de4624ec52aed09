import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Projects: "unit" is pure and fast. The integration projects get real
// servers from their global setups: "ssh" a real OpenSSH sshd (simulated
// SmartOS nodes), "zk" a real ZooKeeper. A setup file is used once it exists.
const setup = (...files: string[]): string[] => files.filter((f) => existsSync(f));

// The CLIs the tests run must not write the user's parse cache (docs/operations.md#the-parse-cache):
// off for every test and every process it starts, unless a test sets its own directory.
process.env.ESDC_OVERLAY_PARSE_CACHE = 'off';

const BUNDLE = fileURLToPath(new URL('./dist/esdc-overlay.mjs', import.meta.url));
const OLD_NODE = process.env.ESDC_OVERLAY_OLD_NODE;
/** Tests that run the CLI as a process: rerun against the bundle (test/support/paths.ts reads the env). */
const BUNDLE_CLI_TESTS = [
  'test/cli/entry-point.test.ts',
  'test/render/render.test.ts',
  'test/model/bad-states.test.ts',
  'test/vdc/vdc-built-cli.test.ts',
  'test/agent/agent-daemon.test.ts',
];

// vitest's default is one worker per core but one: on CI's two cores, one worker, and the suite ran file after
// file, ~1,200 s of it mostly waiting (sshd sessions, ZooKeeper, the fault tests' timeouts). Files are
// independent (each starts its own nodes and servers or shares the global ones), so more workers than cores
// overlap those waits (docs/testing.md#workers).
const WORKERS = Math.max(3, availableParallelism() - 1);

export default defineConfig({
  test: {
    maxWorkers: WORKERS,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.integration.test.ts', 'test/lab/**'],
          // Generous: CI machines have two cores, and fuzz suites run hundreds of cases per test.
          testTimeout: 30_000,
        },
      },
      {
        // The same CLI checks against the single-file bundle (npm run build:bundle), as a SmartOS node runs it.
        extends: true,
        test: {
          name: 'bundle',
          include: BUNDLE_CLI_TESTS,
          env: { ESDC_OVERLAY_CLI_ENTRY: BUNDLE },
          testTimeout: 30_000,
        },
      },
      {
        // The bundle with ZooKeeper (node-zookeeper-client inside it): store migrate through the built CLI.
        extends: true,
        test: {
          name: 'bundle-zk',
          include: ['test/zk/migrate.integration.test.ts'],
          globalSetup: setup('test/support/zk.global.ts'),
          env: { ESDC_OVERLAY_CLI_ENTRY: BUNDLE },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // And under the oldest Node it supports (docs/node-on-smartos.md), when scripts/old-node.sh provided one (CI does).
      ...(OLD_NODE
        ? [
            {
              extends: true as const,
              test: {
                name: 'bundle-old-node',
                include: BUNDLE_CLI_TESTS,
                env: { ESDC_OVERLAY_CLI_ENTRY: BUNDLE, ESDC_OVERLAY_CLI_NODE: OLD_NODE },
                testTimeout: 30_000,
              },
            },
          ]
        : []),
      {
        extends: true,
        test: {
          name: 'ssh',
          include: ['test/**/*.integration.test.ts'],
          exclude: ['test/zk/**', 'test/lab/**'],
          globalSetup: setup('test/support/sshd.global.ts'),
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'zk',
          include: ['test/zk/**/*.integration.test.ts'],
          globalSetup: setup('test/support/zk.global.ts'),
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
