import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile } from '../../../shared/core/math/special';
import { makeRng } from '../../../shared/core/rng';
import {
  binDiscreteSamples,
  chiSquareGof,
  chiSquareSf,
  gammaP,
  gammaQ,
  kolmogorovSf,
  ksOneSample,
  ksTwoSample,
  lnGamma,
  pmfMoments,
  sampleMoments,
  SIGNIFICANCE,
  standardErrorOfVariance,
} from '../../helpers/stats';

// Reference values from scipy 1.17.1 (scipy.special.kolmogorov, scipy.stats.chi2.sf,
// scipy.special.gammaincc), checked by hand where a closed form exists.
const KOLMOGOROV_SF: Array<[number, number]> = [
  [0.3, 0.9999906941986655],
  [0.5, 0.9639452436648751],
  [0.8, 0.5441424115741981],
  [1.0, 0.26999967167735456],
  [1.17, 0.12939004218561884],
  [1.19, 0.11774229287977166],
  [1.3580986393225505, 0.05], // the 95% quantile of the Kolmogorov distribution
  [1.6276236115189, 0.01],
  [2.5, 7.453306344157342e-6],
];
const CHI2_SF: Array<[number, number, number]> = [
  [3.841458820694124, 1, 0.05], // the textbook 5% critical values
  [18.307038053275146, 10, 0.05],
  [0.5, 3, 0.9188914116546758],
  [100, 80, 0.064570368921133],
  [0.001, 5, 0.9999999983185123],
  [250, 200, 0.009379131668826098],
];

function normalSamples(seed: number, n: number, shift = 0): Float64Array {
  const rng = makeRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = normalQuantile(rng.nextDouble()) + shift;
  return out;
}

describe('special functions of the statistical tests', () => {
  it('lnGamma matches closed forms', () => {
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(lnGamma(100.5)).toBeCloseTo(361.43554046777757, 9); // ln Γ(100.5), scipy.special.gammaln
  });
  it('incomplete gamma matches its closed forms for integer a', () => {
    for (const x of [0.01, 0.5, 2, 7.5, 30]) {
      expect(gammaQ(1, x)).toBeCloseTo(Math.exp(-x), 14);
      expect(gammaQ(3, x)).toBeCloseTo(Math.exp(-x) * (1 + x + (x * x) / 2), 14);
      expect(gammaP(2, x) + gammaQ(2, x)).toBeCloseTo(1, 15);
    }
    expect(gammaQ(3, 2.5)).toBeCloseTo(0.5438131158833297, 14);
    expect(gammaQ(0.7, 0)).toBe(1);
  });
  it('χ² survival function matches scipy and e^{−x/2} for 2 degrees of freedom', () => {
    for (const [x, df, p] of CHI2_SF) expect(Math.abs(chiSquareSf(x, df) - p)).toBeLessThan(1e-13 + 1e-12 * p);
    for (const x of [0.1, 3, 20, 200]) expect(chiSquareSf(x, 2)).toBeCloseTo(Math.exp(-x / 2), 14);
  });
  it('Kolmogorov survival function matches scipy on both sides of the series switch', () => {
    for (const [l, p] of KOLMOGOROV_SF) expect(Math.abs(kolmogorovSf(l) - p)).toBeLessThan(1e-14);
    expect(kolmogorovSf(0)).toBe(1);
  });
});

