// Gaussian mechanism: noise N(0, σ²) scaled to the L2 sensitivity Δ₂.
// - classic (Dwork & Roth 2014, Thm A.1; valid only for ε < 1): σ = √(2 ln(1.25/δ))·Δ₂/ε.
// - analytic (Balle & Wang 2018, "Improving the Gaussian Mechanism for Differential Privacy",
//   Thm 8; valid for every ε > 0): the smallest σ with
//   Φ(Δ₂/(2σ) − εσ/Δ₂) − e^ε·Φ(−Δ₂/(2σ) − εσ/Δ₂) <= δ, found by bisection.
// Accuracy: a = σ·Φ⁻¹(1 − α/2) (OpenDP `gaussian_scale_to_accuracy`).

import { DpError, invalid, requireDelta, requireOpenUnit, requirePositive } from '../../errors';
import { normalCdf, normalLogCdf, normalQuantile } from '../../math/special';
import type { Rng } from '../../rng';
import type { AdditiveMechanism } from './types';
import { DEFAULT_ALPHA } from './types';

/**
 * The exact δ(ε) of a Gaussian mechanism with noise σ and L2 sensitivity Δ₂ (Balle & Wang 2018,
 * Thm 8): δ = Φ(Δ/(2σ) − εσ/Δ) − e^ε Φ(−Δ/(2σ) − εσ/Δ). The second term is taken in log space so
 * large ε does not overflow. Also valid for ε < 0 (the hockey-stick divergence curve).
 */
export function gaussianDelta(sigma: number, epsilon: number, sensitivity = 1): number {
  const mu = sensitivity / sigma;
  const a = mu / 2 - epsilon / mu;
  const b = -mu / 2 - epsilon / mu;
  const first = normalCdf(a);
  const second = Math.exp(epsilon + normalLogCdf(b));
  return Math.max(0, first - second);
}

/** Classic Gaussian σ = √(2 ln(1.25/δ))·Δ₂/ε (Dwork & Roth 2014, Thm A.1); requires ε < 1. */
export function classicGaussianSigma(epsilon: number, delta: number, sensitivity = 1): number {
  requirePositive('epsilon', epsilon);
  if (epsilon >= 1) throw invalid('epsilon', epsilon, 'must be < 1 for the classic Gaussian mechanism (use the analytic one)');
  requireOpenUnit('delta', delta);
  requirePositive('sensitivity', sensitivity);
  return (Math.sqrt(2 * Math.log(1.25 / delta)) * sensitivity) / epsilon;
}

/** Analytic Gaussian σ (Balle & Wang 2018, Thm 8, Alg. 1 by bisection), any ε > 0, δ in (0,1). */
export function analyticGaussianSigma(epsilon: number, delta: number, sensitivity = 1): number {
  requirePositive('epsilon', epsilon);
  requireOpenUnit('delta', delta);
  requirePositive('sensitivity', sensitivity);
  // Work in units of the sensitivity: δ depends on σ/Δ only.
  let lo = 1e-3;
  let hi = 1;
  while (gaussianDelta(hi, epsilon) > delta) {
    hi *= 2;
    if (hi > 1e15) throw new DpError('NumericalFailure', `no Gaussian sigma meets epsilon ${epsilon}, delta ${delta}`);
  }
  while (gaussianDelta(lo, epsilon) <= delta && lo > 1e-300) lo /= 2;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (gaussianDelta(mid, epsilon) <= delta) hi = mid;
    else lo = mid;
  }
  return hi * sensitivity;
}

/** The exact ε of a Gaussian mechanism with σ at δ (inverse of the analytic condition); 0 if δ(0) <= δ. */
export function analyticGaussianEpsilon(sigma: number, delta: number, sensitivity = 1): number {
  requirePositive('sigma', sigma);
  requireOpenUnit('delta', delta);
  requirePositive('sensitivity', sensitivity);
  const s = sigma / sensitivity;
  if (gaussianDelta(s, 0) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (gaussianDelta(s, hi) > delta) {
    lo = hi;
    hi *= 2;
    if (hi > 1e9) throw new DpError('NumericalFailure', `epsilon of sigma ${sigma} at delta ${delta} did not converge`);
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (gaussianDelta(s, mid) <= delta) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Half-width of N(0, σ²) noise at 1−α: σ·Φ⁻¹(1 − α/2). */
export function gaussianScaleToAccuracy(sigma: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('sigma', sigma);
  requireOpenUnit('alpha', alpha);
  return -sigma * normalQuantile(alpha / 2);
}

export function accuracyToGaussianScale(accuracy: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('accuracy', accuracy);
  requireOpenUnit('alpha', alpha);
  return accuracy / -normalQuantile(alpha / 2);
}

/** ε (analytic Gaussian, at δ) for a half-width `accuracy` at 1−α. */
export function gaussianAccuracyToEpsilon(accuracy: number, delta: number, sensitivity = 1, alpha = DEFAULT_ALPHA): number {
  return analyticGaussianEpsilon(accuracyToGaussianScale(accuracy, alpha), delta, sensitivity);
}

/** Box–Muller standard normal pair from u1 in (0,1), u2 in (0,1); returns the cosine branch. */
export function standardNormalFromUniforms(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export interface GaussianOptions {
  /** L2 sensitivity Δ₂. */
  sensitivity: number;
  /** Either (epsilon, delta) to calibrate, or sigma (and delta, to state the ε it gives). */
  epsilon?: number;
  delta?: number;
  sigma?: number;
  /** 'analytic' (default, any ε) or 'classic' (ε < 1, larger σ). */
  variant?: 'analytic' | 'classic';
}

export function makeGaussian(opts: GaussianOptions): AdditiveMechanism {
  const sensitivity = requirePositive('sensitivity', opts.sensitivity);
  const variant = opts.variant ?? 'analytic';
  if (variant !== 'analytic' && variant !== 'classic') throw invalid('variant', variant, "must be 'analytic' or 'classic'");
  let sigma: number;
  let epsilon: number;
  let delta: number;
  if (opts.sigma !== undefined) {
    sigma = requirePositive('sigma', opts.sigma);
    delta = opts.delta === undefined ? 1e-6 : requireOpenUnit('delta', opts.delta);
    epsilon = analyticGaussianEpsilon(sigma, delta, sensitivity);
  } else {
    epsilon = requirePositive('epsilon', opts.epsilon);
    delta = requireDelta('delta', opts.delta);
    if (delta === 0) throw invalid('delta', delta, 'must be > 0 for the Gaussian mechanism');
    sigma = variant === 'classic' ? classicGaussianSigma(epsilon, delta, sensitivity) : analyticGaussianSigma(epsilon, delta, sensitivity);
  }
  // Box–Muller with a cached second value would make sample() stateful; the simulation engine
  // keeps its own pair cache. Here each call uses two uniforms and the cosine branch.
  const mech: AdditiveMechanism = {
    kind: 'gaussian',
    sensitivity,
    scale: sigma,
    std: sigma,
    variance: sigma * sigma,
    privacyCost: Object.freeze({ epsilon, delta }),
    sample: (rng: Rng) => sigma * standardNormalFromUniforms(rng.nextDouble(), rng.nextDouble()),
    accuracy: (alpha = DEFAULT_ALPHA) => gaussianScaleToAccuracy(sigma, alpha),
    event: (count = 1) => ({ kind: 'gaussian', sigma, sensitivity, count }),
  };
  return Object.freeze(mech);
}
