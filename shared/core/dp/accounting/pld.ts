// Privacy loss distribution (PLD) accountant: a port of the method of Google's dp_accounting
// (python/dp_accounting/dp_accounting/pld/: privacy_loss_distribution.py, pld_pmf.py,
// privacy_loss_mechanism.py, common.py; Koskela, Jälkö, Honkela 2020; Doroshenko, Ghazi, Kamath,
// Kumar, Manurangsi 2022, "Connect the Dots: Tighter Discrete Approximations of Privacy Loss
// Distributions", PoPETs 2022) with pessimistic connect-the-dots discretisation, FFT composition
// and pessimistic tail truncation. Every result is an upper bound on the true δ(ε) / ε(δ).
//
// Neighbouring relation: add-or-remove-one. dp_accounting keeps a REMOVE and an ADD PLD and takes
// the maximum δ only when they differ (sub-sampling). Every mechanism supported here is symmetric:
// Laplace, Gaussian, discrete Laplace and discrete Gaussian are additive noise with a noise
// distribution symmetric about 0, so the ADD pair (μ, μ shifted by +Δ) and the REMOVE pair
// (μ shifted by −Δ, μ) are mirror images with identical PLDs (dp_accounting's
// `_pld_for_subsampled_mechanism` returns one symmetric PLD when sampling_prob = 1); randomized
// response (worst pair of inputs) and the generic (ε, δ) PLD of `from_privacy_parameters` are
// invariant under swapping the pair. So one PLD per event suffices.
//
// Beyond dp_accounting: Gaussians are merged exactly into one (μ² = Σ(Δ/σ)²); k copies of a
// discrete mechanism are composed exactly on its own lattice before rounding; continuous PLDs are
// built from cell integrals rather than second differences of δ; FFT products get a second,
// exponentially tilted pass so the far upper tail (δ ≈ 1e−12 after 10^4 releases) keeps its
// relative precision; ln of the lower mass is tracked so ε(δ) stays exact for losses above 745.
//
// API (all PLDs are `Pld` values; see each doc comment):
//   pldAccountant / makePldAccountant(opts)   the Accountant (name 'pld')
//   pldForEvent(event, interval)              grid PLD of one release (connect-the-dots)
//   latticePldForEvent(event)                 exact PLD of a discrete mechanism, or undefined
//   laplacePld, gaussianPld                   grid PLDs by mechanism parameters
//   discretizePld(pld, interval)              connect-the-dots rounding onto a grid
//   composePld(a, b, tail)                    PLD of two mechanisms composed
//   selfComposePld(pld, k, tail)              PLD of k copies
//   composeEventsPld(events, opts)            grid PLD of a whole event list
//   pldEpsilonAt(pld, δ), pldDeltaAt(pld, ε)  privacy parameters from a PLD
//   gdpDelta(μ, ε), gdpEpsilon(μ, δ), laplaceDelta(α, ε)   exact single-mechanism profiles

import { DpError, requireDelta, requireInteger, requireNonNegative, requirePositive } from '../../errors';
import { convolveDirect, convolveRealPair, convolveSparseFirst, directIsCheaper, nextPow2, selfConvolveCircularPair } from '../../math/fft';
import { logAddExp, normalLogCdf, normalQuantile } from '../../math/special';
import { flattenEvents, type BaseEvent, type CountedEvent, type DpEvent } from './events';
import type { Accountant } from './types';

/**
 * A discrete privacy loss distribution: mass `probs[i]` at privacy loss
 * `shift + (lowerIndex + i) · interval` (nats), plus `infinityMass` at +∞ (dp_accounting
 * `DensePLDPmf`). PLDs on the accountant's grid have shift 0 and interval = the value
 * discretisation interval; exact PLDs of discrete mechanisms live on their own lattice (shift ≠ 0).
 * Masses are under the "upper" distribution: δ(ε) = ∞-mass + Σ p_i (1 − e^{ε − ℓ_i})₊.
 */
export interface Pld {
  readonly interval: number;
  readonly shift: number;
  readonly lowerIndex: number;
  readonly probs: Float64Array;
  readonly infinityMass: number;
}

export interface PldAccountantOptions {
  /** Grid spacing of privacy losses in nats (dp_accounting `value_discretization_interval`). */
  valueDiscretizationInterval?: number;
  /**
   * Total probability mass that composition may truncate from the tails, over the whole
   * composition (dp_accounting truncates 1e-15 per operation; here the budget is split between the
   * operations). Upper-tail mass goes to +∞ and lower-tail mass is rounded up, so it is pessimistic.
   */
  tailMassTruncation?: number;
}

export const DEFAULT_VALUE_DISCRETIZATION_INTERVAL = 1e-4;
export const DEFAULT_TAIL_MASS_TRUNCATION = 1e-15;
/** dp_accounting `GaussianPrivacyLoss` default `log_mass_truncation_bound`. */
const GAUSSIAN_LOG_MASS_TRUNCATION = -50;
/** Largest support (bins) of one array; beyond it the accountant coarsens its grid. */
const MAX_BINS = 1 << 22;
/** Largest number of atoms materialised for a discrete mechanism. */
const MAX_ATOMS = 1 << 24;
/** Self-compositions whose exact support is at most this long use direct convolution. */
const DIRECT_SELF_COMPOSE_LEN = 8192;

/** Raised internally when an array would exceed MAX_BINS; the accountant coarsens and retries. */
class SupportTooLarge extends Error {}

// ---------------------------------------------------------------------------------------------
// Hockey-stick divergences of single mechanisms (closed forms).

/**
 * δ(ε) of the Laplace mechanism with α = sensitivity/scale: 1 − e^{(ε−α)/2} on [−α, α],
 * 1 − e^ε below, 0 above (dp_accounting `LaplacePrivacyLoss.get_delta_for_epsilon`; Koskela et
 * al. 2021, "Tight differential privacy for discrete-valued mechanisms…", Lemma for Laplace).
 */
export function laplaceDelta(alpha: number, epsilon: number): number {
  if (epsilon >= alpha) return 0;
  if (epsilon <= -alpha) return -Math.expm1(epsilon);
  return -Math.expm1((epsilon - alpha) / 2);
}

