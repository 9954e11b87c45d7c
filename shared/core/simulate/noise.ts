// Noise kernels of the Monte-Carlo engine: add one draw per listed partition to a metric's values,
// in bulk, from a trial chunk's generator. Simulation noise only (xoshiro128**, floating point):
// never a release (Mironov 2012; ../shared/DP-REFERENCE.md, last section).
//
// Continuous noise uses the ziggurat method (Marsaglia & Tsang 2000, "The ziggurat method for
// generating random variables", JSS 5(8)) with 256 layers, and Doornik's (2005) separation of the
// layer bits from the position bits, as numpy's generator does:
// - Laplace(b) = ±b·E with E ~ Exp(1) and an independent fair sign. The inverse CDF of WORKLOAD.md
//   §3 gives exactly this law: for u < 1/2, b·ln(2u) = −b·(−ln 2u) with 2u ~ U(0,1) so
//   −ln 2u ~ Exp(1); for u >= 1/2 symmetrically. The ziggurat draws E exactly (it is a rejection
//   method; only the 31-bit position grid is discrete), without a logarithm 98.9% of the time.
// - N(0, σ²) = ±σ·|Z| by the normal ziggurat (WORKLOAD.md §3 accepts numpy's ziggurat).
// The literal methods (inverse-CDF Laplace, Box–Muller with both outputs) are kept as options
// (`plan.samplers`) so the two can be compared on the same plan.
//
// Word budget of a ziggurat kernel for n draws: n position words (bit 0 = sign, bits 1..31 =
// position) then ⌈n/4⌉ layer words (one byte per draw), filled in one fillUint32 call; the rare
// rejections draw further words from the generator directly, after the bulk block.

import { discreteGaussianExactSampler, sigmaSquaredRational } from '../dp/mechanisms/discrete-gaussian';
import { discreteLaplaceFromUniforms } from '../dp/mechanisms/discrete-laplace';
import { normalSf } from '../math/special';
import type { Xoshiro128 } from '../rng';

const LAYERS = 256;
const TWO_POW_31 = 2 ** 31;
const TWO_POW_M31 = 2 ** -31;

interface ZigguratTables {
  /** Right edge of each layer (x[0] is the base strip's virtual width v/f(r)); x[256] = 0. */
  readonly x: Float64Array;
  /** f(x[i]); f[256] = f(0) = 1. */
  readonly f: Float64Array;
  /** x[i]·2^-31: position word (31 bits) to abscissa. */
  readonly w: Float64Array;
  /** ⌊x[i+1]/x[i]·2^31⌋: below it the point is inside the curve without evaluating f. */
  readonly k: Int32Array;
}

function buildTables(r: number, v: number, f: (x: number) => number, fInv: (y: number) => number): ZigguratTables {
  const x = new Float64Array(LAYERS + 1);
  const fx = new Float64Array(LAYERS + 1);
  x[0] = v / f(r);
  x[1] = r;
  fx[1] = f(r);
  for (let i = 1; i < LAYERS - 1; i++) {
    // Layer i spans y in [f(x[i]), f(x[i+1])] with width x[i] and area v.
    fx[i + 1] = fx[i]! + v / x[i]!;
    x[i + 1] = fInv(fx[i + 1]!);
  }
  x[LAYERS] = 0;
  fx[LAYERS] = 1;
  const w = new Float64Array(LAYERS);
  const k = new Int32Array(LAYERS);
  for (let i = 0; i < LAYERS; i++) {
    w[i] = x[i]! * TWO_POW_M31;
    k[i] = Math.floor((x[i + 1]! / x[i]!) * TWO_POW_31);
  }
  return { x, f: fx, w, k };
}

/** Start of the exponential tail for 256 layers (Marsaglia & Tsang 2000; numpy `ziggurat_exp_r`). */
export const EXP_R = 7.69711747013104972;
/** Start of the normal tail for 256 layers (numpy `ziggurat_nor_r`). */
export const NORMAL_R = 3.6541528853610088;

// Layer areas v computed from r exactly rather than the papers' 12-digit constants:
// exponential: r·e^{−r} + ∫_r^∞ e^{−x} dx; normal: r·e^{−r²/2} + √(2π)·(1 − Φ(r)).
const EXP = buildTables(EXP_R, (EXP_R + 1) * Math.exp(-EXP_R), (x) => Math.exp(-x), (y) => -Math.log(y));
const NORMAL = buildTables(
  NORMAL_R,
  NORMAL_R * Math.exp(-0.5 * NORMAL_R * NORMAL_R) + Math.sqrt(2 * Math.PI) * normalSf(NORMAL_R),
  (x) => Math.exp(-0.5 * x * x),
  (y) => Math.sqrt(-2 * Math.log(y)),
);
const EXP_W = EXP.w;
const EXP_K = EXP.k;
const EXP_F = EXP.f;
const NORMAL_W = NORMAL.w;
const NORMAL_K = NORMAL.k;
const NORMAL_F = NORMAL.f;

/** Slow path of the exponential ziggurat: the base strip's tail or a wedge test; redraws on rejection. */
function expSlow(rng: Xoshiro128, layer: number, x: number): number {
  for (;;) {
    if (layer === 0) return EXP_R - Math.log(rng.nextDouble()); // memoryless tail beyond r
    if (EXP_F[layer]! + rng.nextDouble() * (EXP_F[layer + 1]! - EXP_F[layer]!) < Math.exp(-x)) return x;
    layer = rng.nextUint32() & 255;
    const w31 = rng.nextUint32() >>> 1;
    x = w31 * EXP_W[layer]!;
    if (w31 < EXP_K[layer]!) return x;
  }
}

