// Preloaded with `node --import` into the real built CLI: kills the process
// with SIGKILL once node $DIE_NODE has staged every path in $DIE_AFTER_STAGED
// (comma-separated node paths), i.e. in the middle of apply's stage phase,
// as an OOM kill or a power cut of the head node would. It wraps the SSH
// transport's stage from outside; none of our code is replaced.
import { SshTransport } from '../../dist/src/transport/ssh-transport.js';

const node = process.env.DIE_NODE;
const wanted = new Set((process.env.DIE_AFTER_STAGED ?? '').split(',').filter((p) => p !== ''));
const stage = SshTransport.prototype.stage;
SshTransport.prototype.stage = async function (path, ...rest) {
  await stage.call(this, path, ...rest);
  if (this.node !== node) return;
  // Under a simulated node's root prefix the path arrives mapped (<root>/opt/...).
  for (const w of wanted) if (path === w || path.endsWith(w)) wanted.delete(w);
  if (wanted.size === 0) process.kill(process.pid, 'SIGKILL');
};
