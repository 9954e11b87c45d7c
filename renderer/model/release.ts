// One simulated release of a run, next to the true values: the engine keeps the error of the first
// trials of every (metric, cohort) cell (accumulator.samples; NaN = the cohort was suppressed), so
// trial t's released value is true + error. Simulated with a seeded PRNG: not a real release.

import type { BuildPlanResult } from '../../shared/core/simulate/plan-builder';
import type { GroupRun } from '../../shared/core/simulate/report';

export interface ReleaseRow {
  readonly label: string;
  readonly trueValue: number;
  /** null: suppressed in this simulated release. */
  readonly released: number | null;
}

/** The cohorts of `metricId` in simulated trial `trial` (< errorSamplesPerCell), largest true values first. */
export function simulatedRelease(built: BuildPlanResult, runs: readonly GroupRun[], metricId: string, trial = 0): ReleaseRow[] {
  const loc = built.metricIndex[metricId];
  if (!loc) return [];
  const group = built.plans[loc.plan]!;
  const plan = group.plan;
  const acc = runs[loc.plan]?.accumulator;
  const S = plan.stats.errorSamplesPerCell;
  if (!acc || S <= trial || acc.samples.length === 0) return [];
  const P = plan.partitions;
  const j = loc.metric;
  const truth = plan.metrics[j]!.trueValues;
  const rows: ReleaseRow[] = [];
  for (let p = 0; p < P; p++) {
    const err = acc.samples[(j * P + p) * S + trial]!;
    const key = group.partitions.keys[p] ?? [];
    rows.push({ label: key.length === 0 ? '(all)' : key.map((k) => k ?? '∅').join(' / '), trueValue: truth[p]!, released: Number.isNaN(err) ? null : truth[p]! + err });
  }
  return rows.sort((a, b) => Math.abs(b.trueValue) - Math.abs(a.trueValue));
}
