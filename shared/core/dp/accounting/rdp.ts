// Rényi DP accountant (Mironov 2017, "Rényi Differential Privacy"), a port of the method of Google's
// dp_accounting `rdp/rdp_privacy_accountant.py`: per-order RDP curves add up under composition and
// are converted to (ε, δ) with the improved bound of Canonne, Kamath, Steinke 2020 (Prop. 12) /
// Asoodeh et al. 2020 (Eq. 20), plus the KL (Bretagnolle–Huber) bound for tiny divergences.

import { DpError, invalid, requireDelta, requireNonNegative } from '../../errors';
import { log1mExp, log1pExp, logSumExp } from '../../math/special';
import type { BaseEvent, DpEvent } from './events';
import { flattenEvents } from './events';
import type { Accountant } from './types';

/**
 * dp_accounting's `DEFAULT_RDP_ORDERS`: 1.1, 1.2, …, 10.9, then 11 … 63, then 128, 256, 512, 1024
 * (chosen there for good coverage of the Gaussian mechanism). `1 + x / 10` reproduces their doubles.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128,
  256,
  512,
  1024,
]);

// ---------------------------------------------------------------------------------------------
// RDP of single mechanisms. Each function returns D_α of the worst neighbouring pair, α ∈ [1, ∞]:
// order 1 is the KL divergence (the α → 1 limit) and order ∞ the max-divergence (pure-DP ε).

/**
 * Laplace mechanism with ε = Δ/b (Mironov 2017, Prop. 6 / Table II):
 * D_α = ε + ln(1 + (α−1)(e^{(1−2α)ε} − 1)/(2α−1))/(α−1), written as dp_accounting's `_laplace_rdp`
 * does (log1p/expm1, and a Taylor series of ln(1+x)/x for 1 < α < 1.1 where the division is unstable).
 */
function laplaceRdp(eps: number, alpha: number): number {
  if (alpha === Infinity) return eps;
  if (alpha === 1) return eps + Math.expm1(-eps); // KL limit
  const c = Math.expm1(eps * (1 - 2 * alpha)) / (2 * alpha - 1);
  if (alpha < 1.1) {
    // ln(1 + c·x)/x = c·Σ_{k≥1} (−c·x)^{k−1}/k with x = α − 1 and 0 ≤ −c·x < 0.1.
    const v = -c * (alpha - 1);
    let s = 0;
    for (let k = 99; k >= 1; k--) s = s * v + 1 / k; // Horner, smallest terms first
    return eps + c * s;
  }
  return eps + Math.log1p((alpha - 1) * c) / (alpha - 1);
}

/**
 * Exact Rényi divergence of k-ary randomized response (replace-one neighbours, dp_accounting
 * `_randomized_response_rdp_replace_one`): P = (p, q, q, …), Q = (q, p, q, …) with
 * p = e^ε/(e^ε+k−1), q = 1/(e^ε+k−1):  D_α = ln(p^α q^{1−α} + q^α p^{1−α} + (k−2)q)/(α−1).
 * Since p/q = e^ε the sum is 1 + p(e^{ε(α−1)} − 1) + q(e^{−ε(α−1)} − 1), evaluated with expm1 near
 * α = 1 and in log space for large ε(α−1). k = 2 is binary RR, the worst pair of any ε-DP mechanism.
 */
function randomizedResponseRdp(eps: number, k: number, alpha: number): number {
  if (eps === 0) return 0;
  const logQ = -(eps + Math.log1p((k - 1) * Math.exp(-eps))); // −ln(e^ε + k − 1)
  const logP = eps + logQ;
  if (alpha === Infinity) return eps;
  if (alpha === 1) return (Math.exp(logP) - Math.exp(logQ)) * eps; // KL = (p − q)·ε
  const x = eps * (alpha - 1);
  let logS: number;
  if (x < 30) {
    logS = Math.log1p(Math.exp(logP) * Math.expm1(x) + Math.exp(logQ) * Math.expm1(-x));
  } else {
    const terms = [logP + x, logQ - x];
    if (k > 2) terms.push(Math.log(k - 2) + logQ);
    logS = logSumExp(terms);
  }
  return logS / (alpha - 1);
}

