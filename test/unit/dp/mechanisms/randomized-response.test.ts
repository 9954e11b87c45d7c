import { describe, expect, it } from 'vitest';
import {
  makeRandomizedResponse,
  randomizedResponseAccuracy,
  randomizedResponseAccuracyToEpsilon,
  randomizedResponseProbabilities,
  randomizedResponseVariance,
} from '../../../../shared/core/dp/mechanisms/randomized-response';
import { DpError } from '../../../../shared/core/errors';
import { normalQuantile } from '../../../../shared/core/math/special';
import { makeRng } from '../../../../shared/core/rng';

describe('k-ary randomized response: probabilities and estimator', () => {
  it('p = e^ε/(e^ε+k−1), q = 1/(e^ε+k−1): the rows sum to 1 and p/q = e^ε', () => {
    for (const [eps, k] of [[0.1, 2], [1, 4], [3, 100], [8, 3]] as const) {
      const rr = makeRandomizedResponse({ epsilon: eps, categories: k });
      expect(rr.p).toBeCloseTo(Math.exp(eps) / (Math.exp(eps) + k - 1), 15);
      expect(rr.q).toBeCloseTo(1 / (Math.exp(eps) + k - 1), 15);
      expect(rr.p + (k - 1) * rr.q).toBeCloseTo(1, 15);
      expect(Math.log(rr.p / rr.q)).toBeCloseTo(eps, 13);
    }
    // Large ε does not overflow.
    const big = randomizedResponseProbabilities(800, 5);
    expect(big.p).toBe(1);
    expect(big.q).toBe(0);
  });
  it('the estimator inverts the expected report frequencies exactly (unbiasedness in expectation)', () => {
    const rr = makeRandomizedResponse({ epsilon: 1.2, categories: 4 });
    const f = [0.5, 0.3, 0.2, 0];
    const n = 1000;
    const expectedCounts = f.map((fv) => n * (rr.q + fv * (rr.p - rr.q)));
    const est = rr.estimateFrequencies(expectedCounts, n);
    for (let v = 0; v < 4; v++) expect(est[v]).toBeCloseTo(f[v]!, 13);
    // Estimates sum to 1 whenever the counts sum to n.
    const est2 = rr.estimateFrequencies([400, 300, 200, 100], 1000);
    expect(est2.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 13);
  });
  it('variance is q(1−q)/(n(p−q)²) + f(1−p−q)/(n(p−q)) = Σ of per-user Bernoulli variances / (n(p−q))²', () => {
    for (const [eps, k, n, f] of [[0.5, 2, 100, 0.3], [1, 5, 1000, 0.1], [2, 50, 10_000, 0.8], [1, 5, 1000, 0]] as const) {
      const { p, q } = randomizedResponseProbabilities(eps, k);
      const direct = (n * f * p * (1 - p) + n * (1 - f) * q * (1 - q)) / (n * n * (p - q) * (p - q));
      expect(randomizedResponseVariance(eps, k, n, f) / direct).toBeCloseTo(1, 12);
      expect(makeRandomizedResponse({ epsilon: eps, categories: k }).estimatorVariance(n, f)).toBe(randomizedResponseVariance(eps, k, n, f));
    }
  });
  it('binary randomized response has a variance independent of f', () => {
    const a = randomizedResponseVariance(1, 2, 500, 0);
    expect(randomizedResponseVariance(1, 2, 500, 0.9)).toBeCloseTo(a, 15);
  });
});

