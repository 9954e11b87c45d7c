// Seedable pseudo-random numbers for *simulation only*.
//
// xoshiro128** 1.1 (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021):
// fast, 2^128 − 1 period, good statistical quality, 32-bit arithmetic that JS JITs well.
// It is NOT cryptographically secure: never use it to noise a real release (Mironov 2012 shows
// that even the floating-point Laplace sampler itself leaks). Real releases belong to the
// production engines that the workbench exports to.
//
// Streams: `makeRng(seed, ...path)` derives an independent generator for each path (for
// example [trialChunk] or [metric, chunk]) by hashing seed and path with SplitMix64, as NumPy's
// SeedSequence.spawn does. Results are therefore identical however work is split across workers.

/** The randomness source every sampler takes as an argument. */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform double on the open interval (0, 1): (k + 0.5)·2^-52 for a uniform 52-bit k. */
  nextDouble(): number;
  /** Uniform integer in [0, n) for 1 <= n <= 2^53, without modulo bias. */
  nextBelow(n: number): number;
}

export type Seed = number | bigint | string;

const MASK64 = (1n << 64n) - 1n;

function splitmix64Mix(z0: bigint): bigint {
  let z = z0 & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** FNV-1a 64-bit of a string, for string seeds (such as a config hash). */
function hashString(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & MASK64;
  }
  return h;
}

function seedToBigInt(seed: Seed): bigint {
  if (typeof seed === 'bigint') return seed & MASK64;
  if (typeof seed === 'string') return hashString(seed);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed (${seed}) must be a non-negative safe integer, a bigint or a string`);
  }
  return BigInt(seed);
}

const GOLDEN = 0x9e3779b97f4a7c15n;

/** Derive the 128-bit xoshiro state for (seed, ...path). */
export function deriveState(seed: Seed, path: readonly number[]): Uint32Array {
  let h = splitmix64Mix(seedToBigInt(seed) + GOLDEN);
  for (let d = 0; d < path.length; d++) {
    const id = path[d]!;
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`stream index (${id}) must be a non-negative integer`);
    h = splitmix64Mix(h ^ splitmix64Mix(BigInt(id) + GOLDEN * BigInt(d + 2)));
  }
  // Expand with SplitMix64 into four 32-bit words.
  let s = h;
  const out = new Uint32Array(4);
  for (let i = 0; i < 2; i++) {
    s = (s + GOLDEN) & MASK64;
    const z = splitmix64Mix(s);
    out[2 * i] = Number(z & 0xffffffffn);
    out[2 * i + 1] = Number(z >> 32n);
  }
  if ((out[0]! | out[1]! | out[2]! | out[3]!) === 0) out[0] = 1; // all-zero state is forbidden
  return out;
}

const TWO_POW_M52 = 2 ** -52;
const TWO_POW_26 = 2 ** 26;

/** xoshiro128** generator. Methods are monomorphic and allocation-free for hot loops. */
export class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(state: Uint32Array) {
    this.s0 = state[0]! | 0;
    this.s1 = state[1]! | 0;
    this.s2 = state[2]! | 0;
    this.s3 = state[3]! | 0;
  }

  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  nextDouble(): number {
    const hi = this.nextUint32() >>> 6; // 26 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * TWO_POW_26 + lo + 0.5) * TWO_POW_M52;
  }

  nextBelow(n: number): number {
    if (!(n >= 1 && n <= 2 ** 53 && Number.isInteger(n))) throw new RangeError(`nextBelow bound (${n}) must be an integer in [1, 2^53]`);
    if (n <= 0x100000000) {
      // Lemire-style rejection on 32 bits.
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    // 53-bit rejection sampling.
    let bits = 32; // exact bit length of n − 1 (> 2^32 here); Math.log2 rounds near powers of two
    while (2 ** bits < n) bits++;
    const hiBits = bits - 32;
    for (;;) {
      const hi = this.nextUint32() >>> (32 - hiBits);
      const x = hi * 0x100000000 + this.nextUint32();
      if (x < n) return x;
    }
  }

  /**
   * Fills out[start..end) with the next uniform 32-bit words: exactly the values that as many
   * nextUint32() calls would return, in order. The state lives in locals for the whole loop, which
   * makes bulk generation several times cheaper per word than separate calls (Monte-Carlo engine).
   */
  fillUint32(out: Uint32Array, start = 0, end = out.length): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = start; i < end; i++) {
      const m = Math.imul(s1, 5);
      out[i] = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fills out[start..end) with uniforms on the open interval (0, 1), each exactly what
   * nextDouble() would return (two words per value, in the same order).
   */
  fillOpen01(out: Float64Array, start = 0, end = out.length): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = start; i < end; i++) {
      let m = Math.imul(s1, 5);
      const hi = Math.imul((m << 7) | (m >>> 25), 9) >>> 6;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const lo = Math.imul((m << 7) | (m >>> 25), 9) >>> 6;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = (hi * TWO_POW_26 + lo + 0.5) * TWO_POW_M52;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Snapshot of the 128-bit state (to resume a stream). */
  state(): Uint32Array {
    return Uint32Array.of(this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A generator for (seed, ...path): independent streams per trial chunk, worker or metric. */
export function makeRng(seed: Seed, ...path: number[]): Xoshiro128 {
  return new Xoshiro128(deriveState(seed, path));
}
