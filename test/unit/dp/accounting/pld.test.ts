// PLD accountant: oracle values from Google's dp_accounting (../shared/oracles), closed forms
// (Gaussian composition, Kairouz–Oh–Viswanath optimal composition) and soundness invariants.
import { describe, expect, it } from 'vitest';
import {
  composeEventsPld,
  composePld,
  discretizePld,
  gdpDelta,
  gdpEpsilon,
  latticePldForEvent,
  makePldAccountant,
  pldAccountant,
  pldDeltaAt,
  pldEpsilonAt,
  pldForEvent,
  selfComposePld,
  type Pld,
} from '../../../../shared/core/dp/accounting/pld';
import type { DpEvent } from '../../../../shared/core/dp/accounting/events';
import { DpError } from '../../../../shared/core/errors';
import { convolveDirect, convolveReal } from '../../../../shared/core/math/fft';
import { normalLogCdf } from '../../../../shared/core/math/special';
import { loadOracles, type Json } from '../../../helpers/oracles';

// ---------------------------------------------------------------------------------------------
// Independent closed forms used as references.

/** Analytic Gaussian δ(ε) for μ = Δ/σ, written out here independently of the code under test. */
function gaussianDeltaRef(mu: number, eps: number): number {
  const a = normalLogCdf(-eps / mu + mu / 2);
  const b = normalLogCdf(-eps / mu - mu / 2);
  return Math.exp(a) - Math.exp(eps + b);
}

const LOG_FACT = (() => {
  const f = new Float64Array(20_001);
  for (let i = 1; i < f.length; i++) f[i] = f[i - 1]! + Math.log(i);
  return f;
})();

/** KOV optimal composition of k ε0-DP mechanisms (binary randomized response), log space. */
function kovDelta(k: number, e0: number, eps: number): number {
  const lden = k * Math.log1p(Math.exp(e0));
  let d = 0;
  for (let l = 0; l <= k; l++) {
    const a = (k - l) * e0;
    const b = eps + l * e0;
    if (a <= b) break;
    d += Math.exp(LOG_FACT[k]! - LOG_FACT[l]! - LOG_FACT[k - l]! + a - lden) * -Math.expm1(b - a);
  }
  return d;
}

function kovEpsilon(k: number, e0: number, delta: number): number {
  let lo = 0;
  let hi = k * e0;
  for (let i = 0; i < 100; i++) {
    const m = (lo + hi) / 2;
    if (kovDelta(k, e0, m) > delta) lo = m;
    else hi = m;
  }
  return hi;
}

/** The events of an oracle scenario (param: Laplace scale b, Gaussian sigma, discrete Laplace a). */
function scenarioEvents(sc: Json): DpEvent[] {
  return sc.events.map((e: Json): DpEvent => {
    const kind = String(e.kind).toLowerCase().replace(/[_-]/g, '');
    const count = e.count ?? 1;
    if (kind === 'laplace') return { kind: 'laplace', scale: e.param, count };
    if (kind === 'gaussian') return { kind: 'gaussian', sigma: e.param, count };
    if (kind === 'dlaplace' || kind === 'discretelaplace') return { kind: 'discrete-laplace', scale: 1 / e.param, count };
    throw new Error(`unknown oracle event kind ${String(e.kind)}`);
  });
}

/** Parses 'epsilon_at_delta_1e-05' → ['epsilon', 1e-5]. */
function parseKey(key: string): ['epsilon' | 'delta', number] {
  const m = /^(epsilon|delta)_at_(?:delta|epsilon)_(.+)$/.exec(key);
  if (!m) throw new Error(`unexpected oracle key ${key}`);
  return [m[1] as 'epsilon' | 'delta', Number(m[2])];
}

const oracles = () => loadOracles();

// ---------------------------------------------------------------------------------------------