/**
 * Exact δ(ε) of μ-Gaussian DP, i.e. of the Gaussian mechanism with μ = Δ/σ (Balle & Wang 2018,
 * Thm 8; Dong, Roth, Su 2022, Cor. 2.13): Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2), computed in log space
 * so tiny δ keep full relative precision.
 */
export function gdpDelta(mu: number, epsilon: number): number {
  const la = normalLogCdf(-epsilon / mu + mu / 2);
  const lb = normalLogCdf(-epsilon / mu - mu / 2);
  const t = epsilon + lb - la;
  if (!(t < 0)) return 0;
  return Math.min(1, Math.exp(la) * -Math.expm1(t));
}

/**
 * Exact smallest ε ≥ 0 with gdpDelta(μ, ε) ≤ δ for μ-Gaussian DP, by bisection (Balle & Wang 2018,
 * Thm 8; dp_accounting `gaussian_mechanism.get_epsilon_gaussian`). Returns the upper end of the
 * final bracket, so the returned ε always satisfies the δ.
 */
export function gdpEpsilon(mu: number, delta: number): number {
  if (delta >= 1) return 0;
  if (delta <= 0) return Infinity;
  if (gdpDelta(mu, 0) <= delta) return 0;
  let lo = 0;
  let hi = mu * mu / 2 + mu * Math.max(1, -normalQuantile(delta)) + 1;
  while (gdpDelta(mu, hi) > delta) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, hi); i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    if (gdpDelta(mu, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------
// Construction of single-event PLDs.

/** Builds a Pld value (see the `Pld` doc for the loss of each entry). */
function makePld(interval: number, shift: number, lowerIndex: number, probs: Float64Array, infinityMass: number): Pld {
  return { interval, shift, lowerIndex, probs, infinityMass };
}

/** Drops zero (or negative round-off) entries at both ends; clamps negatives to 0. */
function trimmed(p: Pld): Pld {
  const a = p.probs;
  for (let i = 0; i < a.length; i++) if (!(a[i]! > 0)) a[i] = 0;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi && a[lo] === 0) lo++;
  while (hi > lo && a[hi] === 0) hi--;
  if (lo === 0 && hi === a.length - 1) return p;
  return makePld(p.interval, p.shift, p.lowerIndex + lo, a.slice(lo, hi + 1), p.infinityMass);
}

/**
 * Adds an atom of `mass` at privacy loss `loss` to the grid array `out` (entry j ↔ loss
 * (first + j)·d) by connect-the-dots: with a = ⌊loss/d⌋·d the mass at a + d is
 * mass·(1 − e^{−(loss−a)})/(1 − e^{−d}), the rest at a, which keeps both the mass and its mass
 * under the lower distribution (mass·e^{−loss}). As (1 − e^{ε}u)₊ is convex in u = e^{−ℓ}, δ(ε)
 * can only grow (Jensen) and is unchanged at grid points (Doroshenko et al. 2022, Algorithm 1 /
 * dp_accounting `create_pmf_pessimistic_connect_dots`).
 */
function addAtom(out: Float64Array, first: number, interval: number, loss: number, mass: number): void {
  const last = first + out.length - 1;
  let j = Math.floor(loss / interval);
  if (j < first) j = first;
  if (j > last) j = last;
  let frac = loss - j * interval;
  if (frac <= 0 || j === last) {
    out[j - first] = out[j - first]! + mass;
    return;
  }
  if (frac > interval) frac = interval;
  let up = (mass * Math.expm1(-frac)) / Math.expm1(-interval);
  if (up > mass) up = mass;
  out[j + 1 - first] = out[j + 1 - first]! + up;
  out[j - first] = out[j - first]! + (mass - up);
}

/*
 * Continuous mechanisms. dp_accounting builds the connect-the-dots PMF from δ at the grid points
 * by second differences (`create_pmf_pessimistic_connect_dots_fixed_gap`), which loses ~1e−16/d² of
 * relative precision per bin. Here the same PMF is built cell by cell: the mass of the loss density
 * on [a, a+d] goes to a + d with weight (1 − e^{−(ℓ−a)})/(1 − e^{−d}) and to a with weight
 * (e^{−(ℓ−a)} − e^{−d})/(1 − e^{−d}) (the atom split above, integrated), mass below the grid is
 * rounded up to its first point and mass above it is split between the last point and +∞ (the
 * ∞-mass is δ at the last point). This is exactly the connect-the-dots PLD (δ matches at every grid
 * point), computed without cancellation.
 */

/**
 * Connect-the-dots PLD of the Laplace mechanism (dp_accounting `from_laplace_mechanism`, grid
 * [⌊−α/d⌋, ⌈α/d⌉], α = sensitivity/scale; Doroshenko et al. 2022). Loss of the ADD pair
 * (Lap(0,b) vs Lap(Δ,b)): atoms α (mass ½) and −α (mass ½e^{−α}), density ¼e^{−(α−ℓ)/2} on
 * (−α, α) (Koskela, Jälkö, Prediger, Honkela 2021, §3). Cell integrals are in closed form.
 */
export function laplacePld(scale: number, sensitivity: number, interval: number): Pld {
  const alpha = sensitivity / scale;
  const d = interval;
  const lo = Math.floor(-alpha / d);
  const hi = Math.ceil(alpha / d);
  const n = hi - lo + 1;
  if (n > MAX_BINS) throw new SupportTooLarge();
  const probs = new Float64Array(n);
  const den = -Math.expm1(-d);
  for (let j = 0; j < n - 1; j++) {
    const a = (lo + j) * d;
    const s = Math.max(a, -alpha);
    const t = Math.min(a + d, alpha);
    if (!(t > s)) continue;
    const c = -Math.expm1(-(t - s) / 2);
    // ∫_s^t (1 − e^{−(ℓ−a)}) f and ∫_s^t (e^{−(ℓ−a)} − e^{−d}) f with f = ¼e^{−(α−ℓ)/2}.
    const up = (0.5 * c * Math.exp((t - alpha) / 2) * -Math.expm1((2 * a - s - t) / 2)) / den;
    const down = (0.5 * c * Math.exp((2 * a - alpha - s) / 2) * -Math.expm1((s + t - 2 * a) / 2 - d)) / den;
    probs[j] = probs[j]! + down;
    probs[j + 1] = probs[j + 1]! + up;
  }
  addAtom(probs, lo, d, alpha, 0.5);
  addAtom(probs, lo, d, -alpha, 0.5 * Math.exp(-alpha));
  return trimmed(makePld(d, 0, lo, probs, 0));
}

/** Gauss–Legendre nodes and weights on [−1, 1] (Abramowitz & Stegun 1964, Table 25.4). */
const GL4: readonly (readonly [number, number])[] = [
  [-0.8611363115940526, 0.3478548451374538],
  [-0.3399810435848563, 0.6521451548625461],
  [0.3399810435848563, 0.6521451548625461],
  [0.8611363115940526, 0.3478548451374538],
];
const GL8: readonly (readonly [number, number])[] = [
  [-0.9602898564975363, 0.1012285362903763],
  [-0.796666477413627, 0.2223810344533745],
  [-0.525532409916329, 0.3137066458778873],
  [-0.1834346424956498, 0.362683783378362],
  [0.1834346424956498, 0.362683783378362],
  [0.525532409916329, 0.3137066458778873],
  [0.796666477413627, 0.2223810344533745],
  [0.9602898564975363, 0.1012285362903763],
];

/**
 * Connect-the-dots PLD of the Gaussian mechanism with μ = Δ/σ on the ε range dp_accounting uses
 * (`GaussianPrivacyLoss.connect_dots_bounds`, log_mass_truncation_bound −50):
 * |ε| ≤ μ²/2 + zμ, z = −Φ⁻¹(e^{−50}/2) (Doroshenko et al. 2022). The loss is N(μ²/2, μ²) under
 * the upper distribution (Balle & Wang 2018, Lemma 5); cell integrals by Gauss–Legendre
 * quadrature (4 or 8 nodes, sub-cells when a cell is wide relative to μ; error < 1e−16 relative).
 */
export function gaussianPld(mu: number, interval: number): Pld {
  const d = interval;
  const m = (mu * mu) / 2;
  const z = -normalQuantile(0.5 * Math.exp(GAUSSIAN_LOG_MASS_TRUNCATION));
  const epsUpper = m + z * mu;
  const lo = Math.floor(-epsUpper / d);
  const hi = Math.ceil(epsUpper / d);
  const n = hi - lo + 1;
  if (n > MAX_BINS) throw new SupportTooLarge();
  // Quadrature rule: the log-density changes by at most κ·(width/μ) across a (sub-)cell.
  const kappa = (epsUpper + m) / mu + 1;
  const spread = (kappa * d) / mu;
  const rule = spread <= 0.02 ? GL4 : GL8;
  const sub = spread <= 0.02 ? 1 : Math.ceil(2 * spread);
  const den = -Math.expm1(-d);
  const offs: number[] = [];
  const wUp: number[] = [];
  const wDown: number[] = [];
  const norm = 1 / (mu * Math.sqrt(2 * Math.PI));
  for (let q = 0; q < sub; q++) {
    for (const [x, w] of rule) {
      const h = ((q + (x + 1) / 2) * d) / sub;
      const weight = ((w / 2) * d * norm) / sub;
      offs.push(h);
      wUp.push((weight * -Math.expm1(-h)) / den);
      wDown.push((weight * Math.exp(-d) * Math.expm1(d - h)) / den);
    }
  }
  const probs = new Float64Array(n);
  const s2 = 2 * mu * mu;
  const nodes = offs.length;
  for (let j = 0; j < n - 1; j++) {
    const a = (lo + j) * d - m;
    let up = 0;
    let down = 0;
    for (let q = 0; q < nodes; q++) {
      const x = a + offs[q]!;
      const f = Math.exp(-(x * x) / s2);
      up += wUp[q]! * f;
      down += wDown[q]! * f;
    }
    probs[j] = probs[j]! + down;
    probs[j + 1] = probs[j + 1]! + up;
  }
  const gLo = lo * d;
  const gHi = hi * d;
  probs[0] = probs[0]! + Math.exp(normalLogCdf((gLo - m) / mu));
  // Above the grid: mass P(ℓ > gHi) splits into ∞ (δ(gHi)) and gHi (e^{gHi}·P_lower(ℓ > gHi)).
  probs[n - 1] = probs[n - 1]! + Math.exp(gHi + normalLogCdf(-(gHi + m) / mu));
  return trimmed(makePld(d, 0, lo, probs, gdpDelta(mu, gHi)));
}

/** ln Σ_{x∈Z} e^{−x²/(2σ²)}: Poisson summation σ√(2π)(1 + 2Σ_k e^{−2π²σ²k²}) for σ ≥ 1.5, else the direct sum. */
function logDiscreteGaussianNormaliser(sigma: number): number {
  if (sigma >= 1.5) {
    let theta = 1;
    for (let k = 1; k < 10; k++) {
      const t = Math.exp(-2 * Math.PI * Math.PI * sigma * sigma * k * k);
      theta += 2 * t;
      if (t < 1e-20) break;
    }
    return Math.log(sigma * Math.sqrt(2 * Math.PI) * theta);
  }
  const limit = Math.ceil(40 * sigma) + 1;
  let s = 0;
  for (let x = limit; x >= 1; x--) s += 2 * Math.exp(-(x * x) / (2 * sigma * sigma));
  return Math.log(1 + s);
}

/**
 * The exact PLD of a discrete-output mechanism, on its own lattice (no discretisation), or
 * undefined for continuous mechanisms. Atoms (dp_accounting `from_randomized_response`,
 * `DiscreteLaplacePrivacyLoss`, `DiscreteGaussianPrivacyLoss`, `from_privacy_parameters`):
 * - randomized response, k categories, worst pair (replace-one): +ε w.p. e^ε/(e^ε+k−1), −ε w.p.
 *   1/(e^ε+k−1), 0 w.p. (k−2)/(e^ε+k−1);
 * - discrete Laplace, a = 1/scale, sensitivity Δ (ADD pair DL(0) vs DL(Δ)): loss aΔ w.p. 1/(1+e^{−a}),
 *   a(Δ−2x) w.p. (1−r)/(1+r)·r^x for 0<x<Δ (r = e^{−a}), −aΔ w.p. r^Δ/(1+r);
 * - discrete Gaussian N_Z(0,σ²) (Canonne, Kamath, Steinke 2020), untruncated: loss (Δ²−2Δx)/(2σ²)
 *   w.p. e^{−x²/(2σ²)}/Z for |x| ≤ T; the tails |x| > T (mass ≤ 2Φ(−T/σ) since Z ≥ σ√(2π)) go to +∞;
 * - generic (ε, δ) (Kairouz, Oh, Viswanath 2015; dp_accounting `from_privacy_parameters`):
 *   ∞ w.p. δ, +ε w.p. (1−δ)/(1+e^{−ε}), −ε w.p. (1−δ)/(1+e^ε).
 */
export function latticePldForEvent(event: BaseEvent): Pld | undefined {
  switch (event.kind) {
    case 'randomized-response': {
      const { epsilon: eps, categories: k } = event;
      const q = 1 / (Math.exp(eps) + k - 1);
      const pTop = 1 / (1 + (k - 1) * Math.exp(-eps));
      if (k === 2) return makePld(2 * eps, -eps, 0, Float64Array.of(q, pTop), 0);
      return makePld(eps, -eps, 0, Float64Array.of(q, (k - 2) * q, pTop), 0);
    }
    case 'epsilon-delta': {
      const { epsilon: eps, delta } = event;
      if (eps === 0) return makePld(1, 0, 0, Float64Array.of(1 - delta), delta);
      return makePld(
        2 * eps,
        -eps,
        0,
        Float64Array.of((1 - delta) / (1 + Math.exp(eps)), (1 - delta) / (1 + Math.exp(-eps))),
        delta,
      );
    }
    case 'discrete-laplace': {
      const a = 1 / event.scale;
      const sens = event.sensitivity;
      if (sens + 1 > MAX_ATOMS) throw new DpError('NotSupported', `discrete-laplace sensitivity ${sens} is too large for the PLD accountant`);
      const r = Math.exp(-a);
      const probs = new Float64Array(sens + 1);
      // index m ↔ loss −aΔ + 2a·m; m = Δ ↔ x ≤ 0, m = Δ − x for 0 < x < Δ, m = 0 ↔ x ≥ Δ.
      probs[sens] = 1 / (1 + r);
      probs[0] = sens * a > 745 ? 0 : Math.exp(-a * sens) / (1 + r);
      const c = -Math.expm1(-a) / (1 + r);
      for (let x = 1; x < sens; x++) probs[sens - x] = c * Math.exp(-a * x);
      return makePld(2 * a, -a * sens, 0, probs, 0);
    }
    case 'discrete-gaussian': {
      const { sigma, sensitivity: sens } = event;
      const zTail = 11.5; // Φ(−11.5) ≈ 6.7e−31
      const T = Math.ceil(zTail * sigma) + sens;
      if (2 * T + 1 > MAX_ATOMS) {
        throw new DpError(
          'NotSupported',
          `discrete-gaussian with sigma ${sigma} has too many atoms for the PLD accountant; account it as a 'gaussian' event`,
        );
      }
      const logZ = logDiscreteGaussianNormaliser(sigma);
      const probs = new Float64Array(2 * T + 1);
      const s2 = 2 * sigma * sigma;
      for (let m = 0; m <= 2 * T; m++) {
        const x = T - m;
        probs[m] = Math.exp(-(x * x) / s2 - logZ);
      }
      const step = sens / (sigma * sigma);
      // loss(x) = (Δ² − 2Δx)/(2σ²) = shift + m·step with m = T − x.
      const shift = (sens * sens) / s2 - step * T;
      const tail = 2 * Math.exp(normalLogCdf(-T / sigma));
      return makePld(step, shift, 0, probs, Math.min(1, tail));
    }
    default:
      return undefined;
  }
}

/**
 * Pessimistic connect-the-dots rounding of any PLD onto the grid interval·Z (shift 0): an atom at
 * loss ℓ ∈ [a, a+d] is split into masses at a and a+d that keep both its mass and its mass under
 * the lower distribution (p·e^{−ℓ}); the mass at a+d is p·(1 − e^{−(ℓ−a)})/(1 − e^{−d}). Since
 * (1 − e^{ε}u)₊ is convex in u = e^{−ℓ}, δ(ε) can only grow (Jensen), and it is unchanged at every
 * grid point: this is connect-the-dots on the grid (Doroshenko et al. 2022, Algorithm 1 /
 * dp_accounting `create_pmf_pessimistic_connect_dots` for discrete noise).
 */
export function discretizePld(pld: Pld, interval: number): Pld {
  if (pld.shift === 0 && pld.interval === interval) return pld;
  const p = trimmed(pld);
  const n = p.probs.length;
  const lossAt = (i: number): number => p.shift + (p.lowerIndex + i) * p.interval;
  const first = Math.floor(lossAt(0) / interval);
  const last = Math.ceil(lossAt(n - 1) / interval);
  if (last - first + 1 > MAX_BINS) throw new SupportTooLarge();
  const out = new Float64Array(last - first + 1);
  for (let i = 0; i < n; i++) {
    const mass = p.probs[i]!;
    if (mass > 0) addAtom(out, first, interval, lossAt(i), mass);
  }
  return trimmed(makePld(interval, 0, first, out, p.infinityMass));
}

/**
 * The pessimistic PLD of one release on the grid `interval`·Z: connect-the-dots for Laplace and
 * Gaussian (dp_accounting `from_laplace_mechanism` / `from_gaussian_mechanism` defaults), and
 * connect-the-dots rounding of the exact atoms for the discrete mechanisms
 * (`latticePldForEvent` + `discretizePld`). zCDP events have no PLD: NotSupported.
 */
export function pldForEvent(event: BaseEvent, interval = DEFAULT_VALUE_DISCRETIZATION_INTERVAL): Pld {
  requirePositive('valueDiscretizationInterval', interval);
  switch (event.kind) {
    case 'laplace':
      return laplacePld(event.scale, event.sensitivity, interval);
    case 'gaussian':
      return gaussianPld(event.sensitivity / event.sigma, interval);
    case 'zcdp':
      throw notSupportedZcdp();
    default: {
      const lattice = latticePldForEvent(event);
      if (!lattice) throw new DpError('NotSupported', `the PLD accountant cannot handle event kind '${(event as { kind: string }).kind}'`);
      return discretizePld(lattice, interval);
    }
  }
}

/** The NotSupported error for zCDP events, which carry no privacy loss distribution. */
function notSupportedZcdp(): DpError {
  return new DpError(
    'NotSupported',
    "the PLD accountant cannot handle event kind 'zcdp': a zCDP guarantee (rho) does not determine a privacy loss distribution; use the zcdp or rdp accountant",
  );
}

// ---------------------------------------------------------------------------------------------
// Composition.

/** Privacy loss of entry i: shift + (lowerIndex + i)·interval. */
function lossOf(p: Pld, i: number): number {
  return p.shift + (p.lowerIndex + i) * p.interval;
}

/** Composition adds losses index-wise, so both PLDs must share one interval. */
function requireComposable(a: Pld, b: Pld): void {
  if (a.interval !== b.interval) {
    throw new DpError('InvalidParameter', `PLD intervals differ (${a.interval} vs ${b.interval}); discretize both to one grid first`);
  }
}

/**
 * Truncates the longest prefix and suffix each of mass ≤ tail/2 (dp_accounting
 * `pld_pmf._truncate_tails`, pessimistic): the prefix mass is added to the first kept entry
 * (losses rounded up), the suffix mass is returned to go to +∞.
 */
function truncateTails(probs: Float64Array, tail: number): { offset: number; probs: Float64Array; rightMass: number } {
  if (tail <= 0 || probs.length <= 1) return { offset: 0, probs, rightMass: 0 };
  const half = tail / 2;
  let left = 0;
  let s = 0;
  while (left < probs.length) {
    s += probs[left]!;
    if (s > half) break;
    left++;
  }
  let right = probs.length;
  s = 0;
  while (right > 0) {
    s += probs[right - 1]!;
    if (s > half) break;
    right--;
  }
  if (right <= left) right = left + 1;
  if (left >= probs.length) left = probs.length - 1;
  if (right > probs.length) right = probs.length;
  let leftMass = 0;
  for (let i = 0; i < left; i++) leftMass += probs[i]!;
  let rightMass = 0;
  for (let i = right; i < probs.length; i++) rightMass += probs[i]!;
  if (left === 0 && right === probs.length) return { offset: 0, probs, rightMass: 0 };
  const out = probs.slice(left, right);
  out[0] = out[0]! + leftMass;
  return { offset: left, probs: out, rightMass };
}

/**
 * The PLD of the composition of two mechanisms: convolution of the finite parts (FFT for large
 * inputs), ∞-mass 1 − (1−a∞)(1−b∞), then pessimistic tail truncation of at most
 * `tailMassTruncation` (dp_accounting `DensePLDPmf.compose`). Both must share `interval`.
 */
export function composePld(a: Pld, b: Pld, tailMassTruncation = 0): Pld {
  requireComposable(a, b);
  if (a.probs.length + b.probs.length - 1 > MAX_BINS) throw new SupportTooLarge();
  let conv: Float64Array;
  if (directIsCheaper(a.probs, b.probs)) {
    conv = convolveSparseFirst(a.probs, b.probs);
  } else {
    // Plain FFT products are accurate to ~1e−16 of the peak only; a second, exponentially tilted
    // convolution (see selfComposePld) keeps the far upper tail accurate.
    const sa = indexStats(a.probs);
    const sb = indexStats(b.probs);
    const theta = TILT_Z / Math.sqrt(sa.sd * sa.sd + sb.sd * sb.sd);
    const ta = tilt(a.probs, theta);
    const tb = tilt(b.probs, theta);
    const [plain, tilted] = convolveRealPair(a.probs, b.probs, ta.probs, tb.probs);
    conv = splice(plain, tilted, ta.logMgf + tb.logMgf, theta, 0);
  }
  for (let i = 0; i < conv.length; i++) if (!(conv[i]! > 0)) conv[i] = 0;
  const inf = a.infinityMass + b.infinityMass - a.infinityMass * b.infinityMass;
  const t = truncateTails(conv, tailMassTruncation);
  return trimmed(makePld(a.interval, a.shift + b.shift, a.lowerIndex + b.lowerIndex + t.offset, t.probs, Math.min(1, inf + t.rightMass)));
}

/**
 * Merges a plain FFT result with the exponentially tilted one: entry j (sum index offset + j) is
 * tilted[j]·e^{logScale − θ(offset+j)} wherever that pass has the smaller round-off bound (its
 * peak times the untilting factor, against the plain pass's peak). Clamps negatives to 0.
 */
function splice(plain: Float64Array, tilted: Float64Array, logScale: number, theta: number, offset: number): Float64Array {
  let maxPlain = 0;
  let maxTilted = 0;
  for (let j = 0; j < plain.length; j++) {
    if (!(plain[j]! > 0)) plain[j] = 0;
    if (plain[j]! > maxPlain) maxPlain = plain[j]!;
    if (tilted[j]! > maxTilted) maxTilted = tilted[j]!;
  }
  if (!(maxTilted > 0 && maxPlain > 0)) return plain;
  const logErrPlain = Math.log(maxPlain);
  const logMaxTilted = Math.log(maxTilted);
  for (let j = 0; j < plain.length; j++) {
    const logFactor = logScale - theta * (offset + j);
    if (logMaxTilted + logFactor < logErrPlain) {
      const v = tilted[j]!;
      plain[j] = v > 0 ? Math.exp(Math.log(v) + logFactor) : 0;
    }
  }
  return plain;
}

/**
 * Index window [lo, hi] of the `k`-fold sum outside which the mass is at most `tail` (each side
 * tail/2), by the Chernoff bound P(S ≥ u) ≤ e^{−tu} M(t)^k minimised over a grid of orders
 * (dp_accounting `common.compute_self_convolve_bounds`, here with orders also scaled to the
 * spread of the sum).
 */
function chernoffWindow(probs: Float64Array, k: number, tail: number): [number, number] {
  const n = probs.length;
  const hiMax = (n - 1) * k;
  if (tail <= 0) return [0, hiMax];
  let mass = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    mass += probs[i]!;
    mean += i * probs[i]!;
  }
  if (!(mass > 0)) return [0, hiMax];
  mean /= mass;
  let v = 0;
  for (let i = 0; i < n; i++) v += probs[i]! * (i - mean) * (i - mean);
  const sd = Math.sqrt(Math.max(v / mass, 1e-12) * k);
  const orders: number[] = [];
  for (let j = 1; j <= 20; j++) orders.push(j / n);
  for (let m = -8; m <= 24; m++) orders.push(Math.pow(2, m / 2) / sd);
  const logs = new Float64Array(n);
  for (let i = 0; i < n; i++) logs[i] = probs[i]! > 0 ? Math.log(probs[i]!) : -Infinity;
  const logTerm = Math.log(2 / tail);
  let lo = 0;
  let hi = hiMax;
  const logMgf = (t: number): number => {
    let m = -Infinity;
    for (let i = 0; i < n; i++) {
      const v2 = logs[i]! + t * i;
      if (v2 > m) m = v2;
    }
    if (m === -Infinity) return -Infinity;
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(logs[i]! + t * i - m);
    return m + Math.log(s);
  };
  for (const t0 of orders) {
    for (const t of [t0, -t0]) {
      const bound = (k * logMgf(t) + logTerm) / t;
      if (!Number.isFinite(bound)) continue;
      if (t > 0) hi = Math.min(hi, Math.ceil(bound));
      else lo = Math.max(lo, Math.floor(bound));
    }
  }
  lo = Math.max(0, Math.min(lo, hiMax));
  hi = Math.max(lo, Math.min(hi, hiMax));
  return [lo, hi];
}

