// bench/render/write-floor.mjs: the floor of any render written in Node on this machine (issue 20,
// goal 1): a finished output tree (e.g. vs-cp.sh's WORK/render) is read into memory, then written back
// as files with the same modes, 7 times, and the write phase alone is timed inside the process.
// Node's own start (hyperfine 'node -e 0') added to it is what a render costs before it generates a
// byte; compare with `cp -r` of the same tree in the same minute.
//
//   node bench/render/write-floor.mjs SRC_TREE DST_DIR
//
// DST_DIR must not exist: the script creates it, rewrites it each round and removes it at the end, so it
// only ever deletes what it made itself.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const [src, dst] = process.argv.slice(2);
if (!src || !dst || !statSync(src, { throwIfNoEntry: false })?.isDirectory() || existsSync(dst)) {
  process.stderr.write('usage: node bench/render/write-floor.mjs SRC_TREE DST_DIR (SRC_TREE a directory; DST_DIR must not exist)\n');
  process.exit(64);
}
const files = [];
(function walk(rel) {
  for (const e of readdirSync(join(src, rel), { withFileTypes: true })) {
    const r = join(rel, e.name);
    if (e.isDirectory()) {
      files.push({ dir: r });
      walk(r);
    } else files.push({ file: r, data: readFileSync(join(src, r)), mode: statSync(join(src, r)).mode & 0o777 });
  }
})('');
const runs = [];
for (let i = 0; i < 7; i++) {
  if (i > 0) rmSync(dst, { recursive: true }); // the tree the previous round made
  const t0 = process.hrtime.bigint();
  mkdirSync(dst);
  for (const f of files) {
    if (f.dir) {
      mkdirSync(join(dst, f.dir));
      continue;
    }
    const fd = openSync(join(dst, f.file), 'wx', f.mode);
    let off = 0;
    while (off < f.data.length) off += writeSync(fd, f.data, off);
    closeSync(fd);
  }
  runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
rmSync(dst, { recursive: true });
runs.sort((a, b) => a - b);
const n = files.filter((f) => f.file).length;
console.log(`files ${n}; write phase ms: median ${runs[3].toFixed(1)} (min ${runs[0].toFixed(1)}, max ${runs[6].toFixed(1)})`);
