// How the analysis budget is spent: the total (ε, δ) is split between metrics, each metric's part
// between partition selection and noise, and the noise part between the metric's aggregates; each
// aggregate's (ε, δ) and sensitivity then give its noise scale.
//
// Composition here is *basic* (Dwork & Roth 2014, Thm 3.16): ε and δ of the parts add up, so a
// metric gets ε_m = share·ε and δ_m = share·δ and the parts of a metric add back to (ε_m, δ_m).
// The config's accountant (zCDP, RDP, PLD) gives tighter totals for the same noise; applying it is
// the privacy ledger's job (a later issue), so the noise here is conservative (never too small).
//
// Within a metric (selectionShare s, noise part = the rest):
// - public partitions: no selection; all of (ε_m, δ_m) goes to noise.
// - private partitions: selection gets s·ε_m; the noise gets (1−s)·ε_m. δ: a pure noise mechanism
//   (Laplace, discrete Laplace) needs none, so the selection gets all of δ_m; a Gaussian kind
//   splits δ_m as ε (selection s·δ_m, noise (1−s)·δ_m). Handing a pure mechanism's unused δ to the
//   selection is a deliberate departure from "selectionShare of δ_m" (same total, smaller threshold).
// - shared: a count-distinct metric whose noise kind matches a threshold selection (Laplace with
//   Laplace, Gaussian with Gaussian) releases its noisy unit count and the selection reads the same
//   draw (../shared/bench/WORKLOAD.md; Google's `LaplacePartitionSelection` on the released count):
//   one mechanism with all of (ε_m, δ_m) — noise Lap(L0/ε_m) with threshold from δ_m, or the
//   Gaussian thresholding's σ at δ_m/2 and threshold at δ_m/2 — so selectionShare does not apply.
// - covered: the other metrics of a group whose selection is such a shared count: their partitions
//   come from a released (post-processed) count, so they spend nothing on selection.
// The noise part of a metric is split evenly between its aggregates: mean = count + normalised sum
// (½ each); conversion = units that did `from` + units that also did `to` (½ each); funnel = one
// distinct-unit count per step (1/steps each).

import type { AnalysisConfig, Metric, MetricPrivacy } from '../config/schema';
import { DpError, invalid } from '../errors';
import { normalSf, normalQuantile } from '../math/special';
import { calibrateNoise } from '../dp/accounting/calibration';
import { discreteGaussianSigmaForPrivacy, discreteGaussianSigmaToAccuracy, discreteGaussianTail, discreteGaussianVariance } from '../dp/mechanisms/discrete-gaussian';
import { discreteLaplaceScaleToAccuracy, discreteLaplaceTail, discreteLaplaceVariance } from '../dp/mechanisms/discrete-laplace';
import { analyticGaussianSigma } from '../dp/mechanisms/gaussian';
import type { ContributionBounds, Sensitivity } from '../dp/sensitivity';
import { aggregateSensitivity, meanSensitivities } from '../dp/sensitivity';
import type { NoiseSpec } from './plan';

export interface PrivacyBudget {
  readonly epsilon: number;
  readonly delta: number;
}

export type Mechanism = MetricPrivacy['mechanism'];

/** A metric's part of the total under basic composition: (share·ε, share·δ). A ratio spends nothing, nor does a local-DP metric (no central budget). */
export function metricBudget(total: PrivacyBudget, metric: Pick<Metric, 'kind' | 'privacy'>): PrivacyBudget {
  if (metric.kind === 'ratio' || metric.kind === 'local-frequency') return { epsilon: 0, delta: 0 };
  const s = (metric.privacy as MetricPrivacy).budgetShare;
  return { epsilon: s * total.epsilon, delta: s * total.delta };
}

/** (ε_m, δ_m) of every metric of the config, by id (basic composition; ratios get 0). */
export function metricBudgets(config: Pick<AnalysisConfig, 'budget' | 'metrics'>): Record<string, PrivacyBudget> {
  const out: Record<string, PrivacyBudget> = {};
  for (const m of config.metrics) out[m.id] = metricBudget(config.budget, m);
  return out;
}

/** How a metric takes part in its group's partition selection (see the module comment). */
export type SelectionRole = 'public' | 'private' | 'shared' | 'covered';

export interface SelectionSplit {
  /** Budget of the selection; null when the metric spends nothing on it (public, covered). */
  readonly selection: PrivacyBudget | null;
  /** Budget of the noise (for 'shared' the same mechanism as the selection: counted once). */
  readonly noise: PrivacyBudget;
}

/** Whether the noise mechanism is pure ε-DP (needs no δ). */
export function isPureMechanism(m: Mechanism): boolean {
  return m === 'laplace' || m === 'discrete-laplace';
}