/**
 * The PLD of `k` identical compositions (dp_accounting `DensePLDPmf.self_compose` /
 * `common.self_convolve`): exact repeated squaring by direct convolution when the support is
 * short, otherwise one FFT, the k-th power of the spectrum and one inverse FFT on a window whose
 * outside mass is ≤ tailMassTruncation by the Chernoff bound; as in dp_accounting the truncation
 * mass is added to +∞ (pessimistic), and ∞-mass becomes 1 − (1 − ∞)^k.
 */
export function selfComposePld(pld: Pld, k: number, tailMassTruncation = DEFAULT_TAIL_MASS_TRUNCATION): Pld {
  requireInteger('count', k, 1);
  if (k === 1) return pld;
  const p = trimmed(pld);
  const n = p.probs.length;
  const infK = -Math.expm1(k * Math.log1p(-p.infinityMass));
  if (n === 1) {
    return makePld(p.interval, p.shift * k, p.lowerIndex * k, Float64Array.of(Math.pow(p.probs[0]!, k)), Math.min(1, infK));
  }
  const fullLen = (n - 1) * k + 1;
  if (fullLen <= DIRECT_SELF_COMPOSE_LEN) {
    let result: Float64Array | undefined;
    let base = p.probs;
    let e = k;
    while (e > 0) {
      if (e & 1) result = result ? convolveDirect(result, base) : base;
      e = Math.floor(e / 2);
      if (e > 0) base = convolveDirect(base, base);
    }
    return trimmed(makePld(p.interval, p.shift * k, p.lowerIndex * k, result!, Math.min(1, infK)));
  }
  // Two passes: the plain FFT power is accurate to ~k·1e-16 of the peak, which is too coarse for
  // the far upper tail (δ ≈ 1e-12 after 10^4 compositions). The second pass self-convolves the
  // exponentially tilted sequence y_i = p_i e^{θi}/M(θ), whose k-fold sum peaks TILT_Z standard
  // deviations above the mean, and untilts: P(S = s) = y^{*k}(s)·M(θ)^k·e^{−θs} (Esscher 1932;
  // the saddle-point idea of Koskela, Jälkö, Honkela 2020, §6). Each entry takes the pass with
  // the smaller round-off bound.
  const stats = indexStats(p.probs);
  const theta = TILT_Z / (stats.sd * Math.sqrt(k));
  const tilted = tilt(p.probs, theta);
  const [lo, hi0] = chernoffWindow(p.probs, k, tailMassTruncation);
  const [, hi1] = chernoffWindow(tilted.probs, k, tailMassTruncation);
  const hi = Math.max(hi0, hi1);
  const outLen = hi - lo + 1;
  const size = nextPow2(Math.max(outLen, n));
  if (size > MAX_BINS) throw new SupportTooLarge();
  const c0 = Math.round(stats.mean);
  const c1 = Math.round(indexStats(tilted.probs).mean);
  const [circPlain, circTilted] = selfConvolveCircularPair(p.probs, tilted.probs, k, size, c0, c1);
  const plain = windowOf(circPlain, k, c0, lo, outLen);
  const tiltedOut = windowOf(circTilted, k, c1, lo, outLen);
  const out = splice(plain, tiltedOut, k * tilted.logMgf, theta, lo);
  // Mass above the window (≤ tail/2 by the Chernoff bound) wraps around to lower losses: it is
  // added to +∞. Mass below the window wraps to higher losses, which is pessimistic already.
  // (dp_accounting adds the whole tail_mass_truncation.)
  return trimmed(makePld(p.interval, p.shift * k, p.lowerIndex * k + lo, out, Math.min(1, infK + tailMassTruncation / 2)));
}

