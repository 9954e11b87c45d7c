// The renderer's simulation runner: the plans of a run go to Web Workers running the one message
// handler (renderer/workers/simulation.worker.ts → shared/core/simulate/worker-handler.ts), cut
// into tasks of whole 64-trial chunks; chunks are merged in chunk order, so the result has the
// same bits as the CLI's `dpw simulate` for the same seed (a test checks it). Progress comes after
// every merged chunk with the partial result; cancelling terminates the workers (a running chunk
// cannot be interrupted), and the next run starts new ones.
//
// The noise comes from the engine's seeded xoshiro128** PRNG: fit for simulation, not for a real release.

import type { SimulationAccumulator } from '../../shared/core/simulate/accumulator';
import { CHUNK_TRIALS, cloneAccumulator, createAccumulator, mergeAccumulator } from '../../shared/core/simulate/accumulator';
import type { AnalyticResult } from '../../shared/core/simulate/analytic';
import { analyzePlan } from '../../shared/core/simulate/analytic';
import type { SimulationPlan } from '../../shared/core/simulate/plan';
import type { BuildPlanResult } from '../../shared/core/simulate/plan-builder';
import type { GroupRun } from '../../shared/core/simulate/report';
import { groupSeed } from '../../shared/core/simulate/seeds';
import type { SimulationResult } from '../../shared/core/simulate/stats';
import { summarize } from '../../shared/core/simulate/stats';
import type { SimulationChunkMessage, SimulationRequest, SimulationResponse } from '../../shared/core/simulate/worker-handler';

