// Discrete Gaussian mechanism N_Z(0, σ²): P(k) ∝ exp(−k²/(2σ²)) on the integers (Canonne, Kamath,
// Steinke 2020, "The Discrete Gaussian for Differential Privacy", CKS20 below). Integer L2
// sensitivity Δ; the release is (Δ²/(2σ²))-zCDP (CKS20 Thm 4) and its exact (ε, δ) curve is
// CKS20 Thm 7. The sampler is CKS20 Algorithm 3 with σ² as an exact rational and every random
// step an integer draw, so it is exact given uniform bits (with the simulation PRNG it is still
// simulation noise: a real release needs a cryptographic Rng).
//
// Design of privacyCost: like the Gaussian mechanism built from σ, a discrete Gaussian has no δ of
// its own, so the options take `delta` (default DISCRETE_GAUSSIAN_DEFAULT_DELTA = 1e-6, the same
// default as makeGaussian) and privacyCost is the tight ε at that δ from CKS20 Thm 7;
// `privacyCostAt(δ)` gives any other point of the curve and `rho` the zCDP parameter. Accountants
// ignore privacyCost: they consume `event()` ({ kind: 'discrete-gaussian', sigma, sensitivity }).

import { DpError, invalid, requireInteger, requireNonNegative, requireOpenUnit, requirePositive } from '../../errors';
import { erfcx, normalQuantile } from '../../math/special';
import type { Rng } from '../../rng';
import type { BigRational } from './discrete-laplace';
import { bernoulliExpBig, bernoulliExpSafe, discreteLaplaceExactSampler, doubleToRational, gcd, toBigIntParam } from './discrete-laplace';
import type { AdditiveMechanism, PrivacyCost } from './types';
import { DEFAULT_ALPHA } from './types';

/** δ at which privacyCost states ε when the options give none (as makeGaussian does). */
export const DISCRETE_GAUSSIAN_DEFAULT_DELTA = 1e-6;

/** Up to this σ tails are summed term by term; above it the Euler–Maclaurin formula is used. */
const DIRECT_SUM_MAX_SIGMA = 100;
/** Up to this σ an accuracy decision the Euler–Maclaurin bound cannot settle is settled by summation. */
const FALLBACK_SUM_MAX_SIGMA = 1e6;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
const TWO_PI_SQ = 2 * Math.PI * Math.PI;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_PI_OVER_2 = Math.sqrt(Math.PI / 2);
const RELATIVE_CUTOFF = 1e-17;

// ---------------------------------------------------------------------------------------------
// Exact sampler (CKS20 Algorithm 3)
// ---------------------------------------------------------------------------------------------

/** ⌊√v⌋ for a BigInt v >= 0 (Newton's method from a power of two above the root). */
function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt(Math.ceil(v.toString(2).length / 2));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * A sampler of N_Z(0, σ²) for rational σ² = numerator/denominator > 0 (CKS20 Algorithm 3):
 * t = ⌊σ⌋ + 1; repeat Y ~ Lap_Z(t) (Algorithm 2), accept with probability
 * exp(−(|Y| − σ²/t)²/(2σ²)) (Algorithm 1). With σ² = n/d the exponent is the rational
 * (|Y|·t·d − n)²/(2·n·d·t²), evaluated in safe integers when it fits and in BigInt otherwise.
 */
