import { describe, expect, it } from 'vitest';
import {
  accuracyToDiscreteLaplaceScale,
  discreteLaplaceAbsTail,
  discreteLaplaceAccuracyToEpsilon,
  discreteLaplaceFromUniforms,
  discreteLaplacePmf,
  discreteLaplaceScaleToAccuracy,
  discreteLaplaceTail,
  discreteLaplaceVariance,
  doubleToRational,
  makeDiscreteLaplace,
  sampleBernoulliExp,
  sampleDiscreteLaplaceExact,
} from '../../../../shared/core/dp/mechanisms/discrete-laplace';
import { DpError } from '../../../../shared/core/errors';
import { makeRng } from '../../../../shared/core/rng';
import { closeTo, loadOracles } from '../../../helpers/oracles';

/** Σ_{|k|>a} pmf(k), summed from the far tail inwards. */
function absTailBySummation(a: number, scale: number): number {
  let s = 0;
  for (let k = Math.ceil(a + 60 * scale + 60); k > a; k--) s += 2 * discreteLaplacePmf(k, scale);
  return s;
}

describe('discrete Laplace: oracle cases (shared/oracles/public.json, section discrete_laplace)', () => {
  const sec = loadOracles().discrete_laplace;

  it('has cases to check', () => {
    expect(sec.cases.length).toBeGreaterThan(0);
  });

  it('matches p, 1/t, pmf(0), variance and every tail within the stated relative tolerance', () => {
    for (const c of sec.cases) {
      const m = makeDiscreteLaplace({ epsilon: c.inputs.epsilon, sensitivity: c.inputs.sensitivity });
      const label = JSON.stringify(c.inputs);
      expect(closeTo(1 / m.scale, c.expected.a, sec.tolerance), `${label} a`).toBe(true);
      expect(closeTo(m.p, c.expected.p, sec.tolerance), `${label} p`).toBe(true);
      expect(closeTo(m.pmf(0), c.expected.pmf0, sec.tolerance), `${label} pmf0`).toBe(true);
      expect(closeTo(m.variance, c.expected.variance, sec.tolerance), `${label} variance`).toBe(true);
      expect(closeTo(m.std, Math.sqrt(c.expected.variance), sec.tolerance), `${label} std`).toBe(true);
      for (const [t, tail] of Object.entries(c.expected.tails) as Array<[string, Record<string, number>]>) {
        const tt = Number(t);
        expect(closeTo(m.tail(tt), tail['P(Z>=t)']!, sec.tolerance), `${label} P(Z>=${t})`).toBe(true);
        expect(closeTo(discreteLaplaceTail(tt, m.scale), tail['P(Z>=t)']!, sec.tolerance)).toBe(true);
        expect(closeTo(discreteLaplaceAbsTail(tt, m.scale), tail['P(|Z|>=t)']!, sec.tolerance), `${label} P(|Z|>=${t})`).toBe(true);
      }
    }
  });

  it('matches every integer half-width ci_half_width_int exactly', () => {
    for (const c of sec.cases) {
      const m = makeDiscreteLaplace({ epsilon: c.inputs.epsilon, sensitivity: c.inputs.sensitivity });
      for (const [alpha, width] of Object.entries(c.expected.ci_half_width_int) as Array<[string, number]>) {
        expect(m.accuracy(Number(alpha)), `${JSON.stringify(c.inputs)} alpha ${alpha}`).toBe(width);
        expect(discreteLaplaceScaleToAccuracy(m.scale, Number(alpha))).toBe(width);
      }
    }
  });
});

