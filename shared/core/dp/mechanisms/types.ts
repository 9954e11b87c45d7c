// The shape every additive noise mechanism shares (OpenDP-style: a validated constructor returns
// an immutable object). Samplers take the Rng as an argument; the core owns no randomness.

import type { Rng } from '../../rng';
import type { DpEvent } from '../accounting/events';

export type AdditiveMechanismKind = 'laplace' | 'gaussian' | 'discrete-laplace' | 'discrete-gaussian';

export interface PrivacyCost {
  readonly epsilon: number;
  readonly delta: number;
}

export interface AdditiveMechanism {
  readonly kind: AdditiveMechanismKind;
  /** L1 sensitivity for the Laplace kinds, L2 sensitivity for the Gaussian kinds. */
  readonly sensitivity: number;
  /** b (Laplace), σ (Gaussian), t (discrete Laplace, P(k) ∝ e^{−|k|/t}), σ (discrete Gaussian). */
  readonly scale: number;
  readonly std: number;
  readonly variance: number;
  /** The (ε, δ) this single release costs; δ = 0 for pure mechanisms. */
  readonly privacyCost: PrivacyCost;
  /** One noise draw (simulation PRNG: not for real releases). */
  sample(rng: Rng): number;
  /** Half-width a with P(|noise| > a) <= alpha (equality for continuous noise). */
  accuracy(alpha?: number): number;
  /** The accounting event of `count` such releases. */
  event(count?: number): DpEvent;
}

export const DEFAULT_ALPHA = 0.05;
