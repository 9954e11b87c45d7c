import { describe, expect, it } from 'vitest';
import type { CohortReport, MetricReport } from '../../../shared/core/simulate/report';
import {
  bestCells, compareRows, markPareto, meanFinite, meanMedianRelativeError, MEASURES, metricCell, runAnalyticError, runSimulatedError, SWEEP_EPSILONS,
} from '../../../renderer/features/compare/compare-model';

// ---------------------------------------------------------------------------------------------
// Synthetic reports: only the fields the compare model reads are meaningful.

function cohort(analyticRelativeError: number | null, keepProbability = 1): CohortReport {
  return {
    key: ['x'], label: 'x', trueValue: 100, releaseProbability: 1, bias: 0, rmse: 1, meanAbsError: 1, meanRelativeError: 0.01, medianRelativeError: 0.01,
    errorQuantiles: null, exceedProbability: [], coverage: null, halfWidth: null,
    analytic: { bias: 0, rmse: 1, keepProbability, rmseWithDropped: 1, relativeError: analyticRelativeError },
  };
}

interface MetricInit {
  readonly id: string;
  readonly label?: string | null;
  readonly epsilon?: number;
  readonly rmse?: number | null;
  readonly median?: number | null;
  readonly within10?: number | null;
  readonly released?: number;
  readonly cohorts?: number;
  readonly lost?: number;
  readonly analytic?: readonly (number | null)[];
}

const zeroDecomposition = { clipping: 0, bounding: 0, noise: 0, suppression: 0, total: 0 };

function metric(m: MetricInit): MetricReport {
  const analytic = m.analytic ?? [0.1];
  return {
    id: m.id,
    label: m.label === undefined ? `Label of ${m.id}` : m.label,
    kind: 'count',
    by: [],
    group: 0,
    privacy: { epsilon: m.epsilon ?? 1, delta: 1e-6, confidence: 0.95, selectionRole: 'own' },
    relativeErrorBasis: 'max(|true|, 1)',
    exactShortcut: null,
    parts: [],
    summary: {
      cohorts: m.cohorts ?? 10,
      expectedReleased: { mc: m.released ?? 10, analytic: m.released ?? 10 },
      withinShare: [{ x: 0.05, mc: 0, analytic: 0 }, { x: 0.1, mc: m.within10 === undefined ? 0.5 : m.within10, analytic: 0.5 }],
      valueLostToSuppression: { mc: m.lost ?? 0, analytic: m.lost ?? 0 },
      medianRelativeError: m.median === undefined ? 0.1 : m.median,
      coverage: null,
      rmse: { mc: m.rmse === undefined ? 1 : m.rmse, analytic: 1 },
      decomposition: { ...zeroDecomposition, mcTotal: null },
      relativeDecomposition: zeroDecomposition,
      noiseStd: 1,
      analyticUnreliableCohorts: 0,
    },
    cohorts: analytic.map((a) => cohort(a)),
  };
}

describe('meanFinite', () => {
  it('averages the finite values and skips null, undefined, NaN and infinities', () => {
    expect(meanFinite([1, null, 3, undefined, Number.NaN, Number.POSITIVE_INFINITY])).toBe(2);
  });
  it('returns null when no value is finite', () => {
    expect(meanFinite([])).toBeNull();
    expect(meanFinite([null, Number.NaN])).toBeNull();
  });
});

describe('error of a sweep point and of a run', () => {
  it('takes the mean over metrics of the median relative error, ignoring metrics without one', () => {
    expect(meanMedianRelativeError([{ medianRelativeError: 0.1 }, { medianRelativeError: 0.3 }, { medianRelativeError: null }])).toBeCloseTo(0.2, 12);
  });

  it('reads a run’s simulated error from the summaries', () => {
    const report = { metrics: [metric({ id: 'a', median: 0.02 }), metric({ id: 'b', median: 0.04 })] };
    expect(runSimulatedError(report)).toBeCloseTo(0.03, 12);
  });

  it('places a run on the sweep’s scale: median over cohorts of the analytic relative RMSE, then the mean over metrics', () => {
    const report = { metrics: [metric({ id: 'a', analytic: [0.3, 0.1, 0.2, null] }), metric({ id: 'b', analytic: [0.1, 0.5] })] };
    // a: median of 0.1, 0.2, 0.3 = 0.2 (null left out); b: median of 0.1, 0.5 = 0.3.
    expect(runAnalyticError(report)).toBeCloseTo(0.25, 12);
  });

  it('weights cohorts by their release probability (a cohort never released does not count)', () => {
    const m = metric({ id: 'a', analytic: [0.1, 0.2, 50] });
    const weighted = { ...m, cohorts: [cohort(0.1, 1), cohort(0.2, 1), cohort(50, 0)] };
    expect(runAnalyticError({ metrics: [weighted] })).toBeCloseTo(0.15, 12);
    const heavy = { ...m, cohorts: [cohort(0.1, 0.1), cohort(0.2, 0.1), cohort(50, 1)] };
    expect(runAnalyticError({ metrics: [heavy] })).toBe(50);
  });

  it('gives no error for a run without central metrics', () => {
    expect(runAnalyticError({ metrics: [] })).toBeNull();
    expect(runSimulatedError({ metrics: [] })).toBeNull();
  });
});

