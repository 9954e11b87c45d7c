import { describe, expect, it } from 'vitest';
import {
  accuracyToDiscreteGaussianSigma,
  DISCRETE_GAUSSIAN_DEFAULT_DELTA,
  discreteGaussianAbsTail,
  discreteGaussianDeltaForEpsilon,
  discreteGaussianEpsilonForDelta,
  discreteGaussianPmf,
  discreteGaussianSigmaToAccuracy,
  discreteGaussianTail,
  discreteGaussianVariance,
  makeDiscreteGaussian,
  sampleDiscreteGaussianExact,
  sigmaSquaredRational,
} from '../../../../shared/core/dp/mechanisms/discrete-gaussian';
import { DpError } from '../../../../shared/core/errors';
import { makeRng } from '../../../../shared/core/rng';

/** Unnormalised weights e^{−k²/(2σ²)} for k = 0..K, K far enough that the rest is < 1e-30. */
function weights(sigma: number): Float64Array {
  const K = Math.ceil(12 * sigma) + 12;
  const w = new Float64Array(K + 1);
  for (let k = 0; k <= K; k++) w[k] = Math.exp((-k * k) / (2 * sigma * sigma));
  return w;
}

/** Σ_{k>=m} w[k] summed from the far end inwards (small terms first). */
function upperSum(w: Float64Array, m: number): number {
  let s = 0;
  for (let k = w.length - 1; k >= m; k--) s += w[k]!;
  return s;
}

function normaliser(w: Float64Array): number {
  return 2 * upperSum(w, 1) + w[0]!;
}

/** Brute-force δ(ε) = Σ_y max(0, P(y) − e^ε P(y − Δ)) (the hockey-stick divergence of a shift by Δ). */
function deltaBySummation(sigma: number, epsilon: number, sensitivity: number): number {
  const K = Math.ceil(14 * sigma) + 14 + sensitivity;
  const z = normaliser(weights(sigma));
  let s = 0;
  for (let y = -K; y <= K; y++) {
    const p = Math.exp((-y * y) / (2 * sigma * sigma)) / z;
    const q = Math.exp((-(y - sensitivity) * (y - sensitivity)) / (2 * sigma * sigma)) / z;
    s += Math.max(0, p - Math.exp(epsilon) * q);
  }
  return s;
}

describe('discrete Gaussian: distribution functions', () => {
  it('pmf sums to 1 and is the normalised weight', () => {
    for (const sigma of [0.2, 0.5, 1, 3.7, 40]) {
      const w = weights(sigma);
      const z = normaliser(w);
      let total = discreteGaussianPmf(0, sigma);
      for (let k = 1; k < w.length; k++) total += 2 * discreteGaussianPmf(k, sigma);
      expect(total).toBeCloseTo(1, 13);
      for (const k of [0, 1, 3, 10]) expect(discreteGaussianPmf(k, sigma)).toBeCloseTo(w[k]! / z, 15);
    }
    expect(discreteGaussianPmf(0.5, 1)).toBe(0);
  });
  it('variance is Σ k² pmf(k) (closed form above σ = 1, summed below) and below σ²', () => {
    for (const sigma of [0.3, 0.5, 0.9, 1, 1.5, 2, 3.7, 10, 40]) {
      const w = weights(sigma);
      const z = normaliser(w);
      let v = 0;
      for (let k = w.length - 1; k >= 1; k--) v += (2 * k * k * w[k]!) / z;
      expect(discreteGaussianVariance(sigma) / v).toBeCloseTo(1, 12);
      expect(discreteGaussianVariance(sigma)).toBeLessThanOrEqual(sigma * sigma);
    }
    // Far below σ², close to it from σ ≈ 1 on (CKS20 Prop. 19).
    expect(discreteGaussianVariance(0.5)).toBeLessThan(0.22);
    expect(1 - discreteGaussianVariance(1)).toBeCloseTo(2.112322719e-7, 15);
  });
  it('tail P(Z >= t) matches summation for small σ (direct) and for σ = 150, 1000 (Euler–Maclaurin)', () => {
    for (const sigma of [0.5, 3.7, 40, 150, 1000]) {
      const w = weights(sigma);
      const z = normaliser(w);
      for (const m of [1, 2, Math.round(sigma), Math.round(2 * sigma), Math.round(3.5 * sigma) + 1]) {
        const truth = upperSum(w, m) / z;
        expect(Math.abs(discreteGaussianTail(m, sigma) / truth - 1), `sigma ${sigma} m ${m}`).toBeLessThan(1e-12);
        expect(Math.abs(discreteGaussianTail(1 - m, sigma) - (1 - truth))).toBeLessThan(1e-14);
      }
      expect(discreteGaussianAbsTail(0, sigma)).toBe(1);
    }
  });
  it('tail for σ = 1e4 and 1e6 matches direct summation (numpy, 9σ terms)', () => {
    expect(discreteGaussianTail(20000, 1e4) / 0.022752831586489813).toBeCloseTo(1, 12);
    expect(discreteGaussianTail(35000, 1e4) / 0.00023267271571560187).toBeCloseTo(1, 12);
    expect(discreteGaussianTail(3e6, 1e6) / 0.0013499002475554083).toBeCloseTo(1, 11);
  });
});

