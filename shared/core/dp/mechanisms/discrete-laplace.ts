// Discrete Laplace (two-sided geometric) mechanism (Ghosh, Roughgarden, Sundararajan 2009;
// Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy", §5):
// P(Z = k) = (1−p)/(1+p)·p^|k| with p = e^{−1/t}, scale t = Δ₁/ε, for integer sensitivity Δ₁.
// Two samplers: a fast float one for Monte-Carlo (`sample`), and the exact CKS20 sampler
// (`sampleDiscreteLaplaceExact`, `sampleExact`) that uses integer uniform draws only. The exact
// integer primitives (uniform below n, Bernoulli(exp(−γ))) live here and the discrete Gaussian
// reuses them.

import { DpError, invalid, requireInteger, requireNonNegative, requireOpenUnit, requirePositive } from '../../errors';
import type { Rng } from '../../rng';
import type { AdditiveMechanism } from './types';
import { DEFAULT_ALPHA } from './types';
import { epsilonOrScale } from './laplace';

const TWO32 = 0x100000000;
const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 − 1
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
const TWO53_BIG = 1n << 53n;

// ---------------------------------------------------------------------------------------------
// Exact rationals and integer randomness
// ---------------------------------------------------------------------------------------------

/** A non-negative rational numerator/denominator with BigInt parts. */
export interface BigRational {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * The exact value of a finite double as a reduced rational (every IEEE 754 double is a dyadic
 * rational m/2^k, IEEE 754-2008 §3.4). Doubling is exact, so the loop ends with the odd numerator.
 */
export function doubleToRational(x: number): BigRational {
  if (!Number.isFinite(x)) throw invalid('value', x, 'must be a finite number');
  let v = Math.abs(x);
  let den = 1n;
  while (!Number.isInteger(v)) {
    v *= 2;
    den *= 2n;
  }
  const num = BigInt(v);
  return { numerator: x < 0 ? -num : num, denominator: den };
}

/** Greatest common divisor of non-negative BigInts (Euclid). */
export function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/** Uniform integer in [0, n) for an integer 1 <= n <= 2^53, exact given uniform 32-bit draws. */
function uniformBelowSafe(rng: Rng, n: number): number {
  if (n <= TWO32) return rng.nextBelow(n); // 32-bit rejection: exact
  // Rejection on ceil(log2 n) bits counted exactly (Math.log2 rounds near powers of two).
  const hiMax = Math.floor((n - 1) / TWO32);
  const shift = Math.clz32(hiMax);
  for (;;) {
    const hi = rng.nextUint32() >>> shift;
    if (hi > hiMax) continue;
    const x = hi * TWO32 + rng.nextUint32();
    if (x < n) return x;
  }
}

/** Uniform BigInt in [0, n) for n >= 1 by rejection on whole 32-bit words. */
function uniformBelowBig(rng: Rng, n: bigint): bigint {
  if (n <= TWO53_BIG) return BigInt(uniformBelowSafe(rng, Number(n)));
  const bits = bitLength(n - 1n);
  const words = Math.ceil(bits / 32);
  const topShift = 32 * words - bits;
  for (;;) {
    let x = BigInt(rng.nextUint32() >>> topShift);
    for (let i = 1; i < words; i++) x = (x << 32n) | BigInt(rng.nextUint32());
    if (x < n) return x;
  }
}

/** Bernoulli(exp(−n/d)) for 0 <= n <= d, BigInt form of CKS20 Algorithm 1 (case γ <= 1), from K = k0. */
function bernoulliExpUnitBig(rng: Rng, n: bigint, d: bigint, k0: number): boolean {
  let k = k0;
  // A_K ~ Bernoulli(γ/K); stop at the first A_K = 0; return 1 iff K is odd.
  while (uniformBelowBig(rng, d * BigInt(k)) < n) k++;
  return (k & 1) === 1;
}

/** Bernoulli(exp(−n/d)) for safe integers 0 <= n <= d (CKS20 Algorithm 1, case γ in [0, 1]). */
function bernoulliExpUnit(rng: Rng, n: number, d: number): boolean {
  if (n === 0) return true;
  let k = 1;
  for (;;) {
    const dk = d * k;
    if (dk > MAX_SAFE) return bernoulliExpUnitBig(rng, BigInt(n), BigInt(d), k);
    if (uniformBelowSafe(rng, dk) >= n) break;
    k++;
  }
  return (k & 1) === 1;
}

/** Bernoulli(exp(−1)): CKS20 Algorithm 1 with γ = 1 (the K = 1 draw always succeeds). */
function bernoulliExpMinusOne(rng: Rng): boolean {
  let k = 2;
  while (rng.nextBelow(k) === 0) k++;
  return (k & 1) === 1;
}

/** Bernoulli(exp(−n/d)) for safe integers n >= 0, d >= 1 (CKS20 Algorithm 1, any γ); a building block of the discrete Gaussian. */
export function bernoulliExpSafe(rng: Rng, n: number, d: number): boolean {
  const r = n % d;
  const whole = (n - r) / d;
  for (let i = 0; i < whole; i++) if (!bernoulliExpMinusOne(rng)) return false;
  return bernoulliExpUnit(rng, r, d);
}

/** Bernoulli(exp(−n/d)) for BigInt n >= 0, d >= 1 (CKS20 Algorithm 1, any γ); a building block of the discrete Gaussian. */
export function bernoulliExpBig(rng: Rng, n: bigint, d: bigint): boolean {
  const whole = n / d;
  // γ > 1: floor(γ) independent Bernoulli(exp(−1)) trials, then the fractional part.
  for (let i = 0n; i < whole; i++) if (!bernoulliExpMinusOne(rng)) return false;
  const r = n - whole * d;
  if (d <= MAX_SAFE_BIG) return bernoulliExpUnit(rng, Number(r), Number(d));
  return r === 0n ? true : bernoulliExpUnitBig(rng, r, d, 1);
}

/** An integer parameter as a BigInt (validated; messages name the value). */
export function toBigIntParam(name: string, v: unknown, min: bigint): bigint {
  if (typeof v === 'bigint') {
    if (v < min) throw new DpError('InvalidParameter', `${name} (${v}) must be an integer >= ${min}`);
    return v;
  }
  return BigInt(requireInteger(name, v, Number(min)));
}

/**
 * Bernoulli(exp(−γ)) for rational γ = numerator/denominator >= 0, exact given uniform integer
 * draws (Canonne, Kamath, Steinke 2020, Algorithm 1).
 */
export function sampleBernoulliExp(rng: Rng, numerator: number | bigint, denominator: number | bigint = 1): boolean {
  const n = toBigIntParam('numerator', numerator, 0n);
  const d = toBigIntParam('denominator', denominator, 1n);
  return bernoulliExpBig(rng, n, d);
}

// ---------------------------------------------------------------------------------------------
// Exact discrete Laplace sampler (CKS20 Algorithm 2)
// ---------------------------------------------------------------------------------------------

/** CKS20 Algorithm 2 for scale t/s with t <= 2^32, s <= 2^53 − 1 (every intermediate is a safe integer). */
function discreteLaplaceExactSmall(rng: Rng, t: number, s: number): number {
  for (;;) {
    const u = t === 1 ? 0 : rng.nextBelow(t);
    if (!bernoulliExpUnit(rng, u, t)) continue; // D ~ Bernoulli(exp(−U/t))
    let v = 0;
    while (bernoulliExpMinusOne(rng)) v++; // V ~ Geometric(1 − e^{−1})
    const x = u + t * v; // X ~ Geometric(1 − e^{−1/t})
    if (x > MAX_SAFE) return discreteLaplaceExactBig(rng, BigInt(t), BigInt(s)); // needs v > 2^21: never in practice
    const y = (x - (x % s)) / s; // floor(X/s), exact
    const negative = (rng.nextUint32() & 1) === 1; // B ~ Bernoulli(1/2)
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/** CKS20 Algorithm 2 with BigInt t, s. */
function discreteLaplaceExactBig(rng: Rng, t: bigint, s: bigint): number {
  for (;;) {
    const u = uniformBelowBig(rng, t);
    if (!(t <= MAX_SAFE_BIG ? bernoulliExpUnit(rng, Number(u), Number(t)) : u === 0n || bernoulliExpUnitBig(rng, u, t, 1))) continue;
    let v = 0n;
    while (bernoulliExpMinusOne(rng)) v++;
    const y = (u + t * v) / s;
    const negative = (rng.nextUint32() & 1) === 1;
    if (negative && y === 0n) continue;
    const out = Number(y); // exact while |y| <= 2^53
    return negative ? -out : out;
  }
}

/** A sampler of Lap_Z(t/s) for positive integers t, s (fraction reduced once). */
export function discreteLaplaceExactSampler(numerator: bigint, denominator: bigint): (rng: Rng) => number {
  const g = gcd(numerator, denominator);
  const t = numerator / g;
  const s = denominator / g;
  if (t <= BigInt(TWO32) && s <= MAX_SAFE_BIG) {
    const tn = Number(t);
    const sn = Number(s);
    return (rng) => discreteLaplaceExactSmall(rng, tn, sn);
  }
  return (rng) => discreteLaplaceExactBig(rng, t, s);
}

/**
 * One exact draw of the discrete Laplace with rational scale t = numerator/denominator
 * (P(k) ∝ e^{−|k|/t}), Canonne, Kamath, Steinke 2020, Algorithm 2, using only integer uniform
 * draws and Bernoulli(exp(−γ)) (their Algorithm 1). Exact given uniform bits; with the
 * simulation PRNG it is still *not* a release-grade sampler (use a cryptographic Rng for that).
 */
export function sampleDiscreteLaplaceExact(rng: Rng, numerator: number | bigint, denominator: number | bigint = 1): number {
  const t = toBigIntParam('numerator', numerator, 1n);
  const s = toBigIntParam('denominator', denominator, 1n);
  if (t <= BigInt(TWO32) && s <= MAX_SAFE_BIG) return discreteLaplaceExactSmall(rng, Number(t), Number(s));
  return discreteLaplaceExactBig(rng, t, s);
}

// ---------------------------------------------------------------------------------------------
// Distribution functions and accuracy
// ---------------------------------------------------------------------------------------------

/** P(Z = k) = (1−p)/(1+p)·p^|k|, p = e^{−1/t} (Ghosh, Roughgarden, Sundararajan 2009); 0 off the integers. */
export function discreteLaplacePmf(k: number, scale: number): number {
  requirePositive('scale', scale);
  if (!Number.isInteger(k)) return 0;
  const p = Math.exp(-1 / scale);
  return (-Math.expm1(-1 / scale) / (1 + p)) * Math.exp(-Math.abs(k) / scale);
}

/** P(Z >= t) for the discrete Laplace with scale `scale`: p^⌈t⌉/(1+p) for t >= 1, by symmetry below (CKS20 §5). */
export function discreteLaplaceTail(t: number, scale: number): number {
  requirePositive('scale', scale);
  if (Number.isNaN(t)) throw invalid('t', t, 'must be a number');
  const m = Math.ceil(t);
  const p = Math.exp(-1 / scale);
  if (m >= 1) return Math.exp(-m / scale) / (1 + p);
  return 1 - Math.exp(-(1 - m) / scale) / (1 + p);
}

/** P(|Z| >= t) = 2p^⌈t⌉/(1+p) for t >= 1, and 1 for t <= 0. */
export function discreteLaplaceAbsTail(t: number, scale: number): number {
  requirePositive('scale', scale);
  const m = Math.ceil(t);
  if (m <= 0) return 1;
  return (2 * Math.exp(-m / scale)) / (1 + Math.exp(-1 / scale));
}

/** ln P(|Z| > a) = ln 2 − (a+1)/t − ln(1+p) for integer a >= 0. */
function logAbsTailAbove(a: number, scale: number): number {
  return Math.LN2 - (a + 1) / scale - Math.log1p(Math.exp(-1 / scale));
}

/**
 * Smallest integer a >= 0 with P(|Z| > a) <= α (the (1−α) half-width of the noise). In closed
 * form a = ⌈t·(ln(2/α) − ln(1+p))⌉ − 1, the integer version of OpenDP's
 * `discrete_laplacian_scale_to_accuracy`; checked against the tail to guard against rounding.
 */
export function discreteLaplaceScaleToAccuracy(scale: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('scale', scale);
  requireOpenUnit('alpha', alpha);
  const logAlpha = Math.log(alpha);
  const x = scale * (Math.log(2 / alpha) - Math.log1p(Math.exp(-1 / scale)));
  let a = Math.max(0, Math.ceil(x) - 1);
  while (logAbsTailAbove(a, scale) > logAlpha) a++;
  while (a > 0 && logAbsTailAbove(a - 1, scale) <= logAlpha) a--;
  return a;
}

/**
 * The largest scale t whose (1−α) half-width is at most ⌊accuracy⌋ (so
 * discreteLaplaceScaleToAccuracy(accuracyToDiscreteLaplaceScale(a, α), α) = a for integers a),
 * by bisection on the closed-form tail 2p^{a+1}/(1+p) (CKS20 §5).
 */
export function accuracyToDiscreteLaplaceScale(accuracy: number, alpha = DEFAULT_ALPHA): number {
  requireNonNegative('accuracy', accuracy);
  requireOpenUnit('alpha', alpha);
  const a = Math.floor(accuracy);
  const ok = (t: number): boolean => discreteLaplaceScaleToAccuracy(t, alpha) <= a;
  const guess = (a + 1) / Math.log(2 / alpha);
  let lo = guess / 2;
  let hi = guess * 4;
  while (!ok(lo)) lo /= 2;
  while (ok(hi)) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Smallest ε for which a discrete Laplace release of integer sensitivity Δ₁ has (1−α) half-width
 * at most ⌊accuracy⌋: ε = Δ₁/t with t from accuracyToDiscreteLaplaceScale.
 */
export function discreteLaplaceAccuracyToEpsilon(accuracy: number, sensitivity: number, alpha = DEFAULT_ALPHA): number {
  requireInteger('sensitivity', sensitivity, 1);
  const scale = accuracyToDiscreteLaplaceScale(accuracy, alpha);
  const a = Math.floor(accuracy);
  let eps = sensitivity / scale;
  // Δ/(Δ/t) may round to just below the boundary; step up by ulps until the round trip holds.
  for (let i = 0; i < 64 && discreteLaplaceScaleToAccuracy(sensitivity / eps, alpha) > a; i++) {
    eps += Math.max(Number.MIN_VALUE, eps * Number.EPSILON);
  }
  return eps;
}

/** Variance 2p/(1−p)² of the discrete Laplace with scale t (p = e^{−1/t}). */
export function discreteLaplaceVariance(scale: number): number {
  requirePositive('scale', scale);
  const p = Math.exp(-1 / scale);
  const oneMinusP = -Math.expm1(-1 / scale);
  return (2 * p) / (oneMinusP * oneMinusP);
}

// ---------------------------------------------------------------------------------------------
// Mechanism
// ---------------------------------------------------------------------------------------------

export interface DiscreteLaplaceOptions {
  /** Integer L1 sensitivity Δ₁. */
  sensitivity: number;
  /** Give ε (then t = Δ₁/ε) or the scale t directly. */
  epsilon?: number;
  scale?: number;
}

export interface DiscreteLaplaceMechanism extends AdditiveMechanism {
  readonly kind: 'discrete-laplace';
  readonly epsilon: number;
  /** p = e^{−1/t}. */
  readonly p: number;
  /** P(noise = k). */
  pmf(k: number): number;
  /** P(noise >= t). */
  tail(t: number): number;
  /**
   * Exact draw (CKS20 Algorithm 2) with the scale taken as an exact rational: Δ₁/ε for the exact
   * binary value of ε when built from ε, else the exact value of the given scale.
   */
  sampleExact(rng: Rng): number;
}

/**
 * Fast float sampler: the difference of two Geometric(1 − p) draws, each by inverse CDF
 * ⌊−t·ln U⌋ (P(⌊−t ln U⌋ >= k) = e^{−k/t} = p^k). Float-based and for simulation only: its
 * distribution is correct up to double rounding, which is what Mironov 2012 shows can leak.
 */
export function discreteLaplaceFromUniforms(u1: number, u2: number, scale: number): number {
  return Math.floor(-scale * Math.log(u1)) - Math.floor(-scale * Math.log(u2));
}

/** Validated discrete Laplace mechanism (two-sided geometric, Ghosh, Roughgarden, Sundararajan 2009). */
export function makeDiscreteLaplace(opts: DiscreteLaplaceOptions): DiscreteLaplaceMechanism {
  if (typeof opts !== 'object' || opts === null) throw new DpError('InvalidParameter', 'options must be an object');
  const sensitivity = requireInteger('sensitivity', opts.sensitivity, 1);
  const { scale, epsilon } = epsilonOrScale(sensitivity, opts);
  if (!Number.isFinite(scale) || !(scale > 0)) throw invalid('scale', scale, 'must be a finite number > 0');
  const p = Math.exp(-1 / scale);
  const variance = discreteLaplaceVariance(scale);
  let exact: ((rng: Rng) => number) | undefined;
  const exactSampler = (): ((rng: Rng) => number) => {
    if (!exact) {
      if (opts.scale !== undefined) {
        const r = doubleToRational(scale);
        exact = discreteLaplaceExactSampler(r.numerator, r.denominator);
      } else {
        const e = doubleToRational(epsilon);
        exact = discreteLaplaceExactSampler(BigInt(sensitivity) * e.denominator, e.numerator);
      }
    }
    return exact;
  };
  const mech: DiscreteLaplaceMechanism = {
    kind: 'discrete-laplace',
    sensitivity,
    scale,
    epsilon,
    p,
    std: Math.sqrt(variance),
    variance,
    privacyCost: Object.freeze({ epsilon, delta: 0 }),
    sample: (rng: Rng) => discreteLaplaceFromUniforms(rng.nextDouble(), rng.nextDouble(), scale),
    sampleExact: (rng: Rng) => exactSampler()(rng),
    pmf: (k: number) => discreteLaplacePmf(k, scale),
    tail: (t: number) => discreteLaplaceTail(t, scale),
    accuracy: (alpha = DEFAULT_ALPHA) => discreteLaplaceScaleToAccuracy(scale, alpha),
    event: (count = 1) => ({ kind: 'discrete-laplace', scale, sensitivity, count }),
  };
  return Object.freeze(mech);
}