/**
 * Exact Rényi divergence between the discrete Laplace P(z) = C·e^{−a|z|} (C = tanh(a/2), z ∈ ℤ) and
 * its shift by the integer sensitivity Δ. With u = e^{−a}, Σ_z P(z)^α P(z−Δ)^{1−α} splits into
 *   z ≤ 0:      exponent a·z − a(1−α)Δ          → C·e^{a(α−1)Δ}/(1−u)
 *   0 < z < Δ:  exponent −a(1−α)Δ − a(2α−1)z    → C·e^{a(α−1)Δ}·Σ_{z=1}^{Δ−1} e^{−a(2α−1)z}
 *   z ≥ Δ:      exponent −a·z + a(1−α)Δ         → C·e^{−aαΔ}/(1−u)
 * all summed in log space. Order 1 (KL) is a·E[|Z−Δ| − |Z|] = a·(Δ − 2u(1−u^Δ)/(1−u²)), order ∞ is aΔ.
 *
 * Why shift Δ is the worst case: neighbouring outputs differ by an integer s with |s| ≤ Δ, and
 * D_α(P‖P_s) = D_α(P‖P_{−s}) = D_α(P_s‖P) by the reflection z ↦ −z and a translation, so take
 * 0 ≤ s ≤ Δ. The shifts have a monotone likelihood ratio (ln P(z−s)/P(z) = a(|z|−|z−s|) is
 * nondecreasing in z), so by Neyman–Pearson the (randomised) upper-threshold tests in z are most
 * powerful for P against P_s for every s > 0, with a threshold fixed by the level under P alone;
 * their power E_P[φ(Z + s)] grows with s. So the trade-off curve of (P, P_Δ) lies below that of
 * (P, P_s); by Blackwell's theorem (see Dong, Roth, Su 2019, "Gaussian Differential Privacy")
 * (P, P_s) is a post-processing of (P, P_Δ), and the data-processing inequality for Rényi
 * divergence (van Erven & Harremoës 2014, Thm 9) gives D_α(P‖P_s) ≤ D_α(P‖P_Δ). The unit tests
 * also check it against brute-force sums for every s ≤ Δ.
 */
function discreteLaplaceRdp(a: number, delta: number, alpha: number): number {
  if (alpha === Infinity) return a * delta;
  const log1mU = log1mExp(-a); // ln(1 − u)
  if (alpha === 1) {
    // 2u(1−u^Δ)/(1−u²) = 2(1 − u^Δ)/((1 − u)(e^a + 1)), with expm1 for the small differences
    const frac = (2 * -Math.expm1(-a * delta)) / (-Math.expm1(-a) * (Math.exp(a) + 1));
    return a * (delta - frac);
  }
  const up = a * (alpha - 1) * delta;
  if (up < 1 && delta <= 1000) {
    // Near α = 1 the sum is 1 + O(α−1) and the log-space form cancels; subtract 1 term by term:
    // S − 1 = [expm1(aEΔ) + u^Δ·expm1(−aEΔ)]/(1+u) + (1−u)/(1+u)·Σ_{z=1}^{Δ−1} u^z·expm1(aE(Δ−2z)).
    const e = a * (alpha - 1);
    const u = Math.exp(-a);
    let mid = 0;
    for (let z = 1; z < delta; z++) mid += Math.exp(-a * z) * Math.expm1(e * (delta - 2 * z));
    const sm1 = (Math.expm1(up) + Math.exp(-a * delta) * Math.expm1(-up) - Math.expm1(-a) * mid) / (1 + u);
    return Math.log1p(sm1) / (alpha - 1);
  }
  const logC = log1mU - log1pExp(-a);
  const terms = [up - log1mU, -a * alpha * delta - log1mU];
  if (delta >= 2) {
    const g = a * (2 * alpha - 1); // ratio of the middle geometric sum is e^{−g}
    terms.push(up - g + log1mExp(-g * (delta - 1)) - log1mExp(-g));
  }
  return (logC + logSumExp(terms)) / (alpha - 1);
}

/**
 * RDP ε(α) of one release of a base event at order α ≥ 1 (α = ∞ allowed), add-or-remove-one
 * neighbours. Sources: Laplace, Mironov 2017 Prop. 6; Gaussian, Mironov 2017 Prop. 7 (αΔ²/(2σ²));
 * zCDP, Bun & Steinke 2016 Def. 1.1 (ρα); discrete Gaussian, Canonne, Kamath, Steinke 2020 Prop. 5
 * (Δ²/(2σ²)-zCDP); discrete Laplace and k-ary RR, exact Rényi divergence of the worst pair; a pure
 * ε-DP event, binary randomized response (dp_accounting's `EpsilonDeltaDpEvent`), which is the
 * worst ε-DP pair (Kairouz, Oh, Viswanath 2015) and is ≤ min(ε, αε²/2) (Bun & Steinke
 * 2016, Prop. 3.3). For an (ε, δ > 0) event this is the RDP of its ε-DP part; its δ is accounted
 * outside the curve (see `rdpCurve`).
 */