describe('discrete Gaussian: accuracy', () => {
  it('is the smallest integer a with P(|Z| > a) <= α (checked by summation)', () => {
    for (const sigma of [0.3, 0.5, 1, 3.7, 40, 150, 1000]) {
      const w = weights(sigma);
      const z = normaliser(w);
      for (const alpha of [0.5, 0.05, 0.01, 1e-6]) {
        const a = discreteGaussianSigmaToAccuracy(sigma, alpha);
        expect((2 * upperSum(w, a + 1)) / z, `sigma ${sigma} alpha ${alpha}`).toBeLessThanOrEqual(alpha);
        if (a > 0) expect((2 * upperSum(w, a)) / z).toBeGreaterThan(alpha);
      }
    }
  });
  it('is stable for large σ: values from direct summation with numpy', () => {
    expect(discreteGaussianSigmaToAccuracy(1e4, 0.05)).toBe(19600);
    expect(discreteGaussianSigmaToAccuracy(1e4, 1e-6)).toBe(48916);
    expect(discreteGaussianSigmaToAccuracy(1e6, 0.05)).toBe(1959964);
    expect(discreteGaussianSigmaToAccuracy(1e6, 0.01)).toBe(2575829);
    expect(discreteGaussianSigmaToAccuracy(1e6, 1e-9)).toBe(6109410);
  });
  it('accuracy ∘ accuracyToSigma is the identity on integers, and σ is the largest such', () => {
    for (const alpha of [0.05, 1e-4]) {
      for (const a of [0, 1, 2, 7, 50, 300, 5000]) {
        const s = accuracyToDiscreteGaussianSigma(a, alpha);
        expect(discreteGaussianSigmaToAccuracy(s, alpha)).toBe(a);
        expect(discreteGaussianSigmaToAccuracy(s * (1 + 1e-9), alpha)).toBeGreaterThan(a);
      }
    }
    expect(accuracyToDiscreteGaussianSigma(7.5, 0.05)).toBe(accuracyToDiscreteGaussianSigma(7, 0.05));
  });
  it('accuracyToSigma ∘ accuracy is at least the identity', () => {
    for (const sigma of [0.4, 3, 77.7, 2500]) {
      expect(accuracyToDiscreteGaussianSigma(discreteGaussianSigmaToAccuracy(sigma), 0.05)).toBeGreaterThanOrEqual(sigma);
    }
  });
});

describe('discrete Gaussian: privacy', () => {
  it('δ(ε) of CKS20 Thm 7 equals the brute-force hockey-stick divergence', () => {
    for (const [sigma, eps, d] of [[0.5, 2, 1], [3, 0.5, 1], [3, 1, 2], [1.3, 3, 1], [10, 0.3, 3], [40, 0.05, 1]] as const) {
      const truth = deltaBySummation(sigma, eps, d);
      const got = discreteGaussianDeltaForEpsilon(sigma, eps, d);
      expect(got).toBeGreaterThanOrEqual(truth * (1 - 1e-11));
      expect(got / truth, `sigma ${sigma} eps ${eps} d ${d}`).toBeCloseTo(1, 9);
    }
  });
  it('δ(ε) for σ above the summation limit is a tight upper bound', () => {
    const truth = deltaBySummation(150, 0.01, 1);
    const got = discreteGaussianDeltaForEpsilon(150, 0.01, 1);
    expect(got).toBeGreaterThanOrEqual(truth * (1 - 1e-12));
    expect(got / truth).toBeCloseTo(1, 6);
  });
  it('privacyCost states the tight ε at the default δ = 1e-6, no worse than the zCDP conversion', () => {
    const m = makeDiscreteGaussian({ sensitivity: 1, sigma: 3 });
    expect(m.rho).toBeCloseTo(1 / 18, 15);
    expect(m.privacyCost.delta).toBe(DISCRETE_GAUSSIAN_DEFAULT_DELTA);
    const eps = m.privacyCost.epsilon;
    expect(deltaBySummation(3, eps, 1)).toBeLessThanOrEqual(1e-6 * (1 + 1e-9));
    expect(deltaBySummation(3, eps * (1 - 1e-6), 1)).toBeGreaterThan(1e-6);
    expect(eps).toBeLessThan(m.rho + 2 * Math.sqrt(m.rho * Math.log(1e6))); // Bun & Steinke 2016 Prop. 1.3
    const at = m.privacyCostAt(1e-3);
    expect(at.delta).toBe(1e-3);
    expect(at.epsilon).toBeLessThan(eps);
    expect(makeDiscreteGaussian({ sensitivity: 1, sigma: 3, delta: 1e-3 }).privacyCost).toEqual(at);
  });
  it('ε grows with the sensitivity and is 0 when δ(0) is already small enough', () => {
    expect(discreteGaussianEpsilonForDelta(5, 1e-5, 2)).toBeGreaterThan(discreteGaussianEpsilonForDelta(5, 1e-5, 1));
    expect(discreteGaussianEpsilonForDelta(1e5, 0.5, 1)).toBe(0);
  });
});

