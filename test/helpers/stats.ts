// Statistical tests for the seeded sampler tests: Kolmogorov–Smirnov (one and two sample), χ²
// goodness of fit, binning of discrete samples, and moment helpers. With fixed seeds every p-value
// is deterministic; tests assert p > SIGNIFICANCE.

/** Significance level of every seeded statistical test (OpenDP states its α the same way). */
export const SIGNIFICANCE = 1e-3;

// ---------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------

const LANCZOS = [
  57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199, 0.339946499848118887e-4,
  0.465236289270485756e-4, -0.983744753048795646e-4, 0.158088703224912494e-3, -0.210264441724104883e-3,
  0.217439618115212643e-3, -0.164318106536763890e-3, 0.844182239838527433e-4, -0.261908384015814087e-4,
  0.368991826595316234e-5,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 671/128, 14 terms; Numerical Recipes 3rd ed. §6.1 `gammln`). */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma: x (${x}) must be > 0`);
  let y = x;
  const tmp0 = x + 5.2421875;
  const tmp = (x + 0.5) * Math.log(tmp0) - tmp0;
  let ser = 0.999999999999997092;
  for (const c of LANCZOS) ser += c / ++y;
  return tmp + Math.log((2.5066282746310005 * ser) / x);
}

const GAMMA_EPS = 1e-16;
const GAMMA_FPMIN = Number.MIN_VALUE / GAMMA_EPS;

/** P(a, x) by its series, valid for x < a + 1 (Numerical Recipes 3rd ed. §6.2 `gser`). */
function gammaPSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < 10_000; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * GAMMA_EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** Q(a, x) by Lentz's continued fraction, valid for x >= a + 1 (Numerical Recipes 3rd ed. §6.2 `gcf`). */
function gammaQContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / GAMMA_FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < GAMMA_FPMIN) d = GAMMA_FPMIN;
    c = b + an / c;
    if (Math.abs(c) < GAMMA_FPMIN) c = GAMMA_FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= GAMMA_EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) (Numerical Recipes 3rd ed. §6.2 `gammq`). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`gammaQ: need a > 0 and x >= 0 (a ${a}, x ${x})`);
  if (x === 0) return 1;
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQContinuedFraction(a, x);
}

/** Regularized lower incomplete gamma P(a, x) = 1 − Q(a, x). */
export function gammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`gammaP: need a > 0 and x >= 0 (a ${a}, x ${x})`);
  if (x === 0) return 0;
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQContinuedFraction(a, x);
}

/** Upper tail of the χ² distribution with `df` degrees of freedom: Q(df/2, x/2). */
export function chiSquareSf(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/**
 * Survival function of the Kolmogorov distribution, Q_KS(λ) = 2 Σ_{j>=1} (−1)^{j−1} e^{−2j²λ²}
 * (Numerical Recipes 3rd ed. §6.14 `qks`: the alternating series for λ >= 1.18, and
 * 1 − (√(2π)/λ) Σ_j e^{−(2j−1)²π²/(8λ²)} below, where the series converges slowly).
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda >= 0)) throw new RangeError(`kolmogorovSf: lambda (${lambda}) must be >= 0`);
  if (lambda === 0) return 1;
  if (lambda < 1.18) {
    const y = Math.exp(-1.23370055013616983 / (lambda * lambda)); // π²/8
    const cdf = (2.25675833419102515 * Math.sqrt(-Math.log(y)) * (y + y ** 9 + y ** 25 + y ** 49));
    return 1 - cdf;
  }
  const x = Math.exp(-2 * lambda * lambda);
  return 2 * (x - x ** 4 + x ** 9 - x ** 16);
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov
// ---------------------------------------------------------------------------------------------

export interface TestResult {
  readonly statistic: number;
  readonly pValue: number;
}

function sorted(xs: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(xs as ArrayLike<number>);
  a.sort();
  return a;
}

/**
 * One-sample Kolmogorov–Smirnov test of samples against a continuous CDF: D = sup|F_n − F|, and the
 * asymptotic p-value Q_KS((√n + 0.12 + 0.11/√n)·D) with Stephens' (1970) small-sample correction
 * (Numerical Recipes 3rd ed. §14.3.3 `ksone`).
 */
export function ksOneSample(samples: ArrayLike<number>, cdf: (x: number) => number): TestResult {
  const x = sorted(samples);
  const n = x.length;
  if (n === 0) throw new RangeError('ksOneSample: no samples');
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(x[i]!);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  const sn = Math.sqrt(n);
  return { statistic: d, pValue: kolmogorovSf((sn + 0.12 + 0.11 / sn) * d) };
}

/**
 * Two-sample Kolmogorov–Smirnov test: D = sup|F_a − F_b| over the pooled points (ties handled by
 * stepping past equal values), p-value with n_e = n·m/(n+m) in Stephens' correction
 * (Numerical Recipes 3rd ed. §14.3.3 `kstwo`).
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const x = sorted(a);
  const y = sorted(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) throw new RangeError('ksTwoSample: both samples must be non-empty');
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i]! === v) i++;
    while (j < m && y[j]! === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovSf((ne + 0.12 + 0.11 / ne) * d) };
}

// ---------------------------------------------------------------------------------------------
// χ² goodness of fit and binning
// ---------------------------------------------------------------------------------------------

export interface ChiSquareResult extends TestResult {
  readonly df: number;
}

/**
 * Pearson χ² goodness of fit: Σ (O − E)²/E over bins with expected counts E (which should sum to
 * the number of observations), df = bins − 1 − ddof, p-value Q(df/2, χ²/2).
 */
export function chiSquareGof(observed: ArrayLike<number>, expected: ArrayLike<number>, ddof = 0): ChiSquareResult {
  if (observed.length !== expected.length) throw new RangeError('chiSquareGof: observed and expected differ in length');
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    if (!(e > 0)) throw new RangeError(`chiSquareGof: expected[${i}] (${e}) must be > 0`);
    const diff = observed[i]! - e;
    stat += (diff * diff) / e;
  }
  const df = observed.length - 1 - ddof;
  if (df < 1) throw new RangeError(`chiSquareGof: ${observed.length} bins leave no degrees of freedom`);
  return { statistic: stat, df, pValue: chiSquareSf(stat, df) };
}

export interface Bins {
  /** Observed counts per merged bin. */
  readonly observed: number[];
  /** Expected counts n·P(bin) per merged bin (each >= minExpected). */
  readonly expected: number[];
  /** Integer range [lo, hi] of each bin (the outer bins also hold the far tails). */
  readonly ranges: Array<[number, number]>;
}

/**
 * Bins integer samples against a pmf on the integers for a χ² test. Every integer from the
 * smallest to the largest sample gets a cell, extended outwards while n·pmf(k) >= 1e-12 so the
 * tails' mass is included; then adjacent cells are merged left to right until each bin's
 * expected count is at least `minExpected` (5, Cochran's rule), the remainder joining the last bin.
 */
export function binDiscreteSamples(samples: ArrayLike<number>, pmf: (k: number) => number, minExpected = 5): Bins {
  const n = samples.length;
  if (n === 0) throw new RangeError('binDiscreteSamples: no samples');
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = samples[i]!;
    if (!Number.isInteger(v)) throw new RangeError(`binDiscreteSamples: sample ${i} (${v}) is not an integer`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const tiny = 1e-12;
  while (n * pmf(lo - 1) >= tiny) lo--;
  while (n * pmf(hi + 1) >= tiny) hi++;
  const width = hi - lo + 1;
  if (width > 50_000_000) throw new RangeError(`binDiscreteSamples: range [${lo}, ${hi}] is too wide`);
  const counts = new Float64Array(width);
  for (let i = 0; i < n; i++) counts[samples[i]! - lo]! += 1;
  const observed: number[] = [];
  const expected: number[] = [];
  const ranges: Array<[number, number]> = [];
  let o = 0;
  let e = 0;
  let start = lo;
  for (let k = lo; k <= hi; k++) {
    o += counts[k - lo]!;
    e += n * pmf(k);
    if (e >= minExpected) {
      observed.push(o);
      expected.push(e);
      ranges.push([start, k]);
      o = 0;
      e = 0;
      start = k + 1;
    }
  }
  if (e > 0 || o > 0) {
    if (expected.length === 0) {
      observed.push(o);
      expected.push(e);
      ranges.push([start, hi]);
    } else {
      observed[observed.length - 1]! += o;
      expected[expected.length - 1]! += e;
      ranges[ranges.length - 1]![1] = hi;
    }
  }
  return { observed, expected, ranges };
}

// ---------------------------------------------------------------------------------------------
// Moments
// ---------------------------------------------------------------------------------------------

export interface SampleMoments {
  readonly n: number;
  readonly mean: number;
  /** Unbiased sample variance. */
  readonly variance: number;
}

/** Mean and unbiased variance (Welford's one-pass update). */
export function sampleMoments(xs: ArrayLike<number>): SampleMoments {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i]! - mean;
    mean += d / (i + 1);
    m2 += d * (xs[i]! - mean);
  }
  return { n: xs.length, mean, variance: xs.length > 1 ? m2 / (xs.length - 1) : NaN };
}

export interface DistributionMoments {
  readonly mean: number;
  readonly variance: number;
  /** Fourth central moment μ₄. */
  readonly mu4: number;
}

/** Mean, variance and μ₄ of a pmf on the integers lo..hi (the mass outside must be negligible). */
export function pmfMoments(pmf: (k: number) => number, lo: number, hi: number): DistributionMoments {
  let mass = 0;
  let mean = 0;
  for (let k = lo; k <= hi; k++) {
    const w = pmf(k);
    mass += w;
    mean += w * k;
  }
  mean /= mass;
  let v = 0;
  let m4 = 0;
  for (let k = lo; k <= hi; k++) {
    const w = pmf(k) / mass;
    const d = (k - mean) * (k - mean);
    v += w * d;
    m4 += w * d * d;
  }
  return { mean, variance: v, mu4: m4 };
}

/** Standard error of the sample mean: σ/√n. */
export function standardErrorOfMean(variance: number, n: number): number {
  return Math.sqrt(variance / n);
}

/** Standard error of the unbiased sample variance, to first order: √((μ₄ − σ⁴)/n). */
export function standardErrorOfVariance(variance: number, mu4: number, n: number): number {
  return Math.sqrt((mu4 - variance * variance) / n);
}
