import { describe, expect, it } from 'vitest';
import type { MetricContributions } from '../../../shared/core/data/contributions';
import { buildContributions } from '../../../shared/core/data/csr';
import { makePartitionSelection } from '../../../shared/core/dp/partition-selection';
import { discreteLaplaceVariance } from '../../../shared/core/dp/mechanisms/discrete-laplace';
import {
  analyzePlan, boundedUnitDistributions, boundingCovariance, clampedAtZero, clippedNormalMoments, evaluateAnalytic, keepProbabilities,
  noiseTailMoments, prepareAnalytic, prepareAnalyticPlan,
} from '../../../shared/core/simulate/analytic';
import { noiseHalfWidth, noiseVariance } from '../../../shared/core/simulate/budget';
import type { BaseMetricPlan, DerivedMetricPlan, NoiseSpec, SelectionPlan, SimulationPlan } from '../../../shared/core/simulate/plan';
import { closeTo, loadOracles } from '../../helpers/oracles';

type Kind = Exclude<MetricContributions['kind'], 'ratio'>;

/** Contributions from [unit, partition, value?] rows (one entry per row). */
function rows(kind: Kind, entries: readonly (readonly [number, number, number?])[], partitions: number, funnelSteps?: number): MetricContributions {
  const units = Math.max(...entries.map((e) => e[0])) + 1;
  return buildContributions({
    unitIds: Int32Array.from(entries, (e) => e[0]),
    partitionIds: Int32Array.from(entries, (e) => e[1]),
    values: Float64Array.from(entries, (e) => e[2] ?? 1),
    unitIdCount: units,
    partitionIdCount: partitions,
  }, { metricId: 'm', kind, partitions: { dimensions: ['d'], keys: Array.from({ length: partitions }, (_, i) => [`p${i}`]) }, ...(funnelSteps ? { funnelSteps } : {}) });
}

const STATS = { relativeErrorThresholds: [0.1, 0.5], confidence: 0.95, errorSamplesPerCell: 0 };
const near = (a: number, b: number, tol = 1e-12): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

function basePlan(id: string, c: MetricContributions | undefined, trueValues: Float64Array, noise: NoiseSpec, extra: Partial<BaseMetricPlan> = {}): BaseMetricPlan {
  return {
    role: 'base', id, aggregate: 'count-distinct', trueValues, ...(c ? { contributions: c } : {}),
    bounding: { maxPartitionsContributed: 1, maxContributionsPerPartition: 1, clampMode: 'per-value' },
    noise, post: { clampAtZero: false, round: false }, privacy: { epsilon: 1, delta: 0 }, ...extra,
  };
}

function plan(partitions: number, metrics: SimulationPlan['metrics'], selection: SelectionPlan = { kind: 'public' }): SimulationPlan {
  return { partitions, metrics, selection, stats: STATS, scale: { kind: 'sample', units: 0, factor: 1 } };
}

describe('L0 bounding error (PipelineDP per-partition model)', () => {
  // Unit 0 is in partitions 0, 1, 2; units 1..3 are in partition 0 only.
  const c = rows('count-distinct', [[0, 0], [0, 1], [0, 2], [1, 0], [2, 0], [3, 0]], 3);

  it('a unit in 3 partitions with L0 = 1: E[L0 error] = −(1 − 1/3), Var = (1/3)(2/3) in each', () => {
    const s = prepareAnalytic(c, { maxPartitionsContributed: 1, maxContributionsPerPartition: 1, clampMode: 'per-value' });
    expect(Array.from(s.trueValues)).toEqual([4, 1, 1]);
    for (let q = 0; q < 3; q++) {
      expect(near(s.expectedBounded[q]! - s.clippedValues[q]!, -2 / 3)).toBe(true);
      expect(near(s.boundingVariance[q]!, 2 / 9)).toBe(true);
    }
    expect(near(s.expectedBounded[0]!, 4 - 2 / 3)).toBe(true);
  });

  it('L0 = 2 of 3: keep probability 2/3', () => {
    const s = prepareAnalytic(c, { maxPartitionsContributed: 2, maxContributionsPerPartition: 1, clampMode: 'per-value' });
    expect(near(s.expectedBounded[1]!, 2 / 3)).toBe(true);
    expect(near(s.boundingVariance[1]!, 2 / 9)).toBe(true);
  });

  it('a sum: clipped contribution c_u gives E = −c(1−p) and Var = c²p(1−p)', () => {
    const sum = rows('sum', [[0, 0, 5], [0, 1, 10], [0, 2, 40], [1, 0, 7]], 3);
    const s = prepareAnalytic(sum, { maxPartitionsContributed: 1, maxContributionsPerPartition: 1, clampLow: 0, clampHigh: 20, clampMode: 'per-value' });
    const cu = [5, 10, 20];
    for (let q = 0; q < 3; q++) {
      const extra = q === 0 ? 7 : 0;
      expect(near(s.expectedBounded[q]!, extra + cu[q]! / 3)).toBe(true);
      expect(near(s.boundingVariance[q]!, (cu[q]! * cu[q]! * 2) / 9)).toBe(true);
    }
    expect(near(s.clippedValues[2]! - s.trueValues[2]!, -20)).toBe(true);
    expect(near(s.clipToMax[2]!, -20)).toBe(true);
  });
});