export function discreteGaussianExactSampler(sigma2: BigRational): (rng: Rng) => number {
  if (!(sigma2.numerator > 0n && sigma2.denominator > 0n)) {
    throw new DpError('InvalidParameter', `sigma2 (${sigma2.numerator}/${sigma2.denominator}) must be a rational > 0`);
  }
  const g = gcd(sigma2.numerator, sigma2.denominator);
  const n = sigma2.numerator / g;
  const d = sigma2.denominator / g;
  const t = isqrt(n / d) + 1n; // ⌊√(n/d)⌋ = ⌊√⌊n/d⌋⌋
  const laplace = discreteLaplaceExactSampler(t, 1n);
  const td = t * d;
  const den = 2n * n * d * t * t;
  const small = td <= MAX_SAFE_BIG && den <= MAX_SAFE_BIG; // then n <= den is safe too
  const tdNum = Number(td);
  const nNum = Number(n);
  const denNum = Number(den);
  return (rng: Rng): number => {
    for (;;) {
      const y = laplace(rng);
      const ay = Math.abs(y);
      if (small) {
        const prod = ay * tdNum;
        if (prod <= MAX_SAFE) {
          const diff = prod - nNum;
          const num = diff * diff;
          if (num <= MAX_SAFE) {
            if (bernoulliExpSafe(rng, num, denNum)) return y;
            continue;
          }
        }
      }
      const diff = BigInt(ay) * td - n;
      if (bernoulliExpBig(rng, diff * diff, den)) return y;
    }
  };
}

/**
 * One exact draw of N_Z(0, σ²) with rational variance parameter σ² = numerator/denominator
 * (CKS20 Algorithm 3). For many draws build the sampler once with discreteGaussianExactSampler.
 */
export function sampleDiscreteGaussianExact(rng: Rng, sigma2Numerator: number | bigint, sigma2Denominator: number | bigint = 1): number {
  const n = toBigIntParam('sigma2Numerator', sigma2Numerator, 1n);
  const d = toBigIntParam('sigma2Denominator', sigma2Denominator, 1n);
  return discreteGaussianExactSampler({ numerator: n, denominator: d })(rng);
}

/** The exact rational square of the double σ (σ = m/2^k is dyadic, so σ² = m²/4^k). */
export function sigmaSquaredRational(sigma: number): BigRational {
  requirePositive('sigma', sigma);
  const r = doubleToRational(sigma);
  return { numerator: r.numerator * r.numerator, denominator: r.denominator * r.denominator };
}

// ---------------------------------------------------------------------------------------------
// Normaliser, pmf, variance and tails
// ---------------------------------------------------------------------------------------------

/**
 * ln Σ_{k∈Z} e^{−k²/(2σ²)}. For σ >= 1 by Poisson summation (the Jacobi theta identity
 * Σ_k e^{−k²/(2σ²)} = √(2π)·σ·Σ_j e^{−2π²σ²j²}, whose j ≠ 0 terms are < 3e-9 there), below by
 * direct summation.
 */
function logNormalizer(sigma: number): number {
  if (sigma >= 1) {
    let s = 0;
    for (let j = 1; ; j++) {
      const w = Math.exp(-TWO_PI_SQ * sigma * sigma * j * j);
      s += w;
      if (w <= RELATIVE_CUTOFF) break;
    }
    return LN_SQRT_2PI + Math.log(sigma) + Math.log1p(2 * s);
  }
  const s2 = 2 * sigma * sigma;
  let s = 1;
  for (let k = 1; ; k++) {
    const w = Math.exp((-k * k) / s2);
    s += 2 * w;
    if (w <= RELATIVE_CUTOFF * s) break;
  }
  return Math.log(s);
}

/** P(Z = k) = e^{−k²/(2σ²)} / Σ_j e^{−j²/(2σ²)} (CKS20 Def. 1); 0 off the integers. */
export function discreteGaussianPmf(k: number, sigma: number): number {
  requirePositive('sigma', sigma);
  if (!Number.isInteger(k)) return 0;
  return Math.exp((-k * k) / (2 * sigma * sigma) - logNormalizer(sigma));
}

/**
 * Var(Z) = E[Z²] = Σ k²·P(k), which is < σ² (CKS20 Prop. 19). For σ >= 1 in closed form from the
 * derivative of the theta identity: σ² − 4π²σ⁴·Σ_j j² e^{−2π²σ²j²} / Σ_j e^{−2π²σ²j²};
 * below by direct summation of the pmf.
 */