/** The part of a Worker the runner uses (a DOM Worker, or a test double over a MessageChannel). */
export interface WorkerLike {
  postMessage(message: SimulationRequest): void;
  addEventListener(type: 'message', listener: (event: { data: SimulationResponse }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
  terminate(): void;
}

export type WorkerFactory = () => WorkerLike;

export interface RunProgress {
  readonly trialsDone: number;
  readonly trialCount: number;
  readonly group: number;
  readonly groups: number;
  /** This group's results so far (computed on demand). */
  readonly partial: () => SimulationResult;
}

export interface RunOptions {
  readonly trials: number;
  readonly seed: string;
  /** The analytic model of each plan group when already computed (the preview's); else computed here. */
  readonly analytic?: readonly AnalyticResult[];
  readonly onProgress?: (p: RunProgress) => void;
  readonly signal?: AbortSignal;
}

export class SimulationCancelled extends Error {
  constructor() {
    super('simulation cancelled');
    this.name = 'SimulationCancelled';
  }
}

let nextId = 1;

/** Runs one plan on the workers; resolves to the merged accumulator. */
function runPlan(workers: readonly WorkerLike[], plan: SimulationPlan, seed: string, trials: number, onChunk: (acc: SimulationAccumulator) => void, signal?: AbortSignal): Promise<SimulationAccumulator> {
  const id = nextId++;
  const chunks = Math.ceil(trials / CHUNK_TRIALS);
  const perTask = Math.max(1, Math.ceil(chunks / (4 * workers.length)));
  const tasks: { firstTrial: number; trialCount: number }[] = [];
  for (let c = 0; c < chunks; c += perTask) {
    const t0 = c * CHUNK_TRIALS;
    tasks.push({ firstTrial: t0, trialCount: Math.min(t0 + perTask * CHUNK_TRIALS, trials) - t0 });
  }
  return new Promise((resolve, reject) => {
    let total: SimulationAccumulator | null = null;
    const pending = new Map<number, SimulationAccumulator>();
    let nextChunk = 0;
    let nextTask = 0;
    let settled = false;
    const outstanding = workers.map(() => 0);
    const planSent = workers.map(() => false);
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => finish(() => reject(new SimulationCancelled()));
    const feed = (w: number): void => {
      while (outstanding[w]! < 2 && nextTask < tasks.length) {
        const task = tasks[nextTask++]!;
        workers[w]!.postMessage({ type: 'run', id, seed, firstTrial: task.firstTrial, trialCount: task.trialCount, ...(planSent[w] ? {} : { plan }) });
        planSent[w] = true;
        outstanding[w]!++;
      }
    };
    const accept = (m: SimulationChunkMessage): void => {
      total ??= createAccumulator(m.layout, 0);
      pending.set(m.chunk, { layout: total.layout, firstTrial: m.firstTrial, trialCount: m.trialCount, sums: m.sums, samples: m.samples });
      let merged = false;
      for (let acc = pending.get(nextChunk); acc; acc = pending.get(nextChunk)) {
        pending.delete(nextChunk);
        mergeAccumulator(total, acc);
        nextChunk++;
        merged = true;
      }
      if (merged) onChunk(total);
      if (total.trialCount === trials) finish(() => resolve(total!));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    workers.forEach((worker, w) => {
      worker.addEventListener('message', (event: { data: SimulationResponse }) => {
        const m = event.data;
        if (settled || !('id' in m) || m.id !== id) return;
        if (m.type === 'chunk') accept(m);
        else if (m.type === 'done') {
          outstanding[w]!--;
          feed(w);
        } else if (m.type === 'error') finish(() => reject(new Error(`[${m.error.code}] ${m.error.message}`)));
      });
      worker.addEventListener('error', (event: { message?: string }) => finish(() => reject(new Error(`[Internal] the simulation worker failed: ${event.message ?? 'unknown error'}`))));
    });
    workers.forEach((_, w) => feed(w));
  });
}

export interface SimulationRun {
  readonly runs: GroupRun[];
  readonly simulateMs: number;
  readonly analyticMs: number;
  readonly groupMs: number[];
}

/**
 * Simulates every plan group of `built` (group g with groupSeed(seed, g), as the CLI) and runs the
 * analytic model beside it. Workers are made per run and terminated at the end.
 */
export async function simulateBuilt(built: BuildPlanResult, makeWorker: WorkerFactory, workerCount: number, opts: RunOptions): Promise<SimulationRun> {
  if (!Number.isSafeInteger(opts.trials) || opts.trials < 1) throw new Error(`[InvalidParameter] trials (${opts.trials}) must be an integer >= 1`);
  const workers = Array.from({ length: Math.max(1, workerCount) }, () => makeWorker());
  const runs: GroupRun[] = [];
  const groupMs: number[] = [];
  let analyticMs = 0;
  const t0 = performance.now();
  try {
    for (let g = 0; g < built.plans.length; g++) {
      const plan = built.plans[g]!.plan;
      const seed = groupSeed(opts.seed, g);
      const tg = performance.now();
      // Every message gets its own listener per run; fresh workers per run keep that bounded.
      const acc = await runPlan(workers, plan, seed, opts.trials, (partial) => {
        opts.onProgress?.({
          trialsDone: g * opts.trials + partial.trialCount,
          trialCount: opts.trials * built.plans.length,
          group: g,
          groups: built.plans.length,
          partial: () => summarize(cloneAccumulator(partial), plan),
        });
      }, opts.signal);
      groupMs.push(performance.now() - tg);
      const ta = performance.now();
      const analytic: AnalyticResult = opts.analytic?.[g] ?? analyzePlan(plan);
      analyticMs += performance.now() - ta;
      runs.push({ seed, accumulator: acc, mc: summarize(acc, plan), analytic });
    }
  } finally {
    for (const w of workers) w.terminate();
  }
  return { runs, simulateMs: performance.now() - t0 - analyticMs, analyticMs, groupMs };
}

/** The browser's worker factory (Vite bundles the worker module). */
export function browserWorkerFactory(): WorkerLike {
  return new Worker(new URL('../workers/simulation.worker.ts', import.meta.url), { type: 'module', name: 'dpw-simulation' }) as unknown as WorkerLike;
}
