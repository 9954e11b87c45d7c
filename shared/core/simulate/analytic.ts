// The analytic error model that runs beside the Monte-Carlo engine: PipelineDP's per-partition
// model (`analysis/per_partition_combiners.py`; ../shared/DP-REFERENCE.md, "Analytic error model
// per partition"), extended with L∞ row sampling, partition selection, post-processing and
// delta-method derived metrics. Each checks the other: where this model applies, the engine must agree with it within
// Monte-Carlo error.
//
// Per base metric and partition, with the sampling the engine does (a unit in n_u partitions keeps
// min(L0, n_u) of them uniformly at random; a pair with m rows keeps min(L∞, m) of them uniformly at
// random, without replacement; then clamping):
//   V  = true (unbounded) value; C = value with the clamp applied to every row (per-value) or pair
//        sum (per-partition), nothing sampled; clipping bias = C − V = clipping-to-min (≥ 0) +
//        clipping-to-max (≤ 0).
//   For pair (u, q): p_u = min(1, L0/n_u); Y = the pair's value after L∞ sampling and clamping,
//   e = E[Y], v = Var[Y]: count Y = min(m, L∞) (fixed); distinct units Y = 1; per-value sum
//   e = (k/m)·Σ clip(x), v = k·s²·(m−k)/(m−1) with k = min(m, L∞) and s² the population variance
//   of the pair's clipped values (a simple random sample of k of m rows); per-partition sum
//   Y = clip(S) of the sampled sum S, taken as normal with S's exact mean and variance (exact when
//   L∞ does not bind, an approximation otherwise).
//   E[bounded] = Σ p_u·e; bounding bias = E[bounded] − C (L0 and L∞ sampling);
//   Var[bounding] = Σ [p_u(1−p_u)·e² + p_u·v]  (PipelineDP's Σ c_u² p_u(1−p_u) when v = 0, e = c_u);
//   pairs of different units are independent and a unit has one pair per partition, so these sums
//   are exact.
//   noise variance σ² from the noise spec; bias = E[bounded] − V (+ the post-processing and
//   selection biases below); RMSE = √(bias² + Var[bounding] + σ²).
//   keep probability p_keep (selection); RMSE with dropped = p_keep·RMSE + (1 − p_keep)·|V|
//   (PipelineDP's formula, a mixture of RMSEs).
// Relative error = RMSE / max(|V|, 1) for base metrics (counts and sums, as WORKLOAD.md's MARE) and
// RMSE / |V| for derived ones (rates and means; ∞ when V = 0).
//
// Error decomposition (non-negative parts that add up to the expected squared error when a dropped
// partition counts as an error of |V|: p_keep·(bias² + Var) + (1 − p_keep)·V²):
//   clipping = p_keep·bias²·w_c, bounding = p_keep·(bias²·w_b + Var[bounding]),
//   noise = p_keep·(bias²·w_n + σ²), suppression = (1 − p_keep)·V²,
//   w_c, w_b, w_n = |clipping bias|, |bounding bias|, |post-processing + selection bias| over their
//   sum: the squared total bias is shared in proportion to the three biases (so the parts stay
//   non-negative when the biases have opposite signs).
//
// Keep probability: public 1; threshold with own noise P(n − (k−1) + Z > T) on the true unit count n
// (k = pre-threshold; 0 when n < k), as makePartitionSelection; threshold on a shared count: the
// released count-distinct is bounded, so P(K − (k−1) + Z > T) over the distribution of the bounded
// unit count K (Poisson-binomial: exact for <= 200 sampled units, normal beyond), with the
// pre-threshold on the true n and K = 0 never kept; probability: the plan's array.
// The count a threshold selection reads (shared draw) is biased upwards in the partitions that are
// kept: its bias and MSE are taken conditional on being kept, E[(K − V + Z)^j·1{K + Z > T'}]/p_keep
// over the bounded count K and the noise Z (`noiseTailMoments`); the difference from the
// unconditional bias is reported as selection bias and counted with the noise. Other metrics'
// noise is independent of the selection, so their errors given "kept" are the unconditional ones
// (up to the correlation of their bounding with the selection count's, which is ignored).
//
// Derived metrics R = N / max(D, floor) + offset by the delta method (an approximation:
// Monte-Carlo is authoritative there): with μ = expected bounded values and d = max(μ_D, floor),
// ∂R/∂N = 1/d, ∂R/∂D = −μ_N/d²; variance to first order, Var = gN²·Var_N + gD²·Var_D + 2gN·gD·Cov
// for bounding (Cov from pairs shared by the two parts of one metric: Σ p(1−p)·e_N·e_D) and for
// noise (independent draws, Cov = 0); bias to second order: clipping bias = C_N/C_D − V_N/V_D,
// bounding bias = μ_N/d − C_N/C_D + μ_N·Var_D,bounding/d³ − Cov/d², and the noise's ratio bias
// μ_N·σ_D²/d³ (reported as post-processing bias, counted with the noise). The expansion fails when
// the denominator's error is not small next to its value: such partitions are counted in
// summary.unreliablePartitions (coefficient of variation above DELTA_METHOD_MAX_CV), where the ratio
// is heavy-tailed and only Monte-Carlo is meaningful.
// Post-processing of base metrics (derived ones are computed from the raw noisy values, as the
// engine does): clamp at 0 by the moments of max(0, μ + Z) at μ = E[bounded] (`clampedAtZero`),
// its bias reported as post-processing bias and counted with the noise, the bounding variance
// scaled by P(μ + Z > 0)² (first order); rounding of continuous noise adds 1/12 to the variance
// (Sheppard's correction).
//
// Speed: `prepareAnalyticPlan` computes everything that depends on the data and the bounds once
// (O(pairs + rows)); `evaluateAnalytic` then costs O(metrics × partitions) (plus the support of
// the bounded unit counts near the threshold), so a new ε only needs a new plan (noise and
// selection) and one evaluation.

