// The Monte-Carlo accumulator: every sum the engine keeps, in two typed arrays so a worker can
// transfer it without copying. `sums` is purely additive (merge = element-wise addition, done in
// chunk order so the floating-point result is the same however the trials were split); `samples`
// holds the first trials' per-cell errors (slot = global trial index), copied on merge.

import { DpError } from '../errors';

/** Trials per chunk: chunk c covers trials [64c, 64c + 64) and draws from makeRng(seed, c). */
export const CHUNK_TRIALS = 64;

/** The per-trial statistics of WORKLOAD.md §5, in this order. */
export const TRIAL_STATS = ['rmse', 'mare', 'p05', 'p50', 'p95'] as const;
export type TrialStat = (typeof TRIAL_STATS)[number];
export const N_TRIAL_STATS = TRIAL_STATS.length;

/** Per-(metric, partition) sums over the trials in which the partition was released. */
export const CELL_FIELDS = ['sumError', 'sumSquaredError', 'sumAbsError', 'covered'] as const;
export const N_CELL_FIELDS = CELL_FIELDS.length;

/** Where each section of `sums` starts; derived from the plan's shape only. */
export interface AccumulatorLayout {
  readonly metrics: number;
  readonly partitions: number;
  /** Number of relative-error thresholds x (one count field per x in the cell section). */
  readonly thresholds: number;
  readonly samplesPerCell: number;
  readonly perPartition: boolean;
  /** Base metrics whose bounded values are sampled per trial (their Σ and Σ² are kept). */
  readonly boundedMetrics: readonly number[];
  /** Offsets into `sums`. */
  readonly trialStats: number;
  readonly kept: number;
  readonly cells: number;
  readonly bounded: number;
  readonly size: number;
}

// Header slots of `sums`.
export const H_TRIALS = 0;
export const H_TRIALS_USED = 1;
export const H_TRIALS_EMPTY = 2;
export const H_SUPPRESSION = 3;
export const H_SUPPRESSION_SQ = 4;
const HEADER = 8;

export function makeLayout(shape: { metrics: number; partitions: number; thresholds: number; samplesPerCell: number; perPartition: boolean; boundedMetrics: readonly number[] }): AccumulatorLayout {
  const { metrics: m, partitions: p, thresholds: x } = shape;
  const trialStats = HEADER;
  const kept = trialStats + m * N_TRIAL_STATS * 2;
  const cells = kept + p;
  const cellSize = shape.perPartition ? (N_CELL_FIELDS + x) * m * p : 0;
  const bounded = cells + cellSize;
  const size = bounded + 2 * p * shape.boundedMetrics.length;
  return { ...shape, boundedMetrics: [...shape.boundedMetrics], trialStats, kept, cells, bounded, size };
}

/**
 * The sums of a contiguous range of trials [firstTrial, firstTrial + trialCount). Plain data
 * (numbers and typed arrays) so it crosses a worker boundary by structured clone or transfer.
 */
export interface SimulationAccumulator {
  readonly layout: AccumulatorLayout;
  readonly firstTrial: number;
  trialCount: number;
  /**
   * Additive sums. Header: trials, trials used (>= 1 partition kept), trials empty, Σ and Σ² of
   * the suppression rate. Then Σ and Σ² of each per-trial statistic ([metric][stat][Σ, Σ²]); the
   * trials each partition was kept; per-cell field f of metric j, partition p at
   * cells + (f·M + j)·P + p, fields sumError, sumSquaredError, sumAbsError, covered, then one
   * count of |relative error| > x per threshold; and for each sampled bounded metric b,
   * Σ bounded value and Σ bounded² per partition at bounded + (2b + {0,1})·P + p.
   */
  readonly sums: Float64Array;
  /** Error samples of cell (j, p) from trial t < samplesPerCell at ((j·P + p)·S + t); NaN = not released. */
  readonly samples: Float64Array;
}

export function createAccumulator(layout: AccumulatorLayout, firstTrial: number): SimulationAccumulator {
  const samples = new Float64Array(layout.samplesPerCell > 0 && firstTrial < layout.samplesPerCell ? layout.metrics * layout.partitions * layout.samplesPerCell : 0);
  samples.fill(NaN);
  return { layout, firstTrial, trialCount: 0, sums: new Float64Array(layout.size), samples };
}

/** Zeroes an accumulator for reuse as the scratch of the chunk starting at firstTrial. */
export function resetAccumulator(acc: SimulationAccumulator, firstTrial: number): SimulationAccumulator {
  acc.sums.fill(0);
  acc.samples.fill(NaN);
  (acc as { firstTrial: number }).firstTrial = firstTrial;
  acc.trialCount = 0;
  return acc;
}

/**
 * Adds `next` (the trials right after `into`'s) into `into`. Merging chunk accumulators in chunk
 * order from an empty accumulator gives the same bits whatever the number of workers or ranges.
 */
export function mergeAccumulator(into: SimulationAccumulator, next: SimulationAccumulator): SimulationAccumulator {
  if (next.firstTrial !== into.firstTrial + into.trialCount) {
    throw new DpError('InvalidParameter', `accumulator of trials from ${next.firstTrial} cannot follow trials [${into.firstTrial}, ${into.firstTrial + into.trialCount}) (merge in trial order)`);
  }
  if (next.sums.length !== into.sums.length) throw new DpError('InvalidParameter', 'accumulators of different plans cannot be merged');
  const a = into.sums;
  const b = next.sums;
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
  const s = into.layout.samplesPerCell;
  const hi = Math.min(s, next.firstTrial + next.trialCount);
  if (next.firstTrial < hi && into.samples.length > 0 && next.samples.length > 0) {
    const cells = into.layout.metrics * into.layout.partitions;
    for (let c = 0; c < cells; c++) {
      for (let t = next.firstTrial; t < hi; t++) into.samples[c * s + t] = next.samples[c * s + t]!;
    }
  }
  into.trialCount += next.trialCount;
  return into;
}

/** A copy that shares nothing with `acc` (for progress snapshots). */
export function cloneAccumulator(acc: SimulationAccumulator): SimulationAccumulator {
  return { layout: acc.layout, firstTrial: acc.firstTrial, trialCount: acc.trialCount, sums: acc.sums.slice(), samples: acc.samples.slice() };
}

/** True if a and b hold the same bits (NaN equal to NaN): the determinism check. */
export function accumulatorsIdentical(a: SimulationAccumulator, b: SimulationAccumulator): boolean {
  if (a.firstTrial !== b.firstTrial || a.trialCount !== b.trialCount) return false;
  const eq = (x: Float64Array, y: Float64Array): boolean => {
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  };
  return eq(a.sums, b.sums) && eq(a.samples, b.samples);
}