describe('markPareto', () => {
  it('marks a point dominated when another has lower-or-equal ε and error, one strictly lower', () => {
    const marks = markPareto([
      { epsilon: 0.5, error: 0.4, label: 'a' },
      { epsilon: 1, error: 0.2, label: 'b' },
      { epsilon: 1, error: 0.3, label: 'c' }, // same ε as b, more error
      { epsilon: 2, error: 0.25, label: 'd' }, // more ε and more error than b
      { epsilon: 4, error: 0.05, label: 'e' },
    ]);
    expect(marks.map((p) => p.pareto)).toEqual([true, true, false, false, true]);
  });

  it('keeps equal points both optimal', () => {
    expect(markPareto([{ epsilon: 1, error: 0.1, label: 'a' }, { epsilon: 1, error: 0.1, label: 'b' }]).map((p) => p.pareto)).toEqual([true, true]);
  });

  it('never marks a point without an error and hands it to the chart as NaN', () => {
    const [p, q] = markPareto([{ epsilon: 0.1, error: null, label: 'failed' }, { epsilon: 1, error: 0.2, label: 'ok' }]);
    expect(p!.pareto).toBe(false);
    expect(Number.isNaN(p!.error)).toBe(true);
    expect(q!.pareto).toBe(true);
  });

  it('lets a pinned run dominate sweep points and keeps its pinned flag', () => {
    const marks = markPareto([
      { epsilon: 1, error: 0.2, label: 'ε 1' },
      { epsilon: 1, error: 0.1, label: 'Run 1', pinned: true },
    ]);
    expect(marks.map((p) => p.pareto)).toEqual([false, true]);
    expect(marks[1]!.pinned).toBe(true);
    expect(marks[0]!.pinned).toBeUndefined();
  });

  it('sweeps ε from 1/8 to 8 by factors of 2', () => {
    expect(SWEEP_EPSILONS).toEqual([0.125, 0.25, 0.5, 1, 2, 4, 8]);
  });
});

describe('bestCells', () => {
  it('marks the lowest value when lower is better, and the highest when higher is', () => {
    expect(bestCells([0.3, 0.1, 0.2], 'lower')).toEqual([false, true, false]);
    expect(bestCells([0.3, 0.1, 0.2], 'higher')).toEqual([true, false, false]);
  });

  it('marks every cell tied for best', () => {
    expect(bestCells([0.1, 0.2, 0.1], 'lower')).toEqual([true, false, true]);
  });

  it('marks nothing with fewer than two values or when all are equal', () => {
    expect(bestCells([0.1], 'lower')).toEqual([false]);
    expect(bestCells([0.1, null], 'lower')).toEqual([false, false]);
    expect(bestCells([0.2, 0.2], 'lower')).toEqual([false, false]);
  });

  it('skips missing values and never marks them', () => {
    expect(bestCells([null, 0.4, Number.NaN, 0.2], 'lower')).toEqual([false, false, false, true]);
  });
});

describe('compareRows', () => {
  it('lists the union of the runs’ metrics in order of first appearance, one row per measure', () => {
    const r1 = { metrics: [metric({ id: 'a' }), metric({ id: 'b' })] };
    const r2 = { metrics: [metric({ id: 'c' }), metric({ id: 'a' })] };
    const rows = compareRows([r1, r2]);
    expect(rows).toHaveLength(3 * MEASURES.length);
    expect([...new Set(rows.map((r) => r.metricId))]).toEqual(['a', 'b', 'c']);
    const b = rows.find((r) => r.metricId === 'b')!;
    expect(b.cells[0]).not.toBeNull();
    expect(b.cells[1]).toBeNull();
  });

  it('marks the best run per row: lower ε, error and loss; higher shares within and released', () => {
    const r1 = { metrics: [metric({ id: 'a', epsilon: 0.5, rmse: 4, median: 0.2, within10: 0.3, released: 6, cohorts: 10, lost: 0.1 })] };
    const r2 = { metrics: [metric({ id: 'a', epsilon: 1, rmse: 2, median: 0.1, within10: 0.6, released: 9, cohorts: 10, lost: 0.02 })] };
    const best = Object.fromEntries(compareRows([r1, r2]).map((r) => [r.measure.id, r.best]));
    expect(best).toEqual({
      epsilon: [true, false],
      rmse: [false, true],
      medianRelativeError: [false, true],
      within: [false, true],
      released: [false, true],
      valueLost: [false, true],
    });
  });

  it('compares cohorts released as a share of the cohorts', () => {
    const r1 = { metrics: [metric({ id: 'a', released: 8, cohorts: 10 })] };
    const r2 = { metrics: [metric({ id: 'a', released: 9, cohorts: 20 })] };
    const row = compareRows([r1, r2]).find((r) => r.measure.id === 'released')!;
    expect(row.best).toEqual([true, false]);
  });

  it('falls back to the metric id when a metric has no label', () => {
    const rows = compareRows([{ metrics: [metric({ id: 'a', label: null })] }]);
    expect(rows[0]!.label).toBe('a');
  });
});

describe('metricCell', () => {
  it('reads the simulated numbers and the share within ±10%', () => {
    const c = metricCell(metric({ id: 'a', rmse: null, median: 0.07, within10: 0.8, released: 7, cohorts: 9, lost: 0.03, epsilon: 0.25 }));
    expect(c).toMatchObject({ epsilon: 0.25, delta: 1e-6, rmse: null, medianRelativeError: 0.07, within: 0.8, released: 7, cohorts: 9, valueLost: 0.03 });
  });
});