describe('PLD accountant against dp_accounting (composition.accountants)', () => {
  const VDI: Record<string, number> = { 'pld_vdi_0.0001': 1e-4, 'pld_vdi_1e-05': 1e-5 };

  it('lands every epsilon inside [exact lower bracket, dp_accounting PLD] within pld_epsilon_abs', () => {
    const sec = oracles().composition.accountants;
    const tol: number = sec.tolerance.pld_epsilon_abs;
    for (const sc of sec.scenarios) {
      const events = scenarioEvents(sc);
      for (const [key, vdi] of Object.entries(VDI)) {
        const expected = sc.expected[key];
        if (!expected) continue;
        const acc = makePldAccountant({ valueDiscretizationInterval: vdi });
        for (const [k, dp] of Object.entries(expected) as [string, number][]) {
          const [what, x] = parseKey(k);
          if (what !== 'epsilon') continue;
          const got = acc.epsilonAt(events, x);
          const lower: number | undefined = sc.checks?.own_pld_bracket?.[k]?.lower ?? sc.checks?.exact?.[k];
          const msg = `${sc.scenario} ${key} ${k}: got ${got}, dp_accounting ${dp}, lower ${lower}`;
          expect(Math.abs(got - dp), msg).toBeLessThanOrEqual(tol);
          expect(got, msg).toBeLessThanOrEqual(dp + 1e-5);
          if (lower !== undefined) expect(got, msg).toBeGreaterThanOrEqual(lower - 1e-9);
        }
      }
    }
  });

  it('matches dp_accounting epsilons to 1e-9 for the Laplace scenario (same connect-the-dots grid)', () => {
    const sc = oracles().composition.accountants.scenarios.find((s: Json) => s.scenario.startsWith('10 x Laplace'));
    expect(sc).toBeDefined();
    for (const [key, vdi] of Object.entries(VDI)) {
      const pld = composeEventsPld(scenarioEvents(sc), { valueDiscretizationInterval: vdi });
      for (const [k, dp] of Object.entries(sc.expected[key]) as [string, number][]) {
        const [what, x] = parseKey(k);
        if (what === 'epsilon') expect(Math.abs(pldEpsilonAt(pld, x) - dp), k).toBeLessThan(1e-9);
        else expect(Math.abs(pldDeltaAt(pld, x) / dp - 1), k).toBeLessThan(1e-9);
      }
    }
  });

  it('gives every delta within 3% of dp_accounting and never below the exact lower bracket', () => {
    const sec = oracles().composition.accountants;
    for (const sc of sec.scenarios) {
      const events = scenarioEvents(sc);
      for (const [key, vdi] of Object.entries(VDI)) {
        const expected = sc.expected[key];
        if (!expected) continue;
        const acc = makePldAccountant({ valueDiscretizationInterval: vdi });
        for (const [k, dp] of Object.entries(expected) as [string, number][]) {
          const [what, x] = parseKey(k);
          if (what !== 'delta') continue;
          const got = acc.deltaAt(events, x);
          const lower: number | undefined = sc.checks?.own_pld_bracket?.[k]?.lower ?? sc.checks?.exact?.[k];
          const msg = `${sc.scenario} ${key} ${k}: got ${got}, dp_accounting ${dp}, lower ${lower}`;
          expect(Math.abs(got - dp), msg).toBeLessThanOrEqual(0.03 * dp + 2e-15);
          if (lower !== undefined) expect(got, msg).toBeGreaterThanOrEqual(lower * (1 - 1e-9) - 1e-15);
        }
      }
    }
  });
});

