// Laplace mechanism (Dwork, McSherry, Nissim, Smith 2006): noise Lap(b) with b = Δ₁/ε.
// Accuracy: P(|X| > a) = e^{−a/b}, so a = b·ln(1/α) (OpenDP `laplacian_scale_to_accuracy`).

import { DpError, requireOpenUnit, requirePositive } from '../../errors';
import type { Rng } from '../../rng';
import type { AdditiveMechanism } from './types';
import { DEFAULT_ALPHA } from './types';

/** Inverse-CDF Laplace sample with scale b from u in (0,1) (the WORKLOAD.md method). */
export function laplaceFromUniform(u: number, b: number): number {
  return u < 0.5 ? b * Math.log(2 * u) : -b * Math.log(2 - 2 * u);
}

export function laplaceScaleToAccuracy(scale: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('scale', scale);
  requireOpenUnit('alpha', alpha);
  return scale * Math.log(1 / alpha);
}

export function accuracyToLaplaceScale(accuracy: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('accuracy', accuracy);
  requireOpenUnit('alpha', alpha);
  return accuracy / Math.log(1 / alpha);
}

/** ε needed for a Laplace release of sensitivity Δ₁ to have half-width `accuracy` at 1−α. */
export function laplaceAccuracyToEpsilon(accuracy: number, sensitivity: number, alpha = DEFAULT_ALPHA): number {
  requirePositive('sensitivity', sensitivity);
  return sensitivity / accuracyToLaplaceScale(accuracy, alpha);
}

export interface LaplaceOptions {
  /** L1 sensitivity Δ₁. */
  sensitivity: number;
  /** Give ε (then b = Δ₁/ε) or the scale b directly. */
  epsilon?: number;
  scale?: number;
}

/**
 * The (scale, ε) pair of a Laplace-type mechanism given either ε (scale = Δ/ε) or the scale
 * (ε = Δ/scale), never both.
 */
export function epsilonOrScale(sensitivity: number, opts: { epsilon?: number; scale?: number }): { scale: number; epsilon: number } {
  if (opts.scale !== undefined && opts.epsilon !== undefined) {
    throw new DpError('InvalidParameter', 'give epsilon or scale, not both');
  }
  if (opts.scale !== undefined) {
    const scale = requirePositive('scale', opts.scale);
    return { scale, epsilon: sensitivity / scale };
  }
  const epsilon = requirePositive('epsilon', opts.epsilon);
  return { scale: sensitivity / epsilon, epsilon };
}

export function makeLaplace(opts: LaplaceOptions): AdditiveMechanism {
  const sensitivity = requirePositive('sensitivity', opts.sensitivity);
  const { scale, epsilon } = epsilonOrScale(sensitivity, opts);
  const mech: AdditiveMechanism = {
    kind: 'laplace',
    sensitivity,
    scale,
    std: Math.SQRT2 * scale,
    variance: 2 * scale * scale,
    privacyCost: Object.freeze({ epsilon, delta: 0 }),
    sample: (rng: Rng) => laplaceFromUniform(rng.nextDouble(), scale),
    accuracy: (alpha = DEFAULT_ALPHA) => laplaceScaleToAccuracy(scale, alpha),
    event: (count = 1) => ({ kind: 'laplace', scale, sensitivity, count }),
  };
  return Object.freeze(mech);
}
