import type { Annotation, BarData, ScatterData } from 'plotly.js-dist-min';
import { describe, expect, it } from 'vitest';
import { makePartitionSelection } from '../../../../shared/core/dp/partition-selection';
import type { CohortReport, MetricReport, MetricSummary } from '../../../../shared/core/simulate/report';
import type { ChartSpec } from '../../../../renderer/charts/specs';
import {
  CHART_FONT_FAMILY, contributionHistogramChart, decompositionChart, errorDistributionChart, errorVsSizeChart, formatPercent, NO_DATA,
  paretoChart, releaseComparisonChart, releaseCurveChart, sloShareChart, vanishingCohortsTable,
} from '../../../../renderer/charts/specs';

// ---------------------------------------------------------------------------------------------
// Synthetic reports

interface CohortInit {
  readonly label: string;
  readonly trueValue: number;
  readonly releaseProbability?: number;
  readonly rmse?: number | null;
  /** Signed error quantiles [p05, p50, p95]; null: never released. */
  readonly q?: readonly [number, number, number] | null;
}

function cohort(c: CohortInit): CohortReport {
  const q = c.q === undefined ? [-2, 0, 2] as const : c.q;
  const k = c.releaseProbability === undefined ? 1 : c.releaseProbability;
  return {
    key: [c.label],
    label: c.label,
    trueValue: c.trueValue,
    releaseProbability: k,
    bias: 0,
    rmse: c.rmse === undefined ? 1 : c.rmse,
    meanAbsError: 1,
    meanRelativeError: null,
    medianRelativeError: null,
    errorQuantiles: q === null ? null : { p05: q[0], p50: q[1], p95: q[2], samples: 100 },
    exceedProbability: [],
    coverage: null,
    halfWidth: null,
    analytic: { bias: 0, rmse: 1, keepProbability: k, rmseWithDropped: 1, relativeError: null },
  };
}

function summary(over: Partial<MetricSummary> = {}): MetricSummary {
  const dec = { noise: 9, clipping: 4, bounding: 2, suppression: 1, total: 16 };
  return {
    cohorts: 0,
    expectedReleased: { mc: 0, analytic: 0 },
    withinShare: [{ x: 0.5, mc: 0.9, analytic: 0.92 }, { x: 0.1, mc: 0.6, analytic: 0.55 }],
    valueLostToSuppression: { mc: 0, analytic: 0 },
    medianRelativeError: null,
    coverage: null,
    rmse: { mc: 4.2, analytic: 4 },
    decomposition: { ...dec, mcTotal: 17.64 },
    relativeDecomposition: dec,
    noiseStd: 3,
    analyticUnreliableCohorts: 0,
    ...over,
  };
}

function metric(cohorts: readonly CohortInit[], over: { summary?: Partial<MetricSummary>; derived?: boolean } = {}): MetricReport {
  return {
    id: 'revenue',
    label: 'Revenue',
    kind: 'sum',
    by: ['country'],
    group: 0,
    privacy: { epsilon: 1, delta: 1e-6, confidence: 0.95, selectionRole: 'metric' },
    relativeErrorBasis: over.derived ? '|true|' : 'max(|true|, 1)',
    exactShortcut: null,
    parts: [],
    summary: { ...summary(over.summary), cohorts: cohorts.length },
    cohorts: cohorts.map(cohort),
  };
}

/** A JSON report where a number became null: the type says number, the data says otherwise. */
const NULL = null as unknown as number;

// ---------------------------------------------------------------------------------------------
// Reading specs

function scatter(spec: ChartSpec, name: string): Partial<ScatterData> {
  const t = spec.data.find((d) => d.name === name);
  if (!t) throw new Error(`no trace named ${name}: ${spec.data.map((d) => d.name).join(', ')}`);
  return t as Partial<ScatterData>;
}

function bar(spec: ChartSpec, name: string): Partial<BarData> {
  return scatter(spec, name) as Partial<BarData>;
}

function annotationTexts(spec: ChartSpec): string[] {
  return (spec.layout.annotations ?? []).map((a: Annotation) => String(a.text));
}

function titleOf(spec: ChartSpec): string {
  return spec.layout.title?.text ?? '';
}

function subtitleOf(spec: ChartSpec): string {
  const sub = spec.layout.title?.subtitle;
  return typeof sub === 'object' && sub ? String(sub.text ?? '') : '';
}

function expectNoData(spec: ChartSpec): void {
  expect(spec.data).toEqual([]);
  expect(annotationTexts(spec).some((t) => t.startsWith(NO_DATA))).toBe(true);
}

