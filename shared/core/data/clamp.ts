// Clamping (clipping) of contributions, the deterministic part of a DP sum's error: each row's
// value (per-value) or each unit's total in a partition (per-partition) is clamped to [low, high]
// before noise is added. The expectations under contribution bounding assume the uniform random
// sampling the simulator and PipelineDP use: a unit in n partitions keeps each with probability
// min(1, L0 / n); a pair with m rows keeps each row with probability min(1, L∞ / m).

import { DpError, requireFinite } from '../errors';
import type { MetricContributions } from './contributions';

export type ClampMode = 'per-value' | 'per-partition';

function checkRange(low: number, high: number): void {
  requireFinite('low', low);
  requireFinite('high', high);
  if (low > high) throw new DpError('InvalidParameter', `clamp low (${low}) must be <= high (${high})`);
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** Per-partition sums after clamping each value (per-value) or each pair's sum (per-partition) to [low, high]. */
export function clampedSums(c: MetricContributions, low: number, high: number, mode: ClampMode = 'per-value'): Float64Array {
  checkRange(low, high);
  const out = new Float64Array(c.partitionCount);
  for (let p = 0; p < c.pairPartition.length; p++) {
    const a = c.rowOffsets[p]!;
    const b = c.rowOffsets[p + 1]!;
    let s = 0;
    if (mode === 'per-value') for (let k = a; k < b; k++) s += clamp(c.rowValues[k]!, low, high);
    else {
      for (let k = a; k < b; k++) s += c.rowValues[k]!;
      s = clamp(s, low, high);
    }
    out[c.pairPartition[p]!]! += s;
  }
  return out;
}

/** Total over all partitions of `clampedSums`. */
export function clampedSum(c: MetricContributions, low: number, high: number, mode: ClampMode = 'per-value'): number {
  return clampedSums(c, low, high, mode).reduce((a, b) => a + b, 0);
}

export interface BoundingOptions {
  /** L0: partitions kept per unit (uniformly at random); unbounded when absent. */
  readonly maxPartitionsContributed?: number;
  /** L∞: rows kept per unit per partition (uniformly at random); unbounded when absent. */
  readonly maxContributionsPerPartition?: number;
  /** Per-value clamp range; none when absent. */
  readonly clamp?: { readonly low: number; readonly high: number };
}

/**
 * Expected per-partition sums and row counts after contribution bounding (L0 and L∞ sampling,
 * then per-value clamping). Exact expectations: sampling keeps each row with a known probability
 * and per-value clamping is linear in the kept rows. (Per-partition clamping of a sampled pair is
 * not linear; the Monte-Carlo engine simulates it.)
 */
export function expectedBoundedSums(c: MetricContributions, opts: BoundingOptions): { sums: Float64Array; rows: Float64Array } {
  const l0 = opts.maxPartitionsContributed ?? Infinity;
  const linf = opts.maxContributionsPerPartition ?? Infinity;
  if (!(l0 >= 1) || !(linf >= 1)) throw new DpError('InvalidParameter', `bounds (L0 ${l0}, L∞ ${linf}) must be >= 1`);
  const lo = opts.clamp?.low ?? -Infinity;
  const hi = opts.clamp?.high ?? Infinity;
  if (opts.clamp) checkRange(lo, hi);
  const sums = new Float64Array(c.partitionCount);
  const rows = new Float64Array(c.partitionCount);
  for (let u = 0; u < c.unitCount; u++) {
    const first = c.unitPairOffsets[u]!;
    const last = c.unitPairOffsets[u + 1]!;
    const keepPair = Math.min(1, l0 / (last - first));
    for (let p = first; p < last; p++) {
      const a = c.rowOffsets[p]!;
      const b = c.rowOffsets[p + 1]!;
      const keepRow = keepPair * Math.min(1, linf / (b - a));
      let s = 0;
      for (let k = a; k < b; k++) s += clamp(c.rowValues[k]!, lo, hi);
      const q = c.pairPartition[p]!;
      sums[q]! += keepRow * s;
      rows[q]! += keepRow * (b - a);
    }
  }
  return { sums, rows };
}
