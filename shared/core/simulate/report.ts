// The simulation report: one JSON-serialisable object per run, built from the Monte-Carlo results
// (stats.ts `summarize`) and the analytic model (analytic.ts) of every plan group, indexed by the
// config's metrics (plan-builder's metricIndex). Pure: no IO, no clocks (timings come in).
//
// Conventions of the report:
// - a cohort is one partition of the metric's `by`; `key` are its dimension values, `label` them
//   joined with " / " ("(all)" without dimensions);
// - per-cohort errors are conditional on the cohort being released (as stats.ts); suppression is
//   reported by releaseProbability and the value-lost share;
// - relative error: base metrics (counts, sums) |error| / max(|true|, 1), as the engine and the
//   analytic model; derived metrics (rates, means, ratios) |error| / |true| (undefined where the
//   true value is 0), computed from the engine's error samples (the first errorSamplesPerCell
//   trials of each cohort), since the engine's own relative floor of 1 is meant for counts;
// - rmse over cohorts: √(mean over cohorts of the expected squared error, a dropped cohort counting
//   |true|²): the same quantity as √(analytic decomposition.total).

import type { AnalysisConfig, LocalFrequencyMetric, Metric } from '../config/schema';
import { isCentralMetric } from '../config/schema';
import type { SimulationAccumulator } from './accumulator';
import type { AnalyticMetricResult, AnalyticResult, ErrorDecomposition } from './analytic';
import type { ValueSource } from './engine';
import type { BaseMetricPlan, NoiseSpec, SimulationPlan } from './plan';
import type { LocalCategoryResult, LocalFrequencyResult } from './local';
import type { BuildPlanResult } from './plan-builder';
import type { MetricResult, PartitionResult, SimulationResult } from './stats';

export const REPORT_FORMAT = 'dpw-simulation';
export const REPORT_VERSION = 1;

export interface ThresholdShare {
  readonly x: number;
  readonly share: number | null;
}

export interface CohortReport {
  readonly key: readonly (string | null)[];
  readonly label: string;
  readonly trueValue: number;
  readonly releaseProbability: number;
  readonly bias: number | null;
  readonly rmse: number | null;
  readonly meanAbsError: number | null;
  readonly meanRelativeError: number | null;
  readonly medianRelativeError: number | null;
  /** Signed error quantiles over the sampled releases. */
  readonly errorQuantiles: { readonly p05: number; readonly p50: number; readonly p95: number; readonly samples: number } | null;
  /** P(|relative error| > x | released). */
  readonly exceedProbability: readonly ThresholdShare[];
  /** Share of releases within the stated interval (null: none stated). */
  readonly coverage: number | null;
  /** Half-width of the stated interval at the run's confidence. */
  readonly halfWidth: number | null;
  readonly analytic: {
    readonly bias: number;
    readonly rmse: number;
    readonly keepProbability: number;
    readonly rmseWithDropped: number;
    readonly relativeError: number | null;
  };
}

export interface MetricPartReport {
  readonly part: string;
  readonly id: string;
  readonly role: 'base' | 'derived';
  readonly aggregate?: BaseMetricPlan['aggregate'];
  /** Where the per-trial values came from: 'true-values' and 'deterministic-bounding' are the exact shortcuts. */
  readonly valueSource: ValueSource | null;
  readonly noise?: NoiseSpec;
  readonly noiseStd?: number;
}