describe('k-ary randomized response: accuracy', () => {
  it('is z_{1−α/2}·√Var, worst case at f = 1 when f is omitted', () => {
    const rr = makeRandomizedResponse({ epsilon: 1, categories: 8 });
    const n = 2000;
    const z = -normalQuantile(0.025);
    expect(rr.accuracy(n, 0.05, 0.2)).toBeCloseTo(z * Math.sqrt(rr.estimatorVariance(n, 0.2)), 15);
    const worst = rr.accuracy(n);
    expect(worst).toBeCloseTo(z * Math.sqrt(rr.estimatorVariance(n, 1)), 15);
    for (let f = 0; f <= 1; f += 0.05) expect(rr.accuracy(n, 0.05, f)).toBeLessThanOrEqual(worst * (1 + 1e-15));
  });
  it('accuracyToEpsilon ∘ accuracy is the identity', () => {
    for (const [eps, k, n, alpha] of [[0.3, 2, 10_000, 0.05], [1, 10, 5000, 0.01], [4, 100, 1e6, 0.05], [0.01, 3, 1e7, 0.1]] as const) {
      const a = randomizedResponseAccuracy(eps, k, n, alpha);
      expect(randomizedResponseAccuracyToEpsilon(k, n, a, alpha) / eps).toBeCloseTo(1, 9);
      const rr = makeRandomizedResponse({ epsilon: eps, categories: k });
      expect(rr.accuracyToEpsilon(n, rr.accuracy(n, alpha), alpha) / eps).toBeCloseTo(1, 9);
    }
  });
  it('accuracy ∘ accuracyToEpsilon is the identity, also at a given f', () => {
    const eps = randomizedResponseAccuracyToEpsilon(6, 3000, 0.05, 0.05, 0.3);
    expect(randomizedResponseAccuracy(eps, 6, 3000, 0.05, 0.3) / 0.05).toBeCloseTo(1, 9);
  });
});

describe('k-ary randomized response: object, respond and validation', () => {
  it('states its privacy cost and event and is frozen', () => {
    const rr = makeRandomizedResponse({ epsilon: 0.7, categories: 3 });
    expect(rr.kind).toBe('randomized-response');
    expect(rr.privacyCost).toEqual({ epsilon: 0.7, delta: 0 });
    expect(rr.event()).toEqual({ kind: 'randomized-response', epsilon: 0.7, categories: 3, count: 1 });
    expect(rr.event(5)).toEqual({ kind: 'randomized-response', epsilon: 0.7, categories: 3, count: 5 });
    expect(Object.isFrozen(rr)).toBe(true);
  });
  it('responds with a category in [0, k)', () => {
    const rr = makeRandomizedResponse({ epsilon: 0.1, categories: 5 });
    const rng = makeRng(2);
    for (let i = 0; i < 1000; i++) {
      const r = rr.respond(rng, i % 5);
      expect(Number.isInteger(r) && r >= 0 && r < 5).toBe(true);
    }
  });
  it('rejects bad parameters with InvalidParameter naming the value', () => {
    expect(() => makeRandomizedResponse({ epsilon: 0, categories: 2 })).toThrow(DpError);
    expect(() => makeRandomizedResponse({ epsilon: 0, categories: 2 })).toThrow('epsilon (0) must be a finite number > 0');
    expect(() => makeRandomizedResponse({ epsilon: 1, categories: 1 })).toThrow('categories (1) must be an integer >= 2');
    expect(() => makeRandomizedResponse({ epsilon: 1, categories: 2.5 })).toThrow('categories (2.5)');
    const rr = makeRandomizedResponse({ epsilon: 1, categories: 3 });
    expect(() => rr.respond(makeRng(1), 3)).toThrow('value (3) must be an integer in [0, 3)');
    expect(() => rr.respond(makeRng(1), -1)).toThrow('value (-1)');
    expect(() => rr.estimateFrequencies([1, 2], 3)).toThrow('counts.length (2) must equal categories (3)');
    expect(() => rr.estimateFrequencies([1, 2, 3], 0)).toThrow('n (0)');
    expect(() => rr.estimateFrequencies([1, -2, 3], 6)).toThrow('counts[1] (-2)');
    expect(() => rr.estimatorVariance(10, 1.5)).toThrow('trueFrequency (1.5) must be in [0, 1]');
    expect(() => rr.accuracy(10, 2)).toThrow('alpha (2)');
    expect(() => rr.accuracyToEpsilon(10, -0.1)).toThrow('accuracy (-0.1)');
  });
});
