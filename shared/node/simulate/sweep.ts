// `sweepAnalysis`: the privacy-versus-error grid of one loaded analysis (core/simulate/sweep.ts
// for the grid). Work reused across points: the contributions are loaded once (the caller's
// LoadedAnalysis); per distinct bounds the plan structure and the analytic model's ε-independent
// statistics are built once (prepareAnalyticPlan) and every ε only re-budgets them (rebudgetPlan,
// evaluateAnalytic); the Monte-Carlo run of every point uses the same seed (common random numbers:
// the differences between points are not Monte-Carlo noise).

import { performance } from 'node:perf_hooks';
import { isCentralMetric } from '../../core/config/schema';
import type { PreparedAnalyticPlan } from '../../core/simulate/analytic';
import { evaluateAnalytic, prepareAnalyticPlan } from '../../core/simulate/analytic';
import { rebudgetPlan } from '../../core/simulate/plan-builder';
import type { SweepAxes, SweepPoint } from '../../core/simulate/sweep';
import { applySweepPoint, boundsKey, paretoOptimal, sweepGrid } from '../../core/simulate/sweep';
import type { SimulationReport } from './report';
import { buildReport, describeScale } from './report';
import type { LoadedAnalysis, SimulateOptions } from './service';
import { planAnalysis, runGroups } from './service';

export const SWEEP_FORMAT = 'dpw-sweep';

export interface SweepMetricPoint {
  readonly epsilon: number;
  readonly delta: number;
  readonly rmse: { readonly mc: number | null; readonly analytic: number };
  readonly medianRelativeError: number | null;
  readonly withinShare: readonly { readonly x: number; readonly mc: number | null; readonly analytic: number }[];
  readonly suppressionShare: { readonly mc: number; readonly analytic: number };
  /** Analytic noise std (root mean square over cohorts). */
  readonly noiseStd: number;
  /** Analytic mean squared error by source. */
  readonly decomposition: SimulationReport['metrics'][number]['summary']['decomposition'];
  /** On the Pareto front of (total ε, medianRelativeError) over the sweep's points. */
  pareto: boolean;
}

export interface SweepPointReport {
  readonly index: number;
  readonly epsilon: number;
  readonly delta: number;
  /** null: each metric keeps its configured value. */
  readonly bounds: { readonly l0: number | null; readonly linf: number | null; readonly preThreshold: number | null };
  readonly metrics: Readonly<Record<string, SweepMetricPoint>>;
  readonly simulateMs: number;
}

export interface SweepReport {
  readonly format: typeof SWEEP_FORMAT;
  readonly version: 1;
  readonly config: SimulationReport['config'];
  readonly dataset: SimulationReport['dataset'];
  readonly run: SimulationReport['run'] & { readonly commonRandomNumbers: true };
  readonly axes: { readonly epsilon: readonly number[]; readonly l0: readonly number[] | null; readonly linf: readonly number[] | null; readonly preThreshold: readonly number[] | null };
  readonly scale: SimulationReport['scale'];
  readonly pareto: { readonly cost: 'epsilon'; readonly error: 'medianRelativeError' };
  readonly metrics: readonly { readonly id: string; readonly kind: string; readonly label: string | null }[];
  readonly points: readonly SweepPointReport[];
  readonly notes: readonly string[];
  readonly timing: { readonly wallMs: number; readonly loadMs: number; readonly simulateMs: number; readonly analyticMs: number };
}

export interface SweepOptions extends SimulateOptions {
  readonly axes: SweepAxes;
  readonly onPoint?: (point: SweepPoint, done: number, total: number) => void;
}