/** Standard deviations above the mean at which the tilted pass of `selfComposePld` peaks. */
const TILT_Z = 7.5;

/** Mean and standard deviation of the index under the (sub-)probability vector p. */
function indexStats(p: Float64Array): { mean: number; sd: number } {
  let mass = 0;
  let mean = 0;
  for (let i = 0; i < p.length; i++) {
    mass += p[i]!;
    mean += i * p[i]!;
  }
  mean /= mass;
  let v = 0;
  for (let i = 0; i < p.length; i++) v += p[i]! * (i - mean) * (i - mean);
  return { mean, sd: Math.sqrt(Math.max(v / mass, 1e-6)) };
}

/** y_i = p_i e^{θi}/M(θ) with ln M(θ) = ln Σ p_i e^{θi} (so Σ y = 1), computed in log space. */
function tilt(p: Float64Array, theta: number): { probs: Float64Array; logMgf: number } {
  let m = -Infinity;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) m = Math.max(m, Math.log(p[i]!) + theta * i);
  let s = 0;
  const y = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    if (p[i]! > 0) {
      y[i] = Math.exp(Math.log(p[i]!) + theta * i - m);
      s += y[i]!;
    }
  }
  for (let i = 0; i < p.length; i++) y[i] = y[i]! / s;
  return { probs: y, logMgf: m + Math.log(s) };
}