export interface MetricSummary {
  readonly cohorts: number;
  readonly expectedReleased: { readonly mc: number; readonly analytic: number };
  /** Share of cohorts released with |relative error| <= x (suppressed cohorts count as not within). */
  readonly withinShare: readonly { readonly x: number; readonly mc: number | null; readonly analytic: number }[];
  readonly valueLostToSuppression: { readonly mc: number; readonly analytic: number };
  /** Median over released cohorts (weighted by release probability) of each cohort's median |relative error|. */
  readonly medianRelativeError: number | null;
  readonly coverage: number | null;
  /** √(mean over cohorts of the expected squared error, dropped cohorts counting |true|²). */
  readonly rmse: { readonly mc: number | null; readonly analytic: number };
  /** Mean squared error by source (analytic; they add up to total), with the Monte-Carlo total beside it. */
  readonly decomposition: ErrorDecomposition & { readonly mcTotal: number | null };
  readonly relativeDecomposition: ErrorDecomposition;
  /** Analytic standard deviation of the noise alone, root mean square over cohorts (as if released). */
  readonly noiseStd: number;
  /** Derived metrics: cohorts where the analytic delta method is unreliable (Monte-Carlo is authoritative). */
  readonly analyticUnreliableCohorts: number;
}

export interface MetricReport {
  readonly id: string;
  readonly label: string | null;
  readonly kind: Metric['kind'];
  readonly by: readonly string[];
  readonly group: number;
  readonly privacy: { readonly epsilon: number; readonly delta: number; readonly confidence: number; readonly selectionRole: string };
  readonly relativeErrorBasis: 'max(|true|, 1)' | '|true|';
  /** Parts that used an exact shortcut (bounding not binding), or null when every part was bounded per trial. */
  readonly exactShortcut: string | null;
  readonly parts: readonly MetricPartReport[];
  readonly summary: MetricSummary;
  readonly cohorts: readonly CohortReport[];
}

/**
 * A local-DP metric (kind local-frequency): k-ary randomized response on each unit's device with
 * debiased frequency estimates (core/simulate/local.ts); no central budget, no cohorts, no
 * suppression. Per category: Monte-Carlo results with the analytic std beside them.
 */
export interface LocalMetricReport {
  readonly id: string;
  readonly label: string | null;
  readonly kind: 'local-frequency';
  readonly column: string;
  readonly privacy: { readonly localEpsilon: number; readonly delta: 0; readonly model: 'local'; readonly confidence: number };
  readonly mechanism: { readonly name: 'randomized-response'; readonly k: number; readonly p: number; readonly q: number };
  readonly seed: string;
  /** Reporting units (n). */
  readonly units: number;
  readonly unitsMappedToOther: number;
  readonly relativeErrorBasis: '|true|';
  readonly interval: string;
  readonly summary: LocalFrequencyResult['summary'];
  readonly categories: readonly (LocalCategoryResult & { readonly category: string | number | boolean })[];
}

export interface LocalRun {
  readonly metric: LocalFrequencyMetric;
  readonly seed: string;
  readonly unitsMappedToOther: number;
  readonly result: LocalFrequencyResult;
}

export function localMetricReport(run: LocalRun): LocalMetricReport {
  const { metric, result } = run;
  return {
    id: metric.id,
    label: metric.label ?? null,
    kind: 'local-frequency',
    column: metric.column,
    privacy: { localEpsilon: metric.privacy.localEpsilon, delta: 0, model: 'local', confidence: result.confidence },
    mechanism: { name: 'randomized-response', k: result.k, p: result.p, q: result.q },
    seed: run.seed,
    units: result.units,
    unitsMappedToOther: run.unitsMappedToOther,
    relativeErrorBasis: '|true|',
    interval: 'estimate ± z·√estimatorVariance(n, clamp(estimate, 0, 1)) (normal approximation, plug-in)',
    summary: result.summary,
    categories: result.categories.map((c) => ({ category: metric.categories[c.index]!, ...c })),
  };
}

export interface GroupReport {
  readonly by: readonly string[];
  readonly cohorts: number;
  readonly publicPartitions: boolean;
  readonly selection: BuildPlanResult['plans'][number]['selection'];
  readonly metrics: readonly string[];
  readonly seed: string;
  readonly trialsEmpty: number;
  readonly suppressionRate: { readonly mean: number; readonly se: number | null };
}

