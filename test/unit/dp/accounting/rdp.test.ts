// RDP accountant: dp_accounting parity on the oracle set (../shared/oracles/public.json), exact
// Rényi divergences against brute-force sums, and lower bounds no sound accountant may go below.
import { describe, expect, it } from 'vitest';
import type { DpEvent } from '../../../../shared/core/dp/accounting/events';
import {
  DEFAULT_RDP_ORDERS,
  makeRdpAccountant,
  rdpAccountant,
  rdpCurve,
  rdpDeltaFromCurve,
  rdpEpsilonFromCurve,
  rdpOfEvent,
} from '../../../../shared/core/dp/accounting/rdp';
import { DpError } from '../../../../shared/core/errors';
import { logSumExp, normalCdf } from '../../../../shared/core/math/special';
import type { Json } from '../../../helpers/oracles';
import { loadOracles } from '../../../helpers/oracles';

const oracles: Json = loadOracles();
const composition: Json = oracles.composition;

function relErr(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

/** Oracle scenario events → DpEvents (param: Laplace scale b, Gaussian σ, discrete Laplace a). */
function toEvents(list: Json[]): DpEvent[] {
  return list.map((e): DpEvent => {
    const count = e.count ?? 1;
    switch (e.kind) {
      case 'laplace':
        return { kind: 'laplace', scale: e.param, count };
      case 'gaussian':
        return { kind: 'gaussian', sigma: e.param, count };
      case 'dlaplace':
      case 'discrete-laplace':
      case 'discrete_laplace':
        return { kind: 'discrete-laplace', scale: 1 / e.param, count };
      default:
        throw new Error(`oracle event kind ${JSON.stringify(e.kind)} is not mapped in this test`);
    }
  });
}

type Query = { type: 'epsilon' | 'delta'; at: number };
function parseKey(key: string): Query {
  const m = /^(epsilon_at_delta|delta_at_epsilon)_(.+)$/.exec(key);
  if (!m) throw new Error(`unrecognised oracle key ${key}`);
  return { type: m[1] === 'epsilon_at_delta' ? 'epsilon' : 'delta', at: Number(m[2]) };
}
function query(acc = rdpAccountant, events: DpEvent[], q: Query): number {
  return q.type === 'epsilon' ? acc.epsilonAt(events, q.at) : acc.deltaAt(events, q.at);
}

// ----- exact / lower-bound helpers (independent of the code under test) -----

/** Exact δ(ε) of a Gaussian pair N(0,1) vs N(μ,1) (Balle & Wang 2018, Thm 8). */
function gaussianExactDelta(mu: number, eps: number): number {
  return normalCdf(-eps / mu + mu / 2) - Math.exp(eps) * normalCdf(-eps / mu - mu / 2);
}
/** Smallest ε with δ(ε) ≤ δ for a decreasing δ(ε), by bisection. */
function invertDelta(deltaOf: (eps: number) => number, delta: number): number {
  let lo = 0;
  let hi = 1;
  while (deltaOf(hi) > delta) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (deltaOf(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}
function logBinomPmf(k: number, n: number, logp: number, log1mp: number): number[] {
  const out: number[] = [];
  let logC = 0;
  for (let j = 0; j <= k; j++) {
    if (j > 0) logC += Math.log((k - j + 1) / j);
    out.push(logC + j * logp + (k - j) * log1mp);
  }
  return out;
}
/**
 * A lower bound on δ(ε) of k Laplace(b) releases (sensitivity 1): thresholding every output at 1/2
 * and counting is a post-processing, so the hockey-stick divergence of Bin(k, p) vs Bin(k, q),
 * p = 1 − e^{−1/(2b)}/2, q = e^{−1/(2b)}/2, can only be smaller than the true one.
 */
function laplaceCompositionDeltaLowerBound(b: number, k: number, eps: number): number {
  const logq = Math.log(0.5) - 1 / (2 * b);
  const log1mq = Math.log1p(-Math.exp(logq));
  const P = logBinomPmf(k, k, log1mq, logq); // j = number of outputs above 1/2 under the shifted input
  const Q = logBinomPmf(k, k, logq, log1mq);
  let s = 0;
  for (let j = 0; j <= k; j++) s += Math.max(0, Math.exp(P[j]!) - Math.exp(eps + Q[j]!));
  return s;
}

/** Brute-force D_α(P‖Q) of two pmfs given as log-probabilities on a common support. */
function renyiBrute(logP: number[], logQ: number[], alpha: number): number {
  if (alpha === 1) return logP.reduce((s, lp, i) => s + Math.exp(lp) * (lp - logQ[i]!), 0);
  const e = alpha - 1;
  const maxRatio = Math.max(...logP.map((lp, i) => Math.abs(lp - logQ[i]!)));
  if (e * maxRatio < 1) {
    // Σ P·(P/Q)^{α−1} = 1 + Σ P·expm1((α−1)·ln(P/Q)): no cancellation near α = 1.
    return Math.log1p(logP.reduce((s, lp, i) => s + Math.exp(lp) * Math.expm1(e * (lp - logQ[i]!)), 0)) / e;
  }
  return logSumExp(logP.map((lp, i) => alpha * lp + (1 - alpha) * logQ[i]!)) / e;
}
function discreteLaplaceLogPmf(a: number, shift: number, lo: number, hi: number): number[] {
  const logC = Math.log(Math.tanh(a / 2));
  const out: number[] = [];
  for (let z = lo; z <= hi; z++) out.push(logC - a * Math.abs(z - shift));
  return out;
}

const SAMPLE_ORDERS = [1, 1.05, 1.1, 1.5, 2, 3.7, 10.9, 32, 256, 1024];

// ------------------------------------------------------------------------------------------

describe('DEFAULT_RDP_ORDERS', () => {
  it('equals dp_accounting DEFAULT_RDP_ORDERS: 1.1..10.9 by 0.1, 11..63, 128, 256, 512, 1024', () => {
    const theirs = [
      ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
      ...Array.from({ length: 53 }, (_, x) => 11 + x),
      128, 256, 512, 1024,
    ];
    expect(DEFAULT_RDP_ORDERS).toEqual(theirs);
    expect(DEFAULT_RDP_ORDERS.length).toBe(156);
    expect(DEFAULT_RDP_ORDERS[0]).toBe(1.1);
    expect(DEFAULT_RDP_ORDERS[98]).toBe(10.9);
    expect(rdpAccountant.name).toBe('rdp');
  });
});

describe('RDP accountant against the dp_accounting oracles', () => {
  const scenarios: Json[] = composition.accountants.scenarios;
  const rel: number = composition.accountants.tolerance.rdp_epsilon_rel;
  const rows = scenarios.flatMap((sc) =>
    Object.entries(sc.expected.rdp_default_orders ?? {}).map(([key, value]) => ({ sc, key, value: value as number })),
  );

  it('has at least one rdp_default_orders oracle value to check', () => {
    expect(rows.length).toBeGreaterThan(0);
  });

  it.each(rows.map((r) => [r.sc.scenario, r.key, r] as const))('%s: %s matches dp_accounting RdpAccountant', (_s, key, r) => {
    const got = query(rdpAccountant, toEvents(r.sc.events), parseKey(key));
    expect(relErr(got, r.value)).toBeLessThanOrEqual(rel);
    // The oracle's own recomputation on the same grid pins the port to ~1e-9.
    const own = r.sc.checks?.rdp_own_default_orders?.[key];
    if (typeof own === 'number') expect(relErr(got, own)).toBeLessThanOrEqual(1e-9);
  });

  it.each(rows.map((r) => [r.sc.scenario, r.key, r] as const))('%s: %s is never below the exact value or the continuous-order RDP', (_s, key, r) => {
    const got = query(rdpAccountant, toEvents(r.sc.events), parseKey(key));
    const exact = r.sc.checks?.exact?.[key];
    if (typeof exact === 'number') expect(got).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
    const lowerPld = r.sc.checks?.own_pld_bracket?.[key]?.lower;
    if (typeof lowerPld === 'number') expect(got).toBeGreaterThanOrEqual(lowerPld);
    const continuous = r.sc.checks?.rdp_continuous_orders?.[key];
    if (typeof continuous === 'number') expect(got).toBeGreaterThanOrEqual(continuous * (1 - 1e-9));
  });
});

describe('ZCDpEvent through the RDP accountant (oracle composition.zcdp.conversion)', () => {
  const cases: Json[] = composition.zcdp.conversion;
  it.each(cases.map((c) => [c.inputs.rho, c.inputs.delta, c] as const))('rho=%s, delta=%s gives dp_accounting RdpAccountant(ZCDpEvent) epsilon', (rho, delta, c) => {
    const got = rdpAccountant.epsilonAt([{ kind: 'zcdp', rho }], delta);
    expect(relErr(got, c.check_dp_accounting_rdp_zcdp_event)).toBeLessThanOrEqual(1e-9);
    // A finite grid can only be above the continuous CKS infimum, and not by much.
    expect(got).toBeGreaterThanOrEqual(c.expected.epsilon_cks * (1 - 1e-12));
    expect(relErr(got, c.expected.epsilon_cks)).toBeLessThan(1e-3);
    expect(got).toBeGreaterThan(c.epsilon_exact_if_single_gaussian);
  });

  it('gives the same epsilon for a Gaussian with sigma = 1/sqrt(2 rho) as for ZCDpEvent(rho)', () => {
    for (const c of cases) {
      const { rho, delta } = c.inputs;
      const g = rdpAccountant.epsilonAt([{ kind: 'gaussian', sigma: 1 / Math.sqrt(2 * rho) }], delta);
      expect(relErr(g, c.check_dp_accounting_rdp_zcdp_event)).toBeLessThan(1e-12);
    }
  });
});

describe('rdpOfEvent closed forms', () => {
  it('gives alpha*Delta^2/(2 sigma^2) for Gaussian and discrete Gaussian and rho*alpha for zCDP', () => {
    for (const a of SAMPLE_ORDERS) {
      expect(relErr(rdpOfEvent({ kind: 'gaussian', sigma: 3, sensitivity: 2 }, a), (a * 4) / 18)).toBeLessThan(1e-15);
      expect(relErr(rdpOfEvent({ kind: 'discrete-gaussian', sigma: 3, sensitivity: 2 }, a), (a * 4) / 18)).toBeLessThan(1e-15);
      expect(relErr(rdpOfEvent({ kind: 'zcdp', rho: 0.37 }, a), 0.37 * a)).toBeLessThan(1e-15);
    }
    expect(rdpOfEvent({ kind: 'gaussian', sigma: 1, sensitivity: 1 }, Infinity)).toBe(Infinity);
  });

  it('matches Mironov 2017 Table II for Laplace, with the KL at order 1 and epsilon at order infinity', () => {
    for (const eps of [0.01, 0.1, 1, 3, 10]) {
      const ev = { kind: 'laplace' as const, scale: 2 / eps, sensitivity: 2 };
      for (const a of SAMPLE_ORDERS.filter((x) => x > 1)) {
        // ln(α/(2α−1)·e^{(α−1)ε} + (α−1)/(2α−1)·e^{−αε})/(α−1), in log space
        const table = logSumExp([Math.log(a / (2 * a - 1)) + (a - 1) * eps, Math.log((a - 1) / (2 * a - 1)) - a * eps]) / (a - 1);
        expect(relErr(rdpOfEvent(ev, a), table)).toBeLessThan(eps < 0.05 && a < 1.2 ? 1e-7 : 1e-11);
      }
      expect(relErr(rdpOfEvent(ev, 1), eps + Math.exp(-eps) - 1)).toBeLessThan(1e-9);
      expect(rdpOfEvent(ev, Infinity)).toBe(eps);
    }
  });

  it('is continuous across the Taylor-series branch of the Laplace RDP at order 1.1', () => {
    const ev = { kind: 'laplace' as const, scale: 1, sensitivity: 1 };
    const below = rdpOfEvent(ev, 1.1 - 1e-12);
    const at = rdpOfEvent(ev, 1.1);
    expect(Math.abs(below - at)).toBeLessThan(1e-11);
    const near1 = rdpOfEvent(ev, 1 + 1e-9);
    expect(Math.abs(near1 - rdpOfEvent(ev, 1))).toBeLessThan(1e-8);
  });

  it('is nondecreasing in the order for every event kind (Rényi divergence is monotone in alpha)', () => {
    const events = [
      { kind: 'laplace', scale: 0.7, sensitivity: 1 },
      { kind: 'gaussian', sigma: 1.3, sensitivity: 1 },
      { kind: 'zcdp', rho: 0.2 },
      { kind: 'discrete-gaussian', sigma: 2, sensitivity: 1 },
      { kind: 'discrete-laplace', scale: 2.5, sensitivity: 3 },
      { kind: 'randomized-response', epsilon: 1.5, categories: 7 },
      { kind: 'epsilon-delta', epsilon: 0.8, delta: 1e-6 },
    ] as const;
    const grid = [1, ...DEFAULT_RDP_ORDERS, Infinity];
    for (const ev of events) {
      const vals = grid.map((a) => rdpOfEvent(ev, a));
      for (let i = 1; i < vals.length; i++) expect(vals[i]!).toBeGreaterThanOrEqual(vals[i - 1]! * (1 - 1e-12));
    }
  });

  it('rejects orders below 1 and NaN with InvalidParameter', () => {
    for (const bad of [0.5, 0, -1, Number.NaN]) {
      expect(() => rdpOfEvent({ kind: 'zcdp', rho: 1 }, bad)).toThrow(DpError);
      try {
        rdpOfEvent({ kind: 'zcdp', rho: 1 }, bad);
      } catch (e) {
        expect((e as DpError).code).toBe('InvalidParameter');
        expect((e as DpError).message).toContain('order');
      }
    }
  });
});

describe('discrete Laplace RDP', () => {
  const params: Array<[number, number]> = [[0.3, 1], [0.3, 4], [2, 3], [0.05, 10], [5, 1], [1, 2]];

  it('equals a brute-force Rényi divergence between the discrete Laplace and its shift by Delta', () => {
    for (const [a, D] of params) {
      const half = Math.ceil(60 / a) + D; // tail mass beyond is < e^{−60}
      const P = discreteLaplaceLogPmf(a, 0, -half, half + D);
      const Q = discreteLaplaceLogPmf(a, D, -half, half + D);
      for (const alpha of SAMPLE_ORDERS) {
        const got = rdpOfEvent({ kind: 'discrete-laplace', scale: 1 / a, sensitivity: D }, alpha);
        expect(relErr(got, renyiBrute(P, Q, alpha))).toBeLessThan(1e-9);
      }
      expect(rdpOfEvent({ kind: 'discrete-laplace', scale: 1 / a, sensitivity: D }, Infinity)).toBeCloseTo(a * D, 14);
    }
  });

  it('is attained at the full shift Delta: every smaller shift and the reverse direction are no larger', () => {
    for (const [a, D] of params) {
      const half = Math.ceil(60 / a) + D;
      const P = discreteLaplaceLogPmf(a, 0, -half, half + D);
      for (const alpha of SAMPLE_ORDERS) {
        const worst = rdpOfEvent({ kind: 'discrete-laplace', scale: 1 / a, sensitivity: D }, alpha);
        for (let s = 1; s <= D; s++) {
          const Ps = discreteLaplaceLogPmf(a, s, -half, half + D);
          expect(renyiBrute(P, Ps, alpha)).toBeLessThanOrEqual(worst * (1 + 1e-9));
          expect(renyiBrute(Ps, P, alpha)).toBeLessThanOrEqual(worst * (1 + 1e-9));
        }
      }
    }
  });

  it('stays accurate just above order 1 and for large sensitivities', () => {
    const a = 0.01;
    const D = 10;
    const half = Math.ceil(60 / a) + D;
    const P = discreteLaplaceLogPmf(a, 0, -half, half + D);
    const Q = discreteLaplaceLogPmf(a, D, -half, half + D);
    for (const alpha of [1 + 1e-6, 1.0001, 1.01]) {
      const got = rdpOfEvent({ kind: 'discrete-laplace', scale: 1 / a, sensitivity: D }, alpha);
      expect(relErr(got, renyiBrute(P, Q, alpha))).toBeLessThan(1e-8);
    }
    // Δ = 5000 takes the log-space branch; it must stay between the KL and the max-divergence.
    const big = { kind: 'discrete-laplace' as const, scale: 1000, sensitivity: 5000 };
    const v = rdpOfEvent(big, 2);
    expect(v).toBeGreaterThan(rdpOfEvent(big, 1));
    expect(v).toBeLessThan(5);
    expect(Number.isFinite(rdpOfEvent(big, 1024))).toBe(true);
  });
});

describe('randomized response and epsilon-delta RDP', () => {
  it('equals the brute-force Rényi divergence of k-ary RR on its worst pair', () => {
    for (const [eps, k] of [[0.5, 2], [1, 10], [3, 50], [0.01, 3], [8, 4]] as const) {
      const denom = Math.log(Math.exp(eps) + k - 1);
      const lp = eps - denom;
      const lq = -denom;
      const P = [lp, lq, ...Array<number>(k - 2).fill(lq)];
      const Q = [lq, lp, ...Array<number>(k - 2).fill(lq)];
      for (const alpha of SAMPLE_ORDERS) {
        const got = rdpOfEvent({ kind: 'randomized-response', epsilon: eps, categories: k }, alpha);
        expect(relErr(got, renyiBrute(P, Q, alpha))).toBeLessThan(1e-9);
      }
      expect(rdpOfEvent({ kind: 'randomized-response', epsilon: eps, categories: k }, Infinity)).toBe(eps);
    }
  });

  it('stays finite and below epsilon for a million categories', () => {
    for (const alpha of SAMPLE_ORDERS) {
      const v = rdpOfEvent({ kind: 'randomized-response', epsilon: 2, categories: 1_000_000 }, alpha);
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(2);
    }
  });

  it('uses binary RR for pure epsilon-DP (dp_accounting EpsilonDeltaDpEvent), below min(eps, alpha eps^2/2)', () => {
    for (const eps of [0.05, 0.5, 1, 4]) {
      for (const alpha of SAMPLE_ORDERS.filter((x) => x > 1)) {
        const got = rdpOfEvent({ kind: 'epsilon-delta', epsilon: eps, delta: 0 }, alpha);
        // dp_accounting: (εα + ln(1 + e^{ε(1−2α)}) − ln(1 + e^ε))/(α − 1)
        const theirs = (eps * alpha + Math.log1p(Math.exp(eps * (1 - 2 * alpha))) - Math.log1p(Math.exp(eps))) / (alpha - 1);
        expect(relErr(got, theirs)).toBeLessThan(alpha < 1.2 ? 1e-9 : 1e-12);
        expect(got).toBeLessThanOrEqual(Math.min(eps, (alpha * eps * eps) / 2) * (1 + 1e-12));
      }
    }
    expect(rdpOfEvent({ kind: 'epsilon-delta', epsilon: 0, delta: 0 }, 3)).toBe(0);
  });

  it('adds the delta of (eps, delta>0) events outside the RDP conversion as 1 - (1-delta_RDP) prod(1-delta_i)', () => {
    const pure: DpEvent[] = [{ kind: 'epsilon-delta', epsilon: 0.5, count: 4 }, { kind: 'gaussian', sigma: 4 }];
    const approx: DpEvent[] = [{ kind: 'epsilon-delta', epsilon: 0.5, delta: 1e-6, count: 4 }, { kind: 'gaussian', sigma: 4 }];
    for (const eps of [0.5, 1, 2, 3]) {
      const d0 = rdpAccountant.deltaAt(pure, eps);
      const d1 = rdpAccountant.deltaAt(approx, eps);
      const extra = 1 - (1 - 1e-6) ** 4;
      expect(relErr(d1, d0 + extra - d0 * extra)).toBeLessThan(1e-9);
      expect(d1).toBeLessThanOrEqual(d0 + 4e-6); // never above the additive rule δ_RDP + Σδ_i
    }
    expect(relErr(rdpCurve(approx).extraDelta, 4e-6 - 6e-12 + 4e-18)).toBeLessThan(1e-12);
    // The total δ must exceed Σδ_i, else no ε is certified.
    expect(rdpAccountant.epsilonAt(approx, 3e-6)).toBe(Infinity);
    const e = rdpAccountant.epsilonAt(approx, 1e-5);
    expect(Number.isFinite(e)).toBe(true);
    expect(relErr(rdpAccountant.deltaAt(approx, e), 1e-5)).toBeLessThan(1e-9);
  });
});

describe('Gaussian and mixed compositions', () => {
  it('gives k Gaussians the curve alpha*k/(2 sigma^2), the same as one Gaussian with sigma/sqrt(k)', () => {
    for (const [sigma, k] of [[1, 1], [5, 50], [20, 1000], [0.8, 3]] as const) {
      const curve = rdpCurve([{ kind: 'gaussian', sigma, count: k }]);
      curve.orders.forEach((a, i) => expect(relErr(curve.rdp[i]!, (a * k) / (2 * sigma * sigma))).toBeLessThan(1e-13));
      for (const delta of [1e-5, 1e-9]) {
        const many = rdpAccountant.epsilonAt([{ kind: 'gaussian', sigma, count: k }], delta);
        const one = rdpAccountant.epsilonAt([{ kind: 'gaussian', sigma: sigma / Math.sqrt(k) }], delta);
        expect(relErr(many, one)).toBeLessThan(1e-12);
      }
    }
  });

  it('never gives a Gaussian composition less than the exact analytic-Gaussian epsilon or delta', () => {
    for (const sigma of [0.7, 1, 2, 5, 20, 100]) {
      for (const k of [1, 10, 100, 10_000]) {
        const mu = Math.sqrt(k) / sigma;
        const events: DpEvent[] = [{ kind: 'gaussian', sigma, count: k }];
        for (const delta of [1e-3, 1e-5, 1e-9]) {
          const exact = invertDelta((e) => gaussianExactDelta(mu, e), delta);
          const rdp = rdpAccountant.epsilonAt(events, delta);
          expect(rdp).toBeGreaterThanOrEqual(exact);
          // …and not absurdly loose where the default grid covers the optimal order (μ ≤ 5)
          if (mu <= 5) expect(rdp).toBeLessThan(exact * 1.5 + 0.05);
        }
        for (const eps of [0.5, 1, 4]) {
          expect(rdpAccountant.deltaAt(events, eps)).toBeGreaterThanOrEqual(gaussianExactDelta(mu, eps) * (1 - 1e-9));
        }
      }
    }
  });

  it('never gives a Laplace composition less than a post-processing lower bound, for k up to 1000', () => {
    for (const [b, k] of [[1, 1], [10, 10], [5, 30], [100, 1000], [20, 200]] as const) {
      const events: DpEvent[] = [{ kind: 'laplace', scale: b, count: k }];
      for (const eps of [0.1, 0.5, 1, 2]) {
        expect(rdpAccountant.deltaAt(events, eps)).toBeGreaterThanOrEqual(laplaceCompositionDeltaLowerBound(b, k, eps));
      }
      for (const delta of [1e-5, 1e-9]) {
        const lower = invertDelta((e) => laplaceCompositionDeltaLowerBound(b, k, e), delta);
        expect(rdpAccountant.epsilonAt(events, delta)).toBeGreaterThanOrEqual(lower);
      }
    }
    // One Laplace: exact δ(ε) = 1 − e^{(ε − ε₀)/2} for ε ≤ ε₀.
    for (const eps of [0, 0.3, 0.9]) {
      expect(rdpAccountant.deltaAt([{ kind: 'laplace', epsilon: 1 }], eps)).toBeGreaterThanOrEqual(1 - Math.exp((eps - 1) / 2));
    }
  });

  it('adds curves of mixed Laplace and Gaussian events and stays above each part alone', () => {
    const lap: DpEvent = { kind: 'laplace', epsilon: 1, count: 7 };
    const gau: DpEvent[] = [{ kind: 'gaussian', sigma: 6000, sensitivity: 5091.168824543142 }, { kind: 'gaussian', sigma: 100, sensitivity: 70.71067811865476, count: 2 }];
    const mixed = rdpCurve([lap, ...gau]);
    const a = rdpCurve([lap]);
    const b = rdpCurve(gau);
    mixed.rdp.forEach((r, i) => expect(relErr(r, a.rdp[i]! + b.rdp[i]!)).toBeLessThan(1e-14));
    for (const delta of [1e-5, 1e-6]) {
      const e = rdpAccountant.epsilonAt([lap, ...gau], delta);
      expect(e).toBeGreaterThanOrEqual(rdpAccountant.epsilonAt([lap], delta));
      expect(e).toBeGreaterThanOrEqual(rdpAccountant.epsilonAt(gau, delta));
      // Gaussians alone have ρ = 0.36 + 0.25 + 0.25 = 0.86 (oracle zcdp composition example): exact lower bound.
      expect(e).toBeGreaterThan(invertDelta((x) => gaussianExactDelta(Math.sqrt(2 * 0.86), x), delta));
    }
  });
});

describe('accountant invariants', () => {
  const shapes: Array<(k: number) => DpEvent[]> = [
    (k) => [{ kind: 'laplace', scale: 10, count: k }],
    (k) => [{ kind: 'gaussian', sigma: 3, count: k }],
    (k) => [{ kind: 'laplace', epsilon: 0.5, count: k }, { kind: 'gaussian', sigma: 8, count: 2 * k }],
    (k) => [{ kind: 'discrete-laplace', epsilon: 0.3, count: k }, { kind: 'randomized-response', epsilon: 1, categories: 5 }],
    (k) => [{ kind: 'zcdp', rho: 0.01, count: k }, { kind: 'epsilon-delta', epsilon: 0.2, delta: 1e-8, count: k }],
    (k) => [{ kind: 'discrete-gaussian', sigma: 4, sensitivity: 2, count: k }],
  ];

  it('never decreases epsilon or delta when more events are composed', () => {
    for (const shape of shapes) {
      let prevEps = 0;
      let prevDelta = 0;
      for (const k of [1, 2, 3, 5, 8, 13, 30, 100, 1000]) {
        const e = rdpAccountant.epsilonAt(shape(k), 1e-6);
        const d = rdpAccountant.deltaAt(shape(k), 1);
        expect(e).toBeGreaterThanOrEqual(prevEps);
        expect(d).toBeGreaterThanOrEqual(prevDelta);
        prevEps = e;
        prevDelta = d;
      }
    }
  });

  it('round-trips: deltaAt(epsilonAt(delta)) equals delta', () => {
    for (const shape of shapes) {
      for (const k of [1, 10, 200]) {
        for (const delta of [1e-3, 1e-6, 1e-10]) {
          const e = rdpAccountant.epsilonAt(shape(k), delta);
          if (e === 0 || !Number.isFinite(e)) continue; // δ at or below Σδ_i, or nothing certified
          expect(relErr(rdpAccountant.deltaAt(shape(k), e), delta)).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('gives 0 for no events and Infinity at delta 0 unless the grid has order infinity', () => {
    expect(rdpAccountant.epsilonAt([], 1e-6)).toBe(0);
    expect(rdpAccountant.epsilonAt([], 0)).toBe(0);
    expect(rdpAccountant.deltaAt([], 0)).toBe(0);
    expect(rdpAccountant.epsilonAt([{ kind: 'laplace', epsilon: 1 }], 0)).toBe(Infinity);
    const withInf = makeRdpAccountant({ orders: [...DEFAULT_RDP_ORDERS, Infinity] });
    // Pure events at order ∞ compose like basic composition: ε = Σ ε_i at δ = 0.
    const pureEvents: DpEvent[] = [{ kind: 'laplace', epsilon: 0.4, count: 3 }, { kind: 'randomized-response', epsilon: 0.3, categories: 4 }];
    expect(withInf.epsilonAt(pureEvents, 0)).toBeCloseTo(1.5, 12);
    expect(withInf.deltaAt(pureEvents, 1.5 + 1e-12)).toBe(0);
    expect(withInf.epsilonAt([{ kind: 'gaussian', sigma: 1 }], 0)).toBe(Infinity);
  });

  it('certifies a smaller or equal epsilon on a finer order grid', () => {
    const fine = makeRdpAccountant({ orders: [...DEFAULT_RDP_ORDERS, ...Array.from({ length: 900 }, (_, i) => 1.02 + i * 0.07)] });
    for (const shape of shapes) {
      for (const delta of [1e-5, 1e-9]) {
        expect(fine.epsilonAt(shape(10), delta)).toBeLessThanOrEqual(rdpAccountant.epsilonAt(shape(10), delta));
      }
    }
  });

  it('uses the KL bound: a tiny divergence gives epsilon 0 once delta exceeds sqrt(1 - e^-r)', () => {
    const r = 1e-8;
    expect(rdpEpsilonFromCurve([2, 3], [r, r], 1e-3)).toBe(0);
    expect(relErr(rdpDeltaFromCurve([1], [r], 0), Math.sqrt(-Math.expm1(-r)))).toBeLessThan(1e-12);
    // Orders at or below 1.01 only ever use the KL bound.
    expect(rdpEpsilonFromCurve([1, 1.005], [0.5, 0.6], 1e-5)).toBe(Infinity);
  });

  it('treats numerically negative RDP values as zero, as dp_accounting does', () => {
    expect(rdpEpsilonFromCurve([2], [-1e-18], 1e-6)).toBe(0);
    expect(rdpDeltaFromCurve([2], [-1e-18], 0.1)).toBe(0);
  });
});

describe('validation', () => {
  function code(fn: () => unknown): string | undefined {
    try {
      fn();
    } catch (e) {
      return e instanceof DpError ? `${e.code}: ${e.message}` : String(e);
    }
    return undefined;
  }

  it('rejects delta outside [0, 1) and negative or NaN epsilon with InvalidParameter naming the value', () => {
    const ev: DpEvent[] = [{ kind: 'gaussian', sigma: 1 }];
    expect(code(() => rdpAccountant.epsilonAt(ev, -0.1))).toMatch(/^InvalidParameter: delta \(-0\.1\)/);
    expect(code(() => rdpAccountant.epsilonAt(ev, 1))).toMatch(/^InvalidParameter: delta \(1\)/);
    expect(code(() => rdpAccountant.epsilonAt(ev, Number.NaN))).toMatch(/^InvalidParameter: delta \(NaN\)/);
    expect(code(() => rdpAccountant.deltaAt(ev, -1))).toMatch(/^InvalidParameter: epsilon \(-1\)/);
    expect(code(() => rdpAccountant.deltaAt(ev, Number.NaN))).toMatch(/^InvalidParameter: epsilon \(NaN\)/);
  });

  it('rejects bad orders with InvalidParameter naming the bad entry', () => {
    expect(code(() => makeRdpAccountant({ orders: [] }))).toMatch(/^InvalidParameter: orders/);
    expect(code(() => makeRdpAccountant({ orders: [2, 0.5] }))).toMatch(/^InvalidParameter: orders\[1\] \(0\.5\)/);
    expect(code(() => makeRdpAccountant({ orders: [Number.NaN] }))).toMatch(/^InvalidParameter: orders\[0\] \(NaN\)/);
  });

  it('rejects mismatched or NaN curves in the conversions', () => {
    expect(code(() => rdpEpsilonFromCurve([2, 3], [1], 1e-5))).toMatch(/^InvalidParameter: rdp/);
    expect(code(() => rdpDeltaFromCurve([2], [Number.NaN], 1))).toMatch(/^InvalidParameter: rdp\[0\] \(NaN\)/);
    expect(code(() => rdpEpsilonFromCurve([0.9], [1], 1e-5))).toMatch(/^InvalidParameter: orders\[0\] \(0\.9\)/);
  });

  it('reports invalid events with InvalidEvent and the path of the bad field', () => {
    expect(code(() => rdpAccountant.epsilonAt([{ kind: 'laplace' }], 1e-5))).toMatch(/^InvalidEvent: events\[0\]/);
    expect(code(() => rdpAccountant.epsilonAt([{ kind: 'gaussian', sigma: -1 }], 1e-5))).toMatch(/^InvalidParameter: events\[0\]\.sigma \(-1\)/);
    expect(code(() => rdpAccountant.deltaAt([{ kind: 'mystery' } as unknown as DpEvent], 1))).toMatch(/^InvalidEvent/);
  });
});