describe('L∞ row sampling', () => {
  it('matches brute-force enumeration of both samplings (L0 and L∞)', () => {
    // Unit 0: 4 rows 1, 2, 3, 4 in partition 0, one row in partition 1; L0 = 1, L∞ = 2.
    const c = rows('sum', [[0, 0, 1], [0, 0, 2], [0, 0, 3], [0, 0, 4], [0, 1, 9]], 2);
    const s = prepareAnalytic(c, { maxPartitionsContributed: 1, maxContributionsPerPartition: 2, clampMode: 'per-value' });
    // Enumerate: keep partition 0 w.p. 1/2, then a uniform 2-subset of the 4 rows.
    const subsets = [[1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [3, 4]].map((x) => x[0]! + x[1]!);
    const outcomes = [...subsets.map((v) => [v, 0.5 / 6] as const), [0, 0.5] as const];
    const mean = outcomes.reduce((a, [v, p]) => a + v * p, 0);
    const variance = outcomes.reduce((a, [v, p]) => a + (v - mean) ** 2 * p, 0);
    expect(near(s.expectedBounded[0]!, mean)).toBe(true);
    expect(near(s.boundingVariance[0]!, variance)).toBe(true);
    expect(near(mean, 2.5)).toBe(true);
  });

  it('counts keep exactly min(m, L∞) rows', () => {
    const c = rows('count', [[0, 0], [0, 0], [0, 0], [1, 0]], 1);
    const s = prepareAnalytic(c, { maxPartitionsContributed: 1, maxContributionsPerPartition: 2, clampMode: 'per-value' });
    expect(s.expectedBounded[0]).toBe(3);
    expect(s.boundingVariance[0]).toBe(0);
  });

  it('per-partition clamp: exact when L∞ does not bind; clipped-normal moments match numerical integration', () => {
    const c = rows('sum', [[0, 0, 30], [0, 0, 40], [1, 0, 5]], 1);
    const s = prepareAnalytic(c, { maxPartitionsContributed: 1, maxContributionsPerPartition: 5, clampLow: 0, clampHigh: 50, clampMode: 'per-partition' });
    expect(s.expectedBounded[0]).toBe(55);
    expect(s.clipToMax[0]).toBe(-20);
    for (const [mu, sd, lo, hi] of [[3, 2, 0, 5], [0, 1, -Infinity, 0.5], [10, 4, 12, Infinity], [1, 3, -2, 2]] as const) {
      let m1 = 0;
      let m2 = 0;
      const n = 200000;
      for (let i = 0; i < n; i++) {
        const x = mu + sd * (-10 + (20 * (i + 0.5)) / n);
        const w = (Math.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI))) * ((20 * sd) / n);
        const y = Math.min(hi, Math.max(lo, x));
        m1 += w * y;
        m2 += w * y * y;
      }
      const r = clippedNormalMoments(mu, sd, lo, hi);
      expect(Math.abs(r.mean - m1)).toBeLessThan(1e-6);
      expect(Math.abs(r.variance - (m2 - m1 * m1))).toBeLessThan(1e-5);
    }
  });
});

