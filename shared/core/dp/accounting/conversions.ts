// Per-event privacy facts shared by the simple accountants: the pure ε of an event, its zCDP ρ,
// and its ε at a given δ.

import { DpError } from '../../errors';
import { analyticGaussianEpsilon } from '../mechanisms/gaussian';
import type { BaseEvent } from './events';

/** ε of a pure-DP event, or null if the event needs a δ. */
export function pureEpsilon(e: BaseEvent): number | null {
  switch (e.kind) {
    case 'laplace':
    case 'discrete-laplace':
      return e.sensitivity / e.scale;
    case 'randomized-response':
      return e.epsilon;
    case 'epsilon-delta':
      return e.delta === 0 ? e.epsilon : null;
    default:
      return null;
  }
}

/**
 * zCDP ρ of an event and the δ it carries outside ρ (approximate zCDP, Bun & Steinke 2016
 * Def. 8.1): Gaussian ρ = Δ²/(2σ²) (Bun & Steinke 2016, Prop. 1.6); discrete Gaussian the same
 * (Canonne, Kamath, Steinke 2020, Thm 4); pure ε-DP ⇒ (ε²/2)-zCDP (Bun & Steinke 2016, Prop. 1.4);
 * (ε, δ)-DP ⇒ δ-approximate (ε²/2)-zCDP.
 */
export function zcdpOf(e: BaseEvent): { rho: number; delta: number } {
  switch (e.kind) {
    case 'gaussian':
    case 'discrete-gaussian':
      return { rho: (e.sensitivity * e.sensitivity) / (2 * e.sigma * e.sigma), delta: 0 };
    case 'zcdp':
      return { rho: e.rho, delta: 0 };
    case 'epsilon-delta':
      return { rho: (e.epsilon * e.epsilon) / 2, delta: e.delta };
    default: {
      const eps = pureEpsilon(e);
      if (eps === null) throw new DpError('NotSupported', `event kind ${(e as BaseEvent).kind} has no zCDP conversion`);
      return { rho: (eps * eps) / 2, delta: 0 };
    }
  }
}

/** Golden-section minimisation of a unimodal f on [a, b]. */
export function goldenMin(f: (x: number) => number, a: number, b: number, iters = 200): { x: number; value: number } {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < iters && Math.abs(b - a) > 1e-15 * (Math.abs(a) + Math.abs(b)); i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return fc < fd ? { x: c, value: fc } : { x: d, value: fd };
}

/** Simple zCDP → DP conversion ε = ρ + 2√(ρ ln(1/δ)) (Bun & Steinke 2016, Prop. 1.3). */
export function zcdpEpsilonSimple(rho: number, delta: number): number {
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/**
 * Tight zCDP → DP conversion of Canonne, Kamath, Steinke 2020 (Cor. 13):
 * ε = inf_{α>1} αρ + (ln(1/δ) − ln α)/(α − 1) + ln(1 − 1/α). Never worse than the simple bound.
 */
export function zcdpEpsilon(rho: number, delta: number): number {
  if (rho === 0) return 0;
  if (!(delta > 0)) return Infinity;
  if (delta >= 1) return 0;
  const L = Math.log(1 / delta);
  const f = (t: number): number => {
    const a = 1 + Math.exp(t);
    const am1 = Math.exp(t);
    return a * rho + (L - Math.log(a)) / am1 + Math.log1p(-1 / a);
  };
  // α − 1 = e^t; the optimum is near α ≈ 1 + √(ln(1/δ)/ρ).
  const best = goldenMin(f, -30, 30);
  return Math.max(0, Math.min(best.value, zcdpEpsilonSimple(rho, delta)));
}

/** δ at ε of ρ-zCDP (CKS 2020 Cor. 13): δ = inf_α e^{(α−1)(αρ−ε)}/α·(1 − 1/α)^{α−1}. */
export function zcdpDelta(rho: number, epsilon: number): number {
  if (rho === 0) return 0;
  const f = (t: number): number => {
    const am1 = Math.exp(t);
    const a = 1 + am1;
    return am1 * (a * rho - epsilon) - Math.log(a) + am1 * Math.log1p(-1 / a);
  };
  const best = goldenMin(f, -30, 30);
  return Math.min(1, Math.exp(best.value));
}

/** ε of one release of an event at its own δ share (for basic and advanced composition). */
export function epsilonAtDelta(e: BaseEvent, delta: number): number {
  switch (e.kind) {
    case 'gaussian':
      return delta > 0 ? analyticGaussianEpsilon(e.sigma, Math.min(delta, 0.999999), e.sensitivity) : Infinity;
    case 'discrete-gaussian':
    case 'zcdp':
      return zcdpEpsilon(zcdpOf(e).rho, delta);
    default: {
      const eps = pureEpsilon(e);
      if (eps !== null) return eps;
      return e.kind === 'epsilon-delta' ? e.epsilon : Infinity;
    }
  }
}

/** Whether an event needs a share of δ to state an ε (Gaussian-like events). */
export function needsDeltaShare(e: BaseEvent): boolean {
  return e.kind === 'gaussian' || e.kind === 'discrete-gaussian' || e.kind === 'zcdp';
}

/** The δ an event itself carries (an (ε, δ) event). */
export function fixedDelta(e: BaseEvent): number {
  return e.kind === 'epsilon-delta' ? e.delta : 0;
}
