import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { SimulationAccumulator } from '../../../shared/core/simulate/accumulator';
import { accumulatorsIdentical, CHUNK_TRIALS, mergeAccumulator } from '../../../shared/core/simulate/accumulator';
import { emptyAccumulator, preparePlan, runTrials } from '../../../shared/core/simulate/engine';
import type { SimulationPlan } from '../../../shared/core/simulate/plan';
import { buildWorkloadPlan } from '../../../shared/core/simulate/workload';
import type { SimulationRequest, SimulationResponse } from '../../../shared/core/simulate/worker-handler';
import { makeSimulationHandler } from '../../../shared/core/simulate/worker-handler';
import { runTrialsInWorkers, SimulationPool } from '../../../shared/node/workers/pool';

/** Runs the handler in this thread behind a MessageChannel, as a worker host would. */
async function viaChannel(plan: SimulationPlan, seed: number, ranges: [number, number][]): Promise<SimulationAccumulator> {
  const { port1, port2 } = new MessageChannel();
  const handle = makeSimulationHandler({ postMessage: (m, t) => port2.postMessage(m, t ?? []) });
  port2.on('message', (m: SimulationRequest) => handle(m));
  const chunks = new Map<number, SimulationAccumulator>();
  let done = 0;
  const finished = new Promise<void>((resolve, reject) => {
    port1.on('message', (m: SimulationResponse) => {
      if (m.type === 'chunk') chunks.set(m.chunk, { layout: m.layout, firstTrial: m.firstTrial, trialCount: m.trialCount, sums: m.sums, samples: m.samples });
      else if (m.type === 'error') reject(new Error(m.error.message));
      else if (m.type === 'done' && ++done === ranges.length) resolve();
    });
  });
  ranges.forEach(([firstTrial, trialCount], i) => port1.postMessage({ type: 'run', id: 1, seed, firstTrial, trialCount, ...(i === 0 ? { plan } : {}) } satisfies SimulationRequest));
  await finished;
  port1.close();
  const total = emptyAccumulator(plan, 0);
  for (let c = 0; chunks.has(c); c++) mergeAccumulator(total, chunks.get(c)!);
  return total;
}

describe('simulation workers', () => {
  const workload = buildWorkloadPlan({ perPartition: true });
  // Every accumulator section: per-trial and per-cell sums, threshold counts and error samples.
  const plan: SimulationPlan = { ...workload, stats: { ...workload.stats, relativeErrorThresholds: [0.01, 0.1], errorSamplesPerCell: 100 } };
  const N = 6 * CHUNK_TRIALS + 5;

  it('the handler over a MessageChannel gives the in-process accumulator bit for bit', async () => {
    const inProcess = runTrials(plan, 42, { trialCount: N });
    const channel = await viaChannel(plan, 42, [[3 * CHUNK_TRIALS, N - 3 * CHUNK_TRIALS], [0, 3 * CHUNK_TRIALS]]);
    expect(accumulatorsIdentical(inProcess, channel)).toBe(true);
  });

  it('reports a bad request as { code, message }', async () => {
    const { port1, port2 } = new MessageChannel();
    const replies: SimulationResponse[] = [];
    makeSimulationHandler({ postMessage: (m) => replies.push(m) })({ type: 'run', id: 3, seed: 1, firstTrial: 5, trialCount: 1 } as SimulationRequest);
    port1.close();
    port2.close();
    expect(replies).toEqual([{ type: 'error', id: 3, error: { code: 'InvalidParameter', message: 'the first run message must carry the plan' } }]);
  });

  it('1 worker, 2 workers and in-process give bit-identical accumulators', async () => {
    const inProcess = runTrials(plan, 7, { trialCount: N });
    const one = await runTrialsInWorkers(plan, 7, 1, { trialCount: N });
    const progress: number[] = [];
    const two = await runTrialsInWorkers(plan, 7, 2, { trialCount: N, chunksPerTask: 1, onProgress: (p) => progress.push(p.trialsDone) });
    expect(accumulatorsIdentical(inProcess, one)).toBe(true);
    expect(accumulatorsIdentical(inProcess, two)).toBe(true);
    expect(progress[progress.length - 1]).toBe(N);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
  });

  it('the fallback entry (tsx in the worker, no bundle) runs the same handler', async () => {
    const worker = new Worker(new URL('../../../shared/node/workers/bootstrap-tsx.mjs', import.meta.url));
    const layout = preparePlan(plan).layout;
    const total = emptyAccumulator(plan, 0);
    await new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: SimulationResponse) => {
        if (m.type === 'ready') worker.postMessage({ type: 'run', id: 9, plan, seed: 3, firstTrial: 0, trialCount: 2 * CHUNK_TRIALS } satisfies SimulationRequest);
        else if (m.type === 'chunk') mergeAccumulator(total, { layout, firstTrial: m.firstTrial, trialCount: m.trialCount, sums: m.sums, samples: m.samples });
        else if (m.type === 'done') resolve();
        else reject(new Error(JSON.stringify(m)));
      });
    });
    await worker.terminate();
    expect(accumulatorsIdentical(total, runTrials(plan, 3, { trialCount: 2 * CHUNK_TRIALS }))).toBe(true);
  });

  it('a pool runs several simulations in a row (each the same bits as in-process)', async () => {
    const pool = new SimulationPool(2);
    try {
      for (let r = 0; r < 4; r++) {
        const acc = await pool.run(plan, 100 + r, { trialCount: 3 * CHUNK_TRIALS, chunksPerTask: 1 });
        expect(accumulatorsIdentical(acc, runTrials(plan, 100 + r, { trialCount: 3 * CHUNK_TRIALS }))).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });

  it('cancels a run when the signal aborts', async () => {
    const pool = new SimulationPool(2);
    const ctl = new AbortController();
    const run = pool.run(plan, 1, { trialCount: 200 * CHUNK_TRIALS, signal: ctl.signal, onProgress: (p) => { if (p.trialsDone >= 2 * CHUNK_TRIALS) ctl.abort(new Error('cancelled by test')); } });
    await expect(run).rejects.toThrow('cancelled by test');
    await pool.close();
  });
});
