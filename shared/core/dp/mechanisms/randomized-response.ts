// k-ary randomized response for local DP (Warner 1965; Kairouz, Oh, Viswanath 2014, "Extremal
// mechanisms for local differential privacy"): each user reports their value with probability
// p = e^ε/(e^ε+k−1) and each other value with probability q = 1/(e^ε+k−1), which is ε-LDP.
// Estimator and variance are those of Wang, Blocki, Li, Jha 2017, "Locally Differentially Private
// Protocols for Frequency Estimation", §4 (Direct Encoding). Responses use the simulation PRNG.

import { DpError, invalid, requireInteger, requireOpenUnit, requirePositive } from '../../errors';
import { normalQuantile } from '../../math/special';
import type { Rng } from '../../rng';
import type { DpEvent } from '../accounting/events';
import type { PrivacyCost } from './types';
import { DEFAULT_ALPHA } from './types';

export interface RandomizedResponseOptions {
  /** Local privacy parameter ε > 0. */
  epsilon: number;
  /** Number of categories k >= 2; values are 0 .. k−1. */
  categories: number;
}

export interface RandomizedResponse {
  readonly kind: 'randomized-response';
  readonly epsilon: number;
  readonly categories: number;
  /** P(report = true value) = e^ε/(e^ε+k−1). */
  readonly p: number;
  /** P(report = a given other value) = 1/(e^ε+k−1). */
  readonly q: number;
  /** ε-LDP per response: δ = 0. */
  readonly privacyCost: PrivacyCost;
  /** One perturbed report of `value` in [0, k). */
  respond(rng: Rng, value: number): number;
  /** Unbiased frequency estimates f̂_v = (c_v/n − q)/(p − q) from report counts c (length k). */
  estimateFrequencies(counts: ArrayLike<number>, n: number): Float64Array;
  /** Variance of f̂_v for n reports when the true frequency of v is f. */
  estimatorVariance(n: number, trueFrequency: number): number;
  /** Normal-approximation (1−α) half-width of f̂_v; worst case over f when f is omitted. */
  accuracy(n: number, alpha?: number, trueFrequency?: number): number;
  /** Smallest ε whose accuracy(n, α) (worst case) is at most `accuracy`, for this k. */
  accuracyToEpsilon(n: number, accuracy: number, alpha?: number): number;
  /** The accounting event of `count` responses per user. */
  event(count?: number): DpEvent;
}

/**
 * p and q of k-ary randomized response (Kairouz, Oh, Viswanath 2014, §4): p = e^ε/(e^ε+k−1),
 * q = 1/(e^ε+k−1), computed through e^{−ε} so large ε does not overflow.
 */
export function randomizedResponseProbabilities(epsilon: number, categories: number): { p: number; q: number } {
  requirePositive('epsilon', epsilon);
  requireInteger('categories', categories, 2);
  const em = Math.exp(-epsilon);
  const p = 1 / (1 + (categories - 1) * em);
  return { p, q: em * p };
}

/**
 * Var[f̂_v] = q(1−q)/(n(p−q)²) + f(1−p−q)/(n(p−q)) for a fixed dataset with true frequency f
 * (Wang, Blocki, Li, Jha 2017, §4, Direct Encoding, divided by n² for frequencies).
 */
export function randomizedResponseVariance(epsilon: number, categories: number, n: number, trueFrequency: number): number {
  const { p, q } = randomizedResponseProbabilities(epsilon, categories);
  requirePositive('n', n);
  if (typeof trueFrequency !== 'number' || !(trueFrequency >= 0 && trueFrequency <= 1)) {
    throw invalid('trueFrequency', trueFrequency, 'must be in [0, 1]');
  }
  // p − q = p(1 − e^{−ε}) and 1 − p − q = (k−2)q, both without cancellation.
  const gap = -Math.expm1(-epsilon) * p;
  const rest = (categories - 2) * q;
  return (q * (1 - q)) / (n * gap * gap) + (trueFrequency * rest) / (n * gap);
}