export interface SimulationReport {
  readonly format: typeof REPORT_FORMAT;
  readonly version: typeof REPORT_VERSION;
  readonly config: { readonly path: string; readonly name: string };
  readonly dataset: { readonly path: string; readonly format: string; readonly rows: number; readonly units: number; readonly columns: readonly string[] };
  readonly run: {
    readonly seed: string;
    readonly trials: number;
    readonly workers: number;
    readonly confidence: number;
    readonly relativeErrorThresholds: readonly number[];
    readonly errorSamplesPerCell: number;
  };
  readonly privacy: { readonly epsilon: number; readonly delta: number; readonly accountant: string; readonly confidence: number };
  /** Which size was simulated. */
  readonly scale: SimulationPlan['scale'] & { readonly description: string };
  readonly groups: readonly GroupReport[];
  readonly metrics: readonly MetricReport[];
  /** Local-DP metrics (local-frequency), in config order. */
  readonly local: readonly LocalMetricReport[];
  readonly notes: readonly string[];
  readonly timing: { readonly wallMs: number; readonly loadMs: number; readonly simulateMs: number; readonly analyticMs: number; readonly groupMs: readonly number[] };
}

export interface GroupRun {
  readonly seed: string;
  readonly accumulator: SimulationAccumulator;
  readonly mc: SimulationResult;
  readonly analytic: AnalyticResult;
}

/** A number for JSON: NaN and ±∞ become null. */
export function num(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function median(values: number[], weights?: number[]): number | null {
  if (values.length === 0) return null;
  const idx = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
  if (!weights) {
    const n = idx.length;
    const h = (n - 1) / 2;
    const lo = Math.floor(h);
    return values[idx[lo]!]! + (h - lo) * (values[idx[Math.min(lo + 1, n - 1)]!]! - values[idx[lo]!]!);
  }
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0)) return null;
  let acc = 0;
  for (const i of idx) {
    acc += weights[i]!;
    if (acc >= total / 2) return values[i]!;
  }
  return values[idx[idx.length - 1]!]!;
}

/** |error| / relative denominator of the sampled releases of cell (j, p). */
function relativeSamples(acc: SimulationAccumulator, j: number, p: number, den: number): number[] {
  const L = acc.layout;
  const S = L.samplesPerCell;
  const out: number[] = [];
  if (S === 0 || acc.samples.length === 0 || !(den > 0)) return out;
  const base = (j * L.partitions + p) * S;
  const end = Math.min(S, acc.firstTrial + acc.trialCount);
  for (let t = acc.firstTrial; t < end; t++) {
    const e = acc.samples[base + t]!;
    if (e === e) out.push(Math.abs(e) / den);
  }
  return out;
}

function cohortLabel(key: readonly (string | null)[]): string {
  return key.length === 0 ? '(all)' : key.map((v) => (v === null ? '(null)' : v)).join(' / ');
}

function shortcutText(parts: readonly MetricPartReport[]): string | null {
  const exact = parts.filter((p) => p.valueSource === 'true-values' || p.valueSource === 'deterministic-bounding');
  if (exact.length === 0) return null;
  return exact.map((p) => `${p.id}: ${p.valueSource === 'true-values' ? 'bounds not binding, true values used (no per-trial bounding)' : 'bounds not binding, clamped values computed once (no per-trial sampling)'}`).join('; ');
}

