// The renderer's Web Worker host runs the same handler as the CLI's worker_threads host: driven here
// through a MessagePort's EventTarget interface (what a DedicatedWorkerGlobalScope offers).
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { SimulationAccumulator } from '../../../shared/core/simulate/accumulator';
import { accumulatorsIdentical, CHUNK_TRIALS, mergeAccumulator } from '../../../shared/core/simulate/accumulator';
import { emptyAccumulator, runTrials } from '../../../shared/core/simulate/engine';
import { buildWorkloadPlan } from '../../../shared/core/simulate/workload';
import type { SimulationRequest, SimulationResponse } from '../../../shared/core/simulate/worker-handler';
import type { WorkerScope } from '../../../renderer/workers/simulation.worker';
import { attachSimulationWorker } from '../../../renderer/workers/simulation.worker';

describe('renderer simulation Web Worker host', () => {
  it('announces readiness, streams chunks and gives the in-process result bit for bit', async () => {
    const plan = buildWorkloadPlan();
    const trials = 3 * CHUNK_TRIALS + 7;
    const { port1, port2 } = new MessageChannel();
    attachSimulationWorker(port2 as unknown as WorkerScope);
    const seen: SimulationResponse['type'][] = [];
    const chunks = new Map<number, SimulationAccumulator>();
    const finished = new Promise<void>((resolve, reject) => {
      port1.on('message', (m: SimulationResponse) => {
        seen.push(m.type);
        if (m.type === 'chunk') chunks.set(m.chunk, { layout: m.layout, firstTrial: m.firstTrial, trialCount: m.trialCount, sums: m.sums, samples: m.samples });
        else if (m.type === 'error') reject(new Error(m.error.message));
        else if (m.type === 'done') resolve();
      });
    });
    port2.start();
    port1.postMessage({ type: 'run', id: 7, plan, seed: 11, firstTrial: 0, trialCount: trials } satisfies SimulationRequest);
    await finished;
    port1.close();
    expect(seen[0]).toBe('ready');
    expect(seen.filter((t) => t === 'chunk')).toHaveLength(4);
    const total = emptyAccumulator(plan, 0);
    for (let c = 0; chunks.has(c); c++) mergeAccumulator(total, chunks.get(c)!);
    expect(accumulatorsIdentical(total, runTrials(plan, 11, { trialCount: trials }))).toBe(true);
  });
});