describe('PLD accountant against the optimal pure composition (KOV 2015)', () => {
  it('reproduces the KOV profile exactly for k-fold binary randomized response and discrete Laplace', () => {
    const sec = oracles().composition.optimal_pure_composition;
    for (const c of sec.cases) {
      const { k, epsilon0 } = c.inputs;
      const variants: DpEvent[][] = [
        [{ kind: 'randomized-response', epsilon: epsilon0, categories: 2, count: k }],
        [{ kind: 'discrete-laplace', epsilon: epsilon0, count: k }],
      ];
      for (const events of variants) {
        for (const [key, exp] of Object.entries(c.expected) as [string, number][]) {
          const [what, x] = parseKey(key);
          const got = what === 'epsilon' ? pldAccountant.epsilonAt(events, x) : pldAccountant.deltaAt(events, x);
          const msg = `${events[0]!.kind} k=${k} eps0=${epsilon0} ${key}: ${got} vs ${exp}`;
          expect(Math.abs(got - exp), msg).toBeLessThanOrEqual(sec.tolerance.rel * exp + (what === 'delta' ? 2e-15 : 0));
        }
      }
    }
  });

  it('matches KOV on the 1e-4 grid too (connect-the-dots is exact at grid points)', () => {
    const sec = oracles().composition.optimal_pure_composition;
    for (const c of sec.cases) {
      const { k, epsilon0 } = c.inputs;
      const pld = composeEventsPld([{ kind: 'randomized-response', epsilon: epsilon0, categories: 2, count: k }]);
      for (const [key, exp] of Object.entries(c.expected) as [string, number][]) {
        const [what, x] = parseKey(key);
        const got = what === 'epsilon' ? pldEpsilonAt(pld, x) : pldDeltaAt(pld, x);
        expect(got, key).toBeGreaterThanOrEqual(exp * (1 - 1e-9));
        expect(got, key).toBeLessThanOrEqual(exp * (1 + 1e-6) + 2e-15);
      }
    }
  });

  it('never lets k Laplace releases at eps0 exceed the KOV bound (beyond the tail-truncation mass)', () => {
    const sec = oracles().composition.optimal_pure_composition;
    for (const c of sec.cases) {
      const { k, epsilon0 } = c.inputs;
      const events: DpEvent[] = [{ kind: 'laplace', epsilon: epsilon0, count: k }];
      for (const [key, exp] of Object.entries(c.expected) as [string, number][]) {
        const [what, x] = parseKey(key);
        if (what === 'epsilon') expect(pldAccountant.epsilonAt(events, x), key).toBeLessThanOrEqual(exp + 1e-9);
        else expect(pldAccountant.deltaAt(events, x), key).toBeLessThanOrEqual(exp + 1e-15);
      }
    }
  });

  it('stays sound and within 2e-4 of KOV for 10,000 releases down to delta 1e-12', () => {
    const k = 10_000;
    const e0 = 0.01;
    const events: DpEvent[] = [{ kind: 'randomized-response', epsilon: e0, categories: 2, count: k }];
    const grid = composeEventsPld(events);
    for (const delta of [1e-6, 1e-9, 1e-12]) {
      const exact = kovEpsilon(k, e0, delta);
      for (const got of [pldAccountant.epsilonAt(events, delta), pldEpsilonAt(grid, delta)]) {
        expect(got, `delta ${delta}`).toBeGreaterThanOrEqual(exact - 1e-9);
        expect(got, `delta ${delta}`).toBeLessThanOrEqual(exact + 2e-4);
      }
    }
    for (const eps of [1, 2, 3]) {
      const exact = kovDelta(k, e0, eps);
      expect(Math.abs(pldAccountant.deltaAt(events, eps) / exact - 1), `eps ${eps}`).toBeLessThan(1e-6);
    }
  });

  it('keeps 10,000 Laplace releases at eps0 = 0.01 below the KOV bound at delta 1e-12', () => {
    const events: DpEvent[] = [{ kind: 'laplace', epsilon: 0.01, count: 10_000 }];
    for (const delta of [1e-6, 1e-12]) {
      expect(pldAccountant.epsilonAt(events, delta)).toBeLessThanOrEqual(kovEpsilon(10_000, 0.01, delta));
    }
  });

  it('composes (eps0, delta0) releases as 1 − (1 − delta0)^k (1 − delta_KOV) (KOV Thm 3.3)', () => {
    const [k, e0, d0] = [30, 0.2, 1e-7];
    const events: DpEvent[] = [{ kind: 'epsilon-delta', epsilon: e0, delta: d0, count: k }];
    for (const eps of [1, 2, 3]) {
      const exact = 1 - Math.pow(1 - d0, k) * (1 - kovDelta(k, e0, eps));
      expect(Math.abs(pldAccountant.deltaAt(events, eps) / exact - 1)).toBeLessThan(1e-6);
    }
    expect(pldAccountant.epsilonAt(events, 1e-7)).toBe(Infinity);
  });
});

