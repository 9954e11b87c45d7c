// The one message handler every simulation worker runs (a worker_threads host for the CLI in
// shared/node/workers, a Web Worker host for the renderer), written against a small Port so it is
// tested in-process over a MessageChannel. It lives in the core because both hosts need it and
// it touches no Node or DOM API. (The message types could move to shared/contracts.)
//
// Protocol: 'run' → one 'chunk' message per 64-trial chunk (its own accumulator: progress and
// partial results at once) → 'done'. The host merges chunks in chunk
// order, which keeps results bit-identical whatever the number of workers. Errors come back as
// { code, message } (GUIDE.md "Boundaries"). Cancellation: the host terminates the worker.

import { DpError } from '../errors';
import type { Seed } from '../rng';
import { CHUNK_TRIALS } from './accumulator';
import type { AccumulatorLayout } from './accumulator';
import type { ChunkRunner } from './engine';
import { makeChunkRunner } from './engine';
import type { SimulationPlan } from './plan';

export interface SimulationRunRequest {
  readonly type: 'run';
  /** Chosen by the host; echoed in every reply. */
  readonly id: number;
  /** The plan; may be omitted after the first run to reuse the previous one (large contributions). */
  readonly plan?: SimulationPlan;
  readonly seed: Seed;
  /** A multiple of CHUNK_TRIALS. */
  readonly firstTrial: number;
  readonly trialCount: number;
}

export type SimulationRequest = SimulationRunRequest;

export interface SimulationChunkMessage {
  readonly type: 'chunk';
  readonly id: number;
  readonly chunk: number;
  /** The accumulator's layout (a few numbers), so the host need not prepare the plan itself. */
  readonly layout: AccumulatorLayout;
  readonly firstTrial: number;
  readonly trialCount: number;
  readonly sums: Float64Array;
  readonly samples: Float64Array;
}

export type SimulationResponse =
  | { readonly type: 'ready' }
  | SimulationChunkMessage
  | { readonly type: 'done'; readonly id: number; readonly trialCount: number }
  | { readonly type: 'error'; readonly id: number; readonly error: { readonly code: string; readonly message: string } };

/** The part of a MessagePort (worker_threads, DOM) the handler uses. */
export interface Port {
  postMessage(message: SimulationResponse, transfer?: ArrayBuffer[]): void;
}

/** Returns the function to call with each incoming message. */
export function makeSimulationHandler(port: Port): (message: SimulationRequest) => void {
  let plan: SimulationPlan | undefined;
  let runner: ChunkRunner | undefined;
  let runnerSeed: Seed | undefined;
  return (msg) => {
    const id = msg?.id ?? -1;
    try {
      if (msg?.type !== 'run') throw new DpError('InvalidParameter', `unknown message type ${JSON.stringify((msg as { type?: unknown })?.type)}`);
      if (msg.plan) {
        plan = msg.plan;
        runner = undefined;
      }
      if (!plan) throw new DpError('InvalidParameter', 'the first run message must carry the plan');
      if (!runner || runnerSeed !== msg.seed) {
        runner = makeChunkRunner(plan, msg.seed);
        runnerSeed = msg.seed;
      }
      const { firstTrial, trialCount } = msg;
      if (!Number.isSafeInteger(firstTrial) || firstTrial < 0 || firstTrial % CHUNK_TRIALS !== 0) {
        throw new DpError('InvalidParameter', `firstTrial (${firstTrial}) must be a non-negative multiple of ${CHUNK_TRIALS}`);
      }
      if (!Number.isSafeInteger(trialCount) || trialCount < 0) throw new DpError('InvalidParameter', `trialCount (${trialCount}) must be an integer >= 0`);
      const end = firstTrial + trialCount;
      for (let t0 = firstTrial; t0 < end; t0 += CHUNK_TRIALS) {
        const chunk = t0 / CHUNK_TRIALS;
        const acc = runner.runChunk(chunk, end);
        // Copied, not transferred: the first ArrayBuffer an isolate detaches invalidates V8's
        // "array buffer detaching" protector, and from then on every optimised typed-array access
        // checks for detachment: the engine ran ~20% slower in a worker that had transferred one.
        // A chunk's sums are a few kB (per-cell sums a few hundred kB): copying costs less.
        port.postMessage({ type: 'chunk', id, chunk, layout: acc.layout, firstTrial: acc.firstTrial, trialCount: acc.trialCount, sums: acc.sums, samples: acc.samples });
      }
      port.postMessage({ type: 'done', id, trialCount });
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      port.postMessage({ type: 'error', id, error: { code: typeof e?.code === 'string' ? e.code : 'Internal', message: String(e?.message ?? err) } });
    }
  };
}