/** Splits a metric's (ε_m, δ_m) between partition selection and noise (see the module comment). */
export function splitSelection(total: PrivacyBudget, role: SelectionRole, selectionShare: number, mechanism: Mechanism): SelectionSplit {
  switch (role) {
    case 'public':
    case 'covered':
      return { selection: null, noise: total };
    case 'shared':
      return { selection: total, noise: total };
    case 'private': {
      if (!(selectionShare > 0 && selectionShare < 1)) throw invalid('selectionShare', selectionShare, 'must be in (0, 1)');
      const pure = isPureMechanism(mechanism);
      return {
        selection: { epsilon: selectionShare * total.epsilon, delta: pure ? total.delta : selectionShare * total.delta },
        noise: { epsilon: (1 - selectionShare) * total.epsilon, delta: pure ? 0 : (1 - selectionShare) * total.delta },
      };
    }
    default:
      throw invalid('role', role, "must be 'public', 'private', 'shared' or 'covered'");
  }
}

/** One noisy aggregate of a metric. */
export interface AggregatePart {
  /** '' for single-aggregate metrics; 'count' | 'sum' (mean), 'from' | 'to' (conversion), 'step1'… (funnel). */
  readonly key: string;
  /** What one pair contributes after bounding (plan.ts BaseMetricPlan.aggregate). */
  readonly aggregate: 'count' | 'count-distinct' | 'sum';
  readonly sensitivity: Sensitivity;
  readonly budget: PrivacyBudget;
}

function boundsOf(p: MetricPrivacy): ContributionBounds {
  return {
    maxPartitionsContributed: p.maxPartitionsContributed,
    maxContributionsPerPartition: p.maxContributionsPerPartition,
    ...(p.clamp ? { clampLow: p.clamp.low, clampHigh: p.clamp.high, clampMode: p.clamp.mode } : {}),
  };
}

/**
 * The noisy aggregates of a metric, each with its sensitivity and an even share of the noise
 * budget. Conversion and funnel parts are distinct-unit counts (sensitivity 1 per partition; the
 * `to` count and steps ≥ 2 are sums of a 0/1 indicator per pair, which has the same sensitivity).
 */
export function aggregateParts(metric: Metric, noise: PrivacyBudget): AggregatePart[] {
  // A local-DP metric has no central aggregate (simulate/local.ts).
  if (metric.kind === 'local-frequency') return [];
  const b = boundsOf(metric.privacy);
  const even = (n: number): PrivacyBudget => ({ epsilon: noise.epsilon / n, delta: noise.delta / n });
  switch (metric.kind) {
    case 'count':
      return [{ key: '', aggregate: 'count', sensitivity: aggregateSensitivity('count', b), budget: noise }];
    case 'count-distinct':
      return [{ key: '', aggregate: 'count-distinct', sensitivity: aggregateSensitivity('count-distinct', b), budget: noise }];
    case 'sum':
      return [{ key: '', aggregate: 'sum', sensitivity: aggregateSensitivity('sum', b), budget: noise }];
    case 'mean': {
      const s = meanSensitivities(b);
      return [
        { key: 'count', aggregate: 'count', sensitivity: s.count, budget: even(2) },
        { key: 'sum', aggregate: 'sum', sensitivity: s.normalizedSum, budget: even(2) },
      ];
    }
    case 'conversion': {
      const s = aggregateSensitivity('count-distinct', b);
      return [
        { key: 'from', aggregate: 'count-distinct', sensitivity: s, budget: even(2) },
        { key: 'to', aggregate: 'sum', sensitivity: s, budget: even(2) },
      ];
    }
    case 'funnel': {
      const s = aggregateSensitivity('count-distinct', b);
      const n = metric.steps.length;
      return metric.steps.map((_, i) => ({ key: `step${i + 1}`, aggregate: i === 0 ? 'count-distinct' : 'sum', sensitivity: s, budget: even(n) }));
    }
    case 'ratio':
      return [];
  }
}

/**
 * Noise for one aggregate from its mechanism, sensitivity and (ε, δ):
 * - laplace: b = L1/ε;
 * - gaussian: the analytic Gaussian σ (Balle & Wang 2018) for L2 at δ;
 * - discrete-laplace: t = L1/ε (as makeDiscreteLaplace; an integer L1 is needed for the exact
 *   guarantee, see `notes`);
 * - discrete-gaussian: with one partition per unit and an integer L∞′, the tight σ of CKS20 Thm 7
 *   (makeDiscreteGaussianForPrivacy); otherwise σ from zCDP with ρ = L2²/(2σ²) (CKS20 Thm 14 for
 *   the L0-partition vector), converted to (ε, δ) by the zCDP accountant (conservative).
 * Problems that do not stop the simulation (a non-integer sensitivity for a discrete kind) are
 * pushed to `notes`.
 */
