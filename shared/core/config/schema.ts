// The analysis config, schema v1: one JSON document that holds the dataset reference, the privacy
// unit, the cohort dimensions and the catalogue of metrics with their privacy parameters. Later
// stages (simulation, review, export) read and extend this same document. Validated with zod;
// errors name the JSON path of the bad field.

import { z } from 'zod';

/** The version this workbench writes; older versions are migrated on read (migrations.ts). */
export const SCHEMA_VERSION = 2 as const;

/** How often a metric is released: the budget ledger composes every release in its period. */
export const CadenceSchema = z.enum(['one-off', 'daily', 'weekly', 'monthly']);
export type Cadence = z.infer<typeof CadenceSchema>;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const probability = finite.refine((v) => v >= 0 && v < 1, 'must be in [0, 1)');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must start with a letter or _ and use letters, digits, _ . -');

export const ColumnTypeSchema = z.enum(['string', 'integer', 'float', 'boolean', 'timestamp']);
export type ColumnType = z.infer<typeof ColumnTypeSchema>;

export const DataFormatSchema = z.enum(['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow']);
export type DataFormat = z.infer<typeof DataFormatSchema>;

export const DatasetSchema = z.object({
  /** Path to the sample, relative to the config file (or absolute). */
  path: z.string().min(1),
  /** Inferred from the extension when absent (.csv, .tsv, .csv.gz, .ndjson, .jsonl, .json, .parquet, .arrow, .feather). */
  format: DataFormatSchema.optional(),
  /** Type overrides for inferred columns. */
  columns: z.record(z.string(), ColumnTypeSchema).optional(),
  /** Fraction of production units the sample holds, in (0, 1]; or the production unit count. */
  sampleRate: finite.refine((v) => v > 0 && v <= 1, 'must be in (0, 1]').optional(),
  productionUnits: positive.optional(),
}).strict();

export const PrivacyUnitSchema = z.object({
  column: z.string().min(1),
  /** 'user' protects a person; 'device' is weaker when a person has several devices. */
  kind: z.enum(['user', 'device']),
}).strict();

export const DimensionSchema = z.object({
  /** Name metrics use in `by`. */
  name: identifier,
  column: z.string().min(1),
  /** Time bucket of a timestamp column. */
  bucket: z.enum(['day', 'week']).optional(),
  /** Public list of keys: no partition selection needed, empty cohorts are released too. */
  publicValues: z.array(z.union([z.string(), finite, z.boolean()])).optional(),
}).strict();
export type Dimension = z.infer<typeof DimensionSchema>;

const scalar = z.union([z.string(), finite, z.boolean()]);
export const FilterSchema = z.object({
  column: z.string().min(1),
  op: z.enum(['=', '!=', '<', '<=', '>', '>=', 'in', 'not-in']).default('='),
  value: z.union([scalar, z.array(scalar)]),
}).strict();
export type Filter = z.infer<typeof FilterSchema>;

export const MechanismSchema = z.enum(['laplace', 'gaussian', 'discrete-laplace', 'discrete-gaussian']);
export const SelectionSchema = z.enum(['laplace', 'gaussian', 'optimal', 'public']);
export const BoundProvenanceSchema = z.enum(['domain-knowledge', 'public-data', 'dp-estimate', 'tuned-on-sample']);

export const MetricPrivacySchema = z.object({
  /** Share of the total budget, in (0, 1]; shares of all metrics should add up to <= 1. */
  budgetShare: finite.refine((v) => v > 0 && v <= 1, 'must be in (0, 1]'),
  mechanism: MechanismSchema.default('laplace'),
  /** L0: partitions (cohorts) per unit. */
  maxPartitionsContributed: z.number().int().min(1),
  /** L∞: rows per unit per partition. */
  maxContributionsPerPartition: z.number().int().min(1).default(1),
  clamp: z.object({
    low: finite,
    high: finite,
    mode: z.enum(['per-value', 'per-partition']).default('per-value'),
  }).strict().refine((c) => c.low <= c.high, { message: 'low must be <= high' }).optional(),
  preThreshold: z.number().int().min(1).default(1),
  selection: SelectionSchema.default('laplace'),
  /** Share of this metric's budget spent on partition selection (private partitions only). */
  selectionShare: finite.refine((v) => v > 0 && v < 1, 'must be in (0, 1)').default(0.5),
  boundProvenance: BoundProvenanceSchema.optional(),
}).strict();
export type MetricPrivacy = z.infer<typeof MetricPrivacySchema>;