describe('Gaussian mechanism through the PLD', () => {
  it('certifies the exact analytic epsilon of every gaussian_mechanism.analytic case (grid PLD within 1e-3)', () => {
    for (const c of oracles().gaussian_mechanism.analytic.cases) {
      const { epsilon, delta, sensitivity } = c.inputs;
      const sigma: number = c.expected.sigma;
      const events: DpEvent[] = [{ kind: 'gaussian', sigma, sensitivity }];
      expect(Math.abs(pldAccountant.epsilonAt(events, delta) / epsilon - 1)).toBeLessThan(1e-8);
      const grid = pldEpsilonAt(pldForEvent({ kind: 'gaussian', sigma, sensitivity }), delta);
      expect(grid).toBeGreaterThanOrEqual(epsilon - 1e-9);
      expect(grid - epsilon).toBeLessThan(1e-3);
    }
  });

  it('certifies the exact epsilon of every analytic_inverse_epsilon case (grid PLD within 1e-3)', () => {
    for (const c of oracles().gaussian_mechanism.analytic_inverse_epsilon.cases) {
      const { sigma, delta, sensitivity } = c.inputs;
      const exact: number = c.expected.epsilon;
      expect(Math.abs(pldAccountant.epsilonAt([{ kind: 'gaussian', sigma, sensitivity }], delta) - exact)).toBeLessThan(1e-8);
      const grid = pldEpsilonAt(pldForEvent({ kind: 'gaussian', sigma, sensitivity }), delta);
      expect(grid).toBeGreaterThanOrEqual(exact - 1e-9);
      expect(grid - exact).toBeLessThan(1e-3);
    }
  });

  it('composes 50 Gaussians like one Gaussian with sigma/sqrt(50), on the grid as well', () => {
    const sigma = 5;
    const k = 50;
    const mu = Math.sqrt(k) / sigma;
    const grid = selfComposePld(pldForEvent({ kind: 'gaussian', sigma, sensitivity: 1 }), k);
    for (const delta of [1e-5, 1e-6, 1e-9, 1e-12]) {
      const exact = gdpEpsilon(mu, delta);
      expect(Math.abs(gaussianDeltaRef(mu, exact) / delta - 1)).toBeLessThan(1e-9);
      expect(pldAccountant.epsilonAt([{ kind: 'gaussian', sigma, count: k }], delta)).toBeCloseTo(exact, 10);
      const g = pldEpsilonAt(grid, delta);
      expect(g).toBeGreaterThanOrEqual(exact - 1e-9);
      expect(g - exact).toBeLessThan(1e-3);
    }
  });

  it('composes Gaussians of different sigma and sensitivity into one with mu^2 = sum (Delta/sigma)^2', () => {
    const events: DpEvent[] = [
      { kind: 'gaussian', sigma: 3 },
      { kind: 'gaussian', sigma: 8, sensitivity: 2 },
      { kind: 'gaussian', sigma: 50, count: 100 },
    ];
    const mu = Math.sqrt(1 / 9 + 4 / 64 + 100 / 2500);
    const grid = composePld(
      composePld(pldForEvent({ kind: 'gaussian', sigma: 3, sensitivity: 1 }), pldForEvent({ kind: 'gaussian', sigma: 8, sensitivity: 2 })),
      selfComposePld(pldForEvent({ kind: 'gaussian', sigma: 50, sensitivity: 1 }), 100),
    );
    for (const eps of [0.5, 1, 2, 3]) {
      const exact = gaussianDeltaRef(mu, eps);
      expect(Math.abs(pldAccountant.deltaAt(events, eps) / exact - 1)).toBeLessThan(1e-9);
      expect(Math.abs(gdpDelta(mu, eps) / exact - 1)).toBeLessThan(1e-9);
      const g = pldDeltaAt(grid, eps);
      expect(g).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
      expect(g / exact - 1).toBeLessThan(1e-2);
    }
  });

  it('handles 1000 Gaussians with sigma = 40 at delta 1e-9 like one with sigma/sqrt(1000)', () => {
    const exact = gdpEpsilon(Math.sqrt(1000) / 40, 1e-9);
    expect(pldAccountant.epsilonAt([{ kind: 'gaussian', sigma: 40, count: 1000 }], 1e-9)).toBeCloseTo(exact, 9);
  });
});

