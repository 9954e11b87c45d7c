// Samplers for the sample-data generator, all driven by the workbench's seeded PRNG
// (shared/core/rng): never Math.random, so a seed always gives the same bytes.

import type { Rng } from '../../shared/core/rng';

/** Standard normal (Box–Muller; one of the pair is used, which keeps the stream simple). */
export function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
}

/** Lognormal with the given median (e^mu) and sigma of the underlying normal. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/** Exponential with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(rng.nextDouble());
}

/** Pareto (type I) with scale xm and shape alpha: P(X > x) = (xm / x)^alpha for x >= xm. */
export function pareto(rng: Rng, xm: number, alpha: number): number {
  return xm * Math.pow(rng.nextDouble(), -1 / alpha);
}

/** Geometric number of failures before the first success, success probability p (mean (1-p)/p). */
export function geometric(rng: Rng, p: number): number {
  return Math.floor(Math.log(rng.nextDouble()) / Math.log(1 - p));
}

/** Log-uniform on [lo, hi]. */
export function logUniform(rng: Rng, lo: number, hi: number): number {
  return lo * Math.pow(hi / lo, rng.nextDouble());
}

/** Uniform on [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.nextDouble();
}

/** True with probability p. */
export function bernoulli(rng: Rng, p: number): boolean {
  return rng.nextDouble() < p;
}

/** A sampler of indices 0..n-1 with the given (unnormalised) weights: cumulative table + binary search. */
export interface Categorical {
  readonly size: number;
  /** Normalised probability of index i. */
  probability(i: number): number;
  sample(rng: Rng): number;
}

export function makeCategorical(weights: readonly number[]): Categorical {
  if (weights.length === 0) throw new RangeError('makeCategorical needs at least one weight');
  const cum = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} (${w}) must be finite and >= 0`);
    total += w;
    cum[i] = total;
  });
  if (!(total > 0)) throw new RangeError('weights must not all be 0');
  return {
    size: weights.length,
    probability: (i) => (weights[i] ?? 0) / total,
    sample(rng) {
      const x = rng.nextDouble() * total;
      let lo = 0;
      let hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}

/** Zipf weights 1/k^s for ranks k = 1..n. */
export function zipfWeights(n: number, s: number): number[] {
  return Array.from({ length: n }, (_, k) => 1 / Math.pow(k + 1, s));
}

/** Picks one item of a list with weights given alongside: [[item, weight], ...]. */
export function makeWeighted<T>(pairs: readonly (readonly [T, number])[]): { sample(rng: Rng): T; readonly items: readonly T[] } {
  const items = pairs.map((p) => p[0]);
  const cat = makeCategorical(pairs.map((p) => p[1]));
  return { items, sample: (rng) => items[cat.sample(rng)]! };
}

/**
 * MurmurHash3's 32-bit finaliser: a bijection on uint32, so distinct counters give distinct,
 * random-looking ids.
 */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An id such as `u1f3a9c07`: prefix + 8 hex digits of a bijective mix of (counter + salt). */
export function hexId(prefix: string, counter: number, salt: number): string {
  return prefix + fmix32((counter + salt) >>> 0).toString(16).padStart(8, '0');
}
