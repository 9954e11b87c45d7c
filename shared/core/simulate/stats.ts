// From an accumulator to the numbers a user reads: per metric, the mean of each per-trial
// statistic (WORKLOAD.md §5) with its standard error; per (metric, partition) the release
// probability, bias, RMSE, mean absolute and relative error, error quantiles, P(|relative
// error| > x) and the coverage of the stated interval; per metric over partitions the share of
// partitions released within ±x and the share of the true value lost to suppression.
//
// Conventions: per-partition error statistics are conditional on the partition being released
// (suppression is reported by releaseProbability and valueLostToSuppression, not mixed into the
// errors); relative error is |error| / max(|true|, plan.stats.relativeErrorFloor ?? 1); error
// quantiles are type-7 quantiles of the signed error over the first errorSamplesPerCell trials
// in which the cell was released.
//
// Error decomposition: this module gives the raw Monte-Carlo pieces, the mean and variance of each
// base metric's bounded (pre-noise) value per partition: mean − true is the clipping plus L0/L∞
// sampling bias, the variance the sampling error; noise comes from the plan's NoiseSpec and
// suppression from releaseProbability. The analytic model (analytic.ts) computes the same terms.

import type { SimulationAccumulator } from './accumulator';
import { H_SUPPRESSION, H_SUPPRESSION_SQ, H_TRIALS, H_TRIALS_EMPTY, H_TRIALS_USED, N_CELL_FIELDS, N_TRIAL_STATS, TRIAL_STATS } from './accumulator';
import type { TrialStat } from './accumulator';
import type { ValueSource } from './engine';
import { preparePlan } from './engine';
import type { SimulationPlan } from './plan';
import { quantile } from './select';

export interface MeanWithError {
  readonly mean: number;
  /** Standard error of the mean over trials (NaN with fewer than 2 trials). */
  readonly se: number;
}

export interface PartitionResult {
  readonly partition: number;
  readonly trueValue: number;
  /** Share of trials in which the partition was released. */
  readonly releaseProbability: number;
  /** The rest is over the trials in which it was released (NaN if never). */
  readonly bias: number;
  readonly rmse: number;
  readonly meanAbsError: number;
  readonly meanRelativeError: number;
  /** Type-7 quantiles of the signed error from the error samples (null: none kept). */
  readonly errorQuantiles: { readonly p05: number; readonly p50: number; readonly p95: number; readonly samples: number } | null;
  /** P(|relative error| > x) for each x of plan.stats.relativeErrorThresholds. */
  readonly exceedProbability: readonly number[];
  /** Share of releases with |error| <= the stated half-width (null: the plan states none). */
  readonly coverage: number | null;
  /** Base metrics: mean and variance of the bounded value before noise, over all trials. */
  readonly boundedMean?: number;
  readonly boundedVariance?: number;
}

export interface MetricResult {
  readonly id: string;
  readonly role: 'base' | 'derived';
  /** Base metrics: where the values came from ('true-values' = the exact shortcut, bounding not binding). */
  readonly valueSource: ValueSource | null;
  /** Means over trials (with >= 1 released partition) of the per-trial statistics of WORKLOAD.md §5. */
  readonly perTrial: Readonly<Record<TrialStat, MeanWithError>>;
  /** Per partition (absent when plan.stats.perPartition is false). */
  readonly partitions?: readonly PartitionResult[];
  /** For each x: expected share of partitions released with |relative error| <= x. */
  readonly withinShare?: readonly { readonly x: number; readonly share: number }[];
  /** Expected share of Σ|true value| in suppressed partitions. */
  readonly valueLostToSuppression?: number;
  /** Over every release: share within the stated half-width (null: none stated). */
  readonly coverage?: number | null;
}

export interface SimulationResult {
  readonly firstTrial: number;
  readonly trials: number;
  readonly trialsUsed: number;
  readonly trialsEmpty: number;
  /** Which size was simulated (the sample, or production by resampling). */
  readonly scale: SimulationPlan['scale'];
  readonly confidence: number;
  readonly relativeErrorThresholds: readonly number[];
  /** Mean share of partitions suppressed per trial. */
  readonly suppressionRate: MeanWithError;
  readonly metrics: readonly MetricResult[];
}

function meanSe(sum: number, sumsq: number, n: number): MeanWithError {
  if (n === 0) return { mean: NaN, se: NaN };
  const mean = sum / n;
  const variance = n > 1 ? Math.max(sumsq / n - mean * mean, 0) * (n / (n - 1)) : NaN;
  return { mean, se: Math.sqrt(variance / n) };
}

