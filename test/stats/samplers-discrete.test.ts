// Seeded statistical tests of the discrete samplers: χ² goodness of fit against the pmf, sample
// mean and variance within MAX_STANDARD_ERRORS, randomized-response report frequencies and the
// unbiasedness of its estimator. Seeds are fixed, so every p-value is deterministic.

import { describe, expect, it } from 'vitest';
import { discreteGaussianExactSampler, discreteGaussianPmf, makeDiscreteGaussian } from '../../shared/core/dp/mechanisms/discrete-gaussian';
import { discreteLaplacePmf, makeDiscreteLaplace, sampleBernoulliExp, sampleDiscreteLaplaceExact } from '../../shared/core/dp/mechanisms/discrete-laplace';
import { makeRandomizedResponse } from '../../shared/core/dp/mechanisms/randomized-response';
import type { Rng } from '../../shared/core/rng';
import { makeRng } from '../../shared/core/rng';
import {
  binDiscreteSamples,
  chiSquareGof,
  ksTwoSample,
  pmfMoments,
  sampleMoments,
  SIGNIFICANCE,
  standardErrorOfMean,
  standardErrorOfVariance,
} from '../helpers/stats';

const SEED = 20251125;
/** Draws per χ² test of a noise sampler. */
const N_SAMPLES = 200_000;
/** Draws per Bernoulli(exp(−γ)) frequency test. */
const N_BERNOULLI = 200_000;
/** Users whose reports are binned in the randomized-response frequency test. */
const N_RR_REPORTS = 200_000;
/** Users per randomized-response run and number of runs in the unbiasedness test. */
const RR_USERS = 1000;
const RR_RUNS = 2000;
/** Sample means and variances must fall within this many standard errors of the truth. */
const MAX_STANDARD_ERRORS = 5;

function draw(n: number, sample: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = sample();
  return out;
}

/** χ² goodness of fit to `pmf` (symmetric about 0) and the first two moments within MAX_STANDARD_ERRORS. */
function expectMatchesPmf(samples: Float64Array, pmf: (k: number) => number, support: number, label: string): void {
  const bins = binDiscreteSamples(samples, pmf);
  const chi = chiSquareGof(bins.observed, bins.expected);
  expect(chi.pValue, `${label}: χ² ${chi.statistic.toFixed(1)} on ${chi.df} df`).toBeGreaterThan(SIGNIFICANCE);
  const truth = pmfMoments(pmf, -support, support);
  const m = sampleMoments(samples);
  const n = samples.length;
  expect(Math.abs(m.mean - truth.mean), `${label}: mean ${m.mean}`).toBeLessThan(MAX_STANDARD_ERRORS * standardErrorOfMean(truth.variance, n));
  expect(Math.abs(m.variance - truth.variance), `${label}: variance ${m.variance} vs ${truth.variance}`).toBeLessThan(
    MAX_STANDARD_ERRORS * standardErrorOfVariance(truth.variance, truth.mu4, n),
  );
}

const laplaceSupport = (t: number): number => Math.ceil(50 * t + 50);
const gaussianSupport = (sigma: number): number => Math.ceil(12 * sigma + 12);