const nums = (xs: unknown): number[] => (xs as number[]).map(Number);

// ---------------------------------------------------------------------------------------------

describe('decompositionChart', () => {
  it('shows each source as a share of the analytic MSE, the shares adding to 1, labelled with its RMSE', () => {
    const spec = decompositionChart(metric([{ label: 'a', trueValue: 10 }]));
    const parts = spec.data.filter((d) => (d as Partial<BarData>).y?.[0] === 'Analytic, by source') as Partial<BarData>[];
    // MSE 9, 4, 2, 1: each source's RMSE alone is √ of its MSE.
    expect(parts.map((p) => p.name)).toEqual(['Noise: RMSE 3', 'Clipping bias: RMSE 2', 'Dropped contributions: RMSE 1.41', 'Suppressed cohorts: RMSE 1']);
    const shares = parts.map((p) => nums(p.x)[0]!);
    expect(shares.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(shares[0]).toBeCloseTo(9 / 16, 12);
    expect(parts[0]!.text).toEqual(['56.3%']);
    expect(spec.layout.barmode).toBe('stack');
    expect(parts.every((p) => p.orientation === 'h')).toBe(true);
  });

  it('puts the Monte-Carlo total beside the analytic one as a share of the analytic total', () => {
    const spec = decompositionChart(metric([{ label: 'a', trueValue: 10 }]));
    const mc = bar(spec, 'Monte-Carlo total: RMSE 4.2');
    expect(mc.y).toEqual(['Monte Carlo, total']);
    expect(nums(mc.x)[0]).toBeCloseTo(17.64 / 16, 12);
    expect(nums(spec.layout.xaxis?.range)[1]).toBeGreaterThan(17.64 / 16);
  });

  it('leaves out a source that is null in the report and rescales the others to add to 1', () => {
    const dec = { noise: NULL, clipping: 1, bounding: 1, suppression: 2, total: 4, mcTotal: null };
    const spec = decompositionChart(metric([{ label: 'a', trueValue: 10 }], { summary: { decomposition: dec } }));
    expect(spec.data.map((d) => d.name)).toEqual(['Clipping bias: RMSE 1', 'Dropped contributions: RMSE 1', 'Suppressed cohorts: RMSE 1.41']);
    const shares = spec.data.map((d) => nums((d as Partial<BarData>).x)[0]!);
    expect(shares.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(subtitleOf(spec)).toContain('Not available: noise');
    expect(annotationTexts(spec)).toContain('Monte-Carlo total not available');
  });

  it('gives "No data" for a metric without cohorts', () => {
    expectNoData(decompositionChart(metric([])));
  });
});

describe('errorDistributionChart', () => {
  const many = Array.from({ length: 40 }, (_, i) => ({ label: `c${i}`, trueValue: (i * 7919) % 40 + 1 }));

  it('shows at most 30 cohorts by default, the largest true values first', () => {
    const spec = errorDistributionChart(metric(many));
    const labels = spec.layout.yaxis?.categoryarray as string[];
    expect(labels).toHaveLength(30);
    const byLabel = new Map(many.map((c) => [c.label, c.trueValue]));
    const values = labels.map((l) => byLabel.get(l)!);
    expect(values[0]).toBe(40);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
    expect(spec.layout.yaxis?.autorange).toBe('reversed');
  });

  it('honours maxCohorts', () => {
    const spec = errorDistributionChart(metric(many), { maxCohorts: 5 });
    expect(spec.layout.yaxis?.categoryarray).toHaveLength(5);
    expect(subtitleOf(spec)).toContain('The 5 largest of 40 cohorts');
  });

  it('draws the p05–p95 interval around the median as relative error', () => {
    const spec = errorDistributionChart(metric([{ label: 'big', trueValue: 200, q: [-20, 4, 30] }, { label: 'tiny', trueValue: 0.5, q: [-1, 0, 2] }]));
    const t = scatter(spec, 'median error, bar p05–p95');
    expect(t.y).toEqual(['big', 'tiny']);
    // Base metric: relative to max(|true|, 1).
    expect(nums(t.x)).toEqual([4 / 200, 0]);
    expect(nums(t.error_x?.array)).toEqual([26 / 200, 2]);
    expect(nums(t.error_x?.arrayminus)).toEqual([24 / 200, 1]);
    expect(t.error_x?.symmetric).toBe(false);
    expect(spec.layout.xaxis?.title?.text).toBe('simulated error (relative)');
  });

  it('marks a cohort never released and leaves out a derived cohort whose true value is 0', () => {
    const spec = errorDistributionChart(metric([
      { label: 'rate-a', trueValue: 0.4, q: [-0.04, 0, 0.04] },
      { label: 'gone', trueValue: 0.2, q: null },
      { label: 'zero', trueValue: 0 },
    ], { derived: true }));
    expect(scatter(spec, 'never released (suppressed in every sampled trial)').y).toEqual(['gone']);
    expect(nums(scatter(spec, 'median error, bar p05–p95').error_x?.array)[0]).toBeCloseTo(0.1, 12);
    expect(spec.layout.yaxis?.categoryarray).toEqual(['rate-a', 'gone']);
    expect(subtitleOf(spec)).toContain('1 cohort with true value 0 left out');
  });

  it('gives "No data" without cohorts', () => {
    expectNoData(errorDistributionChart(metric([])));
  });
});

describe('errorVsSizeChart', () => {
  it('plots true value against relative RMSE on log axes, coloured by release probability, labelled by cohort', () => {
    const spec = errorVsSizeChart(metric([
      { label: 'A', trueValue: 1000, rmse: 50, releaseProbability: 1 },
      { label: 'B', trueValue: 10, rmse: 5, releaseProbability: 0.3 },
    ]));
    const t = scatter(spec, 'cohorts');
    expect(nums(t.x)).toEqual([1000, 10]);
    expect(nums(t.y)).toEqual([0.05, 0.5]);
    expect(t.text).toEqual(['A', 'B']);
    expect((t.marker as { color?: unknown }).color).toEqual([1, 0.3]);
    expect(spec.layout.xaxis?.type).toBe('log');
    expect(spec.layout.yaxis?.type).toBe('log');
  });

  it('leaves out what a log axis cannot show and says how many', () => {
    const spec = errorVsSizeChart(metric([
      { label: 'ok', trueValue: 100, rmse: 10 },
      { label: 'never', trueValue: 100, rmse: null },
      { label: 'negative', trueValue: -5, rmse: 1 },
      { label: 'exact', trueValue: 100, rmse: 0 },
    ]));
    expect(scatter(spec, 'cohorts').text).toEqual(['ok']);
    expect(subtitleOf(spec)).toContain('3 cohorts not shown');
  });

  it('gives "No data" without cohorts or when none can be placed', () => {
    expectNoData(errorVsSizeChart(metric([])));
    expectNoData(errorVsSizeChart(metric([{ label: 'never', trueValue: 5, rmse: null }])));
  });
});

describe('vanishingCohortsTable', () => {
  it('returns the n cohorts least likely to be released, lowest first, larger cohorts first on ties', () => {
    const m = metric([
      { label: 'safe', trueValue: 500, releaseProbability: 1 },
      { label: 'half', trueValue: 20, releaseProbability: 0.5 },
      { label: 'lost-small', trueValue: 2, releaseProbability: 0 },
      { label: 'lost-big', trueValue: 9, releaseProbability: 0 },
      { label: 'unknown', trueValue: 3, releaseProbability: NULL },
    ]);
    expect(vanishingCohortsTable(m, 3)).toEqual([
      { label: 'lost-big', trueValue: 9, releaseProbability: 0 },
      { label: 'lost-small', trueValue: 2, releaseProbability: 0 },
      { label: 'half', trueValue: 20, releaseProbability: 0.5 },
    ]);
    expect(vanishingCohortsTable(m).map((r) => r.label)).toEqual(['lost-big', 'lost-small', 'half', 'safe']);
  });

  it('caps at 10 by default and is empty without cohorts', () => {
    const m = metric(Array.from({ length: 15 }, (_, i) => ({ label: `c${i}`, trueValue: 1, releaseProbability: i / 15 })));
    expect(vanishingCohortsTable(m)).toHaveLength(10);
    expect(vanishingCohortsTable(metric([]))).toEqual([]);
  });
});

describe('sloShareChart', () => {
  it('puts Monte-Carlo and analytic shares side by side per threshold, thresholds ascending', () => {
    const spec = sloShareChart(metric([{ label: 'a', trueValue: 1 }]));
    const mc = bar(spec, 'Monte Carlo');
    const an = bar(spec, 'Analytic model');
    expect(mc.x).toEqual(['±10%', '±50%']);
    expect(nums(mc.y)).toEqual([0.6, 0.9]);
    expect(nums(an.y)).toEqual([0.55, 0.92]);
    expect(spec.layout.barmode).toBe('group');
    expect(spec.layout.yaxis?.tickformat).toBe('.0%');
  });

  it('shows a missing Monte-Carlo share as a gap, not as 0', () => {
    const spec = sloShareChart(metric([{ label: 'a', trueValue: 1 }], { summary: { withinShare: [{ x: 0.1, mc: null, analytic: 0.5 }] } }));
    expect(bar(spec, 'Monte Carlo').y).toEqual([null]);
    expect(bar(spec, 'Monte Carlo').text).toEqual(['n/a']);
  });

  it('gives "No data" without thresholds', () => {
    expectNoData(sloShareChart(metric([{ label: 'a', trueValue: 1 }], { summary: { withinShare: [] } })));
  });
});

describe('releaseCurveChart', () => {
  const selection = makePartitionSelection({ strategy: 'laplace', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1, preThreshold: 5 });
  const keepProbability = (n: number): number => selection.keepProbability(n);

  it('marks every cohort on the curve at its unit count', () => {
    const cohortUnits = [3, 7, 7, 40, 1200];
    const spec = releaseCurveChart({ keepProbability, cohortUnits, preThreshold: 5, cohortLabels: ['a', 'b', 'c', 'd', 'e'] });
    const marks = scatter(spec, 'cohorts of the sample');
    expect(nums(marks.x)).toEqual(cohortUnits);
    expect(nums(marks.y)).toEqual(cohortUnits.map(keepProbability));
    expect(marks.text).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(spec.layout.xaxis?.type).toBe('log');
  });

  it('draws the curve over integer unit counts up to past the largest cohort, 0 below the pre-threshold', () => {
    const spec = releaseCurveChart({ keepProbability, cohortUnits: [3, 1200], preThreshold: 5 });
    const curve = scatter(spec, 'release probability');
    const x = nums(curve.x);
    const y = nums(curve.y);
    expect(x.every((n, i) => Number.isInteger(n) && (i === 0 || n > x[i - 1]!))).toBe(true);
    expect(x[x.length - 1]).toBeGreaterThanOrEqual(1200);
    x.forEach((n, i) => expect(y[i]).toBe(keepProbability(n)));
    expect(y.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(curve.line?.shape).toBe('hv');
  });

  it('puts a vertical line at the pre-threshold (shape in data units, annotation in log10 units)', () => {
    const spec = releaseCurveChart({ keepProbability, cohortUnits: [10], preThreshold: 5 });
    const line = spec.layout.shapes?.[0];
    expect(line).toMatchObject({ type: 'line', x0: 5, x1: 5, yref: 'paper' });
    const label = spec.layout.annotations?.find((a) => String(a.text).includes('pre-threshold'));
    expect(label?.x).toBeCloseTo(Math.log10(5), 12);
  });

  it('has no pre-threshold line when there is none, and says so when there are no cohorts', () => {
    const spec = releaseCurveChart({ keepProbability: () => 0.5, cohortUnits: [], preThreshold: 1 });
    expect(spec.layout.shapes).toEqual([]);
    expect(spec.data.map((d) => d.name)).toEqual(['release probability']);
    expect(annotationTexts(spec)).toContain('No cohorts to mark');
  });
});

describe('contributionHistogramChart', () => {
  const hist = { lower: [1, 2, 4, 8], upper: [2, 4, 8, 16], counts: [50, 20, 8, 2] };

  it('draws a vertical line at the bound and says which share it drops', () => {
    const spec = contributionHistogramChart(hist, { bound: 4, droppedShare: 0.125, title: 'Cohorts per unit', xTitle: 'cohorts per unit (L0)' });
    const line = spec.layout.shapes?.[0];
    // Bin i is centred at i: 4 is the left edge of the third bin.
    expect(line).toMatchObject({ type: 'line', x0: 1.5, x1: 1.5 });
    expect(annotationTexts(spec)).toEqual(['bound 4: 12.5% of rows dropped']);
  });

  it('places a bound inside a bin on the log2 scale and colours the bins holding values above it', () => {
    const spec = contributionHistogramChart(hist, { bound: 6, title: 't', xTitle: 'x' });
    expect(Number(spec.layout.shapes?.[0]?.x0)).toBeCloseTo(1.5 + Math.log2(1.5), 12);
    expect(bar(spec, 'within the bound').y).toEqual([50, 20, null, null]);
    expect(bar(spec, 'above the bound').y).toEqual([null, null, 8, 2]);
    expect(spec.layout.xaxis?.categoryarray).toEqual(['[1, 2)', '[2, 4)', '[4, 8)', '[8, 16)']);
  });

  it('gives "No data" for an empty histogram or one of zero counts', () => {
    expectNoData(contributionHistogramChart({ lower: [], upper: [], counts: [] }, { title: 't', xTitle: 'x' }));
    expectNoData(contributionHistogramChart({ lower: [1], upper: [2], counts: [0] }, { title: 't', xTitle: 'x' }));
  });
});

describe('paretoChart', () => {
  const points = [
    { epsilon: 2, error: 3, label: 'B', pareto: true },
    { epsilon: 0.5, error: 10, label: 'A', pareto: true, pinned: true },
    { epsilon: 1, error: 12, label: 'dominated', pareto: false },
    { epsilon: 4, error: 1, label: 'C', pareto: true },
    { epsilon: 0, error: 1, label: 'invalid', pareto: true },
  ];

  it('joins only the Pareto-optimal points, in order of ε, and fades the others', () => {
    const spec = paretoChart(points);
    const front = scatter(spec, 'Pareto-optimal');
    expect(front.mode).toBe('lines+markers');
    expect(front.text).toEqual(['A', 'B', 'C']);
    expect(nums(front.x)).toEqual([0.5, 2, 4]);
    const others = scatter(spec, 'other settings');
    expect(others.mode).toBe('markers');
    expect(others.text).toEqual(['dominated']);
    expect((others.marker as { opacity?: number }).opacity).toBeLessThan(1);
    const withLines = spec.data.filter((d) => String((d as Partial<ScatterData>).mode).includes('lines'));
    expect(withLines).toHaveLength(1);
    expect(scatter(spec, 'pinned').text).toEqual(['A']);
  });

  it('uses a log ε axis that says which side is more private', () => {
    const spec = paretoChart(points);
    expect(spec.layout.xaxis?.type).toBe('log');
    expect(spec.layout.xaxis?.title?.text).toContain('← more private');
  });

  it('gives "No data" when no point has a positive ε', () => {
    expectNoData(paretoChart([]));
    expectNoData(paretoChart([{ epsilon: 0, error: 1, label: 'x', pareto: true }]));
  });
});

describe('releaseComparisonChart', () => {
  it('shows a suppressed cohort without a release bar and with a "suppressed" annotation', () => {
    const spec = releaseComparisonChart([
      { label: 'DE', trueValue: 120, released: 117.5 },
      { label: 'LU', trueValue: 3, released: null },
    ]);
    expect(titleOf(spec)).toContain('Simulated release (not real data)');
    expect(bar(spec, 'true value (sample)').y).toEqual([120, 3]);
    expect(bar(spec, 'simulated release').y).toEqual([117.5, null]);
    const notes = spec.layout.annotations ?? [];
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ text: 'suppressed', x: 1, xref: 'x' });
    expect(spec.layout.barmode).toBe('group');
  });

  it('gives "No data" without rows', () => {
    expectNoData(releaseComparisonChart([]));
  });
});

describe('every chart', () => {
  const m = metric([{ label: 'a', trueValue: 100, rmse: 5 }, { label: 'b', trueValue: 10, rmse: 2, releaseProbability: 0.4 }]);
  const specs: [string, ChartSpec][] = [
    ['decomposition', decompositionChart(m)],
    ['error distribution', errorDistributionChart(m)],
    ['error vs size', errorVsSizeChart(m)],
    ['slo share', sloShareChart(m)],
    ['release curve', releaseCurveChart({ keepProbability: (n) => Math.min(1, n / 10), cohortUnits: [2, 20], preThreshold: 2 })],
    ['histogram', contributionHistogramChart({ lower: [1], upper: [2], counts: [3] }, { bound: 1, title: 't', xTitle: 'x' })],
    ['pareto', paretoChart([{ epsilon: 1, error: 1, label: 'p', pareto: true }])],
    ['release comparison', releaseComparisonChart([{ label: 'a', trueValue: 1, released: 2 }])],
    ['no data', decompositionChart(metric([]))],
  ];

  it.each(specs)('%s: has a title, the system-ui font, a compact margin and no animation', (_, spec) => {
    expect(titleOf(spec).length).toBeGreaterThan(0);
    expect(spec.layout.font?.family).toBe(CHART_FONT_FAMILY);
    expect(CHART_FONT_FAMILY.startsWith('system-ui')).toBe(true);
    expect(spec.layout.margin?.t).toBeLessThanOrEqual(80);
    expect(spec.layout.margin?.l).toBeLessThanOrEqual(80);
    expect(spec.layout.transition).toBeUndefined();
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });
});

describe('formatPercent', () => {
  it('keeps small shares visible', () => {
    expect(formatPercent(0.0004)).toBe('0.04%');
    expect(formatPercent(0.125)).toBe('12.5%');
    expect(formatPercent(null)).toBe('–');
  });
});