describe('discrete Gaussian: mechanism object and validation', () => {
  it('exposes σ, exact moments, event and is frozen', () => {
    const m = makeDiscreteGaussian({ sensitivity: 2, sigma: 0.5 });
    expect(m.kind).toBe('discrete-gaussian');
    expect(m.scale).toBe(0.5);
    expect(m.sigma).toBe(0.5);
    expect(m.variance).toBe(discreteGaussianVariance(0.5));
    expect(m.std).toBeCloseTo(Math.sqrt(m.variance), 15);
    expect(m.rho).toBe(8);
    expect(m.event(3)).toEqual({ kind: 'discrete-gaussian', sigma: 0.5, sensitivity: 2, count: 3 });
    expect(m.event()).toEqual({ kind: 'discrete-gaussian', sigma: 0.5, sensitivity: 2, count: 1 });
    expect(m.accuracy(0.05)).toBe(discreteGaussianSigmaToAccuracy(0.5, 0.05));
    expect(m.pmf(1)).toBe(discreteGaussianPmf(1, 0.5));
    expect(m.tail(1)).toBe(discreteGaussianTail(1, 0.5));
    expect(Object.isFrozen(m)).toBe(true);
  });
  it('rejects bad parameters with InvalidParameter naming the value', () => {
    expect(() => makeDiscreteGaussian({ sensitivity: 1, sigma: 0 })).toThrow(DpError);
    expect(() => makeDiscreteGaussian({ sensitivity: 1, sigma: -2 })).toThrow('sigma (-2) must be a finite number > 0');
    expect(() => makeDiscreteGaussian({ sensitivity: 1.5, sigma: 1 })).toThrow('sensitivity (1.5) must be an integer >= 1');
    expect(() => makeDiscreteGaussian({ sensitivity: 1, sigma: 1, delta: 1 })).toThrow('delta (1) must be in the open interval (0, 1)');
    expect(() => makeDiscreteGaussian({ sensitivity: 1, sigma: 1 }).privacyCostAt(0)).toThrow('delta (0)');
    expect(() => discreteGaussianSigmaToAccuracy(1, 0)).toThrow('alpha (0)');
    expect(() => accuracyToDiscreteGaussianSigma(-1)).toThrow('accuracy (-1)');
    expect(() => sampleDiscreteGaussianExact(makeRng(1), 0)).toThrow('sigma2Numerator (0) must be an integer >= 1');
    expect(() => sampleDiscreteGaussianExact(makeRng(1), 1, 0n)).toThrow('sigma2Denominator (0)');
  });
  it('represents σ² exactly as the square of the double σ', () => {
    expect(sigmaSquaredRational(3)).toEqual({ numerator: 9n, denominator: 1n });
    expect(sigmaSquaredRational(0.5)).toEqual({ numerator: 1n, denominator: 4n });
    const r = sigmaSquaredRational(0.1);
    expect(r.numerator).toBe(3602879701896397n * 3602879701896397n);
    expect(r.denominator).toBe(1n << 110n);
  });
  it('sampler returns integers on both the safe-integer and the BigInt paths', () => {
    const rng = makeRng(9);
    for (const sigma of [0.5, 3, 3.7, 1e6]) {
      const m = makeDiscreteGaussian({ sensitivity: 1, sigma });
      for (let i = 0; i < 100; i++) expect(Number.isSafeInteger(m.sample(rng))).toBe(true);
    }
    for (let i = 0; i < 100; i++) expect(Number.isSafeInteger(sampleDiscreteGaussianExact(rng, 1n, 3n))).toBe(true);
  });
});