/** Slow path of the normal ziggurat for |Z|: Marsaglia's (1964) tail method or a wedge test. */
function normalSlow(rng: Xoshiro128, layer: number, x: number): number {
  for (;;) {
    if (layer === 0) {
      let a: number;
      let y: number;
      do {
        a = -Math.log(rng.nextDouble()) / NORMAL_R;
        y = -Math.log(rng.nextDouble());
      } while (y + y < a * a);
      return NORMAL_R + a;
    }
    if (NORMAL_F[layer]! + rng.nextDouble() * (NORMAL_F[layer + 1]! - NORMAL_F[layer]!) < Math.exp(-0.5 * x * x)) return x;
    layer = rng.nextUint32() & 255;
    const w31 = rng.nextUint32() >>> 1;
    x = w31 * NORMAL_W[layer]!;
    if (w31 < NORMAL_K[layer]!) return x;
  }
}

/** Words a ziggurat kernel takes from the bulk block for n draws. */
export function zigguratWords(n: number): number {
  return n + ((n + 3) >> 2);
}

/**
 * out[o + p] = base[o + p] + Laplace(b) for p = ids[0..n), by the exponential ziggurat with a
 * random sign. `words` is scratch of at least zigguratWords(n) entries.
 */
export function addLaplaceZiggurat(rng: Xoshiro128, words: Uint32Array, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number, b: number): void {
  rng.fillUint32(words, 0, zigguratWords(n));
  const b2 = 2 * b;
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    const layer = (words[n + (i >> 2)]! >>> ((i & 3) << 3)) & 255;
    const w31 = w >>> 1;
    let x = w31 * EXP_W[layer]!;
    if (w31 >= EXP_K[layer]!) x = expSlow(rng, layer, x);
    const q = o + ids[i]!;
    out[q] = base[q]! + (b - b2 * (w & 1)) * x;
  }
}

/** out[o + p] = base[o + p] + N(0, σ²) for p = ids[0..n), by the normal ziggurat. */
export function addGaussianZiggurat(rng: Xoshiro128, words: Uint32Array, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number, sigma: number): void {
  rng.fillUint32(words, 0, zigguratWords(n));
  const s2 = 2 * sigma;
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    const layer = (words[n + (i >> 2)]! >>> ((i & 3) << 3)) & 255;
    const w31 = w >>> 1;
    let x = w31 * NORMAL_W[layer]!;
    if (w31 >= NORMAL_K[layer]!) x = normalSlow(rng, layer, x);
    const q = o + ids[i]!;
    out[q] = base[q]! + (sigma - s2 * (w & 1)) * x;
  }
}

/** Laplace by inverse CDF exactly as WORKLOAD.md §3 (u = (k + ½)·2^-52 in (0,1)); `uni` is scratch of n. */
export function addLaplaceInverseCdf(rng: Xoshiro128, uni: Float64Array, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number, b: number): void {
  rng.fillOpen01(uni, 0, n);
  for (let i = 0; i < n; i++) {
    const u = uni[i]!;
    const q = o + ids[i]!;
    out[q] = base[q]! + (u < 0.5 ? b * Math.log(2 * u) : -b * Math.log(2 - 2 * u));
  }
}

/** Gaussian by Box–Muller using both outputs (WORKLOAD.md §3); `uni` is scratch of n + 1. */
export function addGaussianBoxMuller(rng: Xoshiro128, uni: Float64Array, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number, sigma: number): void {
  const pairs = (n + 1) >> 1;
  rng.fillOpen01(uni, 0, 2 * pairs);
  for (let i = 0; i < pairs; i++) {
    const rad = sigma * Math.sqrt(-2 * Math.log(uni[2 * i]!));
    const th = 2 * Math.PI * uni[2 * i + 1]!;
    const q0 = o + ids[2 * i]!;
    out[q0] = base[q0]! + rad * Math.cos(th);
    if (2 * i + 1 < n) {
      const q1 = o + ids[2 * i + 1]!;
      out[q1] = base[q1]! + rad * Math.sin(th);
    }
  }
}

/**
 * Discrete Laplace with scale t: the mechanism module's fast float sampler (difference of two
 * geometric draws by inverse CDF), fed with bulk uniforms; `uni` is scratch of 2n.
 */
export function addDiscreteLaplace(rng: Xoshiro128, uni: Float64Array, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number, t: number): void {
  rng.fillOpen01(uni, 0, 2 * n);
  for (let i = 0; i < n; i++) {
    const q = o + ids[i]!;
    out[q] = base[q]! + discreteLaplaceFromUniforms(uni[2 * i]!, uni[2 * i + 1]!, t);
  }
}

/** A discrete Gaussian sampler: the exact CKS20 sampler of the mechanism module (slow, exact). */
export function makeDiscreteGaussianSampler(sigma: number): (rng: Xoshiro128) => number {
  return discreteGaussianExactSampler(sigmaSquaredRational(sigma));
}

/** Discrete Gaussian noise, one exact draw per listed partition. */
export function addDiscreteGaussian(rng: Xoshiro128, sampler: (rng: Xoshiro128) => number, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number): void {
  for (let i = 0; i < n; i++) {
    const q = o + ids[i]!;
    out[q] = base[q]! + sampler(rng);
  }
}

/** For tests and the noise microbenchmark: the ziggurat tables' edges (x) and curve values (f). */
export function zigguratTables(kind: 'exponential' | 'normal'): { readonly x: Float64Array; readonly f: Float64Array } {
  const t = kind === 'exponential' ? EXP : NORMAL;
  return { x: t.x, f: t.f };
}