describe('clipping bias oracle (../shared/oracles/public.json clipping_bias)', () => {
  const o = loadOracles().clipping_bias;
  const data = o.dataset_rows_user_value as [string, string][];
  const ids = [...new Set(data.map((r) => r[0]))];
  const c = rows('sum', data.map(([u, v]) => [ids.indexOf(u), 0, Number(v)] as const), 1);
  const unbounded = { maxPartitionsContributed: 1, maxContributionsPerPartition: 1000 };

  it('row-level clipping: clipped sum and sum bias', () => {
    const cases = o.cases.filter((k: { kind: string }) => k.kind.startsWith('row-level'));
    expect(cases.length).toBeGreaterThan(0);
    for (const k of cases) {
      const s = prepareAnalytic(c, { ...unbounded, clampLow: k.inputs.L, clampHigh: k.inputs.U, clampMode: 'per-value' });
      expect(closeTo(s.trueValues[0]!, k.expected.true_sum.float, o.tolerance)).toBe(true);
      expect(closeTo(s.clippedValues[0]!, k.expected.clipped_sum.float, o.tolerance)).toBe(true);
      expect(closeTo(s.clippedValues[0]! - s.trueValues[0]!, k.expected.sum_bias.float, o.tolerance)).toBe(true);
      expect(closeTo(s.clipToMin[0]! + s.clipToMax[0]!, k.expected.sum_bias.float, o.tolerance)).toBe(true);
      expect(s.boundingVariance[0]).toBe(0);
    }
  });

  it('user-level clipping of each user total', () => {
    const k = o.cases.find((x: { kind: string }) => x.kind.startsWith('user-level'));
    const s = prepareAnalytic(c, { ...unbounded, clampLow: k.inputs.L, clampHigh: k.inputs.U, clampMode: 'per-partition' });
    expect(closeTo(s.clippedValues[0]! - s.trueValues[0]!, k.expected.sum_bias.float, o.tolerance)).toBe(true);
  });

  it('contribution bounding: expected sum after keeping <= c random rows per user, then clipping', () => {
    const k = o.cases.find((x: { kind: string }) => x.kind.startsWith('contribution bounding'));
    const b = { maxPartitionsContributed: 1, maxContributionsPerPartition: k.inputs.max_rows_per_user, clampLow: k.inputs.L, clampHigh: k.inputs.U, clampMode: 'per-value' as const };
    const s = prepareAnalytic(c, b);
    expect(closeTo(s.expectedBounded[0]!, k.expected.expected_sum.float, o.tolerance)).toBe(true);
    expect(closeTo(s.expectedBounded[0]! - s.trueValues[0]!, k.expected.sum_bias.float, o.tolerance)).toBe(true);
    const count = prepareAnalytic({ ...c, kind: 'count' }, b, { aggregate: 'count' });
    expect(count.expectedBounded[0]).toBe(k.expected.rows_kept);
    expect(count.expectedBounded[0]! - count.trueValues[0]!).toBe(k.expected.count_bias);
  });
});