export function discreteGaussianVariance(sigma: number): number {
  requirePositive('sigma', sigma);
  const s = sigma * sigma;
  if (sigma >= 1) {
    let num = 0;
    let den = 1;
    for (let j = 1; ; j++) {
      const w = Math.exp(-TWO_PI_SQ * s * j * j);
      num += 2 * j * j * w;
      den += 2 * w;
      if (w <= RELATIVE_CUTOFF) break;
    }
    return s - 4 * Math.PI * Math.PI * s * s * (num / den);
  }
  let num = 0;
  let den = 1;
  for (let k = 1; ; k++) {
    const w = Math.exp((-k * k) / (2 * s));
    num += 2 * k * k * w;
    den += 2 * w;
    if (w <= RELATIVE_CUTOFF * den) break;
  }
  return num / den;
}

/** ln Σ_{k>=m} e^{−k²/(2σ²)} for an integer m >= 0, summed from the largest term down to 1e-17 relative. */
function logUpperSumDirect(m: number, sigma: number): number {
  const s2 = 2 * sigma * sigma;
  let s = 0;
  for (let j = 0; ; j++) {
    const w = Math.exp(-(2 * m * j + j * j) / s2);
    s += w;
    if (w <= RELATIVE_CUTOFF * s) break;
  }
  return (-m * m) / s2 + Math.log(s);
}

