// Web Worker host of the simulation message handler (shared/core/simulate/worker-handler.ts): the
// renderer's counterpart of shared/node/workers/simulation-worker.ts. The same handler, the same
// protocol ('run' → 'chunk'… → 'done' | 'error'), so the renderer's results are bit-identical to
// the CLI's for a seed.

import type { SimulationRequest, SimulationResponse } from '../../shared/core/simulate/worker-handler';
import { makeSimulationHandler } from '../../shared/core/simulate/worker-handler';

/** The part of a DedicatedWorkerGlobalScope (or a MessagePort) the host uses. */
export interface WorkerScope {
  postMessage(message: SimulationResponse, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<SimulationRequest>) => void): void;
}

/** Wires the handler to a worker scope and announces readiness. */
export function attachSimulationWorker(scope: WorkerScope): void {
  const handle = makeSimulationHandler({ postMessage: (message, transfer) => scope.postMessage(message, transfer ?? []) });
  scope.addEventListener('message', (event) => handle(event.data));
  scope.postMessage({ type: 'ready' }, []);
}

// In a dedicated worker, attach to the global scope.
declare const self: unknown;
if (typeof self === 'object' && self !== null && typeof (self as { importScripts?: unknown }).importScripts === 'function') {
  attachSimulationWorker(self as WorkerScope);
}
