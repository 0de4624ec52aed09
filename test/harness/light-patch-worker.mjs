// A patch worker's entry (light-nodes.ts PatchPool): the TypeScript loader registered in this thread, then the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./light-patch-worker.ts');
