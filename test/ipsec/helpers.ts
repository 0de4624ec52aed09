/** Shared by the IPsec and firewall tests: models from YAML, a seeded key source, captured CLI I/O. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/context.js';
import { loadStateText, validateDoc } from '../../src/model/load.js';
import type { Model } from '../../src/model/model.js';
import type { NodeDoc, StateDoc } from '../../src/model/state.js';
import type { RandomBytes } from '../../src/ipsec/psk.js';
import { parsePreshared } from '../../src/ipsec/ike-files.js';
import { packageRoot } from '../../src/paths.js';

export const EXAMPLE = join(packageRoot(), 'examples', 'two-sites.yaml');
export const FIXTURES = join(packageRoot(), 'test', 'fixtures');

export function exampleDoc(): StateDoc {
  return loadStateText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE).doc;
}

/** The model of a document, validated in full (shape and consistency) as a store would. */
export function modelOf(doc: StateDoc): Model {
  return validateDoc(structuredClone(doc), 'test', 'require').model;
}

/** A state with the given nodes (name → PDC); addresses made up from the position. */
export function meshDoc(nodes: Record<string, string>, extra: Partial<StateDoc> = {}): StateDoc {
  const docNodes: Record<string, NodeDoc> = {};
  Object.entries(nodes).forEach(([name, pdc], i) => {
    const n = i + 1;
    docNodes[name] = {
      uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      pdc,
      admin_ip: `10.200.0.${n}`,
      external_ip: `203.0.113.${n}`,
    };
  });
  return { version: 1, nodes: docNodes, overlay_rules: { vx: { port: 4790, nodes: 'all' } }, ...extra };
}

/** A deterministic key source: SHA-256 in counter mode over a seed. Not for real keys. */
export function seededRandom(seed: string): RandomBytes {
  let counter = 0;
  return (size) => {
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < size) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      chunks.push(block);
      have += block.length;
    }
    return Buffer.concat(chunks).subarray(0, size);
  };
}

export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

/** CliIo that records stdout and stderr; stdin is empty and not a terminal. */
export function captureIo(env: NodeJS.ProcessEnv = {}): CapturedIo {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        append(chunk.toString());
        cb();
      },
    });
  const stdout = sink((s) => (out += s));
  const stderr = sink((s) => (err += s));
  return {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env,
    out: () => out,
    err: () => err,
  };
}

/** Every `key <hex>` line of an ike.preshared text, with the remote IP it is for. */
export function presharedKeys(text: string): Map<string, string> {
  return parsePreshared(text);
}