/** The report of one metric from its group's Monte-Carlo and analytic results. */
function metricReport(
  metric: Metric,
  built: BuildPlanResult,
  runs: readonly GroupRun[],
  thresholds: readonly number[],
  confidence: number,
): MetricReport {
  const loc = built.metricIndex[metric.id]!;
  const group = built.plans[loc.plan]!;
  const run = runs[loc.plan]!;
  const plan = group.plan;
  const j = loc.metric;
  const pm = plan.metrics[j]!;
  const mc: MetricResult = run.mc.metrics[j]!;
  const an: AnalyticMetricResult = run.analytic.metrics[j]!;
  const derived = pm.role === 'derived';
  const budget = built.budgets[metric.id]!;
  const P = plan.partitions;

  const parts: MetricPartReport[] = Object.entries(loc.parts).map(([k, idx]) => {
      const m = plan.metrics[idx]!;
      const r = run.mc.metrics[idx]!;
      if (m.role === 'base') {
        const agg = budget.aggregates.find((a) => a.noise === m.noise);
        return { part: k, id: m.id, role: 'base', aggregate: m.aggregate, valueSource: r.valueSource, noise: m.noise, ...(agg ? { noiseStd: agg.noiseStd } : {}) };
      }
      return { part: k, id: m.id, role: 'derived', valueSource: null };
  });

  const cohorts: CohortReport[] = [];
  const cohortMedians: number[] = [];
  const cohortWeights: number[] = [];
  const withinMc = thresholds.map(() => 0);
  let sqMc = 0;
  let mcOk = true;
  for (let p = 0; p < P; p++) {
    const r: PartitionResult = mc.partitions![p]!;
    const V = r.trueValue;
    const den = derived ? Math.abs(V) : Math.max(Math.abs(V), 1);
    const rel = relativeSamples(run.accumulator, j, p, den);
    const med = median(rel);
    let exceed: ThresholdShare[];
    let meanRel: number | null;
    if (derived) {
      exceed = thresholds.map((x) => ({ x, share: rel.length ? rel.filter((e) => e > x).length / rel.length : null }));
      meanRel = rel.length ? rel.reduce((s, e) => s + e, 0) / rel.length : null;
    } else {
      exceed = thresholds.map((x, i) => ({ x, share: num(r.exceedProbability[i]!) }));
      meanRel = num(r.meanRelativeError);
    }
    exceed.forEach((e, i) => {
      if (e.share !== null) withinMc[i]! += r.releaseProbability * (1 - e.share);
    });
    if (med !== null && r.releaseProbability > 0) {
      cohortMedians.push(med);
      cohortWeights.push(r.releaseProbability);
    }
    const k = r.releaseProbability;
    if (k > 0) {
      if (Number.isFinite(r.rmse)) sqMc += k * r.rmse * r.rmse + (1 - k) * V * V;
      else mcOk = false;
    } else sqMc += V * V;
    const hw = derived ? (pm.privacy.halfWidths?.[p] ?? NaN) : (pm.role === 'base' ? pm.privacy.halfWidth ?? NaN : NaN);
    cohorts.push({
      key: group.partitions.keys[p]!,
      label: cohortLabel(group.partitions.keys[p]!),
      trueValue: V,
      releaseProbability: k,
      bias: num(r.bias),
      rmse: num(r.rmse),
      meanAbsError: num(r.meanAbsError),
      meanRelativeError: meanRel,
      medianRelativeError: med,
      errorQuantiles: r.errorQuantiles,
      exceedProbability: exceed,
      coverage: r.coverage === null ? null : num(r.coverage),
      halfWidth: num(hw),
      analytic: {
        bias: an.bias[p]!,
        rmse: an.rmse[p]!,
        keepProbability: an.keepProbability[p]!,
        rmseWithDropped: an.rmseWithDropped[p]!,
        relativeError: num(an.relativeError[p]!),
      },
    });
  }
  const s = an.summary;
  const label = 'label' in metric && typeof metric.label === 'string' ? metric.label : null;
  const mcTotal = mcOk && P > 0 ? sqMc / P : null;
  return {
    id: metric.id,
    label,
    kind: metric.kind,
    by: [...metric.by],
    group: loc.plan,
    privacy: { epsilon: budget.total.epsilon, delta: budget.total.delta, confidence, selectionRole: budget.role },
    relativeErrorBasis: derived ? '|true|' : 'max(|true|, 1)',
    exactShortcut: shortcutText(parts),
    parts,
    summary: {
      cohorts: P,
      expectedReleased: { mc: cohorts.reduce((a, c) => a + c.releaseProbability, 0), analytic: s.expectedReleased },
      withinShare: thresholds.map((x, i) => ({ x, mc: P > 0 ? withinMc[i]! / P : null, analytic: s.withinShare[i]! })),
      valueLostToSuppression: { mc: mc.valueLostToSuppression ?? 0, analytic: s.valueLostShare },
      medianRelativeError: median(cohortMedians, cohortWeights),
      coverage: mc.coverage === undefined || mc.coverage === null ? null : num(mc.coverage),
      rmse: { mc: mcTotal === null ? null : Math.sqrt(mcTotal), analytic: Math.sqrt(s.decomposition.total) },
      decomposition: { ...s.decomposition, mcTotal },
      relativeDecomposition: s.relativeDecomposition,
      noiseStd: P > 0 ? Math.sqrt(an.noiseStd.reduce((a, x) => a + x * x, 0) / P) : 0,
      analyticUnreliableCohorts: s.unreliablePartitions,
    },
    cohorts,
  };
}

