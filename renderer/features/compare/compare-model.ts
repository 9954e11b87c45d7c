// The Compare screen's pure parts: the side-by-side table of pinned runs (one row per metric and
// measure, the best cell of each row marked) and the privacy-against-error points of an ε sweep.
//
// One error measure on the sweep chart: the mean over metrics of the median over cohorts (weighted
// by release probability) of the analytic relative RMSE — what the preview model reports as
// `medianRelativeError`. A pinned run is
// placed on the chart with the same measure, read from its report's per-cohort analytic errors
// (`cohorts[].analytic.relativeError`), so it lies on the swept curve when its settings match and
// off it when its bounds differ. The run's simulated median |relative error|
// (`summary.medianRelativeError`) is a different statistic (for Laplace noise about half the
// relative RMSE), so it is shown in the table, not mixed into the chart.

import type { MetricReport, SimulationReport } from '../../../shared/core/simulate/report';
import { paretoOptimal } from '../../../shared/core/simulate/sweep';
import type { ParetoPoint } from '../../charts/specs';
import { weightedMedian } from '../../model/preview';

/** Total ε values of the sweep (factors of 2 around the usual range). */
export const SWEEP_EPSILONS: readonly number[] = [0.125, 0.25, 0.5, 1, 2, 4, 8];

/** The relative-error threshold the compare table reports the share of cohorts within. */
export const WITHIN_X = 0.1;

/** Mean of the finite values; null when there are none. */
export function meanFinite(values: readonly (number | null | undefined)[]): number | null {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    s += v;
    n++;
  }
  return n > 0 ? s / n : null;
}


/** A sweep point's error: the mean over metrics of each metric's median relative error (analytic). */
export function meanMedianRelativeError(metrics: readonly { readonly medianRelativeError: number | null }[]): number | null {
  return meanFinite(metrics.map((m) => m.medianRelativeError));
}

/** A run on the sweep's scale: mean over metrics of the median over cohorts of the analytic relative RMSE. */
export function runAnalyticError(report: Pick<SimulationReport, 'metrics'>): number | null {
  return meanFinite(report.metrics.map((m) => weightedMedian(m.cohorts.map((c) => c.analytic.relativeError ?? NaN), m.cohorts.map((c) => c.analytic.keepProbability))));
}

/** A run's simulated error: mean over metrics of the median |relative error| over released cohorts. */
export function runSimulatedError(report: Pick<SimulationReport, 'metrics'>): number | null {
  return meanMedianRelativeError(report.metrics.map((m) => m.summary));
}

export interface ErrorPoint {
  readonly epsilon: number;
  readonly error: number | null;
  readonly label: string;
  readonly pinned?: boolean;
}

/**
 * Pareto marks over all points (lower ε and lower error are both better): a point is dominated
 * when another has ε <= and error <= with one strictly lower. Points without a finite error are
 * never optimal and carry NaN, which the chart leaves out.
 */
export function markPareto(points: readonly ErrorPoint[]): ParetoPoint[] {
  const marks = paretoOptimal(points.map((p) => ({ cost: p.epsilon, error: p.error })));
  return points.map((p, i) => ({
    epsilon: p.epsilon,
    error: p.error ?? Number.NaN,
    label: p.label,
    pareto: marks[i]!,
    ...(p.pinned ? { pinned: true } : {}),
  }));
}

/**
 * Marks the best of a row's values (ties all marked). Nothing is marked when fewer than two values
 * are finite or when they are all equal: there is nothing to choose between.
 */
export function bestCells(values: readonly (number | null)[], better: 'lower' | 'higher'): boolean[] {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length < 2) return values.map(() => false);
  const best = better === 'lower' ? Math.min(...finite) : Math.max(...finite);
  const worst = better === 'lower' ? Math.max(...finite) : Math.min(...finite);
  if (best === worst) return values.map(() => false);
  return values.map((v) => v !== null && Number.isFinite(v) && v === best);
}