export function rdpOfEvent(event: BaseEvent, order: number): number {
  if (typeof order !== 'number' || !(order >= 1)) throw invalid('order', order, 'must be a number >= 1 (Infinity allowed)');
  switch (event.kind) {
    case 'laplace':
      return laplaceRdp(event.sensitivity / event.scale, order);
    case 'gaussian': {
      const nm = event.sigma / event.sensitivity; // dp_accounting's noise multiplier
      return order / (2 * nm * nm);
    }
    case 'zcdp':
      return event.rho * order;
    case 'discrete-gaussian':
      return ((event.sensitivity * event.sensitivity) / (2 * event.sigma * event.sigma)) * order;
    case 'discrete-laplace':
      return discreteLaplaceRdp(1 / event.scale, event.sensitivity, order);
    case 'randomized-response':
      return randomizedResponseRdp(event.epsilon, event.categories, order);
    case 'epsilon-delta':
      return randomizedResponseRdp(event.epsilon, 2, order);
    default:
      throw new DpError('InvalidEvent', `event.kind (${JSON.stringify((event as { kind?: unknown }).kind)}) is not supported by the RDP accountant`);
  }
}

// ---------------------------------------------------------------------------------------------
// Curve → (ε, δ) conversions (dp_accounting `compute_epsilon` / `compute_delta`).

function checkCurve(orders: readonly number[], rdp: readonly number[]): void {
  if (!Array.isArray(orders) || orders.length === 0) throw invalid('orders', orders, 'must be a non-empty array');
  if (!Array.isArray(rdp) || rdp.length !== orders.length) {
    throw invalid('rdp', Array.isArray(rdp) ? `length ${rdp.length}` : rdp, `must be an array of the same length as orders (${orders.length})`);
  }
  orders.forEach((a, i) => {
    if (typeof a !== 'number' || !(a >= 1)) throw invalid(`orders[${i}]`, a, 'must be a number >= 1 (Infinity allowed)');
  });
  rdp.forEach((r, i) => {
    if (typeof r !== 'number' || Number.isNaN(r)) throw invalid(`rdp[${i}]`, r, 'must be a number');
  });
}

/**
 * Smallest ε certified by an RDP curve at δ (dp_accounting `compute_epsilon`): per order,
 * ε = 0 if δ² > 1 − e^{−r} (TV ≤ √(1−e^{−KL}), Bretagnolle–Huber, KL ≤ D_α), else for α > 1.01
 * ε = r + ln(1 − 1/α) − ln(δα)/(α−1) (Canonne, Kamath, Steinke 2020, Prop. 12; Asoodeh et al. 2020),
 * else ∞. Extension: an order α = ∞ certifies (r, 0)-DP, so it gives ε = r at every δ ≥ 0.
 * Negative r (numerical noise) counts as 0, as in dp_accounting.
 */
export function rdpEpsilonFromCurve(orders: readonly number[], rdp: readonly number[], delta: number): number {
  requireDelta('delta', delta);
  checkCurve(orders, rdp);
  if (delta === 0) {
    let best = rdp.every((r) => r <= 0) ? 0 : Infinity;
    orders.forEach((a, i) => {
      if (a === Infinity) best = Math.min(best, Math.max(0, rdp[i]!));
    });
    return best;
  }
  let best = Infinity;
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!;
    const r = rdp[i]!;
    let eps: number;
    if (r < 0 || delta * delta + Math.expm1(-r) > 0) eps = 0;
    else if (a === Infinity) eps = r;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity; // the CKS bound is unstable and useless as α → 1
    if (eps < best) best = eps;
  }
  return Math.max(0, best);
}

/**
 * Smallest δ certified by an RDP curve at ε (dp_accounting `compute_delta`): per order,
 * ln δ = min(½·ln(1 − e^{−r}), (α−1)(r − ε + ln(1 − 1/α)) − ln α), the second term only for α > 1.01
 * (Canonne, Kamath, Steinke 2020, Prop. 12). Extension: order ∞ gives δ = 0 when r ≤ ε. Capped at 1.
 */
