// Radix-2 complex FFT on Float64Arrays and the real convolutions built on it (used by the PLD
// accountant). Iterative Cooley–Tukey with bit-reversal and per-size cached twiddle tables
// (Cooley & Tukey 1965; Press et al., "Numerical Recipes", 3rd ed., §12.2–12.3).

interface FftPlan {
  readonly n: number;
  /** Twiddles of the stage with half-length h at [h, 2h): cos/sin(π j / h), j < h (contiguous per stage). */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly rev: Uint32Array;
}

const plans = new Map<number, FftPlan>();

/** Smallest power of two >= n (n >= 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function plan(n: number): FftPlan {
  const cached = plans.get(n);
  if (cached) return cached;
  if (n < 1 || (n & (n - 1)) !== 0) throw new RangeError(`FFT size ${n} must be a power of two`);
  const cos = new Float64Array(Math.max(n, 2));
  const sin = new Float64Array(Math.max(n, 2));
  // Each twiddle is computed directly (not by recurrence) so all carry ~1 ulp error.
  for (let h = 1; h < n; h *= 2) {
    for (let j = 0; j < h; j++) {
      const a = (Math.PI * j) / h;
      cos[h + j] = Math.cos(a);
      sin[h + j] = Math.sin(a);
    }
  }
  const rev = new Uint32Array(n);
  let bits = 0;
  while (1 << bits < n) bits++;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, x = i; b < bits; b++, x >>>= 1) r = (r << 1) | (x & 1);
    rev[i] = r >>> 0;
  }
  const p = { n, cos, sin, rev };
  if (plans.size > 24) plans.clear();
  plans.set(n, p);
  return p;
}

/**
 * In-place discrete Fourier transform of (re, im), length a power of two.
 * Forward: X_k = Σ_j x_j e^{−2πijk/n}; inverse (inverse=true) includes the 1/n factor.
 * Iterative radix-2 decimation in time (Cooley & Tukey 1965).
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new RangeError('fft: re and im must have the same length');
  if (n <= 1) return;
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      const tr = re[i]!;
      re[i] = re[j]!;
      re[j] = tr;
      const ti = im[i]!;
      im[i] = im[j]!;
      im[j] = ti;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let half = 1; half < n; half *= 2) {
    const size = 2 * half;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[half + k]!;
        const wi = sign * sin[half + k]!;
        const a = start + k;
        const b = a + half;
        const xr = re[b]!;
        const xi = im[b]!;
        const vr = xr * wr - xi * wi;
        const vi = xr * wi + xi * wr;
        const ur = re[a]!;
        const ui = im[a]!;
        re[a] = ur + vr;
        im[a] = ui + vi;
        re[b] = ur - vr;
        im[b] = ui - vi;
      }
    }
  }
  if (inverse) {
    const s = 1 / n;
    for (let i = 0; i < n; i++) {
      re[i] = re[i]! * s;
      im[i] = im[i]! * s;
    }
  }
}

/** Direct O(n·m) linear convolution (exact summation order; used for small inputs). */
export function convolveDirect(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    if (ai === 0) continue;
    for (let j = 0; j < b.length; j++) out[i + j] = out[i + j]! + ai * b[j]!;
  }
  return out;
}

function countNonZero(x: Float64Array): number {
  let c = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) c++;
  return c;
}

/**
 * Linear convolution of two real sequences, length a.length + b.length − 1. When one side is short
 * or sparse the direct sum is used (cheaper, and exact up to rounding for non-negative inputs);
 * otherwise one complex FFT of z = a + i·b (both spectra recovered from Hermitian symmetry,
 * Numerical Recipes §12.3) and one inverse FFT.
 */
export function convolveReal(a: Float64Array, b: Float64Array): Float64Array {
  if (directIsCheaper(a, b)) return convolveSparseFirst(a, b);
  return convolveRealPair(a, b, new Float64Array(0), new Float64Array(0))[0];
}

/**
 * True when the direct sum (skipping the zero entries of the sparser side) costs less than the
 * FFT: one side short or sparse (e.g. a lattice PLD rounded onto a fine grid).
 */
export function directIsCheaper(a: Float64Array, b: Float64Array): boolean {
  const n = nextPow2(a.length + b.length - 1);
  const fftCost = 6 * n * Math.log2(n);
  return countNonZero(a) * b.length <= fftCost || countNonZero(b) * a.length <= fftCost;
}

/** Direct convolution with the sparser argument outside (its zeros are skipped). */
export function convolveSparseFirst(a: Float64Array, b: Float64Array): Float64Array {
  return countNonZero(a) * b.length <= countNonZero(b) * a.length ? convolveDirect(a, b) : convolveDirect(b, a);
}

/** Splits the spectrum Z of x + i·y into X_k, Y_k (Numerical Recipes §12.3) and returns X_k·Y_k. */
function productOfPacked(re: Float64Array, im: Float64Array, k: number, out: Float64Array): void {
  const n = re.length;
  const m = (n - k) & (n - 1);
  const zr = re[k]!;
  const zi = im[k]!;
  const wr = re[m]!;
  const wi = -im[m]!; // conj(Z_{n−k})
  // X = (Z + conj Z')/2, Y = (Z − conj Z')/(2i)
  const ar = 0.5 * (zr + wr);
  const ai = 0.5 * (zi + wi);
  const br = 0.5 * (zi - wi);
  const bi = -0.5 * (zr - wr);
  out[0] = ar * br - ai * bi;
  out[1] = ar * bi + ai * br;
}