interface LogBounds {
  readonly est: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * ln Σ_{k>=m} f(k), f(x) = e^{−x²/(2σ²)}, m >= 0, by the Euler–Maclaurin formula to the third
 * derivative: Σ = ∫_m^∞ f + f(m)/2 − f′(m)/12 + f‴(m)/720 + R with |R| <= (2ζ(4)/(2π)⁴)·∫_m^∞|f⁗|
 * = (1/720)·TV(f‴ on [m, ∞)) (Apostol 1999, "An elementary view of Euler's summation formula",
 * Amer. Math. Monthly 106). f‴ ∝ x(3σ² − x²)f is monotone between the zeros of f⁗ at
 * x = σ√(3 ∓ √6), so its total variation is exact from its values there. ∫_m^∞ f = σ√(π/2)·erfc(m/(σ√2)).
 * Returns the estimate and proven lower and upper bounds (all as logarithms).
 */
function logUpperSumEulerMaclaurin(m: number, sigma: number): LogBounds {
  const s2 = sigma * sigma;
  const x = m / (sigma * Math.SQRT2);
  const x2 = x * x;
  // Everything below is divided by f(m) = e^{−x²}; g3(p) = f‴(p)/f(m).
  const g3 = (p: number): number => ((-p * p * p) / (s2 * s2 * s2) + (3 * p) / (s2 * s2)) * Math.exp(x2 - (p * p) / (2 * s2));
  const base = sigma * SQRT_PI_OVER_2 * erfcx(x) + 0.5 + m / (12 * s2) + g3(m) / 720;
  let variation = 0;
  let prev = g3(m);
  for (const c of [sigma * Math.sqrt(3 - Math.sqrt(6)), sigma * Math.sqrt(3 + Math.sqrt(6))]) {
    if (c > m) {
      const v = g3(c);
      variation += Math.abs(v - prev);
      prev = v;
    }
  }
  variation += Math.abs(prev); // f‴ → 0 at infinity
  const r = variation / 720;
  return {
    est: -x2 + Math.log(base),
    lo: base > r ? -x2 + Math.log(base - r) : -Infinity,
    hi: -x2 + Math.log(base + r),
  };
}

/** ln Σ_{k>=m} e^{−k²/(2σ²)} (m >= 0): exact summation for σ <= 100, Euler–Maclaurin above. */
function logUpperSum(m: number, sigma: number): number {
  return sigma <= DIRECT_SUM_MAX_SIGMA ? logUpperSumDirect(m, sigma) : logUpperSumEulerMaclaurin(m, sigma).est;
}

/** Bounds on ln P(Z >= m) for an integer m >= 1. */
function logTailBounds(m: number, sigma: number, logZ: number): LogBounds {
  if (sigma <= DIRECT_SUM_MAX_SIGMA) {
    const v = logUpperSumDirect(m, sigma) - logZ;
    return { est: v, lo: v, hi: v };
  }
  const b = logUpperSumEulerMaclaurin(m, sigma);
  return { est: b.est - logZ, lo: b.lo - logZ, hi: b.hi - logZ };
}

/**
 * P(Z >= t) for Z ~ N_Z(0, σ²): summed for σ <= 100, by Euler–Maclaurin above (remainder
 * O((m/σ²)⁴) relative, below 1e-12 for σ > 100); by symmetry for t <= 0.
 */
export function discreteGaussianTail(t: number, sigma: number): number {
  requirePositive('sigma', sigma);
  if (Number.isNaN(t)) throw invalid('t', t, 'must be a number');
  const m = Math.ceil(t);
  const logZ = logNormalizer(sigma);
  if (m >= 1) return Math.exp(logUpperSum(m, sigma) - logZ);
  return 1 - Math.exp(logUpperSum(1 - m, sigma) - logZ);
}

/** P(|Z| >= t) = 2·P(Z >= t) for t >= 1, and 1 for t <= 0. */
export function discreteGaussianAbsTail(t: number, sigma: number): number {
  if (Math.ceil(t) <= 0) return 1;
  return Math.min(1, 2 * discreteGaussianTail(t, sigma));
}

// ---------------------------------------------------------------------------------------------
// Accuracy
// ---------------------------------------------------------------------------------------------

/**
 * Whether P(|Z| > a) <= α is certain: exact for σ <= 100; for larger σ the Euler–Maclaurin bounds
 * decide, and where they straddle α, direct summation does (σ <= 1e6) or the answer is "no", so
 * the accuracy returned is never too small.
 */
function tailAtMost(a: number, sigma: number, logAlpha: number, logZ: number): boolean {
  const b = logTailBounds(a + 1, sigma, logZ);
  if (Math.LN2 + b.hi <= logAlpha) return true;
  if (Math.LN2 + b.lo > logAlpha) return false;
  if (sigma <= FALLBACK_SUM_MAX_SIGMA) return Math.LN2 + logUpperSumDirect(a + 1, sigma) - logZ <= logAlpha;
  return false;
}

/**
 * Smallest integer a >= 0 with P(|Z| > a) <= α for Z ~ N_Z(0, σ²), from the normalised pmf
 * (CKS20 Def. 1): by summation for σ <= 100, above by Euler–Maclaurin with a proven remainder
 * bound (ties within the bound settled by summation up to σ = 1e6, conservatively beyond).
 */
export function discreteGaussianSigmaToAccuracy(sigma: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('sigma', sigma);
  requireOpenUnit('alpha', alpha);
  const logAlpha = Math.log(alpha);
  const logZ = logNormalizer(sigma);
  if (tailAtMost(0, sigma, logAlpha, logZ)) return 0;
  // Normal approximation as the first guess, then an exact bracket and binary search on integers.
  let hi = Math.max(1, Math.ceil(-sigma * normalQuantile(alpha / 2)));
  let lo = 0; // tailAtMost(lo) is false
  while (!tailAtMost(hi, sigma, logAlpha, logZ)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) throw new DpError('NumericalFailure', `discrete Gaussian accuracy of sigma ${sigma} at alpha ${alpha} did not converge`);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (tailAtMost(mid, sigma, logAlpha, logZ)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The largest σ whose (1−α) half-width is at most ⌊accuracy⌋, by bisection on σ (the tail
 * P(|Z| > a) increases with σ), so discreteGaussianSigmaToAccuracy(result, α) = ⌊accuracy⌋.
 */
export function accuracyToDiscreteGaussianSigma(accuracy: number, alpha = DEFAULT_ALPHA): number {
  requireNonNegative('accuracy', accuracy);
  requireOpenUnit('alpha', alpha);
  const a = Math.floor(accuracy);
  const ok = (s: number): boolean => discreteGaussianSigmaToAccuracy(s, alpha) <= a;
  const guess = (a + 1) / -normalQuantile(alpha / 2);
  let lo = guess / 2;
  let hi = guess * 2;
  while (!ok(lo)) lo /= 2;
  while (ok(hi)) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi || (hi - lo) / hi < 1e-14) break;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Privacy
// ---------------------------------------------------------------------------------------------

/** Bounds on P(Z >= m) for any integer m (complement for m <= 0). */
function tailBounds(m: number, sigma: number, logZ: number): { lo: number; hi: number; logLo: number } {
  if (m >= 1) {
    const b = logTailBounds(m, sigma, logZ);
    return { lo: Math.exp(b.lo), hi: Math.exp(b.hi), logLo: b.lo };
  }
  const b = logTailBounds(1 - m, sigma, logZ);
  const lo = 1 - Math.exp(b.hi);
  return { lo, hi: 1 - Math.exp(b.lo), logLo: Math.log(lo) };
}

/**
 * δ(ε) of the discrete Gaussian with integer sensitivity Δ (CKS20 Thm 7, tight):
 * δ = P[Z > εσ²/Δ − Δ/2] − e^ε·P[Z > εσ²/Δ + Δ/2]. Computed as an upper bound (upper bound of
 * the first tail, lower bound of the second), so it is safe to state.
 */
export function discreteGaussianDeltaForEpsilon(sigma: number, epsilon: number, sensitivity = 1): number {
  requirePositive('sigma', sigma);
  requireNonNegative('epsilon', epsilon);
  requireInteger('sensitivity', sensitivity, 1);
  const logZ = logNormalizer(sigma);
  const c = (epsilon * sigma * sigma) / sensitivity;
  const first = tailBounds(Math.floor(c - sensitivity / 2) + 1, sigma, logZ);
  const second = tailBounds(Math.floor(c + sensitivity / 2) + 1, sigma, logZ);
  return Math.min(1, Math.max(0, first.hi - Math.exp(epsilon + second.logLo)));
}

/** Smallest ε with δ(ε) <= δ for the discrete Gaussian (CKS20 Thm 7), by bisection on ε. */
export function discreteGaussianEpsilonForDelta(sigma: number, delta: number, sensitivity = 1): number {
  requirePositive('sigma', sigma);
  requireOpenUnit('delta', delta);
  requireInteger('sensitivity', sensitivity, 1);
  const ok = (e: number): boolean => discreteGaussianDeltaForEpsilon(sigma, e, sensitivity) <= delta;
  if (ok(0)) return 0;
  const rho = (sensitivity * sensitivity) / (2 * sigma * sigma);
  let lo = 0;
  let hi = rho + 2 * Math.sqrt(rho * Math.log(1 / delta)); // Bun & Steinke 2016 Prop. 1.3: ε here is enough
  while (!ok(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) throw new DpError('NumericalFailure', `epsilon of the discrete Gaussian (sigma ${sigma}) at delta ${delta} did not converge`);
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi || hi - lo <= 1e-13 * hi) break;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------
// Mechanism
// ---------------------------------------------------------------------------------------------

export interface DiscreteGaussianOptions {
  /** Integer L2 sensitivity Δ. */
  sensitivity: number;
  /** σ of N_Z(0, σ²); the sampler uses the exact square of this double. */
  sigma: number;
  /** δ at which privacyCost states ε (default 1e-6). */
  delta?: number;
}

export interface DiscreteGaussianMechanism extends AdditiveMechanism {
  readonly kind: 'discrete-gaussian';
  readonly sigma: number;
  /** zCDP parameter ρ = Δ²/(2σ²) (CKS20 Thm 4). */
  readonly rho: number;
  /** The tight (ε, δ) at a chosen δ (CKS20 Thm 7). */
  privacyCostAt(delta: number): PrivacyCost;
  /** P(noise = k). */
  pmf(k: number): number;
  /** P(noise >= t). */
  tail(t: number): number;
}

/**
 * Validated discrete Gaussian mechanism (CKS20). `sample` is the exact sampler (Algorithm 3);
 * `variance`/`std` are the exact moments of N_Z(0, σ²), slightly below σ².
 */
export function makeDiscreteGaussian(opts: DiscreteGaussianOptions): DiscreteGaussianMechanism {
  if (typeof opts !== 'object' || opts === null) throw new DpError('InvalidParameter', 'options must be an object');
  const sensitivity = requireInteger('sensitivity', opts.sensitivity, 1);
  const sigma = requirePositive('sigma', opts.sigma);
  const delta = opts.delta === undefined ? DISCRETE_GAUSSIAN_DEFAULT_DELTA : requireOpenUnit('delta', opts.delta);
  const variance = discreteGaussianVariance(sigma);
  const rho = (sensitivity * sensitivity) / (2 * sigma * sigma);
  const sampler = discreteGaussianExactSampler(sigmaSquaredRational(sigma));
  let cost: PrivacyCost | undefined;
  const privacyCostAt = (d: number): PrivacyCost =>
    Object.freeze({ epsilon: discreteGaussianEpsilonForDelta(sigma, d, sensitivity), delta: d });
  const mech: DiscreteGaussianMechanism = {
    kind: 'discrete-gaussian',
    sensitivity,
    scale: sigma,
    sigma,
    rho,
    std: Math.sqrt(variance),
    variance,
    // Computed on first read (a bisection on CKS20 Thm 7, up to ~1 ms), so sweeps that build many
    // mechanisms only to sample or read accuracy do not pay for it.
    get privacyCost(): PrivacyCost {
      cost ??= privacyCostAt(delta);
      return cost;
    },
    privacyCostAt: (d: number) => privacyCostAt(requireOpenUnit('delta', d)),
    sample: sampler,
    pmf: (k: number) => discreteGaussianPmf(k, sigma),
    tail: (t: number) => discreteGaussianTail(t, sigma),
    accuracy: (alpha = DEFAULT_ALPHA) => discreteGaussianSigmaToAccuracy(sigma, alpha),
    event: (count = 1) => ({ kind: 'discrete-gaussian', sigma, sensitivity, count }),
  };
  return Object.freeze(mech);
}

/** Smallest σ (to 1e-9 relative) with δ(ε) <= δ by CKS20 Thm 7: σ calibrated to a target (ε, δ). */
export function discreteGaussianSigmaForPrivacy(epsilon: number, delta: number, sensitivity = 1): number {
  requirePositive('epsilon', epsilon);
  requireOpenUnit('delta', delta);
  requireInteger('sensitivity', sensitivity, 1);
  const ok = (sigma: number): boolean => discreteGaussianDeltaForEpsilon(sigma, epsilon, sensitivity) <= delta;
  let hi = sensitivity;
  for (let guard = 0; !ok(hi); guard++) {
    hi *= 2;
    if (guard > 60) throw new DpError('NumericalFailure', `no discrete Gaussian sigma meets epsilon ${epsilon}, delta ${delta}`);
  }
  let lo = hi / 2;
  while (lo > 1e-3 && ok(lo)) {
    hi = lo;
    lo /= 2;
  }
  while ((hi - lo) / hi > 1e-9) {
    const mid = 0.5 * (lo + hi);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** A discrete Gaussian mechanism calibrated to (ε, δ); its privacyCost is the ε it achieves at δ. */
export function makeDiscreteGaussianForPrivacy(opts: { sensitivity: number; epsilon: number; delta: number }): DiscreteGaussianMechanism {
  const sigma = discreteGaussianSigmaForPrivacy(opts.epsilon, opts.delta, opts.sensitivity);
  return makeDiscreteGaussian({ sensitivity: opts.sensitivity, sigma, delta: opts.delta });
}
