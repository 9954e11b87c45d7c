// DP partition selection for units that touch at most L0 partitions (Desfontaines, Voss, Gipson,
// Mandayam 2022, "Differentially private partition selection", PoPETs; Google
// `cc/algorithms/partition-selection.h`). Per-partition budget: ε′ = ε/L0,
// δ′ = 1 − (1 − δ)^{1/L0}. Strategies:
// - laplace: add Lap(L0/ε) to the unit count n, keep iff n + noise > T = 1 − (L0/ε)·ln(2δ′).
// - gaussian: δ split in halves; σ from the analytic Gaussian with L2 = √L0 at δ/2;
//   T = 1 + σ·Φ⁻¹(1 − δ″), δ″ = 1 − (1 − δ/2)^{1/L0}.
// - optimal (truncated geometric): π(0) = 0,
//   π(n) = min(e^{ε′}π(n−1) + δ′, 1 − e^{−ε′}(1 − π(n−1) − δ′), 1) (their Thm 1).
// Pre-threshold k (Google `pre_thresholding.md`): partitions with fewer than k units are never
// kept; at n >= k the rule is applied to n − k + 1 units (Google's PreAggSelectPartition).

import { DpError, invalid, requireDelta, requireInteger, requireOpenUnit, requirePositive } from '../errors';
import { normalCdf, normalQuantile } from '../math/special';
import type { Rng } from '../rng';
import type { DpEvent } from './accounting/events';
import { analyticGaussianSigma, standardNormalFromUniforms } from './mechanisms/gaussian';
import { laplaceFromUniform } from './mechanisms/laplace';

export type SelectionStrategy = 'laplace' | 'gaussian' | 'optimal';
export const SELECTION_STRATEGIES: readonly SelectionStrategy[] = ['laplace', 'gaussian', 'optimal'];

export interface PartitionSelectionOptions {
  strategy: SelectionStrategy;
  epsilon: number;
  /** Total δ of the selection (must be > 0: private partitions need δ > 0). */
  delta: number;
  /** L0. */
  maxPartitionsContributed: number;
  /** Pre-threshold k >= 1 (1 = none). */
  preThreshold?: number;
}

export interface PartitionSelection {
  readonly strategy: SelectionStrategy;
  readonly epsilon: number;
  readonly delta: number;
  readonly maxPartitionsContributed: number;
  readonly preThreshold: number;
  /** Threshold on the noisy unit count (after the pre-threshold shift); null for 'optimal'. */
  readonly threshold: number | null;
  /** Noise on the unit count: Laplace b or Gaussian σ; null for 'optimal'. */
  readonly noiseScale: number | null;
  /** P(keep | n units). */
  keepProbability(n: number): number;
  /** One seeded keep/drop decision for a partition with n units (simulation PRNG). */
  sampleKeep(rng: Rng, n: number): boolean;
  /**
   * For threshold strategies: decide from an already-noised unit count (so a released count and
   * the selection can share one noise draw, as in WORKLOAD.md). n is the true count (for the
   * pre-threshold), noisyCount = n + noise.
   */
  keepFromNoisyCount(n: number, noisyCount: number): boolean;
  event(): DpEvent;
}

/** Per-partition δ′ = 1 − (1 − δ)^{1/L0}, computed without cancellation. */
export function perPartitionDelta(delta: number, l0: number): number {
  return -Math.expm1(Math.log1p(-delta) / l0);
}

/** Laplace thresholding threshold T = 1 − (L0/ε)·ln(2δ′) (requires δ′ <= 0.5). */
export function laplaceSelectionThreshold(epsilon: number, delta: number, l0: number): number {
  const dAdj = perPartitionDelta(delta, l0);
  if (dAdj > 0.5) throw invalid('delta', delta, 'is too large for Laplace thresholding (per-partition delta must be <= 0.5)');
  return 1 - (l0 / epsilon) * Math.log(2 * dAdj);
}

/** Gaussian thresholding: σ (analytic, L2 = √L0, δ/2) and T = 1 + σ·Φ⁻¹(1 − δ″). */
export function gaussianSelectionParameters(epsilon: number, delta: number, l0: number): { sigma: number; threshold: number } {
  const sigma = analyticGaussianSigma(epsilon, delta / 2, Math.sqrt(l0));
  const dThr = perPartitionDelta(delta / 2, l0);
  return { sigma, threshold: 1 + sigma * -normalQuantile(dThr) };
}

/**
 * Keep probabilities π(1..nMax) of the optimal rule for per-partition (ε′, δ′) (Desfontaines et
 * al. 2022, Thm 1), as a Float64Array indexed by n (π[0] = 0). Beyond nMax the caller uses the
 * last value (the sequence reaches 1 and stays there).
 */