/** Entries lo … lo+len−1 of a circular k-fold self-convolution computed with rotation `center`. */
function windowOf(circ: Float64Array, k: number, center: number, lo: number, len: number): Float64Array {
  const size = circ.length;
  const mask = size - 1;
  const rot = k * center;
  const out = new Float64Array(len);
  for (let j = 0; j < len; j++) {
    const v = circ[((((lo + j - rot) % size) + size) & mask) >>> 0]!;
    out[j] = v > 0 ? v : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Privacy parameters from a PLD.

/**
 * δ(ε) = ∞-mass + Σ_{ℓ_i > ε} p_i (1 − e^{ε − ℓ_i}), the ε-hockey-stick divergence (dp_accounting
 * `pld_pmf._get_delta_for_epsilon`; Sommer, Meiser, Mohammadi 2019, Thm 5). Summed from the top.
 */
export function pldDeltaAt(pld: Pld, epsilon: number): number {
  let d = 0;
  for (let i = pld.probs.length - 1; i >= 0; i--) {
    const loss = lossOf(pld, i);
    if (loss <= epsilon) break;
    const p = pld.probs[i]!;
    if (p > 0) d += -Math.expm1(epsilon - loss) * p;
  }
  return Math.min(1, Math.max(0, pld.infinityMass + d));
}

/**
 * Smallest ε ≥ 0 with δ(ε) ≤ delta (Infinity if the ∞-mass exceeds delta), scanning losses from
 * the top with running masses under the upper and lower distributions (dp_accounting
 * `pld_pmf._get_epsilon_for_delta`): ε = ln((Σ_{ℓ>ε} p − δ)/Σ_{ℓ>ε} p e^{−ℓ}).
 */
export function pldEpsilonAt(pld: Pld, delta: number): number {
  if (pld.infinityMass > delta) return Infinity;
  // The lower-distribution mass Σ p e^{−ℓ} is kept as a logarithm: dp_accounting's plain sum
  // underflows for losses above ~745 and then returns the loss itself (pessimistic but loose).
  let upper = pld.infinityMass;
  let logLower = -Infinity;
  for (let i = pld.probs.length - 1; i >= 0; i--) {
    const loss = lossOf(pld, i);
    const p = pld.probs[i]!;
    if (upper > delta && logLower > -Infinity && Math.log(upper - delta) - logLower >= loss) break;
    if (!(p > 0)) continue;
    upper += p;
    logLower = logAddExp(logLower, Math.log(p) - loss);
  }
  if (!(upper > delta)) return 0;
  return Math.max(0, Math.log(upper - delta) - logLower);
}

// ---------------------------------------------------------------------------------------------
// Accountant.

/** Something that answers δ(ε) and ε(δ) for one composition. */
interface Profile {
  deltaAt(epsilon: number): number;
  epsilonAt(delta: number): number;
}

/** The profile of a discrete PLD (pldDeltaAt / pldEpsilonAt). */
function pldProfile(pld: Pld): Profile {
  return { deltaAt: (e) => pldDeltaAt(pld, e), epsilonAt: (d) => pldEpsilonAt(pld, d) };
}

interface Plan {
  /** Σ count·(Δ/σ)² over the Gaussian events (Gaussians compose exactly into one). */
  gaussianMu2: number;
  others: CountedEvent[];
}

/** Separates the Gaussian releases (merged into one μ²) from the rest; rejects zcdp events. */
function planOf(groups: readonly CountedEvent[]): Plan {
  let gaussianMu2 = 0;
  const others: CountedEvent[] = [];
  for (const g of groups) {
    const e = g.event;
    if (e.kind === 'zcdp') throw notSupportedZcdp();
    if (e.kind === 'gaussian') gaussianMu2 += g.count * (e.sensitivity / e.sigma) ** 2;
    else others.push(g);
  }
  return { gaussianMu2, others };
}

/**
 * The grid PLD of a whole composition. Gaussian releases are merged first into one Gaussian with
 * μ² = Σ count·(Δ/σ)² (exact: Dong, Roth, Su 2022, "Gaussian differential privacy", Cor. 3.3;
 * dp_accounting does the same for k identical Gaussians with σ/√k); identical releases are
 * self-composed by FFT exponentiation (discrete mechanisms whose exact lattice is coarser than the
 * grid are self-composed exactly on the lattice and rounded once); the resulting PLDs are convolved
 * smallest-first. The tail budget is split evenly between the truncating operations.
 */
function composeOnGrid(plan: Plan, interval: number, tailMassTruncation: number): Pld {
  const ops = plan.others.length + (plan.gaussianMu2 > 0 ? 1 : 0);
  const budget = tailMassTruncation / Math.max(1, 2 * ops);
  const parts: Pld[] = [];
  if (plan.gaussianMu2 > 0) parts.push(gaussianPld(Math.sqrt(plan.gaussianMu2), interval));
  for (const { event, count } of plan.others) {
    const lattice = latticePldForEvent(event);
    if (lattice && lattice.interval >= interval) {
      parts.push(discretizePld(selfComposePld(lattice, count, budget), interval));
    } else {
      parts.push(selfComposePld(pldForEvent(event, interval), count, budget));
    }
  }
  // Smallest-first pairwise composition keeps every convolution as short as possible.
  while (parts.length > 1) {
    parts.sort((x, y) => y.probs.length - x.probs.length);
    const a = parts.pop()!;
    const b = parts.pop()!;
    parts.push(composePld(a, b, budget));
  }
  return parts[0]!;
}

/**
 * The pessimistic grid PLD of a list of events (see `composeOnGrid`), for plotting or further
 * composition. Throws NotSupported for zcdp events, NumericalFailure if the support stays too
 * large even on a coarsened grid.
 */
export function composeEventsPld(events: readonly DpEvent[], opts: PldAccountantOptions = {}): Pld {
  const { interval, tail } = resolveOptions(opts);
  const plan = planOf(flattenEvents(events));
  if (plan.gaussianMu2 === 0 && plan.others.length === 0) return makePld(interval, 0, 0, Float64Array.of(1), 0);
  return withCoarsening(interval, (d) => composeOnGrid(plan, d, tail));
}

/**
 * Runs `f` on the grid `interval`, doubling it while the support would exceed MAX_BINS bins (a
 * coarser connect-the-dots grid is still pessimistic, only less tight).
 */
function withCoarsening<T>(interval: number, f: (interval: number) => T): T {
  let d = interval;
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      return f(d);
    } catch (err) {
      if (!(err instanceof SupportTooLarge)) throw err;
      d *= 2;
    }
  }
  throw new DpError('NumericalFailure', 'the PLD of this composition has too wide a support to compute');
}

