// A worker_threads pool for the Monte-Carlo engine (the CLI's host; the renderer has a Web Worker
// one around the same handler). Trials are cut into tasks of whole 64-trial chunks that idle
// workers take in turn (each worker holds up to two, so it never waits for the next); every
// chunk's accumulator comes back on its own and the pool merges them in chunk order, so the
// result has the same bits as runTrials in-process, whatever the number of workers.
// Cancellation: a running chunk cannot be interrupted from outside, so an aborted run terminates
// the pool's threads (the pool is closed; make a new one).

import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { SimulationAccumulator } from '../../core/simulate/accumulator';
import { CHUNK_TRIALS, createAccumulator, mergeAccumulator } from '../../core/simulate/accumulator';
import type { AbortSignalLike, SimulationProgress } from '../../core/simulate/engine';
import { preparePlan, SimulationAborted } from '../../core/simulate/engine';
import type { SimulationPlan } from '../../core/simulate/plan';
import type { Seed } from '../../core/rng';
import type { SimulationChunkMessage, SimulationRequest, SimulationResponse } from '../../core/simulate/worker-handler';
import { DpError } from '../../core/errors';
import type { DpErrorCode } from '../../core/errors';
import { workerEntry } from './entry';

const DP_CODES: readonly string[] = ['InvalidParameter', 'InvalidEvent', 'NotSupported', 'NumericalFailure'];
let nextRunId = 1;

function errorFromWorker(error: { code: string; message: string }): Error {
  return DP_CODES.includes(error.code) ? new DpError(error.code as DpErrorCode, error.message) : new Error(error.message);
}

export interface PoolRunOptions {
  readonly firstTrial?: number;
  readonly trialCount: number;
  readonly onProgress?: (progress: SimulationProgress) => void;
  readonly signal?: AbortSignalLike & { addEventListener?(type: 'abort', listener: () => void): void; removeEventListener?(type: 'abort', listener: () => void): void };
  /** Chunks per task (default: about 8 tasks per worker). */
  readonly chunksPerTask?: number;
}

export interface PoolTimings {
  /** Milliseconds from spawning each worker to its 'ready' message. */
  readonly startupMs: readonly number[];
}

interface Slot {
  readonly worker: Worker;
  outstanding: number;
  planSent: boolean;
  readyMs: number;
}