export function optimalKeepTable(epsPart: number, deltaPart: number, nMax: number): Float64Array {
  const pi = new Float64Array(nMax + 1);
  const e = Math.exp(epsPart);
  const eInv = Math.exp(-epsPart);
  for (let n = 1; n <= nMax; n++) {
    const prev = pi[n - 1]!;
    pi[n] = Math.min(e * prev + deltaPart, 1 - eInv * (1 - prev - deltaPart), 1);
  }
  return pi;
}

const OPTIMAL_TABLE_CAP = 1 << 22;

export function makePartitionSelection(opts: PartitionSelectionOptions): PartitionSelection {
  const strategy = opts.strategy;
  if (!SELECTION_STRATEGIES.includes(strategy)) throw invalid('strategy', strategy, "must be 'laplace', 'gaussian' or 'optimal'");
  const epsilon = requirePositive('epsilon', opts.epsilon);
  const delta = requireDelta('delta', opts.delta);
  if (delta === 0) throw invalid('delta', delta, 'must be > 0: selecting partitions from the data needs delta > 0');
  requireOpenUnit('delta', delta);
  const l0 = requireInteger('maxPartitionsContributed', opts.maxPartitionsContributed, 1);
  const preThreshold = requireInteger('preThreshold', opts.preThreshold ?? 1, 1);
  const shifted = (n: number): number => n - preThreshold + 1;

  let threshold: number | null = null;
  let noiseScale: number | null = null;
  let keepShifted: (m: number) => number;
  let sampleShifted: (rng: Rng, m: number) => boolean;

  if (strategy === 'laplace') {
    const b = l0 / epsilon;
    const T = laplaceSelectionThreshold(epsilon, delta, l0);
    threshold = T;
    noiseScale = b;
    // P(m + Lap(b) > T) = 1 − F(T − m).
    keepShifted = (m) => {
      const x = T - m;
      return x >= 0 ? 0.5 * Math.exp(-x / b) : 1 - 0.5 * Math.exp(x / b);
    };
    sampleShifted = (rng, m) => m + laplaceFromUniform(rng.nextDouble(), b) > T;
  } else if (strategy === 'gaussian') {
    const { sigma, threshold: T } = gaussianSelectionParameters(epsilon, delta, l0);
    threshold = T;
    noiseScale = sigma;
    keepShifted = (m) => normalCdf((m - T) / sigma);
    sampleShifted = (rng, m) => m + sigma * standardNormalFromUniforms(rng.nextDouble(), rng.nextDouble()) > T;
  } else {
    const epsPart = epsilon / l0;
    const deltaPart = perPartitionDelta(delta, l0);
    // Grow the table until π reaches 1 (it does within O(ln(1/δ′)/ε′) steps).
    let size = 1024;
    let table = optimalKeepTable(epsPart, deltaPart, size);
    while (table[size]! < 1 && size < OPTIMAL_TABLE_CAP) {
      size *= 4;
      table = optimalKeepTable(epsPart, deltaPart, size);
    }
    if (table[size]! < 1 && size >= OPTIMAL_TABLE_CAP) {
      throw new DpError('NumericalFailure', `optimal partition selection table did not reach 1 within ${size} units (epsilon ${epsilon} too small?)`);
    }
    const last = size;
    keepShifted = (m) => {
      if (m <= 0) return 0;
      const i = Math.floor(m);
      return i >= last ? 1 : table[i]!;
    };
    sampleShifted = (rng, m) => rng.nextDouble() < keepShifted(m);
  }

  const keepProbability = (n: number): number => {
    if (!(n >= 0)) throw invalid('n', n, 'must be >= 0');
    if (n < preThreshold || n === 0) return 0;
    return keepShifted(shifted(n));
  };
  const sel: PartitionSelection = {
    strategy,
    epsilon,
    delta,
    maxPartitionsContributed: l0,
    preThreshold,
    threshold,
    noiseScale,
    keepProbability,
    sampleKeep: (rng, n) => (n < preThreshold || n === 0 ? false : sampleShifted(rng, shifted(n))),
    keepFromNoisyCount: (n, noisyCount) => {
      if (threshold === null) throw new DpError('NotSupported', 'the optimal strategy has no threshold; use sampleKeep');
      return n >= preThreshold && n > 0 && noisyCount - (preThreshold - 1) > threshold;
    },
    event: () => ({ kind: 'epsilon-delta', epsilon, delta }),
  };
  return Object.freeze(sel);
}