export interface ReportInputs {
  readonly configPath: string;
  readonly config: AnalysisConfig;
  readonly dataset: SimulationReport['dataset'];
  readonly built: BuildPlanResult;
  readonly runs: readonly GroupRun[];
  readonly seed: string;
  readonly trials: number;
  readonly workers: number;
  readonly timing: SimulationReport['timing'];
  readonly local?: readonly LocalRun[];
}

export function describeScale(scale: SimulationPlan['scale']): string {
  if (scale.kind === 'sample') return `the sample as loaded (${scale.units} units)`;
  return `production size: ${scale.units} units, ${scale.factor}× the sample by resampling units${scale.peakFactor !== undefined && scale.peakFactor !== 1 ? ` (peak factor ${scale.peakFactor})` : ''}`;
}

/** The report of a run (see the module comment). */
export function buildReport(inp: ReportInputs): SimulationReport {
  const { built, runs, config } = inp;
  const local = inp.local ?? [];
  // A config of local-DP metrics only has no plan: its run settings come from the local runs.
  const first = local[0]?.result;
  const stats = built.plans[0]?.plan.stats ?? { relativeErrorThresholds: first?.thresholds ?? [], confidence: first?.confidence ?? 0.95, errorSamplesPerCell: 0 };
  const thresholds = stats.relativeErrorThresholds;
  const confidence = stats.confidence;
  const scale0: SimulationPlan['scale'] = built.plans[0]?.plan.scale ?? { kind: 'sample', units: 0, factor: 1 };
  // The simulated unit count: the largest of the groups (metrics' unit counts differ by filter).
  const units = Math.max(0, ...built.plans.map((g) => g.plan.scale.units), ...(built.plans.length === 0 ? local.map((l) => l.result.units) : []));
  const scale = { ...scale0, units };
  const localNotes = local.length === 0 ? [] : [
    `local-frequency metrics (${local.map((l) => l.metric.id).join(', ')}): k-ary randomized response on each unit's device, every response drawn (no exact shortcut), simulated at the sample's size${scale0.kind === 'production' ? ' (not resampled to production size)' : ''}; they spend no central budget`,
  ];
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    config: { path: inp.configPath, name: config.name },
    dataset: inp.dataset,
    run: { seed: inp.seed, trials: inp.trials, workers: inp.workers, confidence, relativeErrorThresholds: [...thresholds], errorSamplesPerCell: stats.errorSamplesPerCell },
    privacy: { epsilon: config.budget.epsilon, delta: config.budget.delta, accountant: config.budget.accountant, confidence },
    scale: { ...scale, description: describeScale(scale) },
    groups: built.plans.map((g, gi) => ({
      by: [...g.by],
      cohorts: g.plan.partitions,
      publicPartitions: g.publicPartitions,
      selection: g.selection,
      metrics: [...g.metricIds],
      seed: runs[gi]!.seed,
      trialsEmpty: runs[gi]!.mc.trialsEmpty,
      suppressionRate: { mean: runs[gi]!.mc.suppressionRate.mean, se: num(runs[gi]!.mc.suppressionRate.se) },
    })),
    metrics: config.metrics.filter(isCentralMetric).map((m) => metricReport(m, built, runs, thresholds, confidence)),
    local: local.map(localMetricReport),
    notes: [...built.notes, ...localNotes],
    timing: inp.timing,
  };
}