/** A pool of simulation workers; reuse it across runs to pay the start-up once. */
export class SimulationPool {
  private readonly slots: Promise<Slot[]>;
  private spawned: Slot[] = [];
  private readonly started = performance.now();
  private ready: Promise<void> = Promise.resolve();
  private busy = false;
  private lastPlan: SimulationPlan | null = null;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new DpError('InvalidParameter', `workers (${size}) must be an integer >= 1`);
    this.slots = workerEntry().then((url) => {
      const slots: Slot[] = [];
      const readies: Promise<void>[] = [];
      for (let i = 0; i < size; i++) {
        const worker = new Worker(url);
        const slot: Slot = { worker, outstanding: 0, planSent: false, readyMs: NaN };
        slots.push(slot);
        readies.push(
          new Promise<void>((resolve, reject) => {
            const onMessage = (m: SimulationResponse): void => {
              if (m.type !== 'ready') return;
              slot.readyMs = performance.now() - this.started;
              worker.off('message', onMessage);
              worker.off('error', reject);
              resolve();
            };
            worker.on('message', onMessage);
            worker.once('error', reject);
          }),
        );
      }
      this.ready = Promise.all(readies).then(() => undefined);
      this.ready.catch(() => undefined); // a failing worker is reported by run()
      return slots;
    });
  }

  /** Resolves when every worker has loaded (runs do not need to wait for it: messages queue). */
  async whenReady(): Promise<void> {
    await this.slots;
    await this.ready;
  }

  timings(): PoolTimings {
    return { startupMs: this.spawned.map((s) => s.readyMs) };
  }

  /** Trials [firstTrial, firstTrial + trialCount) of the plan, merged in chunk order. */
  async run(plan: SimulationPlan, seed: Seed, opts: PoolRunOptions): Promise<SimulationAccumulator> {
    const slots = await this.slots;
    this.spawned = slots;
    return this.runOn(slots, plan, seed, opts);
  }

  private runOn(slots: Slot[], plan: SimulationPlan, seed: Seed, opts: PoolRunOptions): Promise<SimulationAccumulator> {
    if (this.closed) return Promise.reject(new DpError('InvalidParameter', 'the pool is closed'));
    if (this.busy) return Promise.reject(new DpError('InvalidParameter', 'the pool is running another simulation'));
    const firstTrial = opts.firstTrial ?? 0;
    const trialCount = opts.trialCount;
    if (!Number.isSafeInteger(firstTrial) || firstTrial < 0 || firstTrial % CHUNK_TRIALS !== 0) {
      return Promise.reject(new DpError('InvalidParameter', `firstTrial (${firstTrial}) must be a non-negative multiple of ${CHUNK_TRIALS}`));
    }
    if (!Number.isSafeInteger(trialCount) || trialCount < 0) return Promise.reject(new DpError('InvalidParameter', `trialCount (${trialCount}) must be an integer >= 0`));
    if (plan !== this.lastPlan) for (const s of slots) s.planSent = false;
    // A run resolves on its last chunk, before the workers' final 'done' messages (ignored once the
    // run is settled): every task of the previous run has finished, so no slot has work left.
    for (const s of slots) s.outstanding = 0;
    this.lastPlan = plan;
    const end = firstTrial + trialCount;
    const firstChunk = firstTrial / CHUNK_TRIALS;
    const chunks = Math.ceil(trialCount / CHUNK_TRIALS);
    const perTask = opts.chunksPerTask ?? Math.max(1, Math.ceil(chunks / (8 * this.size)));
    const tasks: { firstTrial: number; trialCount: number }[] = [];
    for (let c = 0; c < chunks; c += perTask) {
      const t0 = (firstChunk + c) * CHUNK_TRIALS;
      tasks.push({ firstTrial: t0, trialCount: Math.min(t0 + perTask * CHUNK_TRIALS, end) - t0 });
    }
    // Created from the first chunk's layout (the workers prepare the plan; this thread need not).
    let total: SimulationAccumulator | null = null;
    const pending = new Map<number, SimulationAccumulator>();
    let nextChunk = firstChunk;
    let nextTask = 0;
    const id = nextRunId++;
    this.busy = true;

    return new Promise<SimulationAccumulator>((resolve, reject) => {
      let settled = false;
      const listeners: [Worker, (m: SimulationResponse) => void, (e: Error) => void, (code: number) => void][] = [];
      const cleanup = (): void => {
        settled = true;
        this.busy = false;
        for (const [w, onMsg, onErr, onExit] of listeners) {
          w.off('message', onMsg);
          w.off('error', onErr);
          w.off('exit', onExit);
        }
        opts.signal?.removeEventListener?.('abort', onAbort);
      };
      const fail = (err: unknown): void => {
        if (settled) return;
        cleanup();
        reject(err);
      };
      const onAbort = (): void => {
        if (settled) return;
        // A running chunk cannot be interrupted from outside: stop the threads.
        void this.close();
        fail(opts.signal?.reason ?? new SimulationAborted());
      };
      const feed = (slot: Slot): void => {
        while (slot.outstanding < 2 && nextTask < tasks.length) {
          const task = tasks[nextTask++]!;
          const msg: SimulationRequest = { type: 'run', id, seed, firstTrial: task.firstTrial, trialCount: task.trialCount, ...(slot.planSent ? {} : { plan }) };
          slot.planSent = true;
          slot.outstanding++;
          slot.worker.postMessage(msg);
        }
      };
      const accept = (m: SimulationChunkMessage): void => {
        total ??= createAccumulator(m.layout, firstTrial);
        pending.set(m.chunk, { layout: total.layout, firstTrial: m.firstTrial, trialCount: m.trialCount, sums: m.sums, samples: m.samples });
        let merged = false;
        for (let acc = pending.get(nextChunk); acc; acc = pending.get(nextChunk)) {
          pending.delete(nextChunk);
          mergeAccumulator(total, acc);
          nextChunk++;
          merged = true;
        }
        if (merged) opts.onProgress?.({ trialsDone: total.trialCount, trialCount, accumulator: total });
        if (total.trialCount === trialCount) {
          cleanup();
          resolve(total);
        }
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener?.('abort', onAbort);
      for (const slot of slots) {
        const onMsg = (m: SimulationResponse): void => {
          if (settled || !('id' in m) || m.id !== id) return;
          if (m.type === 'chunk') accept(m);
          else if (m.type === 'done') {
            slot.outstanding--;
            feed(slot);
          } else if (m.type === 'error') fail(errorFromWorker(m.error));
        };
        const onErr = (e: Error): void => fail(e);
        const onExit = (code: number): void => fail(new Error(`a simulation worker exited (code ${code})`));
        slot.worker.on('message', onMsg);
        slot.worker.on('error', onErr);
        slot.worker.on('exit', onExit);
        listeners.push([slot.worker, onMsg, onErr, onExit]);
      }
      if (trialCount === 0) {
        cleanup();
        resolve(createAccumulator(preparePlan(plan).layout, firstTrial));
        return;
      }
      for (const slot of slots) feed(slot);
    });
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = await this.slots;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/** One-shot helper: start a pool of `workers`, run, close. */
export async function runTrialsInWorkers(plan: SimulationPlan, seed: Seed, workers: number, opts: PoolRunOptions): Promise<SimulationAccumulator> {
  const pool = new SimulationPool(workers);
  try {
    return await pool.run(plan, seed, opts);
  } finally {
    await pool.close();
  }
}
