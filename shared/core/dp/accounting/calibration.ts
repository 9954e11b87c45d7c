// Calibration: the smallest noise scale such that k releases (plus any other planned events)
// meet a target (ε, δ) under the chosen accountant. Every accountant's ε is decreasing in the
// noise scale, so a bisection on log(scale) finds it (as dp_accounting's
// `mechanism_calibration.calibrate_dp_mechanism` does with its bracket search).

import { DpError, invalid, requireDelta, requireInteger, requirePositive } from '../../errors';
import type { DpEvent } from './events';
import { getAccountant } from './index';
import type { Accountant, AccountantName } from './types';

export type CalibratedKind = 'laplace' | 'gaussian' | 'discrete-laplace' | 'discrete-gaussian';

export interface CalibrationRequest {
  kind: CalibratedKind;
  /** L1 (Laplace kinds) or L2 (Gaussian kinds) sensitivity of one release. */
  sensitivity?: number;
  /** How many identical releases (k). */
  releases?: number;
  epsilon: number;
  delta: number;
  accountant: AccountantName | Accountant;
  /** Other planned releases that share the budget. */
  otherEvents?: readonly DpEvent[];
  /** Relative tolerance on the scale (default 1e-6). */
  tolerance?: number;
}

export interface CalibrationResult {
  readonly kind: CalibratedKind;
  /** b (Laplace), σ (Gaussian), t (discrete Laplace), σ (discrete Gaussian). */
  readonly scale: number;
  /** ε the accountant certifies at the target δ with this scale (<= target). */
  readonly epsilon: number;
  readonly delta: number;
  readonly accountant: AccountantName;
}

function eventFor(kind: CalibratedKind, scale: number, sensitivity: number, count: number): DpEvent {
  switch (kind) {
    case 'laplace':
    case 'discrete-laplace':
      return { kind, scale, sensitivity, count };
    case 'gaussian':
    case 'discrete-gaussian':
      return { kind, sigma: scale, sensitivity, count };
    default:
      throw invalid('kind', kind, 'must be laplace, gaussian, discrete-laplace or discrete-gaussian');
  }
}

export function calibrateNoise(req: CalibrationRequest): CalibrationResult {
  const acc = typeof req.accountant === 'string' ? getAccountant(req.accountant) : req.accountant;
  const sensitivity = requirePositive('sensitivity', req.sensitivity ?? 1);
  const k = requireInteger('releases', req.releases ?? 1, 1);
  const target = requirePositive('epsilon', req.epsilon);
  const delta = requireDelta('delta', req.delta);
  const tol = req.tolerance ?? 1e-6;
  const others = req.otherEvents ?? [];
  const epsAt = (scale: number): number => acc.epsilonAt([...others, eventFor(req.kind, scale, sensitivity, k)], delta);
  const ok = (scale: number): boolean => epsAt(scale) <= target;

  let hi = sensitivity;
  let guard = 0;
  while (!ok(hi)) {
    hi *= 4;
    if (++guard > 60) {
      throw new DpError('InvalidParameter', `no ${req.kind} noise meets epsilon ${target} at delta ${delta} with the ${acc.name} accountant (are the other events already over budget?)`);
    }
  }
  let lo = hi / 4;
  guard = 0;
  while (ok(lo)) {
    hi = lo;
    lo /= 4;
    if (++guard > 200) break;
  }
  while ((hi - lo) / hi > tol) {
    const mid = Math.sqrt(lo * hi);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return Object.freeze({ kind: req.kind, scale: hi, epsilon: epsAt(hi), delta, accountant: acc.name });
}