/** Runs every point of the grid (see the module comment). */
export async function sweepAnalysis(analysis: LoadedAnalysis, opts: SweepOptions): Promise<SweepReport> {
  const t0 = performance.now();
  const points = sweepGrid(opts.axes);
  const reports: SweepPointReport[] = [];
  const notes = new Set<string>();
  const localIds = analysis.config.metrics.filter((m) => !isCentralMetric(m)).map((m) => m.id);
  if (localIds.length > 0) notes.add(`local-frequency metrics (${localIds.join(', ')}) are not swept: they spend no central budget (dpw simulate reports them)`);
  let first: SimulationReport | undefined;
  let simulateMs = 0;
  let analyticMs = 0;
  {
    const byBounds = new Map<string, SweepPoint[]>();
    for (const p of points) {
      const k = boundsKey(p);
      if (!byBounds.has(k)) byBounds.set(k, []);
      byBounds.get(k)!.push(p);
    }
    let done = 0;
    for (const group of byBounds.values()) {
      const p0 = group[0]!;
      const cfg = applySweepPoint(analysis.config, p0);
      const ta = performance.now();
      const structure = planAnalysis(analysis, opts, cfg);
      const prepared: PreparedAnalyticPlan[] = structure.plans.map((g) => prepareAnalyticPlan(g.plan));
      analyticMs += performance.now() - ta;
      for (const p of group) {
        const built = p === p0 ? structure : rebudgetPlan(structure, { epsilon: p.epsilon });
        const run = await runGroups(built, opts, (plan, g) => evaluateAnalytic(prepared[g]!, plan));
        const ms = run.groupMs.reduce((a, b) => a + b, 0);
        simulateMs += ms;
        analyticMs += run.analyticMs;
        const report = buildReport({
          configPath: analysis.configPath, config: applySweepPoint(analysis.config, p), dataset: analysis.dataset, built, runs: run.runs,
          seed: String(opts.seed), trials: opts.trials, workers: opts.workers,
          timing: { wallMs: 0, loadMs: 0, simulateMs: ms, analyticMs: run.analyticMs, groupMs: run.groupMs },
        });
        first ??= report;
        for (const n of report.notes) notes.add(n);
        const metrics: Record<string, SweepMetricPoint> = {};
        for (const m of report.metrics) {
          metrics[m.id] = {
            epsilon: m.privacy.epsilon,
            delta: m.privacy.delta,
            rmse: m.summary.rmse,
            medianRelativeError: m.summary.medianRelativeError,
            withinShare: m.summary.withinShare,
            suppressionShare: m.summary.valueLostToSuppression,
            noiseStd: m.summary.noiseStd,
            decomposition: m.summary.decomposition,
            pareto: false,
          };
        }
        reports.push({ index: p.index, epsilon: p.epsilon, delta: analysis.config.budget.delta, bounds: { l0: p.l0, linf: p.linf, preThreshold: p.preThreshold }, metrics, simulateMs: ms });
        opts.onPoint?.(p, ++done, points.length);
      }
    }
  }
  reports.sort((a, b) => a.index - b.index);
  for (const m of analysis.config.metrics.filter(isCentralMetric)) {
    const marks = paretoOptimal(reports.map((r) => ({ cost: r.epsilon, error: r.metrics[m.id]!.medianRelativeError })));
    reports.forEach((r, i) => (r.metrics[m.id]!.pareto = marks[i]!));
  }
  const f = first!;
  return {
    format: SWEEP_FORMAT,
    version: 1,
    config: f.config,
    dataset: f.dataset,
    run: { ...f.run, commonRandomNumbers: true },
    axes: { epsilon: [...opts.axes.epsilon], l0: opts.axes.l0 ? [...opts.axes.l0] : null, linf: opts.axes.linf ? [...opts.axes.linf] : null, preThreshold: opts.axes.preThreshold ? [...opts.axes.preThreshold] : null },
    scale: { ...f.scale, description: describeScale(f.scale) },
    pareto: { cost: 'epsilon', error: 'medianRelativeError' },
    metrics: analysis.config.metrics.filter(isCentralMetric).map((m) => ({ id: m.id, kind: m.kind, label: m.label ?? null })),
    points: reports,
    notes: [...notes],
    timing: { wallMs: performance.now() - t0 + analysis.loadMs, loadMs: analysis.loadMs, simulateMs, analyticMs },
  };
}
