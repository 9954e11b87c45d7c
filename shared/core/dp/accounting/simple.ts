// Basic, advanced and zCDP accountants.
//
// Basic: ε and δ add up (Dwork & Roth 2014, Thm 3.16). Gaussian-like events need a δ share to state
// an ε: the δ left after the events' own δ is split equally across those releases.
// Advanced (Dwork, Rothblum, Vadhan 2010; Dwork & Roth 2014, Thm 3.20): k-fold (ε₀, δ₀)-DP is
// (√(2k ln(1/δ′))ε₀ + kε₀(e^{ε₀} − 1), kδ₀ + δ′)-DP; for different ε_i the same argument gives
// √(2 ln(1/δ′) Σε_i²) + Σε_i(e^{ε_i} − 1). The accountant reports the better of this and basic.
// zCDP (Bun & Steinke 2016): ρ adds up; converted with Canonne, Kamath, Steinke 2020.

import { DpError, requireDelta, requireNonNegative } from '../../errors';
import type { DpEvent, CountedEvent } from './events';
import { flattenEvents } from './events';
import type { Accountant } from './types';
import { epsilonAtDelta, fixedDelta, needsDeltaShare, pureEpsilon, zcdpDelta, zcdpEpsilon, zcdpOf } from './conversions';

function totals(events: readonly CountedEvent[]): { fixed: number; shared: number } {
  let fixed = 0;
  let shared = 0;
  for (const { event, count } of events) {
    fixed += fixedDelta(event) * count;
    if (needsDeltaShare(event)) shared += count;
  }
  return { fixed, shared };
}

/** δ left after the events' own δ; a float-rounding shortfall (<= 1e-12 relative) counts as 0. */
function remainingDelta(delta: number, fixed: number): number {
  const rest = delta - fixed;
  return rest < 0 && -rest <= 1e-12 * Math.max(delta, fixed) ? 0 : rest;
}

function basicEpsilon(events: readonly CountedEvent[], delta: number): number {
  const { fixed, shared } = totals(events);
  const rest = remainingDelta(delta, fixed);
  if (rest < 0 || (shared > 0 && rest <= 0)) return Infinity;
  const share = shared > 0 ? rest / shared : 0;
  let eps = 0;
  for (const { event, count } of events) eps += count * epsilonAtDelta(event, share);
  return eps;
}

/**
 * Advanced composition for releases with pure ε_i (each repeated counts[i] times) at slack δ′:
 * √(2 ln(1/δ′) Σ ε_i²) + Σ ε_i (e^{ε_i} − 1) (Dwork, Rothblum, Vadhan 2010; for equal ε_i this is
 * Dwork & Roth 2014 Thm 3.20 exactly).
 */
export function advancedCompositionEpsilon(epsilons: readonly number[], counts: readonly number[], slack: number): number {
  let sumSq = 0;
  let drift = 0;
  epsilons.forEach((e, i) => {
    const c = counts[i] ?? 1;
    sumSq += c * e * e;
    drift += c * e * Math.expm1(e);
  });
  return Math.sqrt(2 * Math.log(1 / slack) * sumSq) + drift;
}

function advancedEpsilon(events: readonly CountedEvent[], delta: number): number {
  const { fixed, shared } = totals(events);
  const rest = remainingDelta(delta, fixed);
  if (rest <= 0) return Infinity;
  // δ′ (the slack of the theorem) takes half of what is left when Gaussian-like events need a share.
  const slack = shared > 0 ? rest / 2 : rest;
  const share = shared > 0 ? rest / 2 / shared : 0;
  const eps = events.map(({ event }) => epsilonAtDelta(event, share));
  if (eps.some((e) => !Number.isFinite(e))) return Infinity;
  return advancedCompositionEpsilon(eps, events.map((c) => c.count), slack);
}