import type { MetricContributions } from '../data/contributions';
import { DpError, invalid } from '../errors';
import { normalCdf } from '../math/special';
import { normalHalfWidthFactor, noiseHalfWidth, noiseSf, noiseVariance } from './budget';
import type { BaseMetricPlan, BoundingSpec, NoiseSpec, SimulationPlan } from './plan';

export type Aggregate = BaseMetricPlan['aggregate'];

/** Per-partition sufficient statistics of one base metric (independent of ε). */
export interface PreparedMetric {
  readonly partitions: number;
  readonly aggregate: Aggregate;
  /** Exact (unbounded) value V. */
  readonly trueValues: Float64Array;
  /** Value with the clamp applied and nothing sampled, C. */
  readonly clippedValues: Float64Array;
  /** Clipping-to-min part of C − V (>= 0) and clipping-to-max part (<= 0). */
  readonly clipToMin: Float64Array;
  readonly clipToMax: Float64Array;
  /** E[bounded value] under L0 and L∞ sampling and clamping. */
  readonly expectedBounded: Float64Array;
  /** Var[bounded value]. */
  readonly boundingVariance: Float64Array;
  /** True distinct units per partition (0 when prepared without contributions). */
  readonly units: Float64Array;
  /** False when prepared from true values only (bounding not binding: no bias, no variance). */
  readonly fromContributions: boolean;
}