export const LocalPrivacySchema = z.object({
  /** Local privacy parameter ε of each unit's one randomized response. */
  localEpsilon: positive,
}).strict();
export type LocalPrivacy = z.infer<typeof LocalPrivacySchema>;

const metricBase = {
  id: identifier,
  label: z.string().optional(),
  /** Release cadence (schema v2): 'daily' releases it every day of the budget's period. */
  cadence: CadenceSchema.default('one-off'),
  /** Dimension names to group by; empty = one overall value. */
  by: z.array(identifier).default([]),
  filter: z.array(FilterSchema).default([]),
  privacy: MetricPrivacySchema,
};

export const MetricSchema = z.discriminatedUnion('kind', [
  /** Number of rows. */
  z.object({ ...metricBase, kind: z.literal('count') }).strict(),
  /** Number of distinct privacy units. */
  z.object({ ...metricBase, kind: z.literal('count-distinct') }).strict(),
  /** Sum of a numeric column (clamped). */
  z.object({ ...metricBase, kind: z.literal('sum'), column: z.string().min(1) }).strict(),
  /** Mean of a numeric column (noisy normalised sum / noisy count). */
  z.object({ ...metricBase, kind: z.literal('mean'), column: z.string().min(1) }).strict(),
  /** Ratio of two metrics of this config with the same `by` (revenue per user). */
  z.object({ ...metricBase, kind: z.literal('ratio'), numerator: identifier, denominator: identifier }).strict(),
  /** Units that did `to` among units that did `from`. */
  z.object({ ...metricBase, kind: z.literal('conversion'), from: z.array(FilterSchema).min(1), to: z.array(FilterSchema).min(1) }).strict(),
  /** Distinct units reaching each step (a unit reaches step i if it matched steps 1..i). */
  z.object({ ...metricBase, kind: z.literal('funnel'), steps: z.array(z.array(FilterSchema).min(1)).min(2) }).strict(),
  /**
   * Local DP: each unit reports one category (its most frequent value of `column` among its rows
   * matching `filter`; ties → the first in `categories` order) through k-ary randomized response on
   * its device; the frequencies are estimated by debiasing. A unit whose value is not in
   * `categories` reports `otherCategory` when set, else the data is rejected naming the value.
   * Spends no central budget; no grouping (`by` must be empty).
   */
  z.object({
    id: identifier,
    label: z.string().optional(),
    cadence: CadenceSchema.default('one-off'),
    kind: z.literal('local-frequency'),
    column: z.string().min(1),
    /** The public category list, k >= 2, distinct. */
    categories: z.array(scalar).min(2),
    /** Category (one of `categories`) that values outside the list are reported as; absent = such values are an error. */
    otherCategory: scalar.optional(),
    by: z.array(identifier).max(0, 'a local-frequency metric cannot be grouped (by must be empty)').default([]),
    filter: z.array(FilterSchema).default([]),
    privacy: LocalPrivacySchema,
  }).strict(),
]);
export type Metric = z.infer<typeof MetricSchema>;
export type MetricKind = Metric['kind'];
export type LocalFrequencyMetric = Extract<Metric, { kind: 'local-frequency' }>;
/** Metrics released centrally (everything but local-DP metrics). */
export type CentralMetric = Exclude<Metric, { kind: 'local-frequency' }>;
export const isLocalMetric = (m: Metric): m is LocalFrequencyMetric => m.kind === 'local-frequency';
export const isCentralMetric = (m: Metric): m is CentralMetric => m.kind !== 'local-frequency';

