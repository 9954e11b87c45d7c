import { describe, expect, it } from 'vitest';
import { accuracyToLaplaceScale, laplaceAccuracyToEpsilon, laplaceFromUniform, laplaceScaleToAccuracy, makeLaplace } from '../../../../shared/core/dp/mechanisms/laplace';
import { DpError } from '../../../../shared/core/errors';
import { closeTo, loadOracles } from '../../../helpers/oracles';

describe('Laplace mechanism', () => {
  it('matches every oracle case: scale, std, variance and half-width (rel 1e-12)', () => {
    const sec = loadOracles().laplace_mechanism;
    expect(sec.cases.length).toBeGreaterThan(0);
    for (const c of sec.cases) {
      const m = makeLaplace({ epsilon: c.inputs.epsilon, sensitivity: c.inputs.sensitivity });
      const label = JSON.stringify(c.inputs);
      expect(closeTo(m.scale, c.expected.scale, sec.tolerance), label).toBe(true);
      expect(closeTo(m.std, c.expected.std, sec.tolerance), label).toBe(true);
      expect(closeTo(m.variance, c.expected.variance, sec.tolerance), label).toBe(true);
      expect(closeTo(m.accuracy(c.inputs.alpha), c.expected.ci_half_width, sec.tolerance), label).toBe(true);
    }
  });
  it('states its privacy cost and event', () => {
    const m = makeLaplace({ epsilon: 0.5, sensitivity: 3 });
    expect(m.privacyCost).toEqual({ epsilon: 0.5, delta: 0 });
    expect(m.event(4)).toEqual({ kind: 'laplace', scale: 6, sensitivity: 3, count: 4 });
    expect(Object.isFrozen(m)).toBe(true);
  });
  it('inverts accuracy to scale and epsilon', () => {
    const a = laplaceScaleToAccuracy(7, 0.01);
    expect(accuracyToLaplaceScale(a, 0.01)).toBeCloseTo(7, 12);
    expect(laplaceAccuracyToEpsilon(a, 2, 0.01)).toBeCloseTo(2 / 7, 12);
  });
  it('rejects negative epsilon with InvalidParameter naming the value', () => {
    expect(() => makeLaplace({ epsilon: -1, sensitivity: 1 })).toThrow(DpError);
    expect(() => makeLaplace({ epsilon: -1, sensitivity: 1 })).toThrow('epsilon (-1) must be a finite number > 0');
    expect(() => makeLaplace({ epsilon: 1, sensitivity: 0 })).toThrow('sensitivity (0)');
    expect(() => laplaceScaleToAccuracy(1, 1.5)).toThrow('alpha (1.5)');
  });
  it('inverse-CDF sampler maps u to the right quantiles', () => {
    // F⁻¹(u) = b ln(2u) for u < 1/2; median 0; symmetric.
    expect(laplaceFromUniform(0.5, 3)).toBeCloseTo(0, 15);
    expect(laplaceFromUniform(0.25, 2)).toBeCloseTo(2 * Math.log(0.5), 15);
    expect(laplaceFromUniform(0.75, 2)).toBeCloseTo(-laplaceFromUniform(0.25, 2), 15);
  });
});
