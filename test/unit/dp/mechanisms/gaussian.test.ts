import { describe, expect, it } from 'vitest';
import {
  accuracyToGaussianScale, analyticGaussianEpsilon, analyticGaussianSigma, classicGaussianSigma, gaussianAccuracyToEpsilon,
  gaussianDelta, gaussianScaleToAccuracy, makeGaussian,
} from '../../../../shared/core/dp/mechanisms/gaussian';
import { closeTo, loadOracles } from '../../../helpers/oracles';

describe('Gaussian mechanism', () => {
  const sec = () => loadOracles().gaussian_mechanism;

  it('classic sigma matches every oracle case (rel 1e-12)', () => {
    const s = sec().classic;
    for (const c of s.cases) {
      expect(closeTo(classicGaussianSigma(c.inputs.epsilon, c.inputs.delta, c.inputs.sensitivity), c.expected.sigma, s.tolerance)).toBe(true);
    }
  });
  it('analytic sigma matches every oracle case (Balle & Wang 2018, rel 1e-9)', () => {
    const s = sec().analytic;
    for (const c of s.cases) {
      const got = analyticGaussianSigma(c.inputs.epsilon, c.inputs.delta, c.inputs.sensitivity);
      expect(closeTo(got, c.expected.sigma, s.tolerance), `${JSON.stringify(c.inputs)}: ${got}`).toBe(true);
    }
  });
  it('analytic sigma is below the classic one where both apply', () => {
    for (const c of sec().analytic.cases.filter((c: { classic_sigma?: number }) => c.classic_sigma)) {
      expect(analyticGaussianSigma(c.inputs.epsilon, c.inputs.delta, c.inputs.sensitivity)).toBeLessThan(c.classic_sigma);
    }
  });
  it('exact epsilon of a given sigma matches every oracle case (rel 1e-9)', () => {
    const s = sec().analytic_inverse_epsilon;
    for (const c of s.cases) {
      expect(closeTo(analyticGaussianEpsilon(c.inputs.sigma, c.inputs.delta, c.inputs.sensitivity), c.expected.epsilon, s.tolerance)).toBe(true);
    }
  });
  it('delta at the calibrated sigma equals the target delta', () => {
    const sigma = analyticGaussianSigma(0.7, 1e-7, 2);
    expect(closeTo(gaussianDelta(sigma / 2, 0.7), 1e-7, { rel: 1e-8 })).toBe(true);
  });
  it('refuses the classic formula at epsilon >= 1', () => {
    expect(() => classicGaussianSigma(1, 1e-5)).toThrow('epsilon (1) must be < 1');
    expect(() => makeGaussian({ sensitivity: 1, epsilon: 2, delta: 1e-5, variant: 'classic' })).toThrow(/epsilon \(2\)/);
  });
  it('requires delta > 0', () => {
    expect(() => makeGaussian({ sensitivity: 1, epsilon: 1, delta: 0 })).toThrow('delta (0) must be > 0');
  });
  it('accuracy, its inverse and the inverse to epsilon agree', () => {
    const m = makeGaussian({ sensitivity: 1, epsilon: 0.5, delta: 1e-6 });
    const a = m.accuracy(0.05);
    expect(closeTo(a, gaussianScaleToAccuracy(m.scale, 0.05), { rel: 1e-15 })).toBe(true);
    expect(closeTo(accuracyToGaussianScale(a, 0.05), m.scale, { rel: 1e-12 })).toBe(true);
    expect(closeTo(gaussianAccuracyToEpsilon(a, 1e-6, 1, 0.05), 0.5, { rel: 1e-9 })).toBe(true);
    expect(m.privacyCost).toEqual({ epsilon: 0.5, delta: 1e-6 });
  });
  it('built from sigma, states the exact epsilon at its delta', () => {
    const m = makeGaussian({ sensitivity: 1, sigma: 5, delta: 1e-6 });
    expect(closeTo(m.privacyCost.epsilon, 0.8341175486240523, { rel: 1e-9 })).toBe(true);
  });
});