export function rdpDeltaFromCurve(orders: readonly number[], rdp: readonly number[], epsilon: number): number {
  requireNonNegative('epsilon', epsilon);
  checkCurve(orders, rdp);
  let best = Infinity;
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!;
    const r = rdp[i]!;
    // ½·ln(1 − e^{−r}) via log1mExp: dp_accounting's log1p(−exp(−r)) loses digits for tiny r.
    let logDelta = r <= 0 ? -Infinity : 0.5 * log1mExp(-r);
    if (a === Infinity) {
      if (r <= epsilon) logDelta = -Infinity;
    } else if (a > 1.01) {
      logDelta = Math.min(logDelta, (a - 1) * (r - epsilon + Math.log1p(-1 / a)) - Math.log(a));
    }
    if (logDelta < best) best = logDelta;
  }
  return Math.min(Math.exp(best), 1);
}

// ---------------------------------------------------------------------------------------------
// The accountant.

/** An RDP curve on a grid of orders, plus the δ of approximate-DP events kept outside it. */
export interface RdpCurve {
  readonly orders: readonly number[];
  readonly rdp: readonly number[];
  /** 1 − Π(1 − δ_i) over (ε_i, δ_i > 0) events (≤ Σ δ_i). */
  readonly extraDelta: number;
}

function checkOrders(orders: readonly number[]): readonly number[] {
  if (!Array.isArray(orders) || orders.length === 0) throw invalid('orders', orders, 'must be a non-empty array');
  orders.forEach((a, i) => {
    if (typeof a !== 'number' || !(a >= 1)) throw invalid(`orders[${i}]`, a, 'must be a number >= 1 (Infinity allowed)');
  });
  return Object.freeze([...orders]);
}

/**
 * Composed RDP curve of `events` on `orders` (RDP adds up, Mironov 2017 Prop. 1). An (ε, δ > 0)
 * event contributes the RDP of its ε-DP part and puts δ outside the curve, as dp_accounting does:
 * it is δ-approximately RDP (Bun & Steinke 2016, Def. 8.1; composition Lemma 8.3), since each such
 * pair is P = (1−δ)P' + δE, Q = (1−δ)Q' + δF with (P', Q') ε-DP (Kairouz, Oh, Viswanath 2015;
 * Murtagh & Vadhan 2016). The composition is then a mixture that is the "good" product
 * with probability Π(1−δ_i), so δ_total = 1 − (1 − δ_RDP)·Π(1 − δ_i) ≤ δ_RDP + Σ δ_i.
 */
export function rdpCurve(events: readonly DpEvent[], orders: readonly number[] = DEFAULT_RDP_ORDERS): RdpCurve {
  const ords = checkOrders(orders);
  const rdp = new Array<number>(ords.length).fill(0);
  let log1mExtra = 0; // ln Π(1 − δ_i)^{count}
  for (const { event, count } of flattenEvents(events)) {
    if (event.kind === 'epsilon-delta' && event.delta > 0) log1mExtra += count * Math.log1p(-event.delta);
    for (let i = 0; i < ords.length; i++) rdp[i] = rdp[i]! + count * rdpOfEvent(event, ords[i]!);
  }
  return { orders: ords, rdp, extraDelta: -Math.expm1(log1mExtra) };
}

export interface RdpAccountantOptions {
  /** RDP orders α ≥ 1 (Infinity allowed); default dp_accounting's `DEFAULT_RDP_ORDERS`. */
  orders?: readonly number[];
}

/**
 * An RDP accountant on a fixed order grid (dp_accounting `RdpAccountant`, add-or-remove-one).
 * ε at total δ uses the effective δ' = 1 − (1−δ)/(1−δ_extra) for the curve (∞ if δ ≤ δ_extra);
 * δ at ε is δ_RDP + δ_extra − δ_RDP·δ_extra.
 */
export function makeRdpAccountant(options: RdpAccountantOptions = {}): Accountant {
  const orders = checkOrders(options.orders ?? DEFAULT_RDP_ORDERS);
  return Object.freeze({
    name: 'rdp' as const,
    epsilonAt(events, delta) {
      requireDelta('delta', delta);
      const c = rdpCurve(events, orders);
      const effective = -Math.expm1(Math.log1p(-delta) - Math.log1p(-c.extraDelta));
      if (!(effective >= 0)) return Infinity;
      return rdpEpsilonFromCurve(c.orders, c.rdp, effective);
    },
    deltaAt(events, epsilon) {
      requireNonNegative('epsilon', epsilon);
      const c = rdpCurve(events, orders);
      const d = rdpDeltaFromCurve(c.orders, c.rdp, epsilon);
      return Math.min(1, d + c.extraDelta - d * c.extraDelta);
    },
  } satisfies Accountant);
}

/** The RDP accountant with dp_accounting's default orders. */
export const rdpAccountant: Accountant = makeRdpAccountant();