describe('discrete Laplace samplers match the pmf (χ², mean, variance)', () => {
  it.each([0.4, 1, 1 / 0.3, 25])(`fast float sampler, scale %f (N = ${N_SAMPLES}, p > ${SIGNIFICANCE})`, (t) => {
    const m = makeDiscreteLaplace({ scale: t, sensitivity: 1 });
    const rng = makeRng(SEED, 1, Math.round(t * 1000));
    expectMatchesPmf(draw(N_SAMPLES, () => m.sample(rng)), (k) => discreteLaplacePmf(k, t), laplaceSupport(t), `fast t=${t}`);
  });

  it.each([
    [1n, 1n],
    [10n, 1n],
    [3n, 7n],
    [7n, 2n],
    [(1n << 70n) + 3n, 1n << 69n], // BigInt path: t > 2^32 and s > 2^53
  ])(`exact CKS20 Algorithm 2, scale %s/%s (N = ${N_SAMPLES}, p > ${SIGNIFICANCE})`, (num, den) => {
    const t = Number(num) / Number(den);
    const rng = makeRng(SEED, 2, Number(num % 1000n), Number(den % 1000n));
    expectMatchesPmf(draw(N_SAMPLES, () => sampleDiscreteLaplaceExact(rng, num, den)), (k) => discreteLaplacePmf(k, t), laplaceSupport(t), `exact t=${num}/${den}`);
  });

  it(`exact sampler of a mechanism built from ε = 0.3 (scale Δ/ε as an exact rational; N = ${N_SAMPLES})`, () => {
    const m = makeDiscreteLaplace({ epsilon: 0.3, sensitivity: 2 });
    const rng = makeRng(SEED, 3);
    expectMatchesPmf(draw(N_SAMPLES, () => m.sampleExact(rng)), (k) => discreteLaplacePmf(k, m.scale), laplaceSupport(m.scale), 'exact eps=0.3');
  });

  it(`fast and exact samplers agree (two-sample KS, conservative for discrete data; N = ${N_SAMPLES})`, () => {
    const m = makeDiscreteLaplace({ epsilon: 0.5, sensitivity: 1 });
    const fast = draw(N_SAMPLES, ((rng) => () => m.sample(rng))(makeRng(SEED, 4, 0)));
    const exact = draw(N_SAMPLES, ((rng) => () => m.sampleExact(rng))(makeRng(SEED, 4, 1)));
    expect(ksTwoSample(fast, exact).pValue).toBeGreaterThan(SIGNIFICANCE);
  });
});

describe('Bernoulli(exp(−γ)) of CKS20 Algorithm 1 has the right frequency', () => {
  it.each([
    [3n, 10n],
    [1n, 1n],
    [5n, 2n],
    [(1n << 60n) + 1n, 3n << 60n], // denominator beyond 2^53: BigInt path
  ])(`γ = %s/%s (N = ${N_BERNOULLI}, p > ${SIGNIFICANCE})`, (num, den) => {
    const rng = makeRng(SEED, 5, Number(num % 1000n), Number(den % 1000n));
    let ones = 0;
    for (let i = 0; i < N_BERNOULLI; i++) if (sampleBernoulliExp(rng, num, den)) ones++;
    const p = Math.exp(-Number(num) / Number(den));
    const chi = chiSquareGof([ones, N_BERNOULLI - ones], [N_BERNOULLI * p, N_BERNOULLI * (1 - p)]);
    expect(chi.pValue).toBeGreaterThan(SIGNIFICANCE);
  });
});

describe('exact discrete Gaussian sampler (CKS20 Algorithm 3) matches the pmf (χ², mean, variance)', () => {
  it.each([0.5, 3, 40, 3.7])(`σ = %f (N = ${N_SAMPLES}, p > ${SIGNIFICANCE})`, (sigma) => {
    const m = makeDiscreteGaussian({ sensitivity: 1, sigma });
    const rng = makeRng(SEED, 6, Math.round(sigma * 10));
    expectMatchesPmf(draw(N_SAMPLES, () => m.sample(rng)), (k) => discreteGaussianPmf(k, sigma), gaussianSupport(sigma), `DG sigma=${sigma}`);
  });

  it(`rational σ² = 1/3 (N = ${N_SAMPLES}, p > ${SIGNIFICANCE})`, () => {
    const sample = discreteGaussianExactSampler({ numerator: 1n, denominator: 3n });
    const rng = makeRng(SEED, 7);
    const sigma = Math.sqrt(1 / 3);
    expectMatchesPmf(draw(N_SAMPLES, () => sample(rng)), (k) => discreteGaussianPmf(k, sigma), gaussianSupport(sigma), 'DG sigma^2=1/3');
  });
});

describe('the χ² tests above have power at this sample size', () => {
  it(`reject exact discrete Gaussian samples (σ = 3) against σ = 3.06, and fast discrete Laplace (t = 1) against t = 1.02 (N = ${N_SAMPLES})`, () => {
    const dg = makeDiscreteGaussian({ sensitivity: 1, sigma: 3 });
    const rngG = makeRng(SEED, 11, 0);
    const g = binDiscreteSamples(draw(N_SAMPLES, () => dg.sample(rngG)), (k) => discreteGaussianPmf(k, 3.06));
    expect(chiSquareGof(g.observed, g.expected).pValue).toBeLessThan(SIGNIFICANCE);
    const dl = makeDiscreteLaplace({ scale: 1, sensitivity: 1 });
    const rngL = makeRng(SEED, 11, 1);
    const l = binDiscreteSamples(draw(N_SAMPLES, () => dl.sample(rngL)), (k) => discreteLaplacePmf(k, 1.02));
    expect(chiSquareGof(l.observed, l.expected).pValue).toBeLessThan(SIGNIFICANCE);
  });
});

