// Chart specs: pure functions from simulation results to Plotly `{ data, layout }` (no DOM, no
// plotly runtime; Plot.tsx is the one component that draws them), so every chart is unit-tested in Node.
//
// Conventions: reports arrive as JSON, where NaN and ±∞ became null, so every number read from a
// report goes through `finite`; an input with nothing to draw gives a spec whose only content is a
// "No data" annotation. No layout sets `transition` or frames: Plotly.react redraws without animating.

// Types from the package that draws (plotly.js v4 ships its own, generated from its schema;
// @types/plotly.js describes v3 and does not match Plotly.react's parameters).
import type { Annotation, Data, Layout, LayoutAxis, Shape } from 'plotly.js-dist-min';
import type { Histogram } from '../../shared/core/data/profile';
import type { CohortReport, MetricReport } from '../../shared/core/simulate/report';

export interface ChartSpec {
  data: Data[];
  layout: Partial<Layout>;
}

/** The charts' colours (Okabe–Ito, distinguishable with the common colour-vision deficiencies). */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  sky: '#56B4E9',
  grey: '#8A9099',
  ink: '#1F2933',
  grid: '#E4E7EB',
} as const;

export const CHART_FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export const NO_DATA = 'No data';

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** A finite number, or null (JSON turned NaN and ±∞ into null). */
function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const COMPACT = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3, notation: 'compact' });
const PERCENT = new Intl.NumberFormat('en-US', { style: 'percent', maximumSignificantDigits: 3 });

/** 3 significant digits, compact from 10 000 on ("12.3K"); "–" for a missing number. */
export function formatNumber(x: number | null | undefined): string {
  const v = finite(x);
  if (v === null) return '–';
  return Math.abs(v) >= 1e4 ? COMPACT.format(v) : NUMBER.format(v);
}

/** A share 0..1 as a percentage with 3 significant digits ("12.3%", "0.04%"); "–" for a missing number. */
export function formatPercent(share: number | null | undefined): string {
  const v = finite(share);
  return v === null ? '–' : PERCENT.format(v);
}

function metricName(metric: MetricReport): string {
  return metric.label ?? metric.id;
}

function baseLayout(title: string, subtitle?: string): Partial<Layout> {
  return {
    title: {
      text: title,
      x: 0,
      xref: 'container',
      xanchor: 'left',
      pad: { l: 8 },
      font: { size: 15 },
      ...(subtitle ? { subtitle: { text: subtitle, font: { size: 11, color: PALETTE.grey } } } : {}),
    },
    font: { family: CHART_FONT_FAMILY, size: 12, color: PALETTE.ink },
    margin: { l: 56, r: 16, t: subtitle ? 72 : 48, b: 48, pad: 2 },
    paper_bgcolor: '#FFFFFF',
    plot_bgcolor: '#FFFFFF',
    hovermode: 'closest',
    // Plotly's default place (right of the plot) pushes the margin to fit; a horizontal legend above
    // or below collides with the subtitle or the x-axis title.
    legend: { traceorder: 'normal', font: { size: 11 } },
  };
}

function axis(title: string, extra: LayoutAxis = {}): LayoutAxis {
  return { title: { text: title, standoff: 8 }, automargin: true, gridcolor: PALETTE.grid, zerolinecolor: PALETTE.grey, ...extra };
}

function note(text: string, x: number, y: number, extra: Annotation = {}): Annotation {
  return { text, x, y, xref: 'paper', yref: 'paper', showarrow: false, font: { size: 11, color: PALETTE.grey }, ...extra };
}

/** A spec with nothing but a centred message (the message starts with "No data" unless told otherwise). */
export function noDataSpec(title: string, message: string = NO_DATA): ChartSpec {
  return {
    data: [],
    layout: {
      ...baseLayout(title),
      xaxis: { visible: false },
      yaxis: { visible: false },
      annotations: [note(message, 0.5, 0.5, { font: { size: 14, color: PALETTE.grey } })],
    },
  };
}

