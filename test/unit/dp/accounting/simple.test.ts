import { describe, expect, it } from 'vitest';
import { advancedAccountant, advancedCompositionEpsilon, basicAccountant, totalRho, zcdpAccountant } from '../../../../shared/core/dp/accounting/simple';
import { zcdpDelta, zcdpEpsilon, zcdpEpsilonSimple } from '../../../../shared/core/dp/accounting/conversions';
import type { DpEvent } from '../../../../shared/core/dp/accounting/events';
import { closeTo, loadOracles } from '../../../helpers/oracles';

const comp = () => loadOracles().composition;

describe('basic composition', () => {
  it('adds epsilons and deltas: every oracle case (rel 1e-12)', () => {
    const sec = comp().basic;
    for (const c of sec.cases) {
      const events: DpEvent[] = c.inputs.mechanisms.map(([epsilon, delta]: [number, number]) => ({ kind: 'epsilon-delta', epsilon, delta }));
      expect(closeTo(basicAccountant.epsilonAt(events, c.expected.delta), c.expected.epsilon, sec.tolerance)).toBe(true);
      expect(closeTo(basicAccountant.deltaAt(events, c.expected.epsilon), c.expected.delta, sec.tolerance)).toBe(true);
    }
  });
  it('cannot certify less delta than the events carry', () => {
    expect(basicAccountant.epsilonAt([{ kind: 'epsilon-delta', epsilon: 1, delta: 1e-5 }], 1e-6)).toBe(Infinity);
    expect(basicAccountant.deltaAt([{ kind: 'laplace', epsilon: 1, count: 3 }], 2.9)).toBe(1);
  });
  it('splits the remaining delta across Gaussian releases', () => {
    const eps = basicAccountant.epsilonAt([{ kind: 'gaussian', sigma: 5, count: 2 }], 2e-6);
    expect(eps).toBeCloseTo(2 * 0.8341175486240523, 9);
  });
});

describe('advanced composition', () => {
  it('matches the Dwork–Rothblum–Vadhan bound and reports the better of it and basic: every oracle case', () => {
    const sec = comp().advanced;
    for (const c of sec.cases) {
      const { k, epsilon0, delta_prime } = c.inputs;
      expect(closeTo(advancedCompositionEpsilon([epsilon0], [k], delta_prime), c.expected.epsilon, sec.tolerance)).toBe(true);
      const got = advancedAccountant.epsilonAt([{ kind: 'laplace', epsilon: epsilon0, count: k }], delta_prime);
      expect(closeTo(got, c.expected.min_basic_advanced, sec.tolerance), `${JSON.stringify(c.inputs)}: ${got}`).toBe(true);
    }
  });
  it('deltaAt inverts epsilonAt', () => {
    const ev: DpEvent[] = [{ kind: 'laplace', epsilon: 0.05, count: 400 }];
    const eps = advancedAccountant.epsilonAt(ev, 1e-6);
    expect(closeTo(advancedAccountant.deltaAt(ev, eps), 1e-6, { rel: 1e-6 })).toBe(true);
  });
});

describe('zCDP', () => {
  it('rho of Gaussians and of pure DP match the oracle', () => {
    const z = comp().zcdp;
    for (const c of z.rho_gaussian) {
      expect(closeTo(totalRho([{ kind: 'gaussian', sigma: c.inputs.sigma, sensitivity: c.inputs.sensitivity }]).rho, c.expected.rho, { rel: 1e-12 })).toBe(true);
    }
    for (const c of z.rho_pure_dp) {
      expect(closeTo(totalRho([{ kind: 'laplace', epsilon: c.inputs.epsilon }]).rho, c.expected.rho, { rel: 1e-12 })).toBe(true);
    }
  });
  it('rho adds up under composition (oracle examples)', () => {
    expect(totalRho([{ kind: 'gaussian', sigma: 5, count: 50 }]).rho).toBeCloseTo(1.0, 12);
    const workload: DpEvent[] = [
      { kind: 'laplace', epsilon: 1, count: 7 },
      { kind: 'gaussian', sigma: 6000, sensitivity: 3600 * Math.SQRT2 },
      { kind: 'gaussian', sigma: 100, sensitivity: 50 * Math.SQRT2 },
      { kind: 'gaussian', sigma: 14, sensitivity: 7 * Math.SQRT2 },
    ];
    expect(totalRho(workload).rho).toBeCloseTo(4.36, 12);
  });
  it('converts rho to (epsilon, delta) with the simple and the Canonne–Kamath–Steinke bounds: every oracle case (rel 1e-9)', () => {
    const z = comp().zcdp;
    for (const c of z.conversion) {
      const { rho, delta } = c.inputs;
      expect(closeTo(zcdpEpsilonSimple(rho, delta), c.expected.epsilon_simple, { rel: 1e-12 })).toBe(true);
      expect(closeTo(zcdpEpsilon(rho, delta), c.expected.epsilon_cks, { rel: 1e-9 }), `${JSON.stringify(c.inputs)} ${zcdpEpsilon(rho, delta)}`).toBe(true);
      expect(closeTo(zcdpDelta(rho, c.expected.epsilon_cks), c.delta_cks_at_epsilon_cks, { rel: 1e-7 })).toBe(true);
      // No conversion beats the exact epsilon of a single Gaussian with the same rho.
      expect(zcdpEpsilon(rho, delta)).toBeGreaterThanOrEqual(c.epsilon_exact_if_single_gaussian);
    }
  });
  it('the accountant adds the delta carried by (epsilon, delta) events', () => {
    const ev: DpEvent[] = [{ kind: 'gaussian', sigma: 5, count: 50 }, { kind: 'epsilon-delta', epsilon: 0.1, delta: 1e-6 }];
    const d = zcdpAccountant.deltaAt(ev, 7.2);
    expect(d).toBeGreaterThan(1e-6);
    expect(closeTo(zcdpAccountant.epsilonAt(ev, d), 7.2, { rel: 1e-6 })).toBe(true);
  });
});
