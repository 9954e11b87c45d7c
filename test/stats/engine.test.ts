// Seeded statistical tests of the Monte-Carlo engine: its ziggurat noise against the exact
// Laplace and normal CDFs and against the inverse-CDF/Box–Muller methods of WORKLOAD.md §3, the
// reference workload's per-trial statistics against their exact expectations (WORKLOAD.md §6),
// the coverage of a stated interval, and L0 sampling against the analytic model of
// ../shared/DP-REFERENCE.md (E[L0 error] = −Σ c_u(1−p_u), Var = Σ c_u² p_u(1−p_u)).
// Fixed seeds make every test deterministic; SIGNIFICANCE (KS) and Z_MAX (z-tests, as
// ../shared/bench/py/summarize.py) are the levels at which a correct engine would fail by chance.
import { describe, expect, it } from 'vitest';
import { buildContributions } from '../../shared/core/data/csr';
import { normalCdf } from '../../shared/core/math/special';
import { makeRng } from '../../shared/core/rng';
import { N_TRIAL_STATS } from '../../shared/core/simulate/accumulator';
import { runTrials } from '../../shared/core/simulate/engine';
import { addGaussianBoxMuller, addGaussianZiggurat, addLaplaceInverseCdf, addLaplaceZiggurat, zigguratWords } from '../../shared/core/simulate/noise';
import type { SimulationPlan } from '../../shared/core/simulate/plan';
import { summarize } from '../../shared/core/simulate/stats';
import { buildWorkloadPlan } from '../../shared/core/simulate/workload';
import { ksOneSample, ksTwoSample, SIGNIFICANCE } from '../helpers/stats';
import { loadOracles } from '../helpers/oracles';

const N = 100_000; // draws per KS test
const Z_MAX = 5;
const WORKLOAD_TRIALS = 3_000;
/** Band on mean rmse² / (2b² or σ²): about 7 standard errors at 3,000 trials (summarize.py uses 1% at 10,000). */
const MSE_REL = 0.015;

function draws(kind: 'laplace-zig' | 'laplace-icdf' | 'gauss-zig' | 'gauss-bm', seed: number, n = N): Float64Array {
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  const out = new Float64Array(n);
  const base = new Float64Array(n);
  const rng = makeRng(seed);
  if (kind === 'laplace-zig') addLaplaceZiggurat(rng, new Uint32Array(zigguratWords(n)), ids, n, base, out, 0, 1);
  else if (kind === 'laplace-icdf') addLaplaceInverseCdf(rng, new Float64Array(n), ids, n, base, out, 0, 1);
  else if (kind === 'gauss-zig') addGaussianZiggurat(rng, new Uint32Array(zigguratWords(n)), ids, n, base, out, 0, 1);
  else addGaussianBoxMuller(rng, new Float64Array(n + 1), ids, n, base, out, 0, 1);
  return out;
}

const laplaceCdf = (x: number): number => (x < 0 ? 0.5 * Math.exp(x) : 1 - 0.5 * Math.exp(-x));

describe('engine noise (Kolmogorov–Smirnov, significance 1e-3)', () => {
  it('the ziggurat Laplace follows Lap(1), also in the tails (|x| beyond the base strip)', () => {
    const x = draws('laplace-zig', 1);
    expect(ksOneSample(x, laplaceCdf).pValue).toBeGreaterThan(SIGNIFICANCE);
    // The tail beyond r = 7.697 has probability e^-r = 4.5e-4: 45 expected in 1e5 draws.
    const tail = x.filter((v) => Math.abs(v) > 7.69711747013105).length;
    expect(Math.abs(tail - N * Math.exp(-7.69711747013105))).toBeLessThan(Z_MAX * Math.sqrt(N * Math.exp(-7.69711747013105)));
  });
  it('the ziggurat normal follows N(0, 1)', () => {
    expect(ksOneSample(draws('gauss-zig', 2), normalCdf).pValue).toBeGreaterThan(SIGNIFICANCE);
  });
  it('ziggurat and the literal WORKLOAD.md methods give the same distributions (two-sample KS)', () => {
    expect(ksTwoSample(draws('laplace-zig', 3), draws('laplace-icdf', 4)).pValue).toBeGreaterThan(SIGNIFICANCE);
    expect(ksTwoSample(draws('gauss-zig', 5), draws('gauss-bm', 6)).pValue).toBeGreaterThan(SIGNIFICANCE);
  });
  it('the KS test has power: a 3% wrong scale is rejected', () => {
    const x = draws('laplace-zig', 7).map((v) => v * 1.03);
    expect(ksOneSample(x, laplaceCdf).pValue).toBeLessThan(SIGNIFICANCE);
  });
});

