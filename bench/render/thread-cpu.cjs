// bench/render/thread-cpu.cjs: preload (`node -r bench/render/thread-cpu.cjs dist/esdc-overlay.js ...`)
// that prints, at exit, the CPU time (ms, from /proc/self/task/*/schedstat) of the main thread and of
// the process's other threads still alive then (V8's platform threads, libuv's pool; a worker that
// ended before is not among them), as `THREADS {"main":..,"node":..}` on stderr. The main thread's
// CPU is the render's critical path on an idle second core (issue 20, fifth pass). Linux only.
const fs = require('fs');
if (require('worker_threads').isMainThread) {
  process.on('exit', () => {
    const out = {};
    for (const t of fs.readdirSync('/proc/self/task')) {
      try {
        const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const ms = Math.round(Number(fs.readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
        const key = String(t) === String(process.pid) ? 'main' : name;
        out[key] = (out[key] ?? 0) + ms;
      } catch {
        // A thread that ended meanwhile.
      }
    }
    process.stderr.write(`THREADS ${JSON.stringify(out)}\n`);
  });
}
