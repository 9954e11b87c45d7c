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

/**
 * Linear convolution of two real sequences, length a.length + b.length − 1. Small inputs use the
 * direct sum; larger ones one complex FFT of z = a + i·b (both spectra recovered from Hermitian
 * symmetry, Numerical Recipes §12.3) and one inverse FFT.
 */
export function convolveReal(a: Float64Array, b: Float64Array): Float64Array {
  const outLen = a.length + b.length - 1;
  if (a.length * b.length <= 1 << 15 || Math.min(a.length, b.length) <= 32) return convolveDirect(a, b);
  const n = nextPow2(outLen);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re.set(a);
  im.set(b);
  fft(re, im);
  const cr = new Float64Array(n);
  const ci = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const m = (n - k) & (n - 1);
    const zr = re[k]!;
    const zi = im[k]!;
    const wr = re[m]!;
    const wi = -im[m]!; // conj(Z_{n−k})
    // A = (Z + conj Z')/2, B = (Z − conj Z')/(2i)
    const ar = 0.5 * (zr + wr);
    const ai = 0.5 * (zi + wi);
    const br = 0.5 * (zi - wi);
    const bi = -0.5 * (zr - wr);
    cr[k] = ar * br - ai * bi;
    ci[k] = ar * bi + ai * br;
  }
  fft(cr, ci, true);
  return cr.subarray(0, outLen).slice();
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