describe('k-ary randomized response', () => {
  const K = 5;
  const FREQUENCIES = [0.4, 0.3, 0.15, 0.1, 0.05];
  const EPSILON = 1;

  /** Values of n users with exactly n·f_v users holding value v. */
  function dataset(n: number): Int32Array {
    const values = new Int32Array(n);
    let i = 0;
    FREQUENCIES.forEach((f, v) => {
      for (let j = 0; j < Math.round(n * f); j++) values[i++] = v;
    });
    return values;
  }

  it(`report frequencies are q + f_v(p − q) (χ², N = ${N_RR_REPORTS}, p > ${SIGNIFICANCE})`, () => {
    const rr = makeRandomizedResponse({ epsilon: EPSILON, categories: K });
    const rng = makeRng(SEED, 8);
    const counts = new Float64Array(K);
    for (const v of dataset(N_RR_REPORTS)) counts[rr.respond(rng, v)]! += 1;
    const expected = FREQUENCIES.map((f) => N_RR_REPORTS * (rr.q + f * (rr.p - rr.q)));
    expect(chiSquareGof(counts, expected).pValue).toBeGreaterThan(SIGNIFICANCE);
  });

  it(`the estimator is unbiased and its variance is Wang et al.'s (${RR_RUNS} runs of ${RR_USERS} users)`, () => {
    const rr = makeRandomizedResponse({ epsilon: EPSILON, categories: K });
    const values = dataset(RR_USERS);
    const sums = new Float64Array(K);
    const sumSquares = new Float64Array(K);
    const counts = new Float64Array(K);
    for (let run = 0; run < RR_RUNS; run++) {
      const rng = makeRng(SEED, 9, run);
      counts.fill(0);
      for (const v of values) counts[rr.respond(rng, v)]! += 1;
      const est = rr.estimateFrequencies(counts, RR_USERS);
      for (let v = 0; v < K; v++) {
        sums[v]! += est[v]!;
        sumSquares[v]! += est[v]! * est[v]!;
      }
    }
    for (let v = 0; v < K; v++) {
      const f = FREQUENCIES[v]!;
      const variance = rr.estimatorVariance(RR_USERS, f);
      const mean = sums[v]! / RR_RUNS;
      expect(Math.abs(mean - f), `value ${v}: mean estimate ${mean}`).toBeLessThan(MAX_STANDARD_ERRORS * Math.sqrt(variance / RR_RUNS));
      const sampleVariance = (sumSquares[v]! - RR_RUNS * mean * mean) / (RR_RUNS - 1);
      // The sample variance of near-normal estimates has relative standard error √(2/(R−1)).
      expect(Math.abs(sampleVariance / variance - 1), `value ${v}: variance ratio`).toBeLessThan(MAX_STANDARD_ERRORS * Math.sqrt(2 / (RR_RUNS - 1)));
    }
  });
});

describe('seeded streams', () => {
  const N = 1000;
  const samplers: Array<[string, (rng: Rng) => number]> = [
    ['fast discrete Laplace', ((m) => (rng: Rng) => m.sample(rng))(makeDiscreteLaplace({ epsilon: 0.5, sensitivity: 1 }))],
    ['exact discrete Laplace', ((m) => (rng: Rng) => m.sampleExact(rng))(makeDiscreteLaplace({ epsilon: 0.5, sensitivity: 1 }))],
    ['exact discrete Gaussian', ((m) => (rng: Rng) => m.sample(rng))(makeDiscreteGaussian({ sigma: 3.7, sensitivity: 1 }))],
    ['randomized response', ((rr) => (rng: Rng) => rr.respond(rng, 2))(makeRandomizedResponse({ epsilon: 0.5, categories: 6 }))],
  ];
  it.each(samplers)('%s: the same seed and stream give the same samples, another stream different ones', (_name, sampler) => {
    const run = (rng: Rng): Float64Array => draw(N, () => sampler(rng));
    const a = run(makeRng(SEED, 10, 1));
    const b = run(makeRng(SEED, 10, 1));
    const c = run(makeRng(SEED, 10, 2));
    const d = run(makeRng(SEED + 1, 10, 1));
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    expect(Array.from(d)).not.toEqual(Array.from(a));
  });
});