/** Denominator of the metric's relative error (report.ts: max(|true|, 1) for base metrics, |true| for derived), null where undefined. */
function relativeDenominator(metric: MetricReport, trueValue: number | null): number | null {
  if (trueValue === null) return null;
  const den = metric.relativeErrorBasis === '|true|' ? Math.abs(trueValue) : Math.max(Math.abs(trueValue), 1);
  return den > 0 ? den : null;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// Error decomposition

const SOURCES = [
  { key: 'noise', name: 'Noise', color: PALETTE.blue, help: 'DP noise added to each released value' },
  { key: 'clipping', name: 'Clipping bias', color: PALETTE.orange, help: 'values clamped to the clamp bounds' },
  { key: 'bounding', name: 'Dropped contributions', color: PALETTE.purple, help: 'contributions dropped by the L0 / L∞ bounds' },
  { key: 'suppression', name: 'Suppressed cohorts', color: PALETTE.vermillion, help: 'cohorts not released: their whole true value is lost' },
] as const;

const ANALYTIC_ROW = 'Analytic, by source';
const MC_ROW = 'Monte Carlo, total';

/**
 * Horizontal stacked bar of the analytic mean squared error by source, as shares of its total; each
 * source's legend entry gives the RMSE that source alone would give (√ of its MSE; the MSEs add up,
 * the RMSEs do not). Beside it the Monte-Carlo total MSE on the same scale (a share of the analytic
 * total: 100% when they agree).
 */
export function decompositionChart(metric: MetricReport): ChartSpec {
  const title = `Where the error comes from: ${metricName(metric)}`;
  const d = metric.summary?.decomposition;
  const parts = SOURCES.map((s) => ({ ...s, mse: finite(d?.[s.key]) }));
  const known = parts.filter((p): p is typeof p & { mse: number } => p.mse !== null && p.mse >= 0);
  if (metric.cohorts.length === 0 || known.length === 0) return noDataSpec(title);
  const total = known.reduce((s, p) => s + p.mse, 0);
  if (!(total > 0)) return noDataSpec(title, 'No error to decompose: every source contributes 0');
  const mcTotal = finite(d?.mcTotal);
  const missing = parts.filter((p) => p.mse === null || p.mse < 0).map((p) => p.name.toLowerCase());
  const rmse = metric.summary.rmse;
  const subtitle = `Share of the mean squared error (MSE) over cohorts; legend: RMSE of each source alone. RMSE analytic ${formatNumber(finite(rmse?.analytic) ?? Math.sqrt(total))}, Monte Carlo ${formatNumber(finite(rmse?.mc))}`
    + (missing.length ? `. Not available: ${missing.join(', ')}` : '');

  const data: Data[] = known.map((p) => {
    const share = p.mse / total;
    return {
      type: 'bar',
      orientation: 'h',
      name: `${p.name}: RMSE ${formatNumber(Math.sqrt(p.mse))}`,
      x: [share],
      y: [ANALYTIC_ROW],
      marker: { color: p.color },
      text: [formatPercent(share)],
      textposition: 'inside',
      insidetextanchor: 'middle',
      textangle: 0,
      hovertemplate: `${p.name}: %{x:.1%} of the analytic MSE<br>RMSE of this source alone: ${formatNumber(Math.sqrt(p.mse))}<br>${p.help}<extra></extra>`,
    };
  });
  const annotations: Annotation[] = [];
  let xMax = 1;
  if (mcTotal !== null && mcTotal >= 0) {
    const ratio = mcTotal / total;
    xMax = Math.max(1, ratio);
    data.push({
      type: 'bar',
      orientation: 'h',
      name: `Monte-Carlo total: RMSE ${formatNumber(Math.sqrt(mcTotal))}`,
      x: [ratio],
      y: [MC_ROW],
      marker: { color: PALETTE.grey },
      text: [`${formatPercent(ratio)} of analytic (RMSE ${formatNumber(Math.sqrt(mcTotal))})`],
      textposition: 'inside',
      insidetextanchor: 'middle',
      textangle: 0,
      hovertemplate: `Monte-Carlo total MSE: %{x:.1%} of the analytic total<br>RMSE ${formatNumber(Math.sqrt(mcTotal))}<extra></extra>`,
    });
  } else {
    annotations.push(note('Monte-Carlo total not available', 1, 0, { xanchor: 'right', yanchor: 'bottom' }));
  }
  const rows = mcTotal !== null && mcTotal >= 0 ? [ANALYTIC_ROW, MC_ROW] : [ANALYTIC_ROW];
  return {
    data,
    layout: {
      ...baseLayout(title, subtitle),
      barmode: 'stack',
      height: 240,
      // A label that does not fit its segment is hidden (the hover and legend still name it).
      uniformtext: { mode: 'hide', minsize: 10 },
      xaxis: axis('share of the analytic mean squared error (MSE)', { tickformat: '.0%', range: [0, xMax * 1.02] }),
      yaxis: axis('', { type: 'category', categoryorder: 'array', categoryarray: rows, autorange: 'reversed' }),
      annotations,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Error distribution per cohort

export interface ErrorDistributionOptions {
  /** Default 30. */
  readonly maxCohorts?: number;
}

/** Cohorts by decreasing |true value| (unknown true values last, ties by label). */
function byTrueValue(cohorts: readonly CohortReport[]): CohortReport[] {
  const mag = (c: CohortReport): number => {
    const v = finite(c.trueValue);
    return v === null ? -1 : Math.abs(v);
  };
  return [...cohorts].sort((a, b) => mag(b) - mag(a) || a.label.localeCompare(b.label));
}

/**
 * Per cohort (the largest |true value| first, at most maxCohorts), the signed simulated error's
 * p05–p95 interval with its median, relative to the metric's denominator (report.ts). Cohorts never
 * released in the sampled trials are marked as such; cohorts whose relative error is undefined
 * (derived metrics with true value 0) are left out and counted in the subtitle.
 */
export function errorDistributionChart(metric: MetricReport, opts: ErrorDistributionOptions = {}): ChartSpec {
  const title = `Simulated error per cohort: ${metricName(metric)}`;
  const max = Math.max(1, Math.floor(finite(opts.maxCohorts) ?? 30));
  const chosen = byTrueValue(metric.cohorts).slice(0, max);
  if (chosen.length === 0) return noDataSpec(title);

  const labels: string[] = [];
  const p50: number[] = [];
  const plus: number[] = [];
  const minus: number[] = [];
  const custom: [number, number, number | null, number][] = [];
  const intervalLabels: string[] = [];
  const neverReleased: string[] = [];
  let undefinedRelative = 0;
  for (const c of chosen) {
    const den = relativeDenominator(metric, finite(c.trueValue));
    if (den === null) {
      undefinedRelative++;
      continue;
    }
    labels.push(c.label);
    const q = c.errorQuantiles;
    const q05 = finite(q?.p05);
    const q50 = finite(q?.p50);
    const q95 = finite(q?.p95);
    if (!q || !(q.samples > 0) || q05 === null || q50 === null || q95 === null) {
      neverReleased.push(c.label);
      continue;
    }
    intervalLabels.push(c.label);
    p50.push(q50 / den);
    plus.push(Math.max(0, q95 - q50) / den);
    minus.push(Math.max(0, q50 - q05) / den);
    custom.push([q05 / den, q95 / den, finite(c.releaseProbability), q.samples]);
  }
  if (labels.length === 0) return noDataSpec(title, `${NO_DATA}: relative error is undefined for every cohort (true value 0)`);

  const data: Data[] = [];
  if (intervalLabels.length > 0) {
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'median error, bar p05–p95',
      x: p50,
      y: intervalLabels,
      customdata: custom,
      marker: { color: PALETTE.blue, size: 8, symbol: 'diamond' },
      error_x: { type: 'data', symmetric: false, array: plus, arrayminus: minus, color: PALETTE.sky, thickness: 5, width: 0 },
      hovertemplate: '<b>%{y}</b><br>median error %{x:.1%}<br>90% of releases between %{customdata[0]:.1%} and %{customdata[1]:.1%}<br>release probability %{customdata[2]:.0%} · %{customdata[3]} sampled releases<extra></extra>',
    });
  }
  if (neverReleased.length > 0) {
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'never released (suppressed in every sampled trial)',
      x: neverReleased.map(() => 0),
      y: neverReleased,
      marker: { color: PALETTE.vermillion, size: 9, symbol: 'x-thin-open', line: { width: 2, color: PALETTE.vermillion } },
      hovertemplate: '<b>%{y}</b><br>never released in the sampled trials<extra></extra>',
    });
  }
  const total = metric.cohorts.length;
  const subtitle = `Bar: 5th–95th percentile of (released − true) / ${metric.relativeErrorBasis} over the sampled releases, ◆ median. `
    + (total > chosen.length ? `The ${chosen.length} largest of ${plural(total, 'cohort')}` : `All ${plural(total, 'cohort')}`) + ', largest true value first'
    + (undefinedRelative > 0 ? `; ${plural(undefinedRelative, 'cohort')} with true value 0 left out (relative error undefined)` : '');
  return {
    data,
    layout: {
      ...baseLayout(title, subtitle),
      height: Math.min(900, Math.max(260, 120 + 22 * labels.length)),
      xaxis: axis('simulated error (relative)', { tickformat: '.0%', zeroline: true }),
      yaxis: axis('', { type: 'category', categoryorder: 'array', categoryarray: labels, autorange: 'reversed' }),
      margin: { l: 56, r: 16, t: 72, b: 48, pad: 2 },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Error against cohort size

/**
 * Scatter of each cohort's true value (log x) against its Monte-Carlo RMSE relative to the true value
 * (log y), coloured by release probability. Cohorts a log axis cannot show (true value <= 0, never
 * released, zero error) are counted in the subtitle.
 */
export function errorVsSizeChart(metric: MetricReport): ChartSpec {
  const title = `Error against cohort size: ${metricName(metric)}`;
  if (metric.cohorts.length === 0) return noDataSpec(title);
  const x: number[] = [];
  const y: number[] = [];
  const color: number[] = [];
  const text: string[] = [];
  for (const c of metric.cohorts) {
    const v = finite(c.trueValue);
    const rmse = finite(c.rmse);
    const k = finite(c.releaseProbability);
    const den = relativeDenominator(metric, v);
    if (v === null || !(v > 0) || rmse === null || !(rmse > 0) || den === null || k === null) continue;
    x.push(v);
    y.push(rmse / den);
    color.push(k);
    text.push(c.label);
  }
  const left = metric.cohorts.length - x.length;
  if (x.length === 0) return noDataSpec(title, `${NO_DATA}: no cohort has a positive true value and a positive simulated error`);
  const subtitle = `RMSE of the released values (Monte Carlo) divided by ${metric.relativeErrorBasis}`
    + (left > 0 ? `; ${plural(left, 'cohort')} not shown (true value ≤ 0, never released or no error)` : '');
  return {
    data: [{
      type: 'scatter',
      mode: 'markers',
      name: 'cohorts',
      x,
      y,
      text,
      marker: {
        color,
        cmin: 0,
        cmax: 1,
        colorscale: [[0, PALETTE.vermillion], [0.5, PALETTE.orange], [1, PALETTE.blue]],
        size: 8,
        opacity: 0.85,
        line: { width: 0.5, color: PALETTE.ink },
        showscale: true,
        colorbar: { title: { text: 'release<br>probability' }, tickformat: '.0%', thickness: 12 },
      },
      hovertemplate: '<b>%{text}</b><br>true value %{x:,.4~g}<br>relative RMSE %{y:.2~%}<br>release probability %{marker.color:.0%}<extra></extra>',
    }],
    layout: {
      ...baseLayout(title, subtitle),
      showlegend: false,
      xaxis: axis('true value (log scale)', { type: 'log' }),
      yaxis: axis('RMSE ÷ true value (log scale)', { type: 'log', tickformat: '.2~%' }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Vanishing cohorts

export interface VanishingCohort {
  readonly label: string;
  readonly trueValue: number | null;
  readonly releaseProbability: number;
}

/**
 * The n cohorts least likely to be released (ties: the larger |true value| first, then by label),
 * for a table. Cohorts without a known release probability are left out.
 */
export function vanishingCohortsTable(metric: MetricReport, n = 10): VanishingCohort[] {
  const rows: VanishingCohort[] = [];
  for (const c of metric.cohorts) {
    const k = finite(c.releaseProbability);
    if (k !== null) rows.push({ label: c.label, trueValue: finite(c.trueValue), releaseProbability: k });
  }
  const mag = (r: VanishingCohort): number => (r.trueValue === null ? -1 : Math.abs(r.trueValue));
  rows.sort((a, b) => a.releaseProbability - b.releaseProbability || mag(b) - mag(a) || a.label.localeCompare(b.label));
  return rows.slice(0, Math.max(0, Math.floor(n)));
}

// ---------------------------------------------------------------------------------------------
// Share of cohorts within the error target

/** Grouped bars: for each threshold x, the share of cohorts released with |relative error| <= x (Monte Carlo and analytic). */
export function sloShareChart(metric: MetricReport): ChartSpec {
  const title = `Cohorts released within the error target: ${metricName(metric)}`;
  const rows = [...(metric.summary?.withinShare ?? [])]
    .filter((r) => finite(r.x) !== null)
    .sort((a, b) => a.x - b.x);
  if (rows.length === 0 || metric.cohorts.length === 0) return noDataSpec(title);
  const xs = rows.map((r) => `±${formatPercent(r.x)}`);
  const bar = (name: string, values: (number | null)[], color: string): Data => ({
    type: 'bar',
    name,
    x: xs,
    y: values,
    marker: { color },
    text: values.map((v) => (v === null ? 'n/a' : formatPercent(v))),
    textposition: 'outside',
    cliponaxis: false,
    hovertemplate: `${name}: %{y:.1%} of cohorts released within %{x}<extra></extra>`,
  });
  return {
    data: [
      bar('Monte Carlo', rows.map((r) => finite(r.mc)), PALETTE.blue),
      bar('Analytic model', rows.map((r) => finite(r.analytic)), PALETTE.orange),
    ],
    layout: {
      ...baseLayout(title, 'Share of all cohorts released with |relative error| ≤ x; a suppressed cohort counts as not within'),
      barmode: 'group',
      xaxis: axis('relative error target (± x)', { type: 'category' }),
      yaxis: axis('share of cohorts', { tickformat: '.0%', range: [0, 1.1] }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Release probability against cohort size

export interface ReleaseCurveOptions {
  /** P(release | n units), e.g. a PartitionSelection's keepProbability. */
  readonly keepProbability: (units: number) => number;
  /** Unit count of each cohort of the sample. */
  readonly cohortUnits: readonly number[];
  /** Cohort labels, in the order of cohortUnits (hover text). */
  readonly cohortLabels?: readonly string[];
  /** Right end of the curve (extended to the largest cohort); default max(10, 2 × largest cohort, 4 × preThreshold). */
  readonly maxUnits?: number;
  /** Pre-threshold k (1 = none). */
  readonly preThreshold: number;
}

/** Integer unit counts 1..max: every one up to 64, then about 16 per doubling. */
function unitGrid(max: number): number[] {
  const out: number[] = [];
  const dense = Math.min(max, 64);
  for (let n = 1; n <= dense; n++) out.push(n);
  for (let x = 64 * 2 ** (1 / 16); x < max; x *= 2 ** (1 / 16)) {
    const n = Math.round(x);
    if (n > out[out.length - 1]!) out.push(n);
  }
  if (out[out.length - 1]! < max) out.push(max);
  return out;
}

function keepAt(keep: (units: number) => number, n: number): number | null {
  const p = finite(keep(n));
  return p === null ? null : Math.min(1, Math.max(0, p));
}

/**
 * Release probability against cohort size in units (log x), a step line since the probability is a
 * function of the integer count; each real cohort of the sample marked on the curve at its unit
 * count; a vertical line at the pre-threshold when there is one (k > 1).
 */
export function releaseCurveChart(opts: ReleaseCurveOptions): ChartSpec {
  const title = 'Release probability by cohort size';
  const units = opts.cohortUnits.map((u, i) => ({ u: finite(u), label: opts.cohortLabels?.[i] ?? null }))
    .filter((c): c is { u: number; label: string | null } => c.u !== null && c.u >= 1);
  const k = finite(opts.preThreshold) ?? 1;
  const largest = units.reduce((m, c) => Math.max(m, c.u), 0);
  const max = Math.ceil(Math.max(finite(opts.maxUnits) ?? Math.max(10, 2 * largest, 4 * k), largest, 2));
  const grid = unitGrid(max);
  const data: Data[] = [{
    type: 'scatter',
    mode: 'lines',
    name: 'release probability',
    x: grid,
    y: grid.map((n) => keepAt(opts.keepProbability, n)),
    line: { color: PALETTE.blue, width: 2, shape: 'hv' },
    hovertemplate: '%{x} units: released with probability %{y:.1%}<extra></extra>',
  }];
  if (units.length > 0) {
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'cohorts of the sample',
      x: units.map((c) => c.u),
      y: units.map((c) => keepAt(opts.keepProbability, c.u)),
      text: units.map((c) => c.label ?? `${formatNumber(c.u)} units`),
      marker: { color: PALETTE.orange, size: 8, opacity: 0.7, line: { width: 1, color: PALETTE.ink } },
      hovertemplate: '<b>%{text}</b><br>%{x} units: released with probability %{y:.1%}<extra></extra>',
    });
  }
  const shapes: Shape[] = [];
  const annotations: Annotation[] = [];
  if (k > 1) {
    // On a log axis a shape takes data values but an annotation takes log10 of them
    // (plotly/plotly.js#6194, plotly/plotly.js#1258).
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: k, x1: k, y0: 0, y1: 1, line: { color: PALETTE.vermillion, width: 1.5, dash: 'dash' } });
    annotations.push({
      text: `pre-threshold k = ${formatNumber(k)}`, x: Math.log10(k), y: 1, xref: 'x', yref: 'paper', xanchor: 'left', yanchor: 'top', xshift: 4,
      showarrow: false, font: { size: 11, color: PALETTE.vermillion },
    });
  }
  const dropped = opts.cohortUnits.length - units.length;
  if (units.length === 0) annotations.push(note('No cohorts to mark', 0.5, 0.5));
  const subtitle = units.length > 0
    ? `${plural(units.length, 'cohort')} of the sample marked at its unit count${dropped > 0 ? `; ${dropped} without units not shown` : ''}`
    : undefined;
  return {
    data,
    layout: {
      ...baseLayout(title, subtitle),
      xaxis: axis('cohort size (privacy units, log scale)', { type: 'log' }),
      yaxis: axis('release probability', { tickformat: '.0%', range: [-0.03, 1.05] }),
      shapes,
      annotations,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Contribution histogram

export interface ContributionHistogramOptions {
  /** The bound to mark (a candidate L0, L∞ or clamp). */
  readonly bound?: number;
  /** Expected share (0..1) that the bound drops, for the annotation. */
  readonly droppedShare?: number;
  /** Wording after the share; default "of rows dropped" (clamping: e.g. "of values clipped"). */
  readonly droppedLabel?: string;
  readonly title: string;
  readonly xTitle: string;
  /** Default "count". */
  readonly yTitle?: string;
  /**
   * Integer observations (L0, L∞ counts): bin [lo, hi) holds lo … hi−1, so a bin is above a bound b
   * only if hi − 1 > b, and the bound's line is drawn after b's bin. Default false (values).
   */
  readonly integerValues?: boolean;
}

function binLabel(lo: number, hi: number): string {
  return `[${formatNumber(lo)}, ${formatNumber(hi)})`;
}

/**
 * Position of value b on a category axis of bins (bin i centred at i): interpolated inside its bin
 * (log2 scale, linear for a bin starting at 0), on the edge between two bins when it falls in a gap.
 */
function boundPosition(lower: readonly number[], upper: readonly number[], b: number): number {
  for (let i = 0; i < lower.length; i++) {
    const lo = lower[i]!;
    const hi = upper[i]!;
    if (b < lo) return i - 0.5;
    if (b < hi) {
      const frac = lo > 0 ? Math.log(b / lo) / Math.log(hi / lo) : b / hi;
      return i - 0.5 + frac;
    }
  }
  return lower.length - 0.5;
}

/**
 * Bars of a log2-binned histogram (profile.ts), bins holding values above the bound in a second
 * colour, a vertical line at the bound and an annotation "x% of rows dropped".
 */
export function contributionHistogramChart(hist: Histogram, opts: ContributionHistogramOptions): ChartSpec {
  const n = Math.min(hist.lower.length, hist.upper.length, hist.counts.length);
  const lower = hist.lower.slice(0, n);
  const upper = hist.upper.slice(0, n);
  const counts = hist.counts.slice(0, n).map((c) => finite(c) ?? 0);
  if (n === 0 || !counts.some((c) => c > 0)) return noDataSpec(opts.title);
  const labels = lower.map((lo, i) => binLabel(lo, upper[i]!));
  const bound = finite(opts.bound);
  const share = finite(opts.droppedShare);
  const integer = opts.integerValues === true;
  const above = upper.map((hi) => bound !== null && (integer ? hi - 1 > bound : hi > bound));
  const yTitle = opts.yTitle ?? 'count';
  const bars = (name: string, keep: boolean, color: string): Data => ({
    type: 'bar',
    name,
    x: labels,
    y: counts.map((c, i) => (above[i] === !keep ? c : null)),
    marker: { color },
    hovertemplate: `%{x}: %{y:,}<extra>${name}</extra>`,
  });
  const data: Data[] = [bars(bound === null ? yTitle : 'within the bound', true, PALETTE.blue)];
  if (above.some(Boolean)) data.push(bars('above the bound', false, PALETTE.vermillion));

  const shapes: Shape[] = [];
  const annotations: Annotation[] = [];
  const dropped = share === null ? '' : `${formatPercent(share)} ${opts.droppedLabel ?? 'of rows dropped'}`;
  if (bound !== null) {
    const x = boundPosition(lower, upper, integer ? Math.floor(bound) + 1 : bound);
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: x, x1: x, y0: 0, y1: 1, line: { color: PALETTE.ink, width: 1.5, dash: 'dash' } });
    annotations.push({
      text: `bound ${formatNumber(bound)}${dropped ? `: ${dropped}` : ''}`, x, y: 1, xref: 'x', yref: 'paper', xanchor: 'left', yanchor: 'top', xshift: 4,
      showarrow: false, bgcolor: 'rgba(255,255,255,0.8)', font: { size: 11, color: PALETTE.ink },
    });
  } else if (dropped) {
    annotations.push(note(dropped, 1, 1, { xanchor: 'right', yanchor: 'top' }));
  }
  return {
    data,
    layout: {
      ...baseLayout(opts.title),
      barmode: 'stack',
      bargap: 0.08,
      showlegend: data.length > 1,
      xaxis: axis(opts.xTitle, { type: 'category', categoryorder: 'array', categoryarray: labels }),
      yaxis: axis(yTitle, { rangemode: 'tozero' }),
      shapes,
      annotations,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Privacy against error

export interface ParetoPoint {
  readonly epsilon: number;
  readonly error: number;
  readonly label: string;
  readonly pareto: boolean;
  readonly pinned?: boolean;
}

export interface ParetoChartOptions {
  /** Default "Privacy against error". */
  readonly title?: string;
  /** What the error is, with its unit; default "error". */
  readonly errorTitle?: string;
}

/**
 * ε (log x) against error: the Pareto-optimal settings joined by a line in order of ε, the others
 * faded, pinned ones starred. Points without a positive ε or a finite error are left out.
 */
function logErrors(points: readonly ParetoPoint[]): boolean {
  const e = points.map((p) => p.error).filter((x) => x > 0);
  return e.length > 1 && Math.max(...e) / Math.min(...e) > 20;
}

export function paretoChart(points: readonly ParetoPoint[], opts: ParetoChartOptions = {}): ChartSpec {
  const title = opts.title ?? 'Privacy against error';
  const valid = points.filter((p) => {
    const e = finite(p.epsilon);
    return e !== null && e > 0 && finite(p.error) !== null;
  });
  if (valid.length === 0) return noDataSpec(title);
  const hover = '<b>%{text}</b><br>ε %{x:.3~g}<br>error %{y:,.4~g}<extra></extra>';
  const front = valid.filter((p) => p.pareto).sort((a, b) => a.epsilon - b.epsilon || b.error - a.error);
  const others = valid.filter((p) => !p.pareto);
  const pinned = valid.filter((p) => p.pinned);
  const trace = (ps: readonly ParetoPoint[]): { x: number[]; y: number[]; text: string[] } => ({
    x: ps.map((p) => p.epsilon),
    y: ps.map((p) => p.error),
    text: ps.map((p) => p.label),
  });
  const data: Data[] = [];
  if (others.length > 0) {
    data.push({ type: 'scatter', mode: 'markers', name: 'other settings', ...trace(others), marker: { color: PALETTE.grey, size: 7, opacity: 0.4 }, hovertemplate: hover });
  }
  if (front.length > 0) {
    data.push({
      type: 'scatter', mode: 'lines+markers', name: 'Pareto-optimal', ...trace(front),
      line: { color: PALETTE.blue, width: 2 }, marker: { color: PALETTE.blue, size: 8 }, hovertemplate: hover,
    });
  }
  if (pinned.length > 0) {
    data.push({
      type: 'scatter', mode: 'markers', name: 'pinned', ...trace(pinned),
      marker: { color: PALETTE.orange, size: 14, symbol: 'star', line: { width: 1, color: PALETTE.ink } }, hovertemplate: hover,
    });
  }
  return {
    data,
    layout: {
      ...baseLayout(title),
      xaxis: axis('ε, privacy loss (← more private · less private →, log scale)', { type: 'log' }),
      // Errors across an ε sweep span orders of magnitude: a log axis when they do.
      yaxis: axis(`${opts.errorTitle ?? 'error'} (lower is more accurate)`, logErrors(valid) ? { type: 'log' } : { rangemode: 'tozero' }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// True values against one simulated release

export interface ReleaseComparisonRow {
  readonly label: string;
  readonly trueValue: number;
  /** null: the cohort was suppressed in this simulated release. */
  readonly released: number | null;
}

export interface ReleaseComparisonOptions {
  /** What the values are, with their unit; default "value". */
  readonly valueTitle?: string;
}

/**
 * Grouped bars of each cohort's true value and one SIMULATED release (never real output); a
 * suppressed cohort has no release bar and a "suppressed" annotation.
 */
export function releaseComparisonChart(rows: readonly ReleaseComparisonRow[], opts: ReleaseComparisonOptions = {}): ChartSpec {
  const title = 'Simulated release (not real data) against the true values';
  if (rows.length === 0) return noDataSpec(title);
  const labels = rows.map((r) => r.label);
  const truth = rows.map((r) => finite(r.trueValue));
  const released = rows.map((r) => finite(r.released));
  const suppressed = rows.map((r) => typeof r.released !== 'number');
  const annotations: Annotation[] = [];
  suppressed.forEach((isSuppressed, i) => {
    if (!isSuppressed) return;
    annotations.push({
      // On a category axis an annotation's x is the category's serial number (plotly schema).
      text: 'suppressed', x: i, y: Math.max(0, truth[i] ?? 0), xref: 'x', yref: 'y', yanchor: 'bottom', textangle: -90,
      showarrow: false, font: { size: 11, color: PALETTE.vermillion },
    });
  });
  const custom = released.map((v, i) => (suppressed[i] ? 'suppressed' : formatNumber(v)));
  return {
    data: [
      {
        type: 'bar', name: 'true value (sample)', x: labels, y: truth, marker: { color: PALETTE.grey }, customdata: custom,
        hovertemplate: '<b>%{x}</b><br>true value %{y:,.4~g}<br>simulated release %{customdata}<extra></extra>',
      },
      {
        type: 'bar', name: 'simulated release', x: labels, y: released, marker: { color: PALETTE.orange }, customdata: custom,
        hovertemplate: '<b>%{x}</b><br>simulated release %{y:,.4~g}<extra>simulated, not real data</extra>',
      },
    ],
    layout: {
      ...baseLayout(title, `One simulated DP release; ${plural(suppressed.filter(Boolean).length, 'cohort')} suppressed`),
      barmode: 'group',
      xaxis: axis('cohort', { type: 'category', categoryorder: 'array', categoryarray: labels }),
      yaxis: axis(opts.valueTitle ?? 'value'),
      annotations,
    },
  };
}