/**
 * Builds the privacy profile of a composition: exact (analytic) when it is Gaussian only; exact on
 * the mechanism's own lattice when it is k copies of one discrete mechanism; otherwise the
 * pessimistic grid PLD.
 */
function profileOf(groups: readonly CountedEvent[], interval: number, tail: number): Profile {
  const plan = planOf(groups);
  if (plan.others.length === 0) {
    if (plan.gaussianMu2 === 0) return { deltaAt: () => 0, epsilonAt: () => 0 };
    const mu = Math.sqrt(plan.gaussianMu2);
    return {
      deltaAt: (e) => gdpDelta(mu, e),
      epsilonAt: (d) => gdpEpsilon(mu, d),
    };
  }
  if (plan.gaussianMu2 === 0 && plan.others.length === 1) {
    const { event, count } = plan.others[0]!;
    const lattice = latticePldForEvent(event);
    // Exact on the lattice unless the lattice is finer than the grid and long (then the grid is cheaper).
    if (lattice && (lattice.interval >= interval || lattice.probs.length * count <= DIRECT_SELF_COMPOSE_LEN)) {
      try {
        return pldProfile(selfComposePld(lattice, count, tail));
      } catch (err) {
        if (!(err instanceof SupportTooLarge)) throw err;
      }
    }
  }
  return pldProfile(withCoarsening(interval, (d) => composeOnGrid(plan, d, tail)));
}

