// Exact (ε, δ) of the discrete Gaussian mechanism and σ calibrated to a target (ε, δ).
// Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy", Thm 7: for
// integer sensitivity Δ and Y ~ N_Z(0, σ²), x + Y is (ε, δ)-DP with
//   δ = P[Y > εσ²/Δ − Δ/2] − e^ε·P[Y > εσ²/Δ + Δ/2].

import { DpError, invalid, requireInteger, requireOpenUnit, requirePositive } from '../../errors';
import { normalSf } from '../../math/special';
import { makeDiscreteGaussian } from './discrete-gaussian';
import type { AdditiveMechanism } from './types';

/** ln Σ_{k∈Z} exp(−k²/(2σ²)), by direct summation (converges in ~10σ terms), or by Poisson summation for σ >= 8. */
function logNormalizer(sigma: number): number {
  if (sigma >= 8) return Math.log(Math.sqrt(2 * Math.PI) * sigma); // Poisson correction < e^{-2π²·64}
  let s = 1;
  for (let k = 1; ; k++) {
    const t = Math.exp((-k * k) / (2 * sigma * sigma));
    s += 2 * t;
    if (t < 1e-18 * s) break;
  }
  return Math.log(s);
}

/** P[Y > x] for Y ~ N_Z(0, σ²). */
export function discreteGaussianTailAbove(sigma: number, x: number): number {
  requirePositive('sigma', sigma);
  const n0 = Math.floor(x) + 1; // smallest integer > x
  if (n0 <= 0) {
    // P[Y > x] = 1 − P[Y <= x] = 1 − P[Y >= −x] = 1 − P[Y > −x − ...]; use symmetry on integers.
    // P[Y <= x] = P[Y >= -floor(x)] = P[Y > -floor(x) - 1].
    return 1 - discreteGaussianTailAbove(sigma, -Math.floor(x) - 1);
  }
  const logZ = logNormalizer(sigma);
  const s2 = 2 * sigma * sigma;
  if (sigma > 2e4) {
    // Euler–Maclaurin: Σ_{k>=n} f(k) = ∫_n^∞ f + f(n)/2 − f′(n)/12 + …, f(x) = e^{−x²/2σ²}.
    const integral = Math.sqrt(2 * Math.PI) * sigma * normalSf(n0 / sigma);
    const f = Math.exp((-n0 * n0) / s2);
    const fp = (-n0 / (sigma * sigma)) * f;
    return Math.max(0, (integral + f / 2 - fp / 12) / Math.exp(logZ));
  }
  let s = 0;
  for (let k = n0; ; k++) {
    const t = Math.exp((-k * k) / s2 - logZ);
    s += t;
    if (t < 1e-18 * s || t === 0) break;
  }
  return s;
}

/** Exact δ(ε) of the discrete Gaussian mechanism (CKS 2020, Thm 7). */
export function discreteGaussianDelta(sigma: number, epsilon: number, sensitivity = 1): number {
  const c = (epsilon * sigma * sigma) / sensitivity;
  const a = discreteGaussianTailAbove(sigma, c - sensitivity / 2);
  const b = discreteGaussianTailAbove(sigma, c + sensitivity / 2);
  return Math.max(0, a - Math.exp(epsilon) * b);
}

/** Smallest σ (to 1e-9 relative) such that the discrete Gaussian meets (ε, δ) by CKS Thm 7. */
export function discreteGaussianSigma(epsilon: number, delta: number, sensitivity = 1): number {
  requirePositive('epsilon', epsilon);
  requireOpenUnit('delta', delta);
  requireInteger('sensitivity', sensitivity, 1);
  let hi = sensitivity;
  let guard = 0;
  while (discreteGaussianDelta(hi, epsilon, sensitivity) > delta) {
    hi *= 2;
    if (++guard > 60) throw new DpError('NumericalFailure', `no discrete Gaussian sigma meets epsilon ${epsilon}, delta ${delta}`);
  }
  let lo = hi / 2;
  while (lo > 1e-3 && discreteGaussianDelta(lo, epsilon, sensitivity) <= delta) {
    hi = lo;
    lo /= 2;
  }
  while ((hi - lo) / hi > 1e-9) {
    const mid = 0.5 * (lo + hi);
    if (discreteGaussianDelta(mid, epsilon, sensitivity) <= delta) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** A discrete Gaussian mechanism calibrated to (ε, δ); privacyCost states that (ε, δ). */
export function makeDiscreteGaussianForPrivacy(opts: { sensitivity: number; epsilon: number; delta: number }): AdditiveMechanism {
  if (!Number.isInteger(opts.sensitivity)) throw invalid('sensitivity', opts.sensitivity, 'must be an integer for the discrete Gaussian');
  const sigma = discreteGaussianSigma(opts.epsilon, opts.delta, opts.sensitivity);
  const base = makeDiscreteGaussian({ sensitivity: opts.sensitivity, sigma });
  return Object.freeze({ ...base, privacyCost: Object.freeze({ epsilon: opts.epsilon, delta: opts.delta }) });
}