describe('PLD composition of mixed events', () => {
  const MIXED: DpEvent[] = [
    { kind: 'laplace', epsilon: 0.01, count: 500 },
    { kind: 'gaussian', sigma: 50, count: 500 },
  ];

  it('gives a larger epsilon for more events (monotone in every count)', () => {
    let prev = 0;
    for (const n of [1, 10, 100, 300, 1000]) {
      const eps = pldAccountant.epsilonAt(
        [
          { kind: 'laplace', epsilon: 0.05, count: n },
          { kind: 'gaussian', sigma: 20, count: n },
        ],
        1e-6,
      );
      expect(eps).toBeGreaterThan(prev);
      prev = eps;
    }
    const base = pldAccountant.epsilonAt(MIXED, 1e-6);
    expect(pldAccountant.epsilonAt([...MIXED, { kind: 'discrete-laplace', epsilon: 0.1 }], 1e-6)).toBeGreaterThan(base);
    expect(pldAccountant.epsilonAt([...MIXED, { kind: 'randomized-response', epsilon: 0.1, categories: 3 }], 1e-6)).toBeGreaterThan(base);
  });

  it('round-trips delta(epsilon(delta)) to delta from 1e-3 down to 1e-12', () => {
    for (const delta of [1e-3, 1e-6, 1e-9, 1e-12]) {
      const eps = pldAccountant.epsilonAt(MIXED, delta);
      const back = pldAccountant.deltaAt(MIXED, eps);
      expect(back, `delta ${delta}`).toBeLessThanOrEqual(delta * (1 + 1e-9));
      expect(back, `delta ${delta}`).toBeGreaterThanOrEqual(delta * 0.999);
    }
  });

  it('is never below the Gaussian part alone, nor above the sum of the two parts’ epsilons', () => {
    for (const delta of [1e-6, 1e-9]) {
      const eps = pldAccountant.epsilonAt(MIXED, delta);
      const gaussOnly = pldAccountant.epsilonAt([MIXED[1]!], delta);
      const lapOnly = pldAccountant.epsilonAt([MIXED[0]!], delta / 2);
      expect(eps).toBeGreaterThan(gaussOnly);
      expect(eps).toBeLessThan(lapOnly + pldAccountant.epsilonAt([MIXED[1]!], delta / 2));
    }
  });

  it('gives the same answer for the same releases in any order and grouping', () => {
    const a = pldAccountant.epsilonAt(MIXED, 1e-7);
    const b = pldAccountant.epsilonAt(
      [{ kind: 'composed', count: 250, events: [{ kind: 'gaussian', sigma: 50, count: 2 }, { kind: 'laplace', epsilon: 0.01, count: 2 }] }],
      1e-7,
    );
    expect(b).toBe(a);
  });

  it('does not get tighter on a coarser grid (nested connect-the-dots grids)', () => {
    const events: DpEvent[] = [
      { kind: 'laplace', epsilon: 0.1, count: 20 },
      { kind: 'discrete-laplace', epsilon: 0.13, count: 7 },
    ];
    const fine = makePldAccountant({ valueDiscretizationInterval: 5e-5 }).epsilonAt(events, 1e-6);
    const mid = makePldAccountant({ valueDiscretizationInterval: 1e-4 }).epsilonAt(events, 1e-6);
    const coarse = makePldAccountant({ valueDiscretizationInterval: 4e-4 }).epsilonAt(events, 1e-6);
    expect(mid).toBeGreaterThanOrEqual(fine - 1e-12);
    expect(coarse).toBeGreaterThanOrEqual(mid - 1e-12);
    expect(coarse - fine).toBeLessThan(27 * 4e-4);
  });

  it('composes 4096 Laplace releases without losing tail precision (FFT power vs pairwise composition)', () => {
    const single = pldForEvent({ kind: 'laplace', scale: 100, sensitivity: 1 });
    const byPower = selfComposePld(single, 4096, 0);
    let byPairs: Pld = selfComposePld(single, 256, 0);
    for (let i = 0; i < 4; i++) byPairs = composePld(byPairs, byPairs);
    for (const delta of [1e-6, 1e-9, 1e-12]) {
      expect(Math.abs(pldEpsilonAt(byPower, delta) - pldEpsilonAt(byPairs, delta)), `delta ${delta}`).toBeLessThan(1e-6);
    }
  });
});