export const BudgetSchema = z.object({
  epsilon: positive,
  delta: probability,
  accountant: z.enum(['basic', 'advanced', 'zcdp', 'rdp', 'pld']).default('pld'),
}).strict();

export const AnalysisConfigSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  name: z.string().min(1),
  description: z.string().optional(),
  dataset: DatasetSchema,
  privacyUnit: PrivacyUnitSchema,
  dimensions: z.array(DimensionSchema).default([]),
  budget: BudgetSchema,
  metrics: z.array(MetricSchema).min(1),
}).strict().superRefine((cfg, ctx) => {
  const dims = new Set<string>();
  cfg.dimensions.forEach((d, i) => {
    if (dims.has(d.name)) ctx.addIssue({ code: 'custom', path: ['dimensions', i, 'name'], message: `duplicate dimension name ${JSON.stringify(d.name)}` });
    dims.add(d.name);
  });
  const ids = new Map<string, Metric>();
  cfg.metrics.forEach((m, i) => {
    if (ids.has(m.id)) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'id'], message: `duplicate metric id ${JSON.stringify(m.id)}` });
    ids.set(m.id, m);
    m.by.forEach((b, j) => {
      if (!dims.has(b)) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'by', j], message: `unknown dimension ${JSON.stringify(b)} (known: ${[...dims].join(', ') || 'none'})` });
    });
    if (m.kind === 'local-frequency') {
      const seen = new Set<string>();
      m.categories.forEach((c, j) => {
        const key = `${typeof c}:${String(c)}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'categories', j], message: `duplicate category ${JSON.stringify(c)}` });
        seen.add(key);
      });
      if (m.otherCategory !== undefined && !seen.has(`${typeof m.otherCategory}:${String(m.otherCategory)}`)) {
        ctx.addIssue({ code: 'custom', path: ['metrics', i, 'otherCategory'], message: `must be one of categories (got ${JSON.stringify(m.otherCategory)})` });
      }
      return;
    }
    if ((m.kind === 'sum' || m.kind === 'mean') && !m.privacy.clamp) {
      ctx.addIssue({ code: 'custom', path: ['metrics', i, 'privacy', 'clamp'], message: `a ${m.kind} needs a clamp range` });
    }
  });
  cfg.metrics.forEach((m, i) => {
    if (m.kind !== 'ratio') return;
    for (const side of ['numerator', 'denominator'] as const) {
      const ref = ids.get(m[side]);
      if (!ref) ctx.addIssue({ code: 'custom', path: ['metrics', i, side], message: `unknown metric ${JSON.stringify(m[side])}` });
      else if (ref.kind === 'ratio' || ref.kind === 'local-frequency') ctx.addIssue({ code: 'custom', path: ['metrics', i, side], message: ref.kind === 'ratio' ? 'a ratio cannot refer to another ratio' : 'a ratio cannot refer to a local-frequency metric' });
      else if (ref.by.join('\u0000') !== m.by.join('\u0000')) ctx.addIssue({ code: 'custom', path: ['metrics', i, side], message: `metric ${JSON.stringify(m[side])} groups by [${ref.by.join(', ')}], not [${m.by.join(', ')}]` });
    }
  });
  const share = cfg.metrics.reduce((s, m) => s + (m.kind === 'ratio' || m.kind === 'local-frequency' ? 0 : m.privacy.budgetShare), 0);
  if (share > 1 + 1e-9) ctx.addIssue({ code: 'custom', path: ['metrics'], message: `budget shares add up to ${share.toFixed(4)}, more than the whole budget (1)` });
});

export type AnalysisConfig = z.infer<typeof AnalysisConfigSchema>;
export type AnalysisConfigInput = z.input<typeof AnalysisConfigSchema>;