/** ε at δ = 0: finite only for pure-DP compositions, where basic composition Σ ε_i is exact (KOV 2015, Thm 3.3 at δ = 0). */
function pureEpsilon(groups: readonly CountedEvent[]): number {
  let eps = 0;
  for (const { event: e, count } of groups) {
    switch (e.kind) {
      case 'laplace':
        eps += (count * e.sensitivity) / e.scale;
        break;
      case 'discrete-laplace':
        eps += (count * e.sensitivity) / e.scale;
        break;
      case 'randomized-response':
        eps += count * e.epsilon;
        break;
      case 'epsilon-delta':
        if (e.delta > 0) return Infinity;
        eps += count * e.epsilon;
        break;
      case 'zcdp':
        throw notSupportedZcdp();
      default:
        return Infinity;
    }
  }
  return eps;
}

/** Validates the options and applies dp_accounting's defaults. */
function resolveOptions(opts: PldAccountantOptions): { interval: number; tail: number } {
  const interval = requirePositive('valueDiscretizationInterval', opts.valueDiscretizationInterval ?? DEFAULT_VALUE_DISCRETIZATION_INTERVAL);
  const tail = requireNonNegative('tailMassTruncation', opts.tailMassTruncation ?? DEFAULT_TAIL_MASS_TRUNCATION);
  if (tail >= 1e-3) throw new DpError('InvalidParameter', `tailMassTruncation (${tail}) must be < 1e-3`);
  return { interval, tail };
}

