// The analytic preview behind the Privacy screen: config + contributions → plans → the analytic
// error model (shared/core/simulate/analytic.ts), recomputed as a control moves. The expensive,
// ε-independent parts are cached: the plan structure per (data, bounds, shares) and the prepared
// per-partition statistics per (data, bounds); a new ε or δ only re-runs finishPlans and
// evaluateAnalytic. Each evaluation is timed with a performance mark ('dpw:analytic'), which
// `npm run bench:ui` reads in the real page.

import type { AnalysisConfig } from '../../shared/core/config/schema';
import { isCentralMetric } from '../../shared/core/config/schema';
import type { MetricContributions } from '../../shared/core/data/contributions';
import type { AnalyticMetricResult, AnalyticResult, ErrorDecomposition, PreparedAnalyticPlan } from '../../shared/core/simulate/analytic';
import { evaluateAnalytic, prepareAnalyticPlan } from '../../shared/core/simulate/analytic';
import type { BuildPlanResult, PlanStructure } from '../../shared/core/simulate/plan-builder';
import { buildPlanStructure, finishPlans } from '../../shared/core/simulate/plan-builder';

export interface PreviewMetric {
  readonly id: string;
  readonly label: string;
  readonly kind: string;
  readonly by: readonly string[];
  readonly epsilon: number;
  readonly delta: number;
  readonly confidence: number;
  readonly cohorts: number;
  readonly expectedReleased: number;
  /** √(mean over cohorts of the expected squared error; dropped cohorts count |true|²). */
  readonly rmse: number;
  /**
   * Typical relative error of a released cohort: the median over cohorts, weighted by their
   * release probability, of the relative RMSE (suppressed cohorts are what withinShare and
   * valueLostShare report). null when no cohort is expected to be released.
   */
  readonly medianRelativeError: number | null;
  /** Typical noise half-width at the confidence level (median over cohorts). */
  readonly halfWidth: number;
  readonly withinShare: readonly { readonly x: number; readonly share: number }[];
  readonly valueLostShare: number;
  readonly decomposition: ErrorDecomposition;
  readonly unreliableCohorts: number;
}

export interface Preview {
  readonly built: BuildPlanResult;
  readonly analytic: readonly AnalyticResult[];
  readonly metrics: readonly PreviewMetric[];
  readonly ms: number;
}

/** Median of values[i] with weights[i] (>= 0); non-finite values and zero weights are left out. */
export function weightedMedian(values: ArrayLike<number>, weights: ArrayLike<number>): number | null {
  const pairs: [number, number][] = [];
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const w = weights[i]!;
    if (Number.isFinite(v) && w > 0) {
      pairs.push([v, w]);
      total += w;
    }
  }
  if (pairs.length === 0) return null;
  pairs.sort((x, y) => x[0] - y[0]);
  // With equal weights this is the ordinary median (the mean of the two middle values).
  let acc = 0;
  for (let i = 0; i < pairs.length; i++) {
    const [v, w] = pairs[i]!;
    acc += w;
    if (Math.abs(acc - total / 2) <= 1e-12 * total && i + 1 < pairs.length) return (v + pairs[i + 1]![0]) / 2;
    if (acc >= total / 2) return v;
  }
  return pairs[pairs.length - 1]![0];
}

function median(a: ArrayLike<number>): number | null {
  const v = Array.from(a).filter(Number.isFinite).sort((x, y) => x - y);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** What the plan structure depends on: everything but the total (ε, δ). */
function structureKey(config: AnalysisConfig): string {
  return JSON.stringify({ ...config, budget: { accountant: config.budget.accountant }, name: '', description: '' });
}

/** What the prepared statistics depend on: data and bounds, not budget shares. */
function preparedKey(config: AnalysisConfig): string {
  const metrics = config.metrics.map((m) => (m.kind === 'local-frequency' ? m : { ...m, label: '', privacy: { ...m.privacy, budgetShare: 0, selectionShare: 0 } }));
  return JSON.stringify({ ...config, metrics, budget: null, name: '', description: '' });
}

export class PreviewModel {
  private contributions: Readonly<Record<string, MetricContributions>> | null = null;
  private structure: { key: string; value: PlanStructure } | null = null;
  private prepared: { key: string; value: PreparedAnalyticPlan[] } | null = null;

  /** Evaluates the analytic model; throws the core's errors (DpError) for an invalid combination. */
  evaluate(config: AnalysisConfig, contributions: Readonly<Record<string, MetricContributions>>, sampleUnits: number): Preview {
    const t0 = performance.now();
    performance.mark('dpw:analytic-start');
    if (contributions !== this.contributions) {
      this.contributions = contributions;
      this.structure = null;
      this.prepared = null;
    }
    const sKey = structureKey(config);
    if (this.structure?.key !== sKey) {
      this.structure = { key: sKey, value: buildPlanStructure({ config, contributions, sampleUnits }) };
    }
    const built = finishPlans(this.structure.value, { epsilon: config.budget.epsilon, delta: config.budget.delta });
    const pKey = preparedKey(config);
    if (this.prepared?.key !== pKey || this.prepared.value.length !== built.plans.length) {
      this.prepared = { key: pKey, value: built.plans.map((g) => prepareAnalyticPlan(g.plan)) };
    }
    const prepared = this.prepared.value;
    const analytic = built.plans.map((g, i) => evaluateAnalytic(prepared[i]!, g.plan));
    const metrics: PreviewMetric[] = [];
    for (const m of config.metrics.filter(isCentralMetric)) {
      const loc = built.metricIndex[m.id];
      if (!loc) continue;
      const a: AnalyticMetricResult = analytic[loc.plan]!.metrics[loc.metric]!;
      const plan = built.plans[loc.plan]!.plan;
      const budget = built.budgets[m.id];
      metrics.push({
        id: m.id,
        label: m.label ?? m.id,
        kind: m.kind,
        by: m.by,
        epsilon: budget?.total.epsilon ?? 0,
        delta: budget?.total.delta ?? 0,
        confidence: plan.stats.confidence,
        cohorts: plan.partitions,
        expectedReleased: a.summary.expectedReleased,
        rmse: Math.sqrt(a.summary.decomposition.total),
        medianRelativeError: weightedMedian(a.relativeError, a.keepProbability),
        halfWidth: median(a.halfWidth) ?? 0,
        withinShare: plan.stats.relativeErrorThresholds.map((x, i) => ({ x, share: a.summary.withinShare[i] ?? 0 })),
        valueLostShare: a.summary.valueLostShare,
        decomposition: a.summary.decomposition,
        unreliableCohorts: a.summary.unreliablePartitions,
      });
    }
    const ms = performance.now() - t0;
    performance.measure('dpw:analytic', 'dpw:analytic-start');
    return { built, analytic, metrics, ms };
  }
}

/** The one preview model of the page (the Privacy screen and the simulation share its caches). */
export const sharedPreviewModel = new PreviewModel();