/** Smallest δ (by bisection on a log scale) at which `epsAt(δ) <= epsilon`. */
function deltaByBisection(epsAt: (d: number) => number, epsilon: number, floor: number): number {
  if (epsAt(floor) <= epsilon) return floor;
  let hi = 1 - 1e-12;
  if (!(epsAt(hi) <= epsilon)) return 1;
  let lo = floor;
  // Bisect on log(δ − floor).
  for (let i = 0; i < 200; i++) {
    const mid = floor === 0 ? Math.sqrt(Math.max(lo, 1e-300) * hi) : (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    if (epsAt(mid) <= epsilon) hi = mid;
    else lo = mid;
    if ((hi - lo) / hi < 1e-12) break;
  }
  return hi;
}

function checkDelta(delta: number): number {
  requireDelta('delta', delta);
  return delta;
}

function pureOnly(events: readonly CountedEvent[]): number | null {
  let eps = 0;
  for (const { event, count } of events) {
    const e = pureEpsilon(event);
    if (e === null) return null;
    eps += count * e;
  }
  return eps;
}

export const basicAccountant: Accountant = Object.freeze({
  name: 'basic' as const,
  epsilonAt(events: readonly DpEvent[], delta: number): number {
    return basicEpsilon(flattenEvents(events), checkDelta(delta));
  },
  deltaAt(events: readonly DpEvent[], epsilon: number): number {
    requireNonNegative('epsilon', epsilon);
    const flat = flattenEvents(events);
    const { fixed } = totals(flat);
    const pure = pureOnly(flat.filter((c) => c.event.kind !== 'epsilon-delta'));
    const edEps = flat.reduce((s, c) => s + (c.event.kind === 'epsilon-delta' ? c.event.epsilon * c.count : 0), 0);
    if (pure !== null) return pure + edEps <= epsilon ? Math.min(1, fixed) : 1;
    return deltaByBisection((d) => basicEpsilon(flat, d), epsilon, fixed);
  },
});

export const advancedAccountant: Accountant = Object.freeze({
  name: 'advanced' as const,
  epsilonAt(events: readonly DpEvent[], delta: number): number {
    const flat = flattenEvents(events);
    checkDelta(delta);
    return Math.min(advancedEpsilon(flat, delta), basicEpsilon(flat, delta));
  },
  deltaAt(events: readonly DpEvent[], epsilon: number): number {
    requireNonNegative('epsilon', epsilon);
    const flat = flattenEvents(events);
    const { fixed } = totals(flat);
    return deltaByBisection((d) => Math.min(advancedEpsilon(flat, d), basicEpsilon(flat, d)), epsilon, fixed);
  },
});

function zcdpTotals(events: readonly CountedEvent[]): { rho: number; delta: number } {
  let rho = 0;
  let delta = 0;
  for (const { event, count } of events) {
    const z = zcdpOf(event);
    rho += z.rho * count;
    delta += z.delta * count;
  }
  return { rho, delta };
}

/** Total ρ (and carried δ) of a list of events under zCDP composition. */
export function totalRho(events: readonly DpEvent[]): { rho: number; delta: number } {
  return zcdpTotals(flattenEvents(events));
}

export const zcdpAccountant: Accountant = Object.freeze({
  name: 'zcdp' as const,
  epsilonAt(events: readonly DpEvent[], delta: number): number {
    checkDelta(delta);
    const { rho, delta: carried } = zcdpTotals(flattenEvents(events));
    const rest = remainingDelta(delta, carried);
    if (rest <= 0) return rho === 0 && rest === 0 ? 0 : Infinity;
    return zcdpEpsilon(rho, rest);
  },
  deltaAt(events: readonly DpEvent[], epsilon: number): number {
    requireNonNegative('epsilon', epsilon);
    const { rho, delta: carried } = zcdpTotals(flattenEvents(events));
    return Math.min(1, carried + zcdpDelta(rho, epsilon));
  },
});

export function assertNever(x: never): never {
  throw new DpError('InvalidParameter', `unexpected ${String(x)}`);
}