export type MeasureId = 'epsilon' | 'rmse' | 'medianRelativeError' | 'within' | 'released' | 'valueLost';

export interface Measure {
  readonly id: MeasureId;
  readonly title: string;
  readonly hint: string;
  readonly better: 'lower' | 'higher';
}

export const MEASURES: readonly Measure[] = [
  { id: 'epsilon', title: 'ε of the metric', hint: 'Privacy loss this metric spends (lower is more private)', better: 'lower' },
  { id: 'rmse', title: 'RMSE (simulated)', hint: 'Root mean square error over cohorts, suppressed cohorts counting their whole value', better: 'lower' },
  { id: 'medianRelativeError', title: 'median relative error', hint: 'Median over released cohorts of the typical |error| / |true value| (simulated)', better: 'lower' },
  { id: 'within', title: `cohorts within ±${WITHIN_X * 100}%`, hint: `Share of cohorts released with a relative error of at most ${WITHIN_X * 100}% (simulated; suppressed cohorts count as not within)`, better: 'higher' },
  { id: 'released', title: 'cohorts released', hint: 'Expected cohorts released of all cohorts in the sample (simulated)', better: 'higher' },
  { id: 'valueLost', title: 'value lost to suppression', hint: 'Share of the metric’s total in cohorts that were not released (simulated)', better: 'lower' },
];

export interface MetricCell {
  readonly epsilon: number;
  readonly delta: number;
  readonly confidence: number;
  readonly rmse: number | null;
  readonly medianRelativeError: number | null;
  readonly within: number | null;
  readonly released: number;
  readonly cohorts: number;
  readonly valueLost: number;
}

/** The compared numbers of one metric in one run (Monte-Carlo where the report has them). */
export function metricCell(m: MetricReport): MetricCell {
  const s = m.summary;
  const w = s.withinShare.find((x) => Math.abs(x.x - WITHIN_X) < 1e-9);
  return {
    epsilon: m.privacy.epsilon,
    delta: m.privacy.delta,
    confidence: m.privacy.confidence,
    rmse: s.rmse.mc,
    medianRelativeError: s.medianRelativeError,
    within: w ? w.mc : null,
    released: s.expectedReleased.mc,
    cohorts: s.cohorts,
    valueLost: s.valueLostToSuppression.mc,
  };
}

/** The value a measure compares (cohorts released: as a share, so runs of different sizes compare). */
export function measureValue(c: MetricCell | null, id: MeasureId): number | null {
  if (!c) return null;
  switch (id) {
    case 'released': return c.cohorts > 0 ? c.released / c.cohorts : null;
    default: return c[id];
  }
}

export interface CompareRow {
  readonly metricId: string;
  readonly label: string;
  readonly measure: Measure;
  /** One per compared run, null where that run has no such metric. */
  readonly cells: readonly (MetricCell | null)[];
  readonly best: readonly boolean[];
}

/**
 * Rows of the side-by-side table: the union of the runs' metrics (by id, in order of first
 * appearance), one row per measure, columns in the order of `reports`.
 */
export function compareRows(reports: readonly Pick<SimulationReport, 'metrics'>[]): CompareRow[] {
  const ids: string[] = [];
  const labels = new Map<string, string>();
  for (const r of reports) {
    for (const m of r.metrics) {
      if (!labels.has(m.id)) {
        ids.push(m.id);
        labels.set(m.id, m.label ?? m.id);
      }
    }
  }
  const rows: CompareRow[] = [];
  for (const id of ids) {
    const cells = reports.map((r) => {
      const m = r.metrics.find((x) => x.id === id);
      return m ? metricCell(m) : null;
    });
    for (const measure of MEASURES) {
      rows.push({ metricId: id, label: labels.get(id)!, measure, cells, best: bestCells(cells.map((c) => measureValue(c, measure.id)), measure.better) });
    }
  }
  return rows;
}