describe('discrete Laplace: distribution functions', () => {
  it('pmf sums to 1 and the tail is the sum of the pmf', () => {
    for (const t of [0.2, 1, 4.5, 30]) {
      let total = 0;
      for (let k = Math.ceil(60 * t + 60); k >= -Math.ceil(60 * t + 60); k--) total += discreteLaplacePmf(k, t);
      expect(total).toBeCloseTo(1, 13);
      for (const x of [-3, 0, 1, 7]) {
        let s = 0;
        for (let k = Math.ceil(60 * t + 60); k >= x; k--) s += discreteLaplacePmf(k, t);
        expect(discreteLaplaceTail(x, t)).toBeCloseTo(s, 13);
      }
    }
    expect(discreteLaplacePmf(0.5, 1)).toBe(0);
    expect(discreteLaplaceTail(1.5, 2)).toBe(discreteLaplaceTail(2, 2));
  });
  it('variance equals Σ k² pmf(k)', () => {
    for (const t of [0.3, 2, 25]) {
      let v = 0;
      for (let k = Math.ceil(80 * t + 80); k >= 1; k--) v += 2 * k * k * discreteLaplacePmf(k, t);
      expect(discreteLaplaceVariance(t) / v).toBeCloseTo(1, 12);
    }
  });
  it('the closed-form half-width is the smallest integer a with P(|Z| > a) <= α (by summation)', () => {
    for (const t of [0.15, 0.7, 2.5, 17, 120]) {
      for (const alpha of [0.5, 0.05, 0.01, 1e-6]) {
        const a = discreteLaplaceScaleToAccuracy(t, alpha);
        expect(absTailBySummation(a, t)).toBeLessThanOrEqual(alpha * (1 + 1e-12));
        if (a > 0) expect(absTailBySummation(a - 1, t)).toBeGreaterThan(alpha);
      }
    }
  });
});

describe('discrete Laplace: accuracy inverses', () => {
  it('accuracy ∘ accuracyToScale is the identity on integers, and the scale is the largest such', () => {
    for (const alpha of [0.05, 0.01, 1e-6]) {
      for (const a of [0, 1, 2, 5, 30, 100, 1000, 123456]) {
        const t = accuracyToDiscreteLaplaceScale(a, alpha);
        expect(discreteLaplaceScaleToAccuracy(t, alpha)).toBe(a);
        expect(discreteLaplaceScaleToAccuracy(t * (1 + 1e-9), alpha)).toBe(a + 1);
      }
    }
    // A fractional accuracy means its floor.
    expect(accuracyToDiscreteLaplaceScale(7.9, 0.05)).toBe(accuracyToDiscreteLaplaceScale(7, 0.05));
  });
  it('accuracyToScale ∘ accuracy is at least the identity', () => {
    for (const t of [0.4, 3, 55.5]) {
      const a = discreteLaplaceScaleToAccuracy(t, 0.05);
      expect(accuracyToDiscreteLaplaceScale(a, 0.05)).toBeGreaterThanOrEqual(t);
    }
  });
  it('discreteLaplaceAccuracyToEpsilon gives the smallest ε meeting the half-width', () => {
    for (const [a, s] of [[3, 1], [30, 1], [10, 4], [0, 2]] as const) {
      const eps = discreteLaplaceAccuracyToEpsilon(a, s, 0.05);
      expect(makeDiscreteLaplace({ epsilon: eps, sensitivity: s }).accuracy(0.05)).toBeLessThanOrEqual(a);
      expect(makeDiscreteLaplace({ epsilon: eps * (1 - 1e-9), sensitivity: s }).accuracy(0.05)).toBe(a + 1);
    }
    // The oracle's ε = 1 gives 3 at α = 0.05, so ε for accuracy 3 is at most 1.
    expect(discreteLaplaceAccuracyToEpsilon(3, 1, 0.05)).toBeLessThanOrEqual(1);
  });
});