/**
 * Normal-approximation half-width z_{1−α/2}·√Var[f̂_v] (Wang et al. 2017, §4). Without f, the
 * worst case over f in [0, 1], which is f = 1 because the f-coefficient (k−2)q/(p−q) is >= 0.
 */
export function randomizedResponseAccuracy(epsilon: number, categories: number, n: number, alpha = DEFAULT_ALPHA, trueFrequency?: number): number {
  requireOpenUnit('alpha', alpha);
  const v = randomizedResponseVariance(epsilon, categories, n, trueFrequency ?? 1);
  return -normalQuantile(alpha / 2) * Math.sqrt(v);
}

/**
 * Smallest ε for which k-ary randomized response over n users has (1−α) half-width at most
 * `accuracy` (worst case over f unless given); by bisection, the half-width decreasing in ε.
 */
export function randomizedResponseAccuracyToEpsilon(categories: number, n: number, accuracy: number, alpha = DEFAULT_ALPHA, trueFrequency?: number): number {
  requireInteger('categories', categories, 2);
  requirePositive('n', n);
  requirePositive('accuracy', accuracy);
  requireOpenUnit('alpha', alpha);
  const ok = (e: number): boolean => randomizedResponseAccuracy(e, categories, n, alpha, trueFrequency) <= accuracy;
  let hi = 1;
  let lo = 0;
  while (!ok(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e4) throw new DpError('NumericalFailure', `no epsilon gives accuracy ${accuracy} with ${n} users and ${categories} categories`);
  }
  if (lo === 0) {
    lo = hi / 2;
    while (ok(lo)) {
      hi = lo;
      lo /= 2;
      if (lo < 1e-300) return hi;
    }
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi || hi - lo <= 1e-14 * hi) break;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Validated k-ary randomized response (Warner 1965; Kairouz, Oh, Viswanath 2014). */
export function makeRandomizedResponse(opts: RandomizedResponseOptions): RandomizedResponse {
  if (typeof opts !== 'object' || opts === null) throw new DpError('InvalidParameter', 'options must be an object');
  const epsilon = requirePositive('epsilon', opts.epsilon);
  const k = requireInteger('categories', opts.categories, 2);
  const { p, q } = randomizedResponseProbabilities(epsilon, k);
  const gap = -Math.expm1(-epsilon) * p;
  const rr: RandomizedResponse = {
    kind: 'randomized-response',
    epsilon,
    categories: k,
    p,
    q,
    privacyCost: Object.freeze({ epsilon, delta: 0 }),
    respond(rng: Rng, value: number): number {
      if (!Number.isInteger(value) || value < 0 || value >= k) throw invalid('value', value, `must be an integer in [0, ${k})`);
      if (rng.nextDouble() < p) return value;
      const other = rng.nextBelow(k - 1); // uniform over the k−1 other values
      return other >= value ? other + 1 : other;
    },
    estimateFrequencies(counts: ArrayLike<number>, n: number): Float64Array {
      if (counts === null || typeof counts !== 'object' || counts.length !== k) {
        throw invalid('counts.length', counts?.length, `must equal categories (${k})`);
      }
      requirePositive('n', n);
      const out = new Float64Array(k);
      for (let v = 0; v < k; v++) {
        const c = counts[v]!;
        if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) throw invalid(`counts[${v}]`, c, 'must be a finite number >= 0');
        out[v] = (c / n - q) / gap;
      }
      return out;
    },
    estimatorVariance: (n: number, trueFrequency: number) => randomizedResponseVariance(epsilon, k, n, trueFrequency),
    accuracy: (n: number, alpha = DEFAULT_ALPHA, trueFrequency?: number) => randomizedResponseAccuracy(epsilon, k, n, alpha, trueFrequency),
    accuracyToEpsilon: (n: number, accuracy: number, alpha = DEFAULT_ALPHA) => randomizedResponseAccuracyToEpsilon(k, n, accuracy, alpha),
    event: (count = 1) => ({ kind: 'randomized-response', epsilon, categories: k, count }),
  };
  return Object.freeze(rr);
}