/**
 * Two linear convolutions a∗b and c∗d of real sequences by FFT: forward FFTs of a + i·b and
 * c + i·d (spectra separated by Hermitian symmetry, Numerical Recipes §12.3) and one inverse FFT
 * of (A·B) + i·(C·D), whose real and imaginary parts are the two results.
 */
export function convolveRealPair(a: Float64Array, b: Float64Array, c: Float64Array, d: Float64Array): [Float64Array, Float64Array] {
  const len1 = a.length + b.length - 1;
  const len2 = c.length > 0 && d.length > 0 ? c.length + d.length - 1 : 0;
  const n = nextPow2(Math.max(len1, len2, 1));
  const re1 = new Float64Array(n);
  const im1 = new Float64Array(n);
  re1.set(a);
  im1.set(b);
  fft(re1, im1);
  let re2: Float64Array | undefined;
  let im2: Float64Array | undefined;
  if (len2 > 0) {
    re2 = new Float64Array(n);
    im2 = new Float64Array(n);
    re2.set(c);
    im2.set(d);
    fft(re2, im2);
  }
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  const t = new Float64Array(2);
  for (let k = 0; k < n; k++) {
    productOfPacked(re1, im1, k, t);
    let pr = t[0]!;
    let pi = t[1]!;
    if (re2 && im2) {
      productOfPacked(re2, im2, k, t);
      // + i·(C·D)
      pr -= t[1]!;
      pi += t[0]!;
    }
    outRe[k] = pr;
    outIm[k] = pi;
  }
  fft(outRe, outIm, true);
  return [outRe.subarray(0, len1).slice(), len2 > 0 ? outIm.subarray(0, len2).slice() : new Float64Array(0)];
}

/** (re + i·im)^power by binary exponentiation, or 0 when |z|^power underflows. */
function complexPow(re: number, im: number, power: number, out: Float64Array, k: number): void {
  const r2 = re * re + im * im;
  if (r2 === 0 || 0.5 * power * Math.log(r2) < -745) {
    out[2 * k] = 0;
    out[2 * k + 1] = 0;
    return;
  }
  let br = re;
  let bi = im;
  let rr = 1;
  let ri = 0;
  let e = power;
  for (;;) {
    if (e & 1) {
      const t = rr * br - ri * bi;
      ri = rr * bi + ri * br;
      rr = t;
    }
    e = Math.floor(e / 2);
    if (e === 0) break;
    const t = br * br - bi * bi;
    bi = 2 * br * bi;
    br = t;
  }
  out[2 * k] = rr;
  out[2 * k + 1] = ri;
}

function placeRotated(target: Float64Array, x: Float64Array, center: number): void {
  const size = target.length;
  const mask = size - 1;
  for (let i = 0; i < x.length; i++) target[(((i - center) % size) + size) & mask] = x[i]!;
}

/**
 * Circular `power`-fold self-convolutions of two real sequences modulo `size` (a power of two >=
 * both lengths): IFFT(FFT(x)^power) and IFFT(FFT(y)^power), as dp_accounting
 * `common.self_convolve` computes one (fft(x)**n). Both ride on one complex FFT of x + i·y (the
 * spectra separate by Hermitian symmetry, Numerical Recipes §12.3) and one inverse FFT. x[i] is
 * placed at (i − cx) mod size so the spectrum carries little linear phase; entry r of the first
 * result is the mass of sums s with s − power·cx ≡ r (mod size) (likewise y with cy). Powers use
 * binary exponentiation.
 */
export function selfConvolveCircularPair(
  x: Float64Array,
  y: Float64Array,
  power: number,
  size: number,
  cx = 0,
  cy = 0,
): [Float64Array, Float64Array] {
  if (x.length > size || y.length > size) throw new RangeError('selfConvolveCircularPair: size must be >= input lengths');
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  placeRotated(re, x, cx);
  placeRotated(im, y, cy);
  fft(re, im);
  const a = new Float64Array(2 * size);
  const b = new Float64Array(2 * size);
  for (let k = 0; k < size; k++) {
    const m = (size - k) & (size - 1);
    const zr = re[k]!;
    const zi = im[k]!;
    const wr = re[m]!;
    const wi = -im[m]!;
    complexPow(0.5 * (zr + wr), 0.5 * (zi + wi), power, a, k);
    complexPow(0.5 * (zi - wi), -0.5 * (zr - wr), power, b, k);
  }
  // IFFT(A + iB) = a + i·b for real a, b.
  for (let k = 0; k < size; k++) {
    re[k] = a[2 * k]! - b[2 * k + 1]!;
    im[k] = a[2 * k + 1]! + b[2 * k]!;
  }
  fft(re, im, true);
  return [re, im];
}

/** Circular `power`-fold self-convolution of one real sequence (see selfConvolveCircularPair). */
export function selfConvolveCircular(x: Float64Array, power: number, size: number, center = 0): Float64Array {
  return selfConvolveCircularPair(x, new Float64Array(0), power, size, center, 0)[0];
}
