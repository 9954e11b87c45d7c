// Fallback entry of a simulation worker thread when no prebuilt bundle can be made (entry.ts):
// tsx's CommonJS hook, registered in the worker, loads the TypeScript host. (tsx's ESM hooks
// would cost 0.5–1 s per worker here: a hooks thread each; the CommonJS hook about 40 ms.)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
require('./simulation-worker.ts');