describe('noise and keep probability', () => {
  it('noise std and half-width come from the scale (oracle Laplace and Gaussian cases)', () => {
    const lap = loadOracles().laplace_mechanism;
    for (const k of lap.cases) {
      const spec: NoiseSpec = { kind: 'laplace', scale: k.inputs.sensitivity / k.inputs.epsilon };
      expect(closeTo(Math.sqrt(noiseVariance(spec)), k.expected.std, lap.tolerance)).toBe(true);
      expect(closeTo(noiseHalfWidth(spec, 1 - k.inputs.alpha), k.expected.ci_half_width, lap.tolerance)).toBe(true);
    }
    const g = loadOracles().gaussian_mechanism.confidence_interval;
    for (const k of g.cases) expect(closeTo(noiseHalfWidth({ kind: 'gaussian', sigma: k.inputs.sigma }, 1 - k.inputs.alpha), k.expected.ci_half_width, g.tolerance)).toBe(true);
    const tv = Float64Array.of(100, 5);
    const r = analyzePlan(plan(2, [
      basePlan('lap', undefined, tv, { kind: 'laplace', scale: 3 }),
      basePlan('gau', undefined, tv, { kind: 'gaussian', sigma: 7 }),
      basePlan('dl', undefined, tv, { kind: 'discrete-laplace', scale: 4 }),
    ]));
    expect(near(r.metrics[0]!.noiseStd[0]!, 3 * Math.SQRT2)).toBe(true);
    expect(near(r.metrics[1]!.noiseStd[1]!, 7)).toBe(true);
    expect(near(r.metrics[2]!.noiseStd[0]!, Math.sqrt(discreteLaplaceVariance(4)))).toBe(true);
    expect(near(r.metrics[0]!.halfWidth[0]!, 3 * Math.log(20))).toBe(true);
    expect(near(r.metrics[0]!.rmse[0]!, 3 * Math.SQRT2)).toBe(true);
  });

  it('keep probability equals makePartitionSelection for threshold (own noise) and optimal selections', () => {
    const units = Float64Array.from({ length: 60 }, (_, i) => i);
    const tv = units;
    for (const strategy of ['laplace', 'gaussian'] as const) {
      const sel = makePartitionSelection({ strategy, epsilon: 0.7, delta: 1e-5, maxPartitionsContributed: 2, preThreshold: 4 });
      const noise: NoiseSpec = strategy === 'laplace' ? { kind: 'laplace', scale: sel.noiseScale! } : { kind: 'gaussian', sigma: sel.noiseScale! };
      const p = plan(60, [basePlan('u', undefined, tv, { kind: 'laplace', scale: 1 })], { kind: 'threshold', threshold: sel.threshold!, preThreshold: 4, units, noise });
      const keep = keepProbabilities(p);
      for (let n = 0; n < 60; n++) expect(closeTo(keep[n]!, sel.keepProbability(n), { rel: 1e-12, abs: 1e-15 }), `${strategy} n=${n}`).toBe(true);
      // Shared draw with bounds not binding: the same numbers.
      const shared = plan(60, [basePlan('u', undefined, tv, noise)], { kind: 'threshold', threshold: sel.threshold!, preThreshold: 4, units, sharedMetric: 0 });
      const keep2 = keepProbabilities(shared, prepareAnalyticPlan(shared));
      for (let n = 0; n < 60; n++) expect(closeTo(keep2[n]!, sel.keepProbability(n), { rel: 1e-12, abs: 1e-15 })).toBe(true);
    }
    const opt = makePartitionSelection({ strategy: 'optimal', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1 });
    const kp = units.map((n) => opt.keepProbability(n));
    const r = analyzePlan(plan(60, [basePlan('u', undefined, tv, { kind: 'laplace', scale: 1 })], { kind: 'probability', keepProbability: kp }));
    expect(Array.from(r.keepProbability)).toEqual(Array.from(kp));
  });

  it('shared selection averages over the bounded unit count (exact Poisson-binomial)', () => {
    // Partition 0: 3 units also in partition 1 (p = 1/2 with L0 = 1) and 10 units only there.
    const entries: [number, number][] = [];
    for (let u = 0; u < 3; u++) entries.push([u, 0], [u, 1]);
    for (let u = 3; u < 13; u++) entries.push([u, 0]);
    const c = rows('count-distinct', entries, 2);
    const sel = makePartitionSelection({ strategy: 'laplace', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1 });
    const p = plan(2, [basePlan('u', c, Float64Array.from(c.unitsPerPartition), { kind: 'laplace', scale: sel.noiseScale! })],
      { kind: 'threshold', threshold: sel.threshold!, preThreshold: 1, units: Float64Array.from(c.unitsPerPartition), sharedMetric: 0 });
    const keep = keepProbabilities(p, prepareAnalyticPlan(p));
    const binom = [1, 3, 3, 1].map((b) => b / 8);
    const expected0 = binom.reduce((a, w, k) => a + w * sel.keepProbability(10 + k), 0);
    expect(closeTo(keep[0]!, expected0, { rel: 1e-12 })).toBe(true);
    const expected1 = binom.reduce((a, w, k) => a + w * (k === 0 ? 0 : sel.keepProbability(k)), 0);
    expect(closeTo(keep[1]!, expected1, { rel: 1e-12 })).toBe(true);
  });

  it('the normal approximation of a large bounded unit count is close to the exact distribution', () => {
    const entries: [number, number][] = [];
    const n = 400;
    for (let u = 0; u < n; u++) {
      entries.push([u, 0]);
      for (let j = 1; j <= (u % 3) + 1; j++) entries.push([u, j]);
    }
    const c = rows('count-distinct', entries, 4);
    const [d] = boundedUnitDistributions(c, 1);
    // Exact: units with n_u = 2, 3, 4 pairs keep partition 0 w.p. 1/2, 1/3, 1/4.
    let pmf = [1];
    for (let u = 0; u < n; u++) {
      const p = 1 / ((u % 3) + 2);
      const next = new Array(pmf.length + 1).fill(0);
      pmf.forEach((w, k) => {
        next[k] += w * (1 - p);
        next[k + 1] += w * p;
      });
      pmf = next;
    }
    let maxDiff = 0;
    for (let k = 0; k < pmf.length; k++) {
      const j = k - d!.offset;
      const approx = j >= 0 && j < d!.pmf.length ? d!.pmf[j]! : 0;
      maxDiff = Math.max(maxDiff, Math.abs(approx - pmf[k]!));
    }
    expect(maxDiff).toBeLessThan(2e-3);
  });
});