/**
 * A PLD accountant (dp_accounting `PLDAccountant`, add-or-remove-one neighbours) with the given
 * value discretisation interval (default 1e-4) and total tail-mass truncation (default 1e-15).
 * Results are pessimistic: δ ≥ the true δ(ε), ε ≥ the true ε(δ). Gaussian-only compositions and
 * k-fold compositions of one discrete mechanism are evaluated exactly. The last few compositions
 * are cached, so scanning ε or δ for one event list is cheap.
 */
export function makePldAccountant(opts: PldAccountantOptions = {}): Accountant {
  const { interval, tail } = resolveOptions(opts);
  const cache = new Map<string, Profile>();
  const profile = (groups: readonly CountedEvent[]): Profile => {
    const key = JSON.stringify(groups);
    const hit = cache.get(key);
    if (hit) return hit;
    const p = profileOf(groups, interval, tail);
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(key, p);
    return p;
  };
  return {
    name: 'pld',
    epsilonAt(events: readonly DpEvent[], delta: number): number {
      requireDelta('delta', delta);
      const groups = flattenEvents(events);
      if (groups.length === 0) return 0;
      if (delta === 0) return pureEpsilon(groups);
      return profile(groups).epsilonAt(delta);
    },
    deltaAt(events: readonly DpEvent[], epsilon: number): number {
      requireNonNegative('epsilon', epsilon);
      const groups = flattenEvents(events);
      if (groups.length === 0) return 0;
      return profile(groups).deltaAt(epsilon);
    },
  };
}

/** The PLD accountant with dp_accounting's defaults (interval 1e-4, tail truncation 1e-15). */
export const pldAccountant: Accountant = makePldAccountant();
