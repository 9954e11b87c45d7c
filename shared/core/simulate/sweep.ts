// Sweeps: a grid of analysis configs derived from one config, for a privacy-versus-error chart.
// Pure grid logic (no IO): the axes → points, one point → its config, and Pareto marks.
//
// A point sets the total ε (every metric's budget is a share of it, so all scale together; δ is
// the config's) and, when the axis is given, L0 (maxPartitionsContributed), L∞
// (maxContributionsPerPartition) and the pre-threshold of every metric. Points are ordered with ε
// varying fastest, so points that share bounds are adjacent (`boundsKey`): a sweep builds the
// ε-independent structure (bounds, contributions, analytic statistics) once per bounds and only
// re-budgets it per ε.

import type { AnalysisConfig, Metric } from '../config/schema';
import { DpError, invalid } from '../errors';

export interface SweepAxes {
  /** Total ε values (required, each finite > 0). */
  readonly epsilon: readonly number[];
  /** L0 values for every metric (integers >= 1); absent: each metric's own. */
  readonly l0?: readonly number[];
  /** L∞ values for every metric (integers >= 1); absent: each metric's own. */
  readonly linf?: readonly number[];
  /** Pre-threshold values for every metric (integers >= 1); absent: each metric's own. */
  readonly preThreshold?: readonly number[];
}

export interface SweepPoint {
  readonly index: number;
  readonly epsilon: number;
  /** null: each metric keeps its configured value. */
  readonly l0: number | null;
  readonly linf: number | null;
  readonly preThreshold: number | null;
}

function checkAxis(name: string, values: readonly number[] | undefined, integer: boolean): readonly (number | null)[] {
  if (values === undefined) return [null];
  if (values.length === 0) throw invalid(name, '[]', 'must have at least one value');
  const seen = new Set<number>();
  for (const v of values) {
    if (integer ? !(Number.isSafeInteger(v) && v >= 1) : !(Number.isFinite(v) && v > 0)) {
      throw invalid(name, v, integer ? 'must be integers >= 1' : 'must be finite numbers > 0');
    }
    if (seen.has(v)) throw invalid(name, v, 'appears twice');
    seen.add(v);
  }
  return values;
}

/** Every combination of the axes (ε fastest, then L0, L∞, pre-threshold), numbered from 0. */
export function sweepGrid(axes: SweepAxes): SweepPoint[] {
  const eps = checkAxis('epsilon', axes.epsilon, false) as number[];
  const l0 = checkAxis('l0', axes.l0, true);
  const linf = checkAxis('linf', axes.linf, true);
  const pre = checkAxis('preThreshold', axes.preThreshold, true);
  const points: SweepPoint[] = [];
  for (const t of pre) for (const b of linf) for (const a of l0) for (const e of eps) {
    points.push({ index: points.length, epsilon: e, l0: a, linf: b, preThreshold: t });
  }
  return points;
}

/** Points with the same key share bounds (and so the ε-independent part of their plans). */
export function boundsKey(p: Pick<SweepPoint, 'l0' | 'linf' | 'preThreshold'>): string {
  return `${p.l0 ?? '-'}/${p.linf ?? '-'}/${p.preThreshold ?? '-'}`;
}

/** The config of a point: total ε set, and the bounds of every metric where the point gives them. */
export function applySweepPoint(config: AnalysisConfig, point: Pick<SweepPoint, 'epsilon' | 'l0' | 'linf' | 'preThreshold'>): AnalysisConfig {
  if (!(Number.isFinite(point.epsilon) && point.epsilon > 0)) throw invalid('epsilon', point.epsilon, 'must be a finite number > 0');
  // Local-DP metrics have neither central bounds nor a central budget: left as they are.
  const metrics = config.metrics.map((m): Metric => m.kind === 'local-frequency' ? m : ({
    ...m,
    privacy: {
      ...m.privacy,
      ...(point.l0 !== null ? { maxPartitionsContributed: point.l0 } : {}),
      ...(point.linf !== null ? { maxContributionsPerPartition: point.linf } : {}),
      ...(point.preThreshold !== null ? { preThreshold: point.preThreshold } : {}),
    },
  }) as Metric);
  return { ...config, budget: { ...config.budget, epsilon: point.epsilon }, metrics };
}

export interface ParetoCandidate {
  /** Privacy cost (lower is better): the total ε. */
  readonly cost: number;
  /** Error (lower is better); null or non-finite: not a candidate. */
  readonly error: number | null;
}

/**
 * Pareto marks: true where no other candidate is at least as good on both cost and error and
 * strictly better on one. Candidates without a finite error are never optimal.
 */
export function paretoOptimal(candidates: readonly ParetoCandidate[]): boolean[] {
  const ok = (c: ParetoCandidate): boolean => c.error !== null && Number.isFinite(c.error) && Number.isFinite(c.cost);
  return candidates.map((c, i) => {
    if (!ok(c)) return false;
    for (let k = 0; k < candidates.length; k++) {
      if (k === i) continue;
      const d = candidates[k]!;
      if (!ok(d)) continue;
      if (d.cost <= c.cost && d.error! <= c.error! && (d.cost < c.cost || d.error! < c.error!)) return false;
    }
    return true;
  });
}

/** Parses a comma-separated list of numbers ("0.25,0.5,1"); throws naming the list. */
export function parseNumberList(name: string, raw: string): number[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => s === '')) throw new DpError('InvalidParameter', `${name} ${JSON.stringify(raw)}: expected comma-separated numbers`);
  return parts.map((s) => {
    const v = Number(s);
    if (!Number.isFinite(v)) throw new DpError('InvalidParameter', `${name} ${JSON.stringify(raw)}: ${JSON.stringify(s)} is not a finite number`);
    return v;
  });
}