describe('RMSE, suppression and the error decomposition', () => {
  it('RMSE with dropped = p_keep·RMSE + (1 − p_keep)·|V|, and the four parts add up to the squared error', () => {
    const c = rows('sum', [[0, 0, 50], [0, 1, 5], [1, 0, 3], [2, 1, -4], [3, 2, 8]], 3);
    const tv = Float64Array.from(c.trueValues);
    const m = basePlan('s', c, tv, { kind: 'laplace', scale: 2 }, {
      aggregate: 'sum', bounding: { maxPartitionsContributed: 1, maxContributionsPerPartition: 1, clampLow: 0, clampHigh: 20, clampMode: 'per-value' },
    });
    const kp = Float64Array.of(0.9, 0.5, 0.1);
    const r = analyzePlan(plan(3, [m], { kind: 'probability', keepProbability: kp })).metrics[0]!;
    for (let q = 0; q < 3; q++) {
      const bias = r.clippingBias[q]! + r.boundingBias[q]!;
      expect(near(r.bias[q]!, bias)).toBe(true);
      const mse = bias * bias + r.boundingStd[q]! ** 2 + 8;
      expect(near(r.rmse[q]!, Math.sqrt(mse))).toBe(true);
      expect(near(r.rmseWithDropped[q]!, kp[q]! * Math.sqrt(mse) + (1 - kp[q]!) * Math.abs(tv[q]!))).toBe(true);
      const parts = [r.parts.clipping[q]!, r.parts.bounding[q]!, r.parts.noise[q]!, r.parts.suppression[q]!];
      for (const x of parts) expect(x).toBeGreaterThanOrEqual(0);
      expect(near(parts.reduce((a, b) => a + b, 0), kp[q]! * mse + (1 - kp[q]!) * tv[q]! ** 2)).toBe(true);
    }
    // Partition 0: clipping (50 → 20) and L0 sampling (unit 0 in 2 partitions) biases, both negative.
    expect(r.clippingBias[0]).toBe(-30);
    expect(near(r.boundingBias[0]!, -10)).toBe(true);
    expect(near(r.summary.valueLostShare, (0.1 * 53 + 0.5 * 1 + 0.9 * 8) / 62)).toBe(true);
    const d = r.summary.decomposition;
    expect(near(d.total, d.clipping + d.bounding + d.noise + d.suppression)).toBe(true);
    expect(r.summary.withinShare).toHaveLength(2);
  });

  it('derived metrics by the delta method, with the bounding covariance of shared pairs', () => {
    // Conversion-like: units 0..3, unit 0 in both partitions (L0 = 1); value 1 = converted.
    const from = rows('conversion', [[0, 0, 1], [0, 1, 1], [1, 0, 0], [2, 0, 1], [3, 1, 0]], 2);
    const den = { ...from, kind: 'count-distinct' as const };
    const num = { ...from, kind: 'sum' as const };
    const b = { maxPartitionsContributed: 1, maxContributionsPerPartition: 1, clampLow: 0, clampHigh: 1, clampMode: 'per-value' as const };
    const cov = boundingCovariance(num, den, b, 'sum', 'count-distinct');
    expect(near(cov[0]!, 0.25)).toBe(true); // unit 0: p = 1/2, e_N = e_D = 1
    const D = basePlan('from', den, Float64Array.of(3, 2), { kind: 'laplace', scale: 2 }, { bounding: b, boundingGroup: 0 });
    const N = basePlan('to', num, Float64Array.of(2, 1), { kind: 'laplace', scale: 3 }, { aggregate: 'sum', bounding: b, boundingGroup: 0 });
    const R: DerivedMetricPlan = { role: 'derived', id: 'rate', op: 'ratio', numerator: 1, denominator: 0, denominatorFloor: 1, offset: 0, trueValues: Float64Array.of(2 / 3, 1 / 2), privacy: { epsilon: 1, delta: 0 } };
    const p = plan(2, [D, N, R]);
    const prepared = prepareAnalyticPlan(p);
    expect(prepared.covariances[2]).not.toBeNull();
    const r = evaluateAnalytic(prepared, p).metrics[2]!;
    expect(r.approximate).toBe(true);
    // Partition 0: E[N] = 1.5, E[D] = 2.5; Var_N = Var_D = Cov = 1/4 (bounding); noise 18 and 8.
    const d = 2.5;
    const gN = 1 / d;
    const gD = -1.5 / d ** 2;
    const secondOrderBounding = (1.5 * 0.25) / d ** 3 - 0.25 / d ** 2;
    expect(near(r.expectedBounded[0]!, 1.5 / d + secondOrderBounding)).toBe(true);
    expect(near(r.noiseStd[0]! ** 2, gN * gN * 18 + gD * gD * 8)).toBe(true);
    expect(near(r.boundingStd[0]! ** 2, (gN * gN + gD * gD + 2 * gN * gD) * 0.25)).toBe(true);
    expect(near(r.clippingBias[0]!, 0)).toBe(true);
    expect(near(r.boundingBias[0]!, 1.5 / d + secondOrderBounding - 2 / 3)).toBe(true);
    expect(near(r.postProcessingBias[0]!, (1.5 * 8) / d ** 3)).toBe(true); // the noise's ratio bias
    expect(near(r.bias[0]!, r.clippingBias[0]! + r.boundingBias[0]! + r.postProcessingBias[0]!)).toBe(true);
    expect(near(r.halfWidth[0]!, 1.959963984540054 * r.noiseStd[0]!, 1e-9)).toBe(true);
    // The denominator's noise (std √8) is not small next to 2.5: the delta method is flagged.
    expect(r.summary.unreliablePartitions).toBe(2);
  });
});