describe(`reference workload, ${WORKLOAD_TRIALS} trials: per-trial statistics vs exact expectations (|z| <= ${Z_MAX})`, () => {
  // Exact expectations of every noisy metric (1–9) and of the suppression rate, from
  // ../shared/oracles/public.json `workload_expectations` (py/expected.py: order statistics of
  // iid |Laplace| / |Normal| mixed over the Poisson-binomial number of kept partitions).
  const METRIC_INDEX: Record<string, number> = { events: 1, sessions: 2, conversions: 3, purchases: 4, revenue: 5, time_spent_s: 6, page_views: 7, active_days: 8, errors: 9 };
  const expected = () => loadOracles().workload_expectations.expected as { suppression_rate: number; metrics: Record<string, { mse: number; mare: number; p05: number; p50: number; p95: number }> };

  for (const samplers of [{}, { laplace: 'inverse-cdf', gaussian: 'box-muller', suppressedCells: 'draw' }] as const) {
    it(`matches with samplers ${JSON.stringify(samplers)}`, () => {
      const plan = buildWorkloadPlan({ samplers });
      const acc = runTrials(plan, 2024, { trialCount: WORKLOAD_TRIALS });
      const n = WORKLOAD_TRIALS;
      const z = (sum: number, sumsq: number, expected: number): number => {
        const mean = sum / n;
        const se = Math.sqrt(((sumsq / n - mean * mean) * n) / (n - 1) / n);
        return (mean - expected) / se;
      };
      const o = (j: number, s: number): number => acc.layout.trialStats + (j * N_TRIAL_STATS + s) * 2;
      const exp = expected();
      expect(Object.keys(exp.metrics).sort()).toEqual(Object.keys(METRIC_INDEX).sort());
      for (const [name, e] of Object.entries(exp.metrics)) {
        const j = METRIC_INDEX[name]!;
        (['mare', 'p05', 'p50', 'p95'] as const).forEach((stat, i) => {
          const k = o(j, i + 1);
          expect(Math.abs(z(acc.sums[k]!, acc.sums[k + 1]!, e[stat])), `${name} ${stat}`).toBeLessThan(Z_MAX);
        });
        // rmse² per trial has mean exactly 2b² (σ²).
        const meanSq = acc.sums[o(j, 0) + 1]! / n;
        expect(Math.abs(meanSq / e.mse - 1), `${name} mse`).toBeLessThan(MSE_REL);
        expect(summarize(acc, plan).metrics[j]!.perTrial.rmse.mean).toBeGreaterThan(0);
      }
      expect(Math.abs(z(acc.sums[3]!, acc.sums[4]!, exp.suppression_rate))).toBeLessThan(Z_MAX);
    });
  }
});