describe('single-release PLDs', () => {
  it('is exact at grid points for Laplace: delta(eps) = 1 − e^{(eps − eps0)/2}', () => {
    const pld = pldForEvent({ kind: 'laplace', scale: 1 / 0.7, sensitivity: 1 });
    for (const eps of [0, 0.1, 0.35, 0.6]) {
      expect(Math.abs(pldDeltaAt(pld, eps) / -Math.expm1((eps - 0.7) / 2) - 1)).toBeLessThan(1e-12);
    }
    expect(pldAccountant.epsilonAt([{ kind: 'laplace', epsilon: 0.7 }], 1e-3)).toBeGreaterThanOrEqual(0.7 + 2 * Math.log1p(-1e-3) - 1e-12);
  });

  it('keeps total probability 1 (finite mass + infinity mass)', () => {
    for (const ev of [
      { kind: 'laplace', scale: 3, sensitivity: 1 },
      { kind: 'gaussian', sigma: 0.8, sensitivity: 1 },
      { kind: 'discrete-gaussian', sigma: 4, sensitivity: 2 },
      { kind: 'randomized-response', epsilon: 1.2, categories: 5 },
      { kind: 'epsilon-delta', epsilon: 0.3, delta: 1e-4 },
    ] as const) {
      const p = pldForEvent(ev);
      let total = p.infinityMass;
      for (const x of p.probs) total += x;
      expect(Math.abs(total - 1), ev.kind).toBeLessThan(1e-12);
    }
  });

  it('gives k-ary randomized response total variation (e^eps − 1)/(e^eps + k − 1) at eps = 0', () => {
    const [e, k] = [1.1, 6];
    expect(pldAccountant.deltaAt([{ kind: 'randomized-response', epsilon: e, categories: k }], 0)).toBeCloseTo(Math.expm1(e) / (Math.exp(e) + k - 1), 14);
    expect(pldAccountant.epsilonAt([{ kind: 'randomized-response', epsilon: e, categories: k, count: 3 }], 0)).toBeCloseTo(3 * e, 12);
  });

  it('treats the discrete Gaussian soundly and close to the continuous Gaussian for large sigma', () => {
    const lattice = latticePldForEvent({ kind: 'discrete-gaussian', sigma: 20, sensitivity: 1 })!;
    let total = lattice.infinityMass;
    for (const x of lattice.probs) total += x;
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    const dg = pldAccountant.epsilonAt([{ kind: 'discrete-gaussian', sigma: 20, count: 10 }], 1e-6);
    const g = pldAccountant.epsilonAt([{ kind: 'gaussian', sigma: 20, count: 10 }], 1e-6);
    expect(Math.abs(dg - g)).toBeLessThan(1e-3);
    // The grid version is connect-the-dots of the exact lattice PLD: never below it.
    const grid = discretizePld(selfComposePld(lattice, 10), 1e-4);
    expect(pldEpsilonAt(grid, 1e-6)).toBeGreaterThanOrEqual(dg - 1e-12);
  });

  it('is exact at delta = 0: basic composition for pure releases, infinity otherwise', () => {
    expect(pldAccountant.epsilonAt([{ kind: 'laplace', epsilon: 0.3, count: 4 }, { kind: 'discrete-laplace', epsilon: 0.1 }], 0)).toBeCloseTo(1.3, 12);
    expect(pldAccountant.epsilonAt([{ kind: 'gaussian', sigma: 3 }], 0)).toBe(Infinity);
  });
});

describe('PLD accountant errors', () => {
  it('rejects zcdp events with NotSupported naming the kind', () => {
    const events: DpEvent[] = [{ kind: 'laplace', epsilon: 1 }, { kind: 'zcdp', rho: 0.1 }];
    for (const f of [() => pldAccountant.epsilonAt(events, 1e-6), () => pldAccountant.deltaAt(events, 1), () => composeEventsPld(events)]) {
      expect(f).toThrow(DpError);
      try {
        f();
      } catch (err) {
        expect((err as DpError).code).toBe('NotSupported');
        expect((err as DpError).message).toMatch(/zcdp/);
      }
    }
  });

  it('rejects a non-positive discretisation interval and a bad delta with InvalidParameter', () => {
    expect(() => makePldAccountant({ valueDiscretizationInterval: 0 })).toThrow(/valueDiscretizationInterval \(0\)/);
    expect(() => pldAccountant.epsilonAt([{ kind: 'laplace', epsilon: 1 }], 1)).toThrow(/delta \(1\)/);
    expect(() => pldAccountant.deltaAt([{ kind: 'laplace', epsilon: 1 }], -0.5)).toThrow(/epsilon \(-0.5\)/);
  });

  it('refuses to compose PLDs on different grids', () => {
    const a = pldForEvent({ kind: 'laplace', scale: 1, sensitivity: 1 }, 1e-4);
    const b = pldForEvent({ kind: 'laplace', scale: 1, sensitivity: 1 }, 2e-4);
    expect(() => composePld(a, b)).toThrow(DpError);
  });
});

describe('FFT convolution used by the PLD', () => {
  it('agrees with the direct sum to 1e-15 on probability vectors', () => {
    const a = new Float64Array(3000).map((_, i) => Math.exp(-((i - 1500) ** 2) / 2e5));
    const b = new Float64Array(2500).map((_, i) => 1 / (1 + ((i - 700) / 50) ** 2));
    const sa = a.reduce((s, x) => s + x, 0);
    const sb = b.reduce((s, x) => s + x, 0);
    const an = a.map((x) => x / sa);
    const bn = b.map((x) => x / sb);
    const fast = convolveReal(an, bn);
    const slow = convolveDirect(an, bn);
    expect(fast.length).toBe(slow.length);
    let maxErr = 0;
    for (let i = 0; i < fast.length; i++) maxErr = Math.max(maxErr, Math.abs(fast[i]! - slow[i]!));
    expect(maxErr).toBeLessThan(1e-15);
  });
});