/** Turns an accumulator of `plan` into result objects (allocates; call it for display, not per chunk). */
export function summarize(acc: SimulationAccumulator, plan: SimulationPlan): SimulationResult {
  const pp = preparePlan(plan);
  const L = acc.layout;
  const s = acc.sums;
  const P = L.partitions;
  const MP = L.metrics * P;
  const trials = s[H_TRIALS]!;
  const used = s[H_TRIALS_USED]!;
  const thresholds = plan.stats.relativeErrorThresholds;
  const S = L.samplesPerCell;
  const sampleSlots = Math.max(0, Math.min(S, acc.firstTrial + acc.trialCount) - acc.firstTrial);
  const scratch = new Float64Array(Math.max(1, S));

  const metrics = plan.metrics.map((metric, j): MetricResult => {
    const ts = L.trialStats + j * N_TRIAL_STATS * 2;
    const perTrial = Object.fromEntries(TRIAL_STATS.map((name, k) => [name, meanSe(s[ts + 2 * k]!, s[ts + 2 * k + 1]!, used)])) as Record<TrialStat, MeanWithError>;
    const base = { id: metric.id, role: metric.role, valueSource: pp.valueSources[j] ?? null, perTrial };
    if (!L.perPartition) return base;

    const boundedIndex = L.boundedMetrics.indexOf(j);
    const deterministic = metric.role === 'base' ? pp.valueSources[j] !== 'sampled-bounding' : false;
    const partitions: PartitionResult[] = [];
    const within = thresholds.map(() => 0);
    let lost = 0;
    let totalAbs = 0;
    let covered = 0;
    let releases = 0;
    for (let p = 0; p < P; p++) {
      const q = j * P + p;
      const k = s[L.kept + p]!;
      const c = (f: number): number => s[L.cells + f * MP + q]!;
      const trueValue = pp.truth[q]!;
      totalAbs += Math.abs(trueValue);
      lost += (trials - k) * Math.abs(trueValue);
      const exceed = thresholds.map((_, x) => c(N_CELL_FIELDS + x) / k);
      thresholds.forEach((_, x) => (within[x]! += k - c(N_CELL_FIELDS + x)));
      covered += c(3);
      releases += k;
      let errorQuantiles: PartitionResult['errorQuantiles'] = null;
      if (sampleSlots > 0 && acc.samples.length > 0) {
        let n = 0;
        for (let t = acc.firstTrial; t < acc.firstTrial + sampleSlots; t++) {
          const e = acc.samples[q * S + t]!;
          if (e === e) scratch[n++] = e;
        }
        if (n > 0) errorQuantiles = { p05: quantile(scratch, n, 0.05), p50: quantile(scratch, n, 0.5), p95: quantile(scratch, n, 0.95), samples: n };
      }
      const result: PartitionResult = {
        partition: p,
        trueValue,
        releaseProbability: k / trials,
        bias: c(0) / k,
        rmse: Math.sqrt(c(1) / k),
        meanAbsError: c(2) / k,
        meanRelativeError: (c(2) * pp.invRel[q]!) / k,
        errorQuantiles,
        exceedProbability: exceed,
        coverage: pp.hasHalfWidth[j] ? c(3) / k : null,
      };
      if (metric.role === 'base') {
        if (boundedIndex >= 0) {
          const o = L.bounded + 2 * boundedIndex * P + p;
          const mean = s[o]! / trials;
          partitions.push({ ...result, boundedMean: mean, boundedVariance: Math.max(0, s[o + P]! / trials - mean * mean) });
        } else if (deterministic) {
          partitions.push({ ...result, boundedMean: pp.valueSources[j] === 'true-values' ? trueValue : deterministicValue(pp, j, p), boundedVariance: 0 });
        } else partitions.push(result);
      } else partitions.push(result);
    }
    return {
      ...base,
      partitions,
      withinShare: thresholds.map((x, i) => ({ x, share: within[i]! / (P * trials) })),
      valueLostToSuppression: totalAbs > 0 ? lost / (trials * totalAbs) : 0,
      coverage: pp.hasHalfWidth[j] ? covered / releases : null,
    };
  });

  return {
    firstTrial: acc.firstTrial,
    trials,
    trialsUsed: used,
    trialsEmpty: s[H_TRIALS_EMPTY]!,
    scale: plan.scale,
    confidence: plan.stats.confidence,
    relativeErrorThresholds: [...thresholds],
    suppressionRate: meanSe(s[H_SUPPRESSION]!, s[H_SUPPRESSION_SQ]!, trials),
    metrics,
  };
}

function deterministicValue(pp: ReturnType<typeof preparePlan>, j: number, p: number): number {
  for (const g of pp.deterministicGroups) {
    const k = g.metrics.indexOf(j);
    if (k >= 0) return g.fixed[k * pp.partitions + p]!;
  }
  return pp.truth[j * pp.partitions + p]!;
}