describe('coverage and bounding against closed forms', () => {
  it('the stated Laplace half-width b·ln(1/α) covers the error with probability 1 − α', () => {
    const b = 5;
    const trials = 20_000;
    const plan: SimulationPlan = {
      partitions: 3,
      metrics: [{ role: 'base', id: 'x', aggregate: 'count', trueValues: Float64Array.of(10, 100, 1000), noise: { kind: 'laplace', scale: b }, post: { clampAtZero: false, round: false }, privacy: { epsilon: 1, delta: 0, halfWidth: b * Math.log(20) } }],
      selection: { kind: 'public' },
      stats: { relativeErrorThresholds: [0.1], confidence: 0.95, errorSamplesPerCell: 0 },
      scale: { kind: 'sample', units: 0, factor: 1 },
    };
    const res = summarize(runTrials(plan, 3, { trialCount: trials }), plan).metrics[0]!;
    for (const cell of res.partitions!) expect(Math.abs(cell.coverage! - 0.95)).toBeLessThan(Z_MAX * Math.sqrt((0.95 * 0.05) / trials));
    // P(|rel| > 0.1) at true value 10 is P(|Lap(5)| > 1) = e^{-1/5}.
    expect(Math.abs(res.partitions![0]!.exceedProbability[0]! - Math.exp(-0.2))).toBeLessThan(Z_MAX * Math.sqrt(0.82 * 0.18 / trials));
  });

  it('L0 sampling: the mean and variance of bounded sums match −Σ c_u(1−p_u) and Σ c_u² p_u(1−p_u)', () => {
    const rng = makeRng(99);
    const P = 12;
    const L0 = 2;
    const unitIds: number[] = [];
    const partitionIds: number[] = [];
    const values: number[] = [];
    for (let u = 0; u < 400; u++) {
      const k = 1 + rng.nextBelow(5);
      const parts = new Set<number>();
      while (parts.size < k) parts.add(rng.nextBelow(P));
      for (const p of parts) {
        unitIds.push(u);
        partitionIds.push(p);
        values.push(Math.round(rng.nextDouble() * 10));
      }
    }
    const c = buildContributions(
      { unitIds: Int32Array.from(unitIds), partitionIds: Int32Array.from(partitionIds), values: Float64Array.from(values), unitIdCount: 400, partitionIdCount: P },
      { metricId: 's', kind: 'sum', partitions: { dimensions: ['k'], keys: Array.from({ length: P }, (_, i) => [String(i)]) } },
    );
    const expectedMean = new Float64Array(P);
    const expectedVar = new Float64Array(P);
    for (let u = 0; u < c.unitCount; u++) {
      const a = c.unitPairOffsets[u]!;
      const b = c.unitPairOffsets[u + 1]!;
      const pu = Math.min(1, L0 / (b - a));
      for (let p = a; p < b; p++) {
        const cu = c.rowValues[c.rowOffsets[p]!]!;
        expectedMean[c.pairPartition[p]!]! += pu * cu;
        expectedVar[c.pairPartition[p]!]! += cu * cu * pu * (1 - pu);
      }
    }
    const trials = 4_000;
    const plan: SimulationPlan = {
      partitions: P,
      metrics: [{ role: 'base', id: 's', aggregate: 'sum', trueValues: c.trueValues, contributions: c, bounding: { maxPartitionsContributed: L0, maxContributionsPerPartition: 1, clampMode: 'per-value' }, noise: { kind: 'none' }, post: { clampAtZero: false, round: false }, privacy: { epsilon: 1, delta: 0 } }],
      selection: { kind: 'public' },
      stats: { relativeErrorThresholds: [], confidence: 0.95, errorSamplesPerCell: 0 },
      scale: { kind: 'sample', units: 400, factor: 1 },
    };
    const cells = summarize(runTrials(plan, 5, { trialCount: trials }), plan).metrics[0]!.partitions!;
    cells.forEach((cell, p) => {
      expect(Math.abs(cell.boundedMean! - expectedMean[p]!)).toBeLessThan(Z_MAX * Math.sqrt(expectedVar[p]! / trials));
      // Variance of a sample variance ≈ 2σ⁴/(n−1) for near-normal sums: a 10% band is > 5 SE here.
      expect(Math.abs(cell.boundedVariance! / expectedVar[p]! - 1)).toBeLessThan(0.1);
      expect(Math.abs(cell.bias - (expectedMean[p]! - c.trueValues[p]!))).toBeLessThan(Z_MAX * Math.sqrt(expectedVar[p]! / trials));
    });
  });
});