/** ∫ f(z)·density(z) dz by the midpoint rule over ±60 scales, split at the jumps of f (numerical check of closed forms). */
function integrate(noise: NoiseSpec, f: (z: number) => number, jump = 0): number {
  const scale = noise.kind === 'laplace' ? noise.scale : noise.kind === 'gaussian' ? noise.sigma : 1;
  const density = (z: number): number => (noise.kind === 'laplace' ? Math.exp(-Math.abs(z) / scale) / (2 * scale) : Math.exp(-0.5 * (z / scale) ** 2) / (scale * Math.sqrt(2 * Math.PI)));
  const edges = [...new Set([-60 * scale, Math.max(-60 * scale, Math.min(60 * scale, jump)), 0, 60 * scale])].sort((a, b) => a - b);
  let s = 0;
  for (let k = 0; k + 1 < edges.length; k++) {
    const a = edges[k]!;
    const b = edges[k + 1]!;
    const n = 100000;
    const h = (b - a) / n;
    for (let i = 0; i < n; i++) {
      const z = a + (i + 0.5) * h;
      s += f(z) * density(z) * h;
    }
  }
  return s;
}

describe('post-processing and the selection count', () => {
  const kinds: NoiseSpec[] = [{ kind: 'laplace', scale: 3 }, { kind: 'gaussian', sigma: 2.5 }];

  it('moments of max(0, μ + Z) match numerical integration', () => {
    for (const noise of kinds) {
      for (const mu of [-4, -0.5, 0, 1.3, 6, 200]) {
        const c = clampedAtZero(noise, mu);
        const m1 = integrate(noise, (z) => Math.max(0, mu + z), -mu);
        const m2 = integrate(noise, (z) => Math.max(0, mu + z) ** 2, -mu);
        const slope = integrate(noise, (z) => (mu + z > 0 ? 1 : 0), -mu);
        expect(Math.abs(c.mean - m1) / Math.max(1, m1), `${noise.kind} ${mu}`).toBeLessThan(1e-7);
        expect(Math.abs(c.variance - (m2 - m1 * m1)) / Math.max(1, m2)).toBeLessThan(1e-6);
        expect(Math.abs(c.slope - slope)).toBeLessThan(1e-6);
      }
    }
  });

  it('tail moments E[Z^j·1{Z > c}] match numerical integration', () => {
    for (const noise of kinds) {
      for (const c of [-7, -1, 0, 0.4, 5]) {
        const t = noiseTailMoments(noise, c);
        expect(Math.abs(t[0]! - integrate(noise, (z) => (z > c ? 1 : 0), c))).toBeLessThan(1e-6);
        expect(Math.abs(t[1]! - integrate(noise, (z) => (z > c ? z : 0), c))).toBeLessThan(1e-6);
        expect(Math.abs(t[2]! - integrate(noise, (z) => (z > c ? z * z : 0), c))).toBeLessThan(1e-5);
      }
    }
  });

  it('clamps a small count at zero: bias up, noise variance down, parts still add up', () => {
    const tv = Float64Array.of(2, 500);
    const m = basePlan('c', undefined, tv, { kind: 'laplace', scale: 5 }, { post: { clampAtZero: true, round: false } });
    const r = analyzePlan(plan(2, [m])).metrics[0]!;
    const c = clampedAtZero({ kind: 'laplace', scale: 5 }, 2);
    expect(near(r.postProcessingBias[0]!, c.mean - 2)).toBe(true);
    expect(near(r.noiseStd[0]! ** 2, c.variance)).toBe(true);
    expect(r.postProcessingBias[1]).toBe(0);
    expect(near(r.rmse[1]!, 5 * Math.SQRT2)).toBe(true);
    const parts = r.parts.clipping[0]! + r.parts.bounding[0]! + r.parts.noise[0]! + r.parts.suppression[0]!;
    expect(near(parts, r.rmse[0]! ** 2)).toBe(true);
    const rounded = analyzePlan(plan(2, [{ ...m, post: { clampAtZero: false, round: true } }])).metrics[0]!;
    expect(near(rounded.noiseStd[1]! ** 2, 50 + 1 / 12)).toBe(true);
  });

  it('the count a threshold selection reads: bias and MSE given that the partition is kept', () => {
    // Partition 0: 3 units in 2 partitions (p = 1/2 with L0 = 1) and 10 units only there.
    const entries: [number, number][] = [];
    for (let u = 0; u < 3; u++) entries.push([u, 0], [u, 1]);
    for (let u = 3; u < 13; u++) entries.push([u, 0]);
    const c = rows('count-distinct', entries, 2);
    const sel = makePartitionSelection({ strategy: 'laplace', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1 });
    const noise: NoiseSpec = { kind: 'laplace', scale: sel.noiseScale! };
    const units = Float64Array.from(c.unitsPerPartition);
    const p = plan(2, [basePlan('u', c, units, noise, { post: { clampAtZero: true, round: false } })],
      { kind: 'threshold', threshold: sel.threshold!, preThreshold: 1, units, sharedMetric: 0 });
    const r = analyzePlan(p).metrics[0]!;
    // Brute force: K = 10 + Binomial(3, 1/2), released K + Z, kept iff K + Z > T.
    const binom = [1, 3, 3, 1].map((b) => b / 8);
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    binom.forEach((w, k) => {
      const K = 10 + k;
      const e = K - 13;
      const cut = sel.threshold! - K;
      a0 += w * integrate(noise, (z) => (z > cut ? 1 : 0), cut);
      a1 += w * integrate(noise, (z) => (z > cut ? e + z : 0), cut);
      a2 += w * integrate(noise, (z) => (z > cut ? (e + z) ** 2 : 0), cut);
    });
    expect(Math.abs(r.keepProbability[0]! - a0)).toBeLessThan(1e-6);
    expect(Math.abs(r.bias[0]! - a1 / a0)).toBeLessThan(1e-4);
    expect(Math.abs(r.rmse[0]! ** 2 - a2 / a0)).toBeLessThan(1e-3);
    expect(r.selectionBias[0]!).toBeGreaterThan(0);
  });
});
