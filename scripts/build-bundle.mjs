#!/usr/bin/env node
/**
 * Builds dist/esdc-overlay.mjs: the whole CLI, its dependencies and its
 * templates in one ES module that runs as `node esdc-overlay.mjs ...` with
 * no node_modules beside it. That one file is what goes onto a SmartOS
 * global zone (only /opt, /usbkey and /var persist there).
 *
 * What the bundle does differently from dist/:
 * - src/embedded.ts is replaced by the package version and every file under
 *   templates/, read here at build time;
 * - src/log-pretty.ts, src/yaml-lib.ts and src/ip-num-lib.ts are replaced by
 *   plain requires esbuild can follow (pino-pretty is still only run for a
 *   terminal, yaml only loaded when a text needs it);
 * - ssh2's optional native parts (cpu-features, the sshcrypto .node binding)
 *   become modules that throw when loaded: ssh2 loads both inside try/catch
 *   and falls back to its JavaScript code;
 * - (handlebars: only its runtime is imported, handlebars/runtime.js, the
 *   templates being precompiled by scripts/gen-templates.ts; its lib/index.js,
 *   which registers a require.extensions hook, is never reached.)
 * The target is the oldest Node it must run on (docs/node-on-smartos.md).
 */
import { readdirSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'esdc-overlay.mjs');
/** Keep in step with MIN_NODE in src/agent/node-version.ts and docs/node-on-smartos.md. */
export const TARGET = 'node18.20';

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

function embeddedModule() {
  const templatesDir = join(ROOT, 'templates');
  const templates = Object.fromEntries(
    listFiles(templatesDir)
      .sort()
      .map((f) => [relative(templatesDir, f).split(sep).join('/'), readFileSync(f, 'utf8')]),
  );
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return `export const EMBEDDED = ${JSON.stringify({ version, templates })};\n`;
}

/** @type {import('esbuild').Plugin} */
const bundleSeams = {
  name: 'esdc-overlay-bundle-seams',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]embedded\.ts$/ }, () => ({ contents: embeddedModule(), loader: 'js' }));
    b.onLoad({ filter: /[\\/]src[\\/]log-pretty\.ts$/ }, () => ({
      contents: `export function loadPretty() { return require('pino-pretty'); }\n`,
      loader: 'js',
      resolveDir: join(ROOT, 'src'),
    }));
    b.onLoad({ filter: /[\\/]src[\\/]yaml-lib\.ts$/ }, () => ({
      contents: `let lib;\nexport function yamlLib() { return (lib ??= require('yaml')); }\n`,
      loader: 'js',
      resolveDir: join(ROOT, 'src'),
    }));
    b.onLoad({ filter: /[\\/]src[\\/]ip-num-lib\.ts$/ }, () => ({
      contents: `const lib = require('ip-num');\nexport const { IPv4CidrRange, IPv4Mask, RangedSet, Validator } = lib;\n`,
      loader: 'js',
      resolveDir: join(ROOT, 'src'),
    }));
    b.onResolve({ filter: /^cpu-features$|\.node$/ }, (args) => ({ path: args.path, namespace: 'absent-native' }));
    b.onLoad({ filter: /.*/, namespace: 'absent-native' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path}: native module left out of the bundle`)});\n`,
      loader: 'js',
    }));
  },
};

const result = await build({
  entryPoints: [join(ROOT, 'esdc-overlay.ts')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: TARGET,
  // CommonJS dependencies call require() for Node's builtins, and read __dirname and __filename (ssh2's
  // poly1305 does as soon as a connection is made): give the ES module all three.
  banner: {
    js: [
      "import { createRequire as __esdcCreateRequire } from 'node:module';",
      "import { dirname as __esdcDirname } from 'node:path';",
      "import { fileURLToPath as __esdcFileURLToPath } from 'node:url';",
      'const require = __esdcCreateRequire(import.meta.url);',
      'const __filename = __esdcFileURLToPath(import.meta.url);',
      'const __dirname = __esdcDirname(__filename);',
    ].join('\n'),
  },
  plugins: [bundleSeams],
  // Whitespace and comments out, names kept (stack traces still name functions): every start parses the
  // whole file (V8's pre-parse, and Node decodes it to a string first, slower for the few non-ASCII
  // characters comments held); 2.6 -> 1.7 MiB took ~20-40 ms off each start (bench/RESULTS.md, "The bundle's start").
  minifyWhitespace: true,
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
});
chmodSync(OUT, 0o755);
const bytes = statSync(OUT).size;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`${relative(ROOT, OUT)}: ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MiB), ${inputs} modules, target ${TARGET}`);