const clampTo = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** The aggregate a MetricContributions kind stands for (plan.ts BaseMetricPlan.aggregate). */
export function aggregateOfKind(kind: MetricContributions['kind']): Aggregate {
  switch (kind) {
    case 'count':
      return 'count';
    case 'count-distinct':
    case 'funnel':
      return 'count-distinct';
    case 'sum':
    case 'mean':
    case 'conversion':
      return 'sum';
    default:
      throw invalid('kind', kind, 'has no contributions of its own');
  }
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const phi = (z: number): number => Math.exp(-0.5 * z * z) / SQRT_2PI;

/** Mean and variance of clip(X, lo, hi) for X ~ N(mu, sd²) (sd may be 0; lo/hi may be infinite). */
export function clippedNormalMoments(mu: number, sd: number, lo: number, hi: number): { mean: number; variance: number } {
  if (!(sd > 0)) return { mean: clampTo(mu, lo, hi), variance: 0 };
  const a = (lo - mu) / sd;
  const b = (hi - mu) / sd;
  const Fa = lo === -Infinity ? 0 : normalCdf(a);
  const Fb = hi === Infinity ? 1 : normalCdf(b);
  const pa = lo === -Infinity ? 0 : phi(a);
  const pb = hi === Infinity ? 0 : phi(b);
  const mid = Fb - Fa;
  // E[Y] and E[Y²] of the three pieces: lo·P(X<lo), X on [lo, hi], hi·P(X>hi), centred on mu.
  const loPart = lo === -Infinity ? 0 : (lo - mu) * Fa;
  const hiPart = hi === Infinity ? 0 : (hi - mu) * (1 - Fb);
  const m1 = loPart + hiPart + sd * (pa - pb); // E[Y − mu]
  const loSq = lo === -Infinity ? 0 : (lo - mu) * (lo - mu) * Fa;
  const hiSq = hi === Infinity ? 0 : (hi - mu) * (hi - mu) * (1 - Fb);
  const aPa = lo === -Infinity ? 0 : a * pa;
  const bPb = hi === Infinity ? 0 : b * pb;
  const m2 = loSq + hiSq + sd * sd * (mid + aPa - bPb); // E[(Y − mu)²]
  return { mean: mu + m1, variance: Math.max(0, m2 - m1 * m1) };
}

interface PairVisitor {
  (q: number, keep: number, full: number, clipped: number, toMin: number, toMax: number, e: number, v: number): void;
}

/** Visits every pair with its unbounded value, clipped value, keep probability and E/Var after L∞ sampling. */
function visitPairs(c: MetricContributions, bounding: BoundingSpec | undefined, aggregate: Aggregate, visit: PairVisitor): void {
  const l0 = bounding?.maxPartitionsContributed ?? Infinity;
  const linf = bounding?.maxContributionsPerPartition ?? Infinity;
  const lo = bounding?.clampLow ?? -Infinity;
  const hi = bounding?.clampHigh ?? Infinity;
  const perPartition = bounding?.clampMode === 'per-partition';
  if (!(l0 >= 1) || !(linf >= 1)) throw invalid('bounds', `L0 ${l0}, L∞ ${linf}`, 'must be >= 1');
  if (!(lo <= hi)) throw invalid('clamp', `[${lo}, ${hi}]`, 'needs low <= high');
  const { unitPairOffsets, rowOffsets, rowValues, pairPartition } = c;
  for (let u = 0; u < c.unitCount; u++) {
    const first = unitPairOffsets[u]!;
    const last = unitPairOffsets[u + 1]!;
    const keep = Math.min(1, l0 / (last - first));
    for (let p = first; p < last; p++) {
      const a = rowOffsets[p]!;
      const b = rowOffsets[p + 1]!;
      const m = b - a;
      const q = pairPartition[p]!;
      if (aggregate === 'count-distinct') {
        visit(q, keep, 1, 1, 0, 0, 1, 0);
        continue;
      }
      const k = Math.min(m, linf);
      if (aggregate === 'count') {
        visit(q, keep, m, m, 0, 0, k, 0);
        continue;
      }
      let sum = 0;
      let clipSum = 0;
      let clipSq = 0;
      let toMin = 0;
      let toMax = 0;
      for (let i = a; i < b; i++) {
        const x = rowValues[i]!;
        sum += x;
        if (!perPartition) {
          const w = clampTo(x, lo, hi);
          clipSum += w;
          clipSq += w * w;
          if (x < lo) toMin += lo - x;
          else if (x > hi) toMax += hi - x;
        }
      }
      if (!perPartition) {
        const r = k / m;
        let v = 0;
        if (k < m) {
          const mean = clipSum / m;
          const s2 = Math.max(0, clipSq / m - mean * mean);
          v = (k * s2 * (m - k)) / (m - 1);
        }
        visit(q, keep, sum, clipSum, toMin, toMax, r * clipSum, v);
      } else {
        const clipped = clampTo(sum, lo, hi);
        const tMin = sum < lo ? lo - sum : 0;
        const tMax = sum > hi ? hi - sum : 0;
        if (k === m) {
          visit(q, keep, sum, clipped, tMin, tMax, clipped, 0);
        } else {
          // S = sum of k of the m raw values (without replacement): exact mean and variance.
          let sq = 0;
          for (let i = a; i < b; i++) sq += rowValues[i]! * rowValues[i]!;
          const mean = sum / m;
          const s2 = Math.max(0, sq / m - mean * mean);
          const mom = clippedNormalMoments((k / m) * sum, Math.sqrt((k * s2 * (m - k)) / (m - 1)), lo, hi);
          visit(q, keep, sum, clipped, tMin, tMax, mom.mean, mom.variance);
        }
      }
    }
  }
}

/**
 * Per-partition sufficient statistics of one base metric under the given bounding (see the module
 * comment for the formulas). Without contributions (the plan's exact shortcut: bounds not
 * binding) pass `trueValues` instead: the bounded value is then the true value.
 */
export function prepareAnalytic(
  contributions: MetricContributions | undefined,
  bounding: BoundingSpec | undefined,
  opts: { aggregate?: Aggregate; trueValues?: Float64Array } = {},
): PreparedMetric {
  if (!contributions) {
    const tv = opts.trueValues;
    if (!tv) throw new DpError('InvalidParameter', 'prepareAnalytic needs contributions or trueValues');
    const P = tv.length;
    const zero = new Float64Array(P);
    return {
      partitions: P, aggregate: opts.aggregate ?? 'sum', trueValues: tv, clippedValues: tv, clipToMin: zero, clipToMax: zero,
      expectedBounded: tv, boundingVariance: zero, units: zero, fromContributions: false,
    };
  }
  const c = contributions;
  const aggregate = opts.aggregate ?? aggregateOfKind(c.kind);
  const P = c.partitionCount;
  const trueValues = new Float64Array(P);
  const clippedValues = new Float64Array(P);
  const clipToMin = new Float64Array(P);
  const clipToMax = new Float64Array(P);
  const expectedBounded = new Float64Array(P);
  const boundingVariance = new Float64Array(P);
  visitPairs(c, bounding, aggregate, (q, keep, full, clipped, toMin, toMax, e, v) => {
    trueValues[q]! += full;
    clippedValues[q]! += clipped;
    clipToMin[q]! += toMin;
    clipToMax[q]! += toMax;
    expectedBounded[q]! += keep * e;
    boundingVariance[q]! += keep * (1 - keep) * e * e + keep * v;
  });
  return {
    partitions: P, aggregate, trueValues, clippedValues, clipToMin, clipToMax, expectedBounded, boundingVariance,
    units: Float64Array.from(c.unitsPerPartition), fromContributions: true,
  };
}

/**
 * Per-partition covariance of two bounded aggregates computed from the same pairs (the same
 * pairUnit/pairPartition/rowOffsets, bounded together): Σ p(1−p)·e_a·e_b. The part p·Cov(Y_a, Y_b)
 * from L∞ sampling is zero when one of the two has a fixed per-pair value (counts, distinct
 * units, 0/1 indicators), which holds for every derived metric the plan builder makes.
 */
export function boundingCovariance(a: MetricContributions, b: MetricContributions, bounding: BoundingSpec | undefined, aggA: Aggregate, aggB: Aggregate): Float64Array {
  if (a.pairUnit.length !== b.pairUnit.length || a.unitCount !== b.unitCount || a.partitionCount !== b.partitionCount) {
    throw new DpError('InvalidParameter', `contributions ${a.metricId} and ${b.metricId} do not share their pairs`);
  }
  const eA = new Float64Array(a.pairUnit.length);
  let i = 0;
  visitPairs(a, bounding, aggA, (_q, _keep, _f, _c, _mn, _mx, e) => {
    eA[i++] = e;
  });
  const out = new Float64Array(a.partitionCount);
  i = 0;
  visitPairs(b, bounding, aggB, (q, keep, _f, _c, _mn, _mx, e) => {
    out[q]! += keep * (1 - keep) * eA[i++]! * e;
  });
  return out;
}

/** Distribution of a partition's bounded unit count: P(K = offset + j) = pmf[j]. */
export interface CountDistribution {
  readonly offset: number;
  readonly pmf: Float64Array;
}

const EXACT_POISSON_BINOMIAL_MAX = 200;

/**
 * Per partition, the distribution of the number of units left after L0 sampling (each unit of
 * partition q stays with probability p_u = min(1, L0/n_u), independently across units):
 * Poisson-binomial, exact up to 200 sampled units, a continuity-corrected normal beyond.
 */
export function boundedUnitDistributions(c: MetricContributions, l0: number): CountDistribution[] {
  const P = c.partitionCount;
  const certain = new Int32Array(P);
  const uncertainCount = new Int32Array(P);
  for (let u = 0; u < c.unitCount; u++) {
    const n = c.unitPairOffsets[u + 1]! - c.unitPairOffsets[u]!;
    for (let p = c.unitPairOffsets[u]!; p < c.unitPairOffsets[u + 1]!; p++) {
      if (n <= l0) certain[c.pairPartition[p]!]!++;
      else uncertainCount[c.pairPartition[p]!]!++;
    }
  }
  // Keep probabilities of the sampled units, grouped by partition (CSR).
  const start = new Int32Array(P + 1);
  for (let q = 0; q < P; q++) start[q + 1] = start[q]! + uncertainCount[q]!;
  const probs = new Float64Array(start[P]!);
  const fill = start.slice(0, P);
  for (let u = 0; u < c.unitCount; u++) {
    const n = c.unitPairOffsets[u + 1]! - c.unitPairOffsets[u]!;
    if (n <= l0) continue;
    for (let p = c.unitPairOffsets[u]!; p < c.unitPairOffsets[u + 1]!; p++) probs[fill[c.pairPartition[p]!]!++] = l0 / n;
  }
  const out: CountDistribution[] = [];
  for (let q = 0; q < P; q++) {
    const k = uncertainCount[q]!;
    const base = certain[q]!;
    if (k === 0) {
      out.push({ offset: base, pmf: Float64Array.of(1) });
    } else if (k <= EXACT_POISSON_BINOMIAL_MAX) {
      const pmf = new Float64Array(k + 1);
      pmf[0] = 1;
      for (let j = 0; j < k; j++) {
        const p = probs[start[q]! + j]!;
        for (let i = j + 1; i >= 1; i--) pmf[i] = pmf[i]! * (1 - p) + pmf[i - 1]! * p;
        pmf[0] = pmf[0]! * (1 - p);
      }
      out.push(trim(base, pmf));
    } else {
      let mean = 0;
      let variance = 0;
      for (let j = start[q]!; j < start[q + 1]!; j++) {
        mean += probs[j]!;
        variance += probs[j]! * (1 - probs[j]!);
      }
      const sd = Math.sqrt(variance);
      const lo = Math.max(0, Math.floor(mean - 8 * sd));
      const hi = Math.min(k, Math.ceil(mean + 8 * sd));
      const pmf = new Float64Array(hi - lo + 1);
      let total = 0;
      for (let i = lo; i <= hi; i++) {
        const v = normalCdf((i + 0.5 - mean) / sd) - normalCdf((i - 0.5 - mean) / sd);
        pmf[i - lo] = v;
        total += v;
      }
      for (let i = 0; i < pmf.length; i++) pmf[i]! /= total;
      out.push(trim(base + lo, pmf));
    }
  }
  return out;
}

/** Drops the negligible tails of a pmf (weights below 1e-17 of the largest): shorter sums later. */
function trim(offset: number, pmf: Float64Array): CountDistribution {
  let max = 0;
  for (let i = 0; i < pmf.length; i++) if (pmf[i]! > max) max = pmf[i]!;
  const cut = max * 1e-17;
  let start = 0;
  let end = pmf.length;
  while (start < end - 1 && pmf[start]! < cut) start++;
  while (end > start + 1 && pmf[end - 1]! < cut) end--;
  return start === 0 && end === pmf.length ? { offset, pmf } : { offset: offset + start, pmf: pmf.slice(start, end) };
}

/** Everything `evaluateAnalytic` needs that does not depend on ε. */
export interface PreparedAnalyticPlan {
  readonly partitions: number;
  /** One entry per plan metric: prepared statistics for base metrics, null for derived ones. */
  readonly metrics: readonly (PreparedMetric | null)[];
  /** Derived metrics: bounding covariance of numerator and denominator (null when independent). */
  readonly covariances: readonly (Float64Array | null)[];
  /** Threshold selection on a shared count: distributions of its bounded unit counts. */
  readonly sharedUnits: readonly CountDistribution[] | null;
}

function sameInts(x: Int32Array, y: Int32Array): boolean {
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Whether two contributions have the same pairs and rows (the parts of one metric). */
function samePairs(a: MetricContributions, b: MetricContributions): boolean {
  return a.unitCount === b.unitCount && sameInts(a.pairUnit, b.pairUnit) && sameInts(a.pairPartition, b.pairPartition) && sameInts(a.rowOffsets, b.rowOffsets);
}

/** Precomputes the per-partition statistics of every metric of a plan (once per data and bounds). */
export function prepareAnalyticPlan(plan: SimulationPlan): PreparedAnalyticPlan {
  const metrics = plan.metrics.map((m) => {
    if (m.role !== 'base') return null;
    if (m.trueValues.length !== plan.partitions) throw new DpError('InvalidParameter', `metric ${m.id}: ${m.trueValues.length} true values for ${plan.partitions} partitions`);
    const prepared = prepareAnalytic(m.contributions, m.bounding, { aggregate: m.aggregate, trueValues: m.trueValues });
    if (m.contributions && m.contributions.partitionCount !== plan.partitions) {
      throw new DpError('InvalidParameter', `metric ${m.id}: contributions have ${m.contributions.partitionCount} partitions, the plan ${plan.partitions}`);
    }
    return prepared;
  });
  const covariances = plan.metrics.map((m) => {
    if (m.role !== 'derived') return null;
    const a = plan.metrics[m.numerator];
    const b = plan.metrics[m.denominator];
    if (a?.role !== 'base' || b?.role !== 'base') throw new DpError('InvalidParameter', `derived metric ${m.id}: numerator and denominator must be base metrics`);
    if (!a.contributions || !b.contributions || a.boundingGroup === undefined || a.boundingGroup !== b.boundingGroup) return null;
    if (!samePairs(a.contributions, b.contributions)) return null;
    return boundingCovariance(a.contributions, b.contributions, a.bounding, a.aggregate, b.aggregate);
  });
  let sharedUnits: CountDistribution[] | null = null;
  const sel = plan.selection;
  if (sel.kind === 'threshold' && sel.sharedMetric !== undefined) {
    const m = plan.metrics[sel.sharedMetric];
    if (m?.role !== 'base') throw new DpError('InvalidParameter', `selection.sharedMetric ${sel.sharedMetric} is not a base metric`);
    if (m.contributions) sharedUnits = boundedUnitDistributions(m.contributions, m.bounding?.maxPartitionsContributed ?? Infinity);
  }
  return { partitions: plan.partitions, metrics, covariances, sharedUnits };
}

/** Keep probability of every partition under the plan's selection (see the module comment). */
export function keepProbabilities(plan: SimulationPlan, prepared?: PreparedAnalyticPlan): Float64Array {
  const P = plan.partitions;
  const sel = plan.selection;
  const out = new Float64Array(P);
  if (sel.kind === 'public') return out.fill(1);
  if (sel.kind === 'probability') {
    if (sel.keepProbability.length !== P) throw new DpError('InvalidParameter', `selection.keepProbability has ${sel.keepProbability.length} entries for ${P} partitions`);
    out.set(sel.keepProbability);
    return out;
  }
  const pre = sel.preThreshold;
  const x = sel.threshold + (pre - 1);
  let noise: NoiseSpec | undefined = sel.noise;
  if (sel.sharedMetric !== undefined) {
    const m = plan.metrics[sel.sharedMetric];
    if (m?.role !== 'base') throw new DpError('InvalidParameter', `selection.sharedMetric ${sel.sharedMetric} is not a base metric`);
    noise = m.noise;
  }
  if (!noise) throw new DpError('InvalidParameter', 'a threshold selection needs noise or sharedMetric');
  const dists = sel.sharedMetric !== undefined ? prepared?.sharedUnits ?? null : null;
  for (let q = 0; q < P; q++) {
    const n = sel.units[q]!;
    if (n < pre || n === 0) continue;
    if (!dists) {
      out[q] = noiseSf(noise, x - n);
      continue;
    }
    const d = dists[q]!;
    // P(K + Z > x) is increasing in K: if the smallest K already keeps surely, skip the sum.
    const atLow = noiseSf(noise, x - d.offset);
    if (atLow >= 1 - 1e-15) {
      out[q] = atLow;
      continue;
    }
    let s = 0;
    // K = 0: every unit sampled away, the partition does not exist in the bounded data (never kept).
    for (let j = d.offset === 0 ? 1 : 0; j < d.pmf.length; j++) {
      const w = d.pmf[j]!;
      if (w > 0) s += w * noiseSf(noise, x - (d.offset + j));
    }
    out[q] = s;
  }
  return out;
}

/** The four non-negative parts of a metric's expected squared error (dropped partitions count |V|²). */
export interface ErrorDecomposition {
  readonly clipping: number;
  readonly bounding: number;
  readonly noise: number;
  readonly suppression: number;
  readonly total: number;
}

export interface AnalyticMetricResult {
  readonly id: string;
  readonly role: 'base' | 'derived';
  /** Derived metrics come from the delta method (first order): an approximation. */
  readonly approximate: boolean;
  readonly trueValue: Float64Array;
  readonly expectedBounded: Float64Array;
  readonly clippingBias: Float64Array;
  readonly boundingBias: Float64Array;
  /** Base metrics: bias of post-processing (clamp at 0); derived metrics: the noise's second-order ratio bias. */
  readonly postProcessingBias: Float64Array;
  /** The count a threshold selection reads: its bias given that the partition is kept (noise and bounded count conditioned on passing the threshold); 0 elsewhere. */
  readonly selectionBias: Float64Array;
  readonly boundingStd: Float64Array;
  readonly noiseStd: Float64Array;
  readonly bias: Float64Array;
  readonly rmse: Float64Array;
  readonly keepProbability: Float64Array;
  readonly rmseWithDropped: Float64Array;
  /** RMSE / max(|V|, 1) (base) or RMSE / |V| (derived). */
  readonly relativeError: Float64Array;
  /** Half-width of the noise at the confidence level. */
  readonly halfWidth: Float64Array;
  /** Per-partition parts of the expected squared error (stackable). */
  readonly parts: { readonly clipping: Float64Array; readonly bounding: Float64Array; readonly noise: Float64Array; readonly suppression: Float64Array };
  readonly summary: {
    /** For each threshold x: share of partitions released with relative error <= x (keep-weighted over all partitions). */
    readonly withinShare: readonly number[];
    /** Σ(1 − p_keep)|V| / Σ|V|: expected share of the metric's value lost to suppression. */
    readonly valueLostShare: number;
    /** Mean over partitions of the parts of the squared error. */
    readonly decomposition: ErrorDecomposition;
    /** The same parts divided by the squared relative-error denominator (partitions with V = 0 of derived metrics left out). */
    readonly relativeDecomposition: ErrorDecomposition;
    /** Expected number of released partitions. */
    readonly expectedReleased: number;
    /**
     * Derived metrics: partitions where the delta method is unreliable because the denominator's
     * error std exceeds DELTA_METHOD_MAX_CV of its value (the ratio is then heavy-tailed); 0 for base metrics.
     */
    readonly unreliablePartitions: number;
  };
}

export interface AnalyticResult {
  readonly partitions: number;
  readonly confidence: number;
  readonly relativeErrorThresholds: readonly number[];
  readonly keepProbability: Float64Array;
  readonly metrics: readonly AnalyticMetricResult[];
}

export interface EvaluateOptions {
  /** Default: plan.stats.confidence. */
  readonly confidence?: number;
  /** Default: plan.stats.relativeErrorThresholds. */
  readonly relativeErrorThresholds?: readonly number[];
}

interface Cell {
  V: Float64Array;
  E: Float64Array;
  clipB: Float64Array;
  boundB: Float64Array;
  /** Bias added by post-processing (clamp at 0) or a ratio's noise; null when none. */
  postB: Float64Array | null;
  /** Bias of the released count the selection reads, given that the partition is kept; null when none. */
  selB?: Float64Array | null;
  boundVar: Float64Array;
  noiseVar: Float64Array;
  halfWidth: Float64Array;
  relDen: Float64Array;
}

/**
 * Moments of max(0, μ + Z) for one noise draw Z, and its slope P(μ + Z > 0) in μ (which scales
 * the bounding variance, first order). Laplace: E = μ + (b/2)e^{−μ/b}, E[·²] = μ² + 2b² − b²e^{−μ/b}
 * for μ >= 0, and (b/2)e^{μ/b}, b²e^{μ/b} for μ < 0; Gaussian: the clipped-normal moments. The
 * discrete kinds use their continuous counterparts (scale t, σ): an approximation.
 */
export function clampedAtZero(noise: NoiseSpec, mu: number, variance = noiseVariance(noise)): { mean: number; variance: number; slope: number } {
  // Far above 0 the clamp never acts (P(μ + Z < 0) < 1e-18): the moments of the noise itself.
  const scale = noise.kind === 'none' ? 0 : noise.kind === 'laplace' || noise.kind === 'discrete-laplace' ? noise.scale : noise.sigma;
  if (noise.kind !== 'none' && mu > 42 * scale) return { mean: mu, variance, slope: 1 };
  switch (noise.kind) {
    case 'laplace':
    case 'discrete-laplace': {
      const b = noise.scale;
      if (mu >= 0) {
        const e = Math.exp(-mu / b);
        const mean = mu + 0.5 * b * e;
        return { mean, variance: Math.max(0, mu * mu + 2 * b * b - b * b * e - mean * mean), slope: 1 - 0.5 * e };
      }
      const e = Math.exp(mu / b);
      const mean = 0.5 * b * e;
      return { mean, variance: Math.max(0, b * b * e - mean * mean), slope: 0.5 * e };
    }
    case 'gaussian':
    case 'discrete-gaussian': {
      // Clipped-normal moments on [0, ∞): with z = μ/σ, E = μΦ(z) + σφ(z), E[·²] = (μ² + σ²)Φ(z) + μσφ(z).
      const sd = noise.sigma;
      const z = mu / sd;
      const F = normalCdf(z);
      const f = phi(z);
      const mean = mu * F + sd * f;
      return { mean, variance: Math.max(0, (mu * mu + sd * sd) * F + mu * sd * f - mean * mean), slope: F };
    }
    case 'none':
      return { mean: Math.max(0, mu), variance: 0, slope: mu > 0 ? 1 : 0 };
  }
}

const ONE = Float64Array.of(1);

/**
 * [P(Z > c), E[Z·1{Z > c}], E[Z²·1{Z > c}]] for one noise draw, written into `out`. Laplace(b): for c >= 0,
 * ½e^{−c/b}, ½e^{−c/b}(c + b), ½e^{−c/b}(c² + 2bc + 2b²); for c < 0, 1 − ½e^{c/b}, ½e^{c/b}(b − c),
 * 2b² − ½e^{c/b}(c² − 2bc + 2b²). Gaussian(σ): 1 − Φ(c/σ), σφ(c/σ), σ²((c/σ)φ(c/σ) + 1 − Φ(c/σ)).
 * The discrete kinds use the continuous formulas for the moments (an approximation) and their
 * exact tail for P(Z > c).
 */
export function noiseTailMoments(noise: NoiseSpec, c: number, out: Float64Array = new Float64Array(3)): Float64Array {
  let sf: number;
  let m1: number;
  let m2: number;
  switch (noise.kind) {
    case 'laplace':
    case 'discrete-laplace': {
      const b = noise.scale;
      sf = noise.kind === 'laplace' ? (c >= 0 ? 0.5 * Math.exp(-c / b) : 1 - 0.5 * Math.exp(c / b)) : noiseSf(noise, c);
      if (c >= 0) {
        const e = 0.5 * Math.exp(-c / b);
        m1 = e * (c + b);
        m2 = e * (c * c + 2 * b * c + 2 * b * b);
      } else {
        const e = 0.5 * Math.exp(c / b);
        m1 = e * (b - c);
        m2 = 2 * b * b - e * (c * c - 2 * b * c + 2 * b * b);
      }
      break;
    }
    case 'gaussian':
    case 'discrete-gaussian': {
      const sd = noise.sigma;
      const z = c / sd;
      const upper = 1 - normalCdf(z);
      sf = noise.kind === 'gaussian' ? upper : noiseSf(noise, c);
      m1 = sd * phi(z);
      m2 = sd * sd * (z * m1 / sd + upper);
      break;
    }
    case 'none':
      sf = c < 0 ? 1 : 0;
      m1 = 0;
      m2 = 0;
      break;
  }
  out[0] = sf;
  out[1] = m1;
  out[2] = m2;
  return out;
}

/** Largest coefficient of variation of a denominator for which the delta method is trusted. */
export const DELTA_METHOD_MAX_CV = 0.1;

function finishMetric(id: string, role: 'base' | 'derived', c: Cell, keep: Float64Array, thresholds: readonly number[], unreliablePartitions = 0): AnalyticMetricResult {
  const P = keep.length;
  const bias = new Float64Array(P);
  const rmse = new Float64Array(P);
  const rwd = new Float64Array(P);
  const rel = new Float64Array(P);
  const boundingStd = new Float64Array(P);
  const noiseStd = new Float64Array(P);
  const pc = new Float64Array(P);
  const pb = new Float64Array(P);
  const pn = new Float64Array(P);
  const ps = new Float64Array(P);
  const within = new Float64Array(thresholds.length);
  const dec = { clipping: 0, bounding: 0, noise: 0, suppression: 0 };
  const rdec = { clipping: 0, bounding: 0, noise: 0, suppression: 0 };
  let relCount = 0;
  let lost = 0;
  let mass = 0;
  let released = 0;
  for (let q = 0; q < P; q++) {
    const V = c.V[q]!;
    const cb = c.clipB[q]!;
    const bb = c.boundB[q]!;
    const pbias = (c.postB ? c.postB[q]! : 0) + (c.selB ? c.selB[q]! : 0);
    const b = c.E[q]! - V + pbias;
    const bv = c.boundVar[q]!;
    const nv = c.noiseVar[q]!;
    const k = keep[q]!;
    const mse = b * b + bv + nv;
    const r = Math.sqrt(mse);
    bias[q] = b;
    rmse[q] = r;
    boundingStd[q] = Math.sqrt(bv);
    noiseStd[q] = Math.sqrt(nv);
    rwd[q] = k * r + (1 - k) * Math.abs(V);
    const den = c.relDen[q]!;
    const re = den > 0 ? r / den : r > 0 ? Infinity : 0;
    rel[q] = re;
    const acb = Math.abs(cb);
    const abb = Math.abs(bb);
    const apb = Math.abs(pbias);
    const sum = acb + abb + apb;
    const wc = sum > 0 ? acb / sum : 0;
    const wb = sum > 0 ? abb / sum : 0;
    const wn = sum > 0 ? apb / sum : 0;
    pc[q] = k * b * b * wc;
    pb[q] = k * (b * b * wb + bv);
    pn[q] = k * (b * b * wn + nv);
    ps[q] = (1 - k) * V * V;
    dec.clipping += pc[q]!;
    dec.bounding += pb[q]!;
    dec.noise += pn[q]!;
    dec.suppression += ps[q]!;
    if (den > 0 && Number.isFinite(den)) {
      const d2 = den * den;
      rdec.clipping += pc[q]! / d2;
      rdec.bounding += pb[q]! / d2;
      rdec.noise += pn[q]! / d2;
      rdec.suppression += ps[q]! / d2;
      relCount++;
    }
    for (let t = 0; t < thresholds.length; t++) if (re <= thresholds[t]!) within[t]! += k;
    lost += (1 - k) * Math.abs(V);
    mass += Math.abs(V);
    released += k;
  }
  const mean = (d: typeof dec, n: number): ErrorDecomposition => {
    const f = n > 0 ? 1 / n : 0;
    const out = { clipping: d.clipping * f, bounding: d.bounding * f, noise: d.noise * f, suppression: d.suppression * f };
    return { ...out, total: out.clipping + out.bounding + out.noise + out.suppression };
  };
  return {
    id,
    role,
    approximate: role === 'derived',
    trueValue: c.V,
    expectedBounded: c.E,
    clippingBias: c.clipB,
    boundingBias: c.boundB,
    postProcessingBias: c.postB ?? new Float64Array(P),
    selectionBias: c.selB ?? new Float64Array(P),
    boundingStd,
    noiseStd,
    bias,
    rmse,
    keepProbability: keep,
    rmseWithDropped: rwd,
    relativeError: rel,
    halfWidth: c.halfWidth,
    parts: { clipping: pc, bounding: pb, noise: pn, suppression: ps },
    summary: {
      withinShare: Array.from(within, (x) => (P > 0 ? x / P : 0)),
      valueLostShare: mass > 0 ? lost / mass : 0,
      decomposition: mean(dec, P),
      relativeDecomposition: mean(rdec, relCount),
      expectedReleased: released,
      unreliablePartitions,
    },
  };
}

/**
 * The analytic error of every metric and partition of a plan, from statistics prepared once by
 * `prepareAnalyticPlan`. The plan may differ from the one prepared in its noise, selection and
 * stats (a new ε) but not in its partitions, contributions or bounds.
 */
export function evaluateAnalytic(prepared: PreparedAnalyticPlan, plan: SimulationPlan, opts: EvaluateOptions = {}): AnalyticResult {
  if (prepared.partitions !== plan.partitions || prepared.metrics.length !== plan.metrics.length) {
    throw new DpError('InvalidParameter', 'the plan does not match the prepared statistics (partitions or metrics differ): prepare it again');
  }
  const confidence = opts.confidence ?? plan.stats.confidence;
  const thresholds = opts.relativeErrorThresholds ?? plan.stats.relativeErrorThresholds;
  const z = normalHalfWidthFactor(confidence);
  const P = plan.partitions;
  const keep = keepProbabilities(plan, prepared);
  const noiseVars = plan.metrics.map((m) => (m.role === 'base' ? noiseVariance(m.noise) : 0));
  const results: AnalyticMetricResult[] = [];
  plan.metrics.forEach((m, j) => {
    if (m.role === 'base') {
      const s = prepared.metrics[j]!;
      const clipB = new Float64Array(P);
      const boundB = new Float64Array(P);
      const relDen = new Float64Array(P);
      for (let q = 0; q < P; q++) {
        clipB[q] = s.clippedValues[q]! - s.trueValues[q]!;
        boundB[q] = s.expectedBounded[q]! - s.clippedValues[q]!;
        relDen[q] = Math.max(Math.abs(s.trueValues[q]!), 1);
      }
      const hw = m.privacy.halfWidth !== undefined && m.privacy.confidence === confidence ? m.privacy.halfWidth : noiseHalfWidth(m.noise, confidence);
      const noiseVar = new Float64Array(P).fill(noiseVars[j]!);
      let boundVar = s.boundingVariance;
      let postB: Float64Array | null = null;
      if (m.post.clampAtZero) {
        postB = new Float64Array(P);
        boundVar = new Float64Array(P);
        for (let q = 0; q < P; q++) {
          const c = clampedAtZero(m.noise, s.expectedBounded[q]!, noiseVars[j]!);
          postB[q] = c.mean - s.expectedBounded[q]!;
          noiseVar[q] = c.variance;
          boundVar[q] = c.slope * c.slope * s.boundingVariance[q]!;
        }
      }
      let selB: Float64Array | null = null;
      const sel = plan.selection;
      if (sel.kind === 'threshold' && sel.sharedMetric === j) {
        // The released count is the selection's noisy count: given "kept", both its noise and its
        // bounded count are conditioned on passing the threshold (the clamp at 0 never binds then).
        selB = new Float64Array(P);
        const x = sel.threshold + (sel.preThreshold - 1);
        const dists = prepared.sharedUnits;
        const tail = new Float64Array(3);
        for (let q = 0; q < P; q++) {
          // Never kept, or kept whatever the draw (no conditioning): the unconditional moments.
          if (!(keep[q]! > 0) || keep[q]! >= 1 - 1e-12) continue;
          const V = s.trueValues[q]!;
          const d = dists ? dists[q]! : { offset: s.trueValues[q]!, pmf: ONE };
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          for (let i = d.offset === 0 ? 1 : 0; i < d.pmf.length; i++) {
            const w = d.pmf[i]!;
            if (!(w > 0)) continue;
            const e = d.offset + i - V;
            const t = noiseTailMoments(m.noise, x - (d.offset + i), tail);
            a0 += w * t[0]!;
            a1 += w * (e * t[0]! + t[1]!);
            a2 += w * (e * e * t[0]! + 2 * e * t[1]! + t[2]!);
          }
          if (!(a0 > 0)) continue;
          const condBias = a1 / a0;
          if (postB) postB[q] = 0;
          selB[q] = condBias - (s.expectedBounded[q]! - V);
          boundVar = boundVar === s.boundingVariance ? Float64Array.from(boundVar) : boundVar;
          boundVar[q] = s.boundingVariance[q]!;
          noiseVar[q] = Math.max(0, a2 / a0 - condBias * condBias - boundVar[q]!);
        }
      }
      if (m.post.round && (m.noise.kind === 'laplace' || m.noise.kind === 'gaussian')) for (let q = 0; q < P; q++) noiseVar[q]! += 1 / 12;
      results.push(finishMetric(m.id, 'base', {
        V: s.trueValues, E: s.expectedBounded, clipB, boundB, postB, selB, boundVar,
        noiseVar, halfWidth: new Float64Array(P).fill(hw), relDen,
      }, keep, thresholds));
      return;
    }
    const a = prepared.metrics[m.numerator];
    const b = prepared.metrics[m.denominator];
    if (!a || !b) throw new DpError('InvalidParameter', `derived metric ${m.id}: numerator and denominator must be base metrics`);
    const cov = prepared.covariances[j];
    const nvA = noiseVars[m.numerator]!;
    const nvB = noiseVars[m.denominator]!;
    const f = m.denominatorFloor;
    const o = m.offset;
    const cell: Cell = {
      V: m.trueValues, E: new Float64Array(P), clipB: new Float64Array(P), boundB: new Float64Array(P), postB: new Float64Array(P), boundVar: new Float64Array(P),
      noiseVar: new Float64Array(P), halfWidth: new Float64Array(P), relDen: new Float64Array(P),
    };
    let unreliable = 0;
    for (let q = 0; q < P; q++) {
      const muN = a.expectedBounded[q]!;
      const d = Math.max(b.expectedBounded[q]!, f);
      const gN = 1 / d;
      const gD = -muN / (d * d);
      const rTrue = m.trueValues[q]!;
      const rClip = a.clippedValues[q]! / Math.max(b.clippedValues[q]!, f) + o;
      const cv = cov ? cov[q]! : 0;
      // Second-order bias of a ratio: E[N/D] ≈ μN/d + μN·Var(D)/d³ − Cov(N, D)/d².
      const ratioBiasNoise = (muN * nvB) / (d * d * d);
      const ratioBiasBound = (muN * b.boundingVariance[q]!) / (d * d * d) - cv / (d * d);
      const rExp = muN / d + o + ratioBiasBound;
      cell.E[q] = rExp;
      cell.clipB[q] = rClip - rTrue;
      cell.boundB[q] = rExp - rClip;
      cell.postB![q] = ratioBiasNoise;
      const bv = gN * gN * a.boundingVariance[q]! + gD * gD * b.boundingVariance[q]! + 2 * gN * gD * cv;
      cell.boundVar[q] = Math.max(0, bv);
      const nv = gN * gN * nvA + gD * gD * nvB;
      cell.noiseVar[q] = nv;
      cell.halfWidth[q] = z * Math.sqrt(nv);
      cell.relDen[q] = Math.abs(rTrue);
      if (Math.sqrt(nvB + b.boundingVariance[q]!) > DELTA_METHOD_MAX_CV * d) unreliable++;
    }
    results.push(finishMetric(m.id, 'derived', cell, keep, thresholds, unreliable));
  });
  return { partitions: P, confidence, relativeErrorThresholds: [...thresholds], keepProbability: keep, metrics: results };
}

/** prepareAnalyticPlan + evaluateAnalytic in one call. */
export function analyzePlan(plan: SimulationPlan, opts: EvaluateOptions = {}): AnalyticResult {
  return evaluateAnalytic(prepareAnalyticPlan(plan), plan, opts);
}
