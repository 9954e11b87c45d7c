// Sensitivities from contribution bounds (PipelineDP `dp_computations.py`; Google
// `numerical-mechanisms.h`). A unit contributes to at most L0 partitions and, in each, at most
// L∞ rows; values are clamped to [lo, hi] per value or per unit-and-partition sum.
// L1 = L0·L∞′ and L2 = √L0·L∞′, where L∞′ is the most one unit can move one partition's value.

import { DpError, invalid, requireFinite, requireInteger } from '../errors';

export type AggregateKind = 'count' | 'count-distinct' | 'sum' | 'mean';

export interface ContributionBounds {
  /** L0: max partitions one privacy unit contributes to. */
  maxPartitionsContributed: number;
  /** L∞: max rows one unit contributes to one partition (ignored by count-distinct). */
  maxContributionsPerPartition: number;
  /** Clamp range for sum and mean. */
  clampLow?: number;
  clampHigh?: number;
  /** 'per-value' clamps each row, 'per-partition' clamps each unit's sum in a partition. */
  clampMode?: 'per-value' | 'per-partition';
}

export interface Sensitivity {
  /** Per-partition sensitivity L∞′. */
  readonly perPartition: number;
  readonly l1: number;
  readonly l2: number;
}

function checkBounds(b: ContributionBounds): void {
  requireInteger('maxPartitionsContributed', b.maxPartitionsContributed, 1);
  requireInteger('maxContributionsPerPartition', b.maxContributionsPerPartition, 1);
}

function clampRange(b: ContributionBounds): [number, number] {
  if (b.clampLow === undefined || b.clampHigh === undefined) {
    throw new DpError('InvalidParameter', 'clampLow and clampHigh are required for sum and mean');
  }
  const lo = requireFinite('clampLow', b.clampLow);
  const hi = requireFinite('clampHigh', b.clampHigh);
  if (!(lo <= hi)) throw invalid('clampLow', lo, `must be <= clampHigh (${hi})`);
  return [lo, hi];
}

function fromPerPartition(perPartition: number, l0: number): Sensitivity {
  return Object.freeze({ perPartition, l1: l0 * perPartition, l2: Math.sqrt(l0) * perPartition });
}

/**
 * Sensitivity of one aggregate. COUNT: L∞′ = L∞; COUNT DISTINCT units: 1; SUM per value:
 * max(|lo|,|hi|)·L∞; SUM per partition: max(|lo|,|hi|). For MEAN see `meanSensitivities`.
 */
export function aggregateSensitivity(kind: Exclude<AggregateKind, 'mean'>, b: ContributionBounds): Sensitivity {
  checkBounds(b);
  const l0 = b.maxPartitionsContributed;
  switch (kind) {
    case 'count':
      return fromPerPartition(b.maxContributionsPerPartition, l0);
    case 'count-distinct':
      return fromPerPartition(1, l0);
    case 'sum': {
      const [lo, hi] = clampRange(b);
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      const mode = b.clampMode ?? 'per-value';
      if (mode !== 'per-value' && mode !== 'per-partition') throw invalid('clampMode', mode, "must be 'per-value' or 'per-partition'");
      return fromPerPartition(mode === 'per-value' ? m * b.maxContributionsPerPartition : m, l0);
    }
    default:
      throw invalid('kind', kind, "must be 'count', 'count-distinct' or 'sum'");
  }
}

/**
 * MEAN as PipelineDP computes it: a noisy COUNT and a noisy normalised SUM of (x − mid), mid =
 * (lo+hi)/2, whose per-partition sensitivity is L∞·(hi − lo)/2; mean = mid + nsum/count.
 * The budget is split between the two (see the metric's config).
 */
export function meanSensitivities(b: ContributionBounds): { count: Sensitivity; normalizedSum: Sensitivity; midpoint: number } {
  checkBounds(b);
  const [lo, hi] = clampRange(b);
  const l0 = b.maxPartitionsContributed;
  return {
    count: fromPerPartition(b.maxContributionsPerPartition, l0),
    normalizedSum: fromPerPartition((b.maxContributionsPerPartition * (hi - lo)) / 2, l0),
    midpoint: (lo + hi) / 2,
  };
}