export function noiseSpecFor(mechanism: Mechanism, sensitivity: Sensitivity, budget: PrivacyBudget, notes?: string[], what = 'metric'): NoiseSpec {
  const { epsilon, delta } = budget;
  if (!(epsilon > 0)) throw invalid(`epsilon of ${what}`, epsilon, 'must be > 0');
  const needsDelta = mechanism === 'gaussian' || mechanism === 'discrete-gaussian';
  if (needsDelta && !(delta > 0 && delta < 1)) {
    throw new DpError('InvalidParameter', `${what}: the ${mechanism} mechanism needs a delta in (0, 1) for its noise, got ${delta} (set budget.delta > 0)`);
  }
  if (sensitivity.l1 === 0) {
    notes?.push(`${what}: sensitivity 0 (clamp range [0, 0]): released without noise`);
    return { kind: 'none' };
  }
  switch (mechanism) {
    case 'laplace':
      return { kind: 'laplace', scale: sensitivity.l1 / epsilon };
    case 'gaussian':
      return { kind: 'gaussian', sigma: analyticGaussianSigma(epsilon, delta, sensitivity.l2) };
    case 'discrete-laplace':
      if (!Number.isInteger(sensitivity.l1)) notes?.push(`${what}: discrete Laplace noise with a non-integer L1 sensitivity (${sensitivity.l1}) is simulated with t = L1/ε, but an exact release needs integer values and sensitivity`);
      return { kind: 'discrete-laplace', scale: sensitivity.l1 / epsilon };
    case 'discrete-gaussian': {
      const l0 = Math.round(sensitivity.l1 / sensitivity.perPartition); // L1 = L0·L∞′
      if (!Number.isInteger(sensitivity.perPartition)) notes?.push(`${what}: discrete Gaussian noise with a non-integer sensitivity (${sensitivity.perPartition}) needs integer values for an exact release`);
      if (l0 === 1 && Number.isInteger(sensitivity.perPartition)) {
        return { kind: 'discrete-gaussian', sigma: discreteGaussianSigmaForPrivacy(epsilon, delta, sensitivity.perPartition) };
      }
      const r = calibrateNoise({ kind: 'gaussian', sensitivity: sensitivity.l2, epsilon, delta, accountant: 'zcdp', tolerance: 1e-9 });
      return { kind: 'discrete-gaussian', sigma: r.scale };
    }
    default:
      throw invalid('mechanism', mechanism, 'must be laplace, gaussian, discrete-laplace or discrete-gaussian');
  }
}

/** Variance of one noise draw. */
export function noiseVariance(spec: NoiseSpec): number {
  switch (spec.kind) {
    case 'laplace':
      return 2 * spec.scale * spec.scale;
    case 'gaussian':
      return spec.sigma * spec.sigma;
    case 'discrete-laplace':
      return discreteLaplaceVariance(spec.scale);
    case 'discrete-gaussian':
      return discreteGaussianVariance(spec.sigma);
    case 'none':
      return 0;
  }
}

/**
 * Half-width a of the noise at confidence level c = 1 − α: P(|Z| > a) = α (continuous), or the
 * smallest integer a with P(|Z| > a) <= α (discrete). Laplace b·ln(1/α); Gaussian σ·Φ⁻¹(1 − α/2)
 * (OpenDP `*_scale_to_accuracy`).
 */
export function noiseHalfWidth(spec: NoiseSpec, confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw invalid('confidence', confidence, 'must be in (0, 1)');
  const alpha = 1 - confidence;
  switch (spec.kind) {
    case 'laplace':
      return spec.scale * Math.log(1 / alpha);
    case 'gaussian':
      return -spec.sigma * normalQuantile(alpha / 2);
    case 'discrete-laplace':
      return discreteLaplaceScaleToAccuracy(spec.scale, alpha);
    case 'discrete-gaussian':
      return discreteGaussianSigmaToAccuracy(spec.sigma, alpha);
    case 'none':
      return 0;
  }
}

/** P(Z > x) for one noise draw Z (for the keep probability of a threshold on a noisy count). */
export function noiseSf(spec: NoiseSpec, x: number): number {
  switch (spec.kind) {
    case 'laplace': {
      const b = spec.scale;
      return x >= 0 ? 0.5 * Math.exp(-x / b) : 1 - 0.5 * Math.exp(x / b);
    }
    case 'gaussian':
      return normalSf(x / spec.sigma);
    case 'discrete-laplace':
      return discreteLaplaceTail(Math.floor(x) + 1, spec.scale);
    case 'discrete-gaussian':
      return discreteGaussianTail(Math.floor(x) + 1, spec.sigma);
    case 'none':
      return x < 0 ? 1 : 0;
  }
}

/** z_{1−α/2} of the normal distribution at confidence c (for delta-method half-widths). */
export function normalHalfWidthFactor(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw invalid('confidence', confidence, 'must be in (0, 1)');
  return -normalQuantile((1 - confidence) / 2);
}
