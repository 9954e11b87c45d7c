// worker_threads host of the simulation message handler (shared/core/simulate/worker-handler.ts).
// Loaded by bootstrap.mjs, which makes TypeScript loadable in the worker.
import { parentPort } from 'node:worker_threads';
import type { SimulationRequest } from '../../core/simulate/worker-handler';
import { makeSimulationHandler } from '../../core/simulate/worker-handler';

const port = parentPort;
if (!port) throw new Error('simulation-worker.ts must run in a worker thread');
const handle = makeSimulationHandler({ postMessage: (message, transfer) => port.postMessage(message, transfer ?? []) });
port.on('message', (message: SimulationRequest) => handle(message));
port.postMessage({ type: 'ready' });