describe('Kolmogorov–Smirnov tests', () => {
  const N = 5000;
  it('accepts normal samples against the normal CDF (p > SIGNIFICANCE)', () => {
    const r = ksOneSample(normalSamples(1, N), normalCdf);
    expect(r.pValue).toBeGreaterThan(SIGNIFICANCE);
    expect(r.statistic).toBeLessThan(0.03);
  });
  it('rejects normal samples against a shifted normal and against a uniform CDF', () => {
    expect(ksOneSample(normalSamples(2, N), (x) => normalCdf(x - 0.15)).pValue).toBeLessThan(SIGNIFICANCE);
    expect(ksOneSample(normalSamples(3, N), (x) => Math.min(1, Math.max(0, (x + 3) / 6))).pValue).toBeLessThan(SIGNIFICANCE);
  });
  it('one-sample statistic equals a hand-computed value', () => {
    // Samples 0.1, 0.4, 0.7 against U(0,1): D = max(1/3 − 0.1, 2/3 − 0.4, 1 − 0.7, 0.1, 0.4 − 1/3, 0.7 − 2/3) = 0.3.
    const r = ksOneSample([0.7, 0.1, 0.4], (x) => x);
    expect(r.statistic).toBeCloseTo(0.3, 15);
    const sn = Math.sqrt(3);
    expect(r.pValue).toBeCloseTo(kolmogorovSf((sn + 0.12 + 0.11 / sn) * 0.3), 15);
  });
  it('two-sample test accepts same-distribution samples and rejects a shift', () => {
    expect(ksTwoSample(normalSamples(4, N), normalSamples(5, 3000)).pValue).toBeGreaterThan(SIGNIFICANCE);
    expect(ksTwoSample(normalSamples(6, N), normalSamples(7, 3000, 0.2)).pValue).toBeLessThan(SIGNIFICANCE);
  });
  it('two-sample statistic handles ties: identical samples give D = 0', () => {
    expect(ksTwoSample([1, 1, 2, 3], [3, 2, 1, 1]).statistic).toBe(0);
    expect(ksTwoSample([0, 0], [1, 1]).statistic).toBe(1);
  });
});

describe('χ² goodness of fit and binning', () => {
  it('computes the Pearson statistic and degrees of freedom', () => {
    const r = chiSquareGof([10, 20, 30], [20, 20, 20]);
    expect(r.statistic).toBeCloseTo(10, 14);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-5), 14);
    expect(chiSquareGof([10, 20, 30], [20, 20, 20], 1).df).toBe(1);
  });
  it('accepts a fair die and rejects a die tested against a loaded distribution', () => {
    const rng = makeRng(11);
    const N = 60_000;
    const rolls = new Float64Array(N);
    for (let i = 0; i < N; i++) rolls[i] = rng.nextBelow(6);
    const fair = binDiscreteSamples(rolls, (k) => (k >= 0 && k < 6 ? 1 / 6 : 0));
    expect(fair.observed.length).toBe(6);
    expect(chiSquareGof(fair.observed, fair.expected).pValue).toBeGreaterThan(SIGNIFICANCE);
    const loaded = binDiscreteSamples(rolls, (k) => (k === 5 ? 0.19 : k >= 0 && k < 5 ? 0.81 / 5 : 0));
    expect(chiSquareGof(loaded.observed, loaded.expected).pValue).toBeLessThan(SIGNIFICANCE);
  });
  it('merges bins until each expects at least 5 and keeps every count', () => {
    // Geometric(1/2) on 0, 1, 2, ...: with n = 40 the cells from k = 3 on expect < 5 and merge.
    const pmf = (k: number): number => (k >= 0 ? 0.5 ** (k + 1) : 0);
    const samples = [...Array(20).fill(0), ...Array(10).fill(1), ...Array(5).fill(2), 3, 3, 4, 6, 9];
    const b = binDiscreteSamples(samples, pmf);
    expect(b.observed.reduce((s, x) => s + x, 0)).toBe(40);
    expect(b.expected.reduce((s, x) => s + x, 0)).toBeCloseTo(40, 9);
    for (const e of b.expected) expect(e).toBeGreaterThanOrEqual(5);
    expect(b.ranges[0]).toEqual([0, 0]);
    expect(b.ranges[b.ranges.length - 1]![1]).toBeGreaterThan(9); // the tail beyond the largest sample is included
  });
  it('rejects non-integer samples', () => {
    expect(() => binDiscreteSamples([0.5], () => 1)).toThrow('not an integer');
  });
});

describe('moments', () => {
  it('sample moments and pmf moments of a fair die', () => {
    const m = sampleMoments([1, 2, 3, 4, 5, 6]);
    expect(m.mean).toBeCloseTo(3.5, 15);
    expect(m.variance).toBeCloseTo(3.5, 14); // unbiased: 17.5/5
    const d = pmfMoments((k) => 1 / 6 + 0 * k, 1, 6);
    expect(d.mean).toBeCloseTo(3.5, 14);
    expect(d.variance).toBeCloseTo(35 / 12, 14);
    expect(d.mu4).toBeCloseTo(707 / 48, 12);
    expect(standardErrorOfVariance(d.variance, d.mu4, 100)).toBeCloseTo(Math.sqrt((707 / 48 - (35 / 12) ** 2) / 100), 14);
  });
});
