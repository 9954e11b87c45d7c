// The contract every accountant meets (dp_accounting style: one suite, every accountant).
import { describe, expect, it } from 'vitest';
import { ACCOUNTANT_NAMES, getAccountant } from '../../../../shared/core/dp/accounting/index';
import type { DpEvent } from '../../../../shared/core/dp/accounting/events';
import { analyticGaussianEpsilon } from '../../../../shared/core/dp/mechanisms/gaussian';
import { DpError } from '../../../../shared/core/errors';

const MIXED: DpEvent[] = [
  { kind: 'laplace', epsilon: 0.1, count: 10 },
  { kind: 'gaussian', sigma: 5, count: 20 },
];

describe.each(ACCOUNTANT_NAMES.map((n) => [n]))('accountant %s', (name) => {
  const acc = getAccountant(name);

  it('certifies epsilon 0 for no events', () => {
    expect(acc.epsilonAt([], 1e-6)).toBeCloseTo(0, 9);
  });
  it('rejects a negative delta with InvalidParameter naming it', () => {
    expect(() => acc.epsilonAt(MIXED, -1)).toThrow(DpError);
    expect(() => acc.epsilonAt(MIXED, -1)).toThrow(/delta \(-1\)/);
  });
  it('rejects a malformed event naming its field', () => {
    expect(() => acc.epsilonAt([{ kind: 'laplace', epsilon: 0.1 }, { kind: 'gaussian', sigma: 0 }], 1e-6)).toThrow(/events\[1\]\.sigma \(0\)/);
  });
  it('epsilon falls as delta grows', () => {
    const a = acc.epsilonAt(MIXED, 1e-9);
    const b = acc.epsilonAt(MIXED, 1e-6);
    const c = acc.epsilonAt(MIXED, 1e-3);
    expect(a).toBeGreaterThanOrEqual(b);
    expect(b).toBeGreaterThanOrEqual(c);
  });
  it('deltaAt inverts epsilonAt', () => {
    const eps = acc.epsilonAt(MIXED, 1e-6);
    const d = acc.deltaAt(MIXED, eps);
    expect(d).toBeLessThanOrEqual(1e-6 * 1.01);
    expect(d).toBeGreaterThanOrEqual(1e-6 * 0.5);
  });
  it('never certifies less than the exact epsilon of k Gaussians (one Gaussian with sigma/sqrt(k))', () => {
    for (const [sigma, k, delta] of [[5, 50, 1e-5], [2, 3, 1e-6], [40, 1000, 1e-9]] as const) {
      const exact = analyticGaussianEpsilon(sigma / Math.sqrt(k), delta);
      expect(acc.epsilonAt([{ kind: 'gaussian', sigma, count: k }], delta)).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
    }
  });
  it('never certifies less than the exact epsilon of one Laplace release', () => {
    // Laplace with ε0 has δ(ε) = 1 − e^{(ε−ε0)/2}, so ε(δ) = ε0 + 2 ln(1 − δ).
    const e0 = 0.7;
    const delta = 1e-3;
    expect(acc.epsilonAt([{ kind: 'laplace', epsilon: e0 }], delta)).toBeGreaterThanOrEqual(e0 + 2 * Math.log1p(-delta) - 1e-9);
  });
  // zCDP is excluded: converting ε-DP to (ε²/2)-zCDP loses against plain summation for few releases.
  it.skipIf(name === 'zcdp')('composing k pure releases never exceeds basic composition by more than discretisation error', () => {
    const basic = getAccountant('basic').epsilonAt([{ kind: 'laplace', epsilon: 0.2, count: 25 }], 1e-6);
    expect(acc.epsilonAt([{ kind: 'laplace', epsilon: 0.2, count: 25 }], 1e-6)).toBeLessThanOrEqual(basic + 0.01);
  });
});
