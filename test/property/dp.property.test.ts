import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracyToLaplaceScale, laplaceScaleToAccuracy } from '../../shared/core/dp/mechanisms/laplace';
import { accuracyToGaussianScale, analyticGaussianEpsilon, analyticGaussianSigma, gaussianScaleToAccuracy } from '../../shared/core/dp/mechanisms/gaussian';
import { makePartitionSelection } from '../../shared/core/dp/partition-selection';
import { calibrateNoise } from '../../shared/core/dp/accounting/calibration';
import { getAccountant } from '../../shared/core/dp/accounting/index';
import type { DpEvent } from '../../shared/core/dp/accounting/events';
import type { AccountantName } from '../../shared/core/dp/accounting/types';

const RUNS = 60;
const eps = fc.double({ min: 0.01, max: 5, noNaN: true });
const delta = fc.double({ min: 1e-10, max: 1e-3, noNaN: true });
const alpha = fc.double({ min: 1e-6, max: 0.5, noNaN: true });

const event: fc.Arbitrary<DpEvent> = fc.oneof(
  fc.record({ kind: fc.constant('laplace' as const), epsilon: fc.double({ min: 0.01, max: 2, noNaN: true }), count: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('gaussian' as const), sigma: fc.double({ min: 0.5, max: 50, noNaN: true }), count: fc.integer({ min: 1, max: 20 }) }),
);

describe('properties of the DP core', () => {
  it('accuracy then its inverse gives back the scale (Laplace, Gaussian)', () => {
    fc.assert(fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), alpha, (scale, a) => {
      expect(accuracyToLaplaceScale(laplaceScaleToAccuracy(scale, a), a)).toBeCloseTo(scale, 6);
      const back = accuracyToGaussianScale(gaussianScaleToAccuracy(scale, a), a);
      expect(Math.abs(back - scale) / scale).toBeLessThan(1e-12);
    }), { numRuns: RUNS });
  });

  it('the analytic Gaussian sigma and its exact epsilon are inverse to each other', () => {
    fc.assert(fc.property(eps, delta, (e, d) => {
      const sigma = analyticGaussianSigma(e, d);
      expect(Math.abs(analyticGaussianEpsilon(sigma, d) - e) / e).toBeLessThan(1e-8);
    }), { numRuns: RUNS });
  });

  for (const name of ['basic', 'advanced', 'zcdp', 'rdp', 'pld']) {
    it(`${name}: composition is monotone (one more release never lowers epsilon)`, () => {
      fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 3 }), event, delta, (events, extra, d) => {
        const acc = getAccountant(name);
        const before = acc.epsilonAt(events, d);
        const after = acc.epsilonAt([...events, extra], d);
        expect(after).toBeGreaterThanOrEqual(before * (1 - 1e-9) - 1e-9);
      }), { numRuns: name === 'pld' ? 10 : RUNS });
    });
  }

  it('keep probability rises with the number of units, for every strategy', () => {
    fc.assert(fc.property(
      fc.constantFrom('laplace' as const, 'gaussian' as const, 'optimal' as const), eps, delta, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 20 }),
      (strategy, e, d, l0, pre) => {
        const sel = makePartitionSelection({ strategy, epsilon: e, delta: d, maxPartitionsContributed: l0, preThreshold: pre });
        let prev = 0;
        for (let n = 0; n < 400; n += 3) {
          const p = sel.keepProbability(n);
          expect(p).toBeGreaterThanOrEqual(prev);
          expect(p).toBeLessThanOrEqual(1);
          prev = p;
        }
      }), { numRuns: RUNS });
  });

  for (const name of ['basic', 'zcdp', 'rdp', 'pld']) {
    it(`${name}: calibrated noise meets the target epsilon, and 0.1% less noise would not`, () => {
      fc.assert(fc.property(
        fc.constantFrom('laplace' as const, 'gaussian' as const), fc.double({ min: 0.2, max: 4, noNaN: true }), fc.integer({ min: 1, max: 30 }),
        (kind, target, k) => {
          const d = 1e-6;
          const r = calibrateNoise({ kind, epsilon: target, delta: d, releases: k, accountant: name as AccountantName, tolerance: 1e-5 });
          const acc = getAccountant(name);
          const ev = (scale: number): DpEvent[] => [kind === 'laplace' ? { kind, scale, count: k } : { kind, sigma: scale, count: k }];
          expect(acc.epsilonAt(ev(r.scale), d)).toBeLessThanOrEqual(target);
          expect(acc.epsilonAt(ev(r.scale * 0.999), d)).toBeGreaterThan(target);
        }), { numRuns: name === 'pld' ? 5 : 25 });
    });
  }
});
