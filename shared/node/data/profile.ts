// Contribution profiles of loaded datasets: the service behind `dpw profile` (and the app's
// profile view). It checks the columns an analysis needs, runs the metric's aggregation in DuckDB
// (aggregate.ts) and profiles the typed arrays in the core (core/data/profile.ts).

import type { Dimension, Filter } from '../../core/config/schema';
import type { MetricContributions } from '../../core/data/contributions';
import { profileContributions } from '../../core/data/profile';
import type { BoundCandidate, ContributionProfile, Distribution, ProfileOptions } from '../../core/data/profile';
import type { AggregationConfig, ContributionMetric } from './aggregate';
import { computeContributions } from './aggregate';
import type { DataWarning } from './errors';
import { cardinalityWarnings, checkColumns } from './ingest';
import type { AnalysisConfig } from '../../core/config/schema';
import type { ColumnRequirement, LoadedDataset } from './ingest';

export interface ProfileRequest {
  /** The privacy unit column. */
  readonly unit: string;
  readonly unitKind?: 'user' | 'device';
  /** Cohort keys: columns, or day/week buckets of a timestamp column. */
  readonly by?: readonly { readonly column: string; readonly bucket?: 'day' | 'week' }[];
  /** A numeric column: profiles its sum (per-row values, per-unit-per-partition sums, clamp candidates). */
  readonly value?: string;
  /** Row filters, ANDed. */
  readonly where?: readonly Filter[];
  readonly quantiles?: readonly number[];
  /** Cohort keys with more distinct values than this get a HighCardinality warning (default 10 000). */
  readonly cardinalityThreshold?: number;
}

export interface DatasetProfile {
  readonly metric: ContributionMetric;
  readonly contributions: MetricContributions;
  readonly profile: ContributionProfile;
  readonly warnings: readonly DataWarning[];
}

/** The dimension name of a cohort key: the column, or `column:day` / `column:week`. */
export function dimensionName(key: { column: string; bucket?: 'day' | 'week' }): string {
  return key.bucket ? `${key.column}:${key.bucket}` : key.column;
}

/** The metric (count, or sum of `value`) and config that a profile request stands for. */
export function requestMetric(req: ProfileRequest): { config: AggregationConfig; metric: ContributionMetric } {
  const dimensions: Dimension[] = (req.by ?? []).map((k) => ({ name: dimensionName(k), column: k.column, ...(k.bucket ? { bucket: k.bucket } : {}) }));
  const base = {
    id: 'profile',
    cadence: 'one-off' as const,
    by: dimensions.map((d) => d.name),
    filter: [...(req.where ?? [])],
    privacy: {
      budgetShare: 1, mechanism: 'laplace' as const, maxPartitionsContributed: 1, maxContributionsPerPartition: 1,
      preThreshold: 1, selection: 'laplace' as const, selectionShare: 0.5,
    },
  };
  const metric: ContributionMetric = req.value !== undefined ? { ...base, kind: 'sum', column: req.value } : { ...base, kind: 'count' };
  return { config: { privacyUnit: { column: req.unit, kind: req.unitKind ?? 'user' }, dimensions }, metric };
}

/**
 * Columns an analysis reads, as loader requirements, deduplicated by (column, numeric): every
 * central metric's (metricRequirements) and each local-frequency metric's unit, category and filters.
 */