describe('discrete Laplace: mechanism object and validation', () => {
  it('states its privacy cost and event and is frozen', () => {
    const m = makeDiscreteLaplace({ epsilon: 0.5, sensitivity: 3 });
    expect(m.kind).toBe('discrete-laplace');
    expect(m.scale).toBe(6);
    expect(m.privacyCost).toEqual({ epsilon: 0.5, delta: 0 });
    expect(m.event(4)).toEqual({ kind: 'discrete-laplace', scale: 6, sensitivity: 3, count: 4 });
    expect(m.event()).toEqual({ kind: 'discrete-laplace', scale: 6, sensitivity: 3, count: 1 });
    expect(Object.isFrozen(m)).toBe(true);
    const byScale = makeDiscreteLaplace({ scale: 6, sensitivity: 3 });
    expect(byScale.epsilon).toBe(0.5);
  });
  it('rejects bad parameters with InvalidParameter naming the value', () => {
    expect(() => makeDiscreteLaplace({ epsilon: -1, sensitivity: 1 })).toThrow(DpError);
    expect(() => makeDiscreteLaplace({ epsilon: -1, sensitivity: 1 })).toThrow('epsilon (-1) must be a finite number > 0');
    expect(() => makeDiscreteLaplace({ sensitivity: 1 })).toThrow('epsilon (missing)');
    expect(() => makeDiscreteLaplace({ epsilon: 1, sensitivity: 1.5 })).toThrow('sensitivity (1.5) must be an integer >= 1');
    expect(() => makeDiscreteLaplace({ epsilon: 1, sensitivity: 0 })).toThrow('sensitivity (0)');
    expect(() => makeDiscreteLaplace({ scale: 0, sensitivity: 1 })).toThrow('scale (0)');
    expect(() => makeDiscreteLaplace({ scale: 1, epsilon: 1, sensitivity: 1 })).toThrow('not both');
    expect(() => discreteLaplaceScaleToAccuracy(1, 1.5)).toThrow('alpha (1.5)');
    expect(() => accuracyToDiscreteLaplaceScale(-1, 0.05)).toThrow('accuracy (-1)');
    expect(() => discreteLaplacePmf(0, -2)).toThrow('scale (-2)');
    try {
      makeDiscreteLaplace({ epsilon: Number.NaN, sensitivity: 1 });
    } catch (e) {
      expect((e as DpError).code).toBe('InvalidParameter');
    }
  });
  it('exact sampler and Bernoulli(exp(−γ)) reject bad rationals naming the argument', () => {
    const rng = makeRng(1);
    expect(() => sampleDiscreteLaplaceExact(rng, 0)).toThrow('numerator (0) must be an integer >= 1');
    expect(() => sampleDiscreteLaplaceExact(rng, 1, 2.5)).toThrow('denominator (2.5)');
    expect(() => sampleDiscreteLaplaceExact(rng, -3n, 1n)).toThrow('numerator (-3)');
    expect(() => sampleBernoulliExp(rng, -1)).toThrow('numerator (-1) must be an integer >= 0');
    expect(() => sampleBernoulliExp(rng, 1, 0n)).toThrow('denominator (0)');
  });
});

describe('discrete Laplace: samplers (shape only; distributions are in test/stats)', () => {
  it('fast sampler maps uniforms through the geometric inverse CDF', () => {
    // ⌊−t ln u⌋: u = e^{−1/t} − tiny gives 1, u just above gives 0.
    const t = 3;
    expect(discreteLaplaceFromUniforms(Math.exp(-1 / t) * (1 - 1e-12), 0.999, t)).toBe(1);
    expect(discreteLaplaceFromUniforms(Math.exp(-1 / t) * (1 + 1e-12), 0.999, t)).toBe(0);
    expect(discreteLaplaceFromUniforms(0.5, 0.5, t)).toBe(0);
  });
  it('exact samplers return integers, also for BigInt scales beyond 2^53', () => {
    const rng = makeRng(3);
    for (let i = 0; i < 200; i++) {
      expect(Number.isSafeInteger(sampleDiscreteLaplaceExact(rng, 7, 2))).toBe(true);
      expect(Number.isSafeInteger(sampleDiscreteLaplaceExact(rng, (1n << 70n) + 3n, 1n << 69n))).toBe(true);
      expect(Number.isSafeInteger(makeDiscreteLaplace({ epsilon: 0.3, sensitivity: 2 }).sampleExact(rng))).toBe(true);
    }
  });
  it('Bernoulli(exp(−0)) is always 1', () => {
    const rng = makeRng(5);
    for (let i = 0; i < 50; i++) expect(sampleBernoulliExp(rng, 0, 7)).toBe(true);
  });
  it('doubleToRational is exact', () => {
    expect(doubleToRational(3)).toEqual({ numerator: 3n, denominator: 1n });
    expect(doubleToRational(-0.75)).toEqual({ numerator: -3n, denominator: 4n });
    expect(doubleToRational(0.1)).toEqual({ numerator: 3602879701896397n, denominator: 36028797018963968n });
    expect(() => doubleToRational(Infinity)).toThrow('must be a finite number');
  });
});