export function analysisRequirements(config: AnalysisConfig): ColumnRequirement[] {
  const out: ColumnRequirement[] = [];
  for (const m of config.metrics) {
    if (m.kind === 'ratio') continue;
    if (m.kind === 'local-frequency') {
      out.push({ column: config.privacyUnit.column, role: 'unit' }, { column: m.column, role: 'category' }, ...m.filter.map((f) => ({ column: f.column, role: 'filter' })));
    } else out.push(...metricRequirements(config, m));
  }
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = `${r.column}\u0000${r.numeric ? 1 : 0}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Columns a metric reads, as loader requirements (missing columns, non-numeric values). */
export function metricRequirements(config: AggregationConfig, metric: ContributionMetric): ColumnRequirement[] {
  const req: ColumnRequirement[] = [{ column: config.privacyUnit.column, role: 'unit' }];
  for (const name of metric.by) {
    const d = config.dimensions.find((x) => x.name === name);
    if (d) req.push({ column: d.column, role: 'cohort' });
  }
  if (metric.kind === 'sum' || metric.kind === 'mean') req.push({ column: metric.column, role: 'value', numeric: true });
  const filters = [...metric.filter, ...(metric.kind === 'conversion' ? [...metric.from, ...metric.to] : []), ...(metric.kind === 'funnel' ? metric.steps.flat() : [])];
  for (const f of filters) req.push({ column: f.column, role: 'filter' });
  const seen = new Set<string>();
  return req.filter((r) => {
    const k = `${r.column}\u0000${r.numeric ? 1 : 0}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Profile of one metric of a loaded dataset (columns checked first: DataError on a problem). */
export async function profileMetric(
  ds: LoadedDataset,
  config: AggregationConfig,
  metric: ContributionMetric,
  opts: ProfileOptions & { signal?: AbortSignal; cardinalityThreshold?: number } = {},
): Promise<DatasetProfile> {
  const { signal } = opts;
  await checkColumns(ds, metricRequirements(config, metric), signal);
  const keyColumns = [...new Set(metric.by.map((n) => config.dimensions.find((d) => d.name === n)).filter((d) => d && !d.bucket).map((d) => d!.column))];
  const warnings = [...ds.warnings, ...(await cardinalityWarnings(ds, keyColumns, {
    ...(opts.cardinalityThreshold !== undefined ? { threshold: opts.cardinalityThreshold } : {}),
    ...(signal ? { signal } : {}),
  }))];
  const contributions = await ds.engine.withConnection(
    (conn) => computeContributions(conn, ds.table, config, metric, { file: ds.path, ...(signal ? { signal } : {}) }),
    signal,
  );
  const profile = profileContributions(contributions, opts.quantiles ? { quantiles: opts.quantiles } : {});
  return { metric, contributions, profile, warnings };
}

/** `dpw profile`'s question: count (or sum of `value`) per unit per cohort. */
export async function profileDataset(ds: LoadedDataset, req: ProfileRequest, opts: { signal?: AbortSignal } = {}): Promise<DatasetProfile> {
  const { config, metric } = requestMetric(req);
  return profileMetric(ds, config, metric, {
    ...opts,
    ...(req.quantiles ? { quantiles: req.quantiles } : {}),
    ...(req.cardinalityThreshold !== undefined ? { cardinalityThreshold: req.cardinalityThreshold } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// The JSON shape `dpw profile --json` prints (snake_case, plain numbers; NaN → null).

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

function quantilesJson(q: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(q).map(([k, v]) => [k, num(v)]));
}

function distJson(d: Distribution, withHistogram = true): Record<string, unknown> {
  return {
    min: num(d.min), max: num(d.max), mean: num(d.mean), quantiles: quantilesJson(d.quantiles),
    ...(d.negative !== undefined ? { negative: d.negative } : {}),
    ...(withHistogram ? { histogram: { lower: d.histogram.lower, upper: d.histogram.upper, counts: d.histogram.counts } } : {}),
  };
}

const candidatesJson = (c: readonly BoundCandidate[]): { bound: number; rows_dropped: number; value_dropped: number }[] =>
  c.map((x) => ({ bound: x.bound, rows_dropped: x.rows, value_dropped: x.value }));

export function profileJson(p: ContributionProfile, warnings: readonly DataWarning[] = []): Record<string, unknown> {
  return {
    rows: p.rows,
    units: p.units,
    partitions: p.partitions,
    pairs: p.pairs,
    l0: distJson(p.l0),
    linf: distJson(p.linf),
    units_per_partition: distJson(p.unitsPerPartition),
    ...(p.rowValues ? {
      value: {
        total: p.totalValue,
        ...distJson(p.rowValues),
        per_unit_partition: distJson(p.pairValues),
      },
    } : {}),
    bounds: {
      l0: candidatesJson(p.candidates.l0),
      linf: candidatesJson(p.candidates.linf),
      ...(p.candidates.clampPerValue ? { clamp_per_value: candidatesJson(p.candidates.clampPerValue) } : {}),
      ...(p.candidates.clampPerPartition ? { clamp_per_partition: candidatesJson(p.candidates.clampPerPartition) } : {}),
    },
    warnings: warnings.map((w) => w.message),
  };
}
