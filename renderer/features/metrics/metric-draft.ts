// The Metrics screen's editable draft: text fields as the user typed them, turned into a schema
// Metric (values parsed by column type, defaults applied) or into "path: message" problems. The
// draft holds every kind's fields at once, so switching kind back and forth loses nothing.

import type { AnalysisConfig, ColumnType, Dimension, Filter, Metric, MetricKind, MetricPrivacy } from '../../../shared/core/config/schema';
import { formatPath, MetricSchema } from '../../../shared/core/config/index';
import { rebalanceShares } from '../../model/shares';

/** Column name → type, as the dataset summary reports it ('other': not usable by the analysis). */
export type ColumnTypes = Readonly<Record<string, ColumnType | 'other'>>;
export type FilterOp = Filter['op'];
type Scalar = string | number | boolean;

export const FILTER_OPS: readonly FilterOp[] = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not-in'];

/** Every kind with a one-line plain-language description, in the order the editor offers them. */
export const METRIC_KINDS: readonly { readonly kind: MetricKind; readonly description: string }[] = [
  { kind: 'count', description: 'number of rows (events, page views)' },
  { kind: 'count-distinct', description: 'number of distinct units (active users)' },
  { kind: 'sum', description: 'total of a numeric column, each value clamped (revenue)' },
  { kind: 'mean', description: 'average of a numeric column (items per purchase)' },
  { kind: 'ratio', description: 'one metric divided by another over the same cohorts (revenue per user)' },
  { kind: 'conversion', description: 'share of units that did “to” among those that did “from” (cart → purchase)' },
  { kind: 'funnel', description: 'distinct units reaching each step in order (view → cart → checkout)' },
  { kind: 'local-frequency', description: 'share of units per category, randomized on each device (local DP)' },
];

export interface FilterDraft {
  readonly column: string;
  readonly op: FilterOp;
  /** As typed; a comma-separated list for in / not-in. */
  readonly value: string;
}

export interface MetricDraft {
  readonly id: string;
  readonly label: string;
  readonly kind: MetricKind;
  readonly by: readonly string[];
  readonly filters: readonly FilterDraft[];
  /** sum, mean, local-frequency. */
  readonly column: string;
  readonly clampLow: string;
  readonly clampHigh: string;
  /** ratio. */
  readonly numerator: string;
  readonly denominator: string;
  /** conversion. */
  readonly from: readonly FilterDraft[];
  readonly to: readonly FilterDraft[];
  /** funnel: each step is a list of filters a row must match. */
  readonly steps: readonly (readonly FilterDraft[])[];
  /** local-frequency: comma-separated categories, the optional catch-all, the local ε. */
  readonly categories: string;
  readonly otherCategory: string;
  readonly localEpsilon: string;
  /** Central metrics' share of the total budget (ratios take theirs from their parts). */
  readonly budgetShare: string;
  /** The edited metric's central privacy parameters, kept as they were; null for a new metric. */
  readonly privacy: MetricPrivacy | null;
}

export type DraftResult = { readonly ok: true; readonly metric: Metric } | { readonly ok: false; readonly errors: readonly string[] };

/** Privacy parameters of a new central metric (the Privacy screen tunes them). */
export const DEFAULT_PRIVACY: MetricPrivacy = {
  budgetShare: 0.1,
  mechanism: 'laplace',
  maxPartitionsContributed: 1,
  maxContributionsPerPartition: 1,
  preThreshold: 1,
  selection: 'laplace',
  selectionShare: 0.5,
};

const isNumericType = (t: ColumnType | 'other' | undefined): boolean => t === 'integer' || t === 'float';
const needsClamp = (k: MetricKind): boolean => k === 'sum' || k === 'mean';
const isCentralKind = (k: MetricKind): boolean => k !== 'local-frequency';

export function valueToText(v: Filter['value'] | Dimension['publicValues']): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.map(String).join(', ') : String(v);
}

export function filterToDraft(f: Filter): FilterDraft {
  return { column: f.column, op: f.op, value: valueToText(f.value) };
}

/**
 * One typed value for a column: a number for integer/float columns, true/false for boolean
 * columns, the trimmed text otherwise (strings, timestamps, unknown columns).
 */
export function parseScalar(raw: string, type: ColumnType | 'other' | undefined): { ok: true; value: Scalar } | { ok: false; message: string } {
  const s = raw.trim();
  if (s === '') return { ok: false, message: 'enter a value' };
  if (isNumericType(type)) {
    const x = Number(s);
    return Number.isFinite(x) ? { ok: true, value: x } : { ok: false, message: `${JSON.stringify(s)} is not a number (the column is ${type})` };
  }
  if (type === 'boolean') {
    const l = s.toLowerCase();
    if (l === 'true' || l === 'false') return { ok: true, value: l === 'true' };
    return { ok: false, message: `${JSON.stringify(s)} is not true or false (the column is boolean)` };
  }
  return { ok: true, value: s };
}

/** A comma-separated list of typed values ("ios, android"); empty items are ignored. */
export function parseValueList(raw: string, type: ColumnType | 'other' | undefined): { ok: true; values: Scalar[] } | { ok: false; message: string } {
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, message: 'enter one or more values, separated by commas' };
  const values: Scalar[] = [];
  for (const p of parts) {
    const r = parseScalar(p, type);
    if (!r.ok) return r;
    values.push(r.value);
  }
  return { ok: true, values };
}

/** Parses filter rows; problems are pushed as "path[i].field: message". */
export function parseFilters(rows: readonly FilterDraft[], types: ColumnTypes, path: string, errors: string[]): Filter[] {
  const out: Filter[] = [];
  rows.forEach((r, i) => {
    const at = `${path}[${i}]`;
    if (r.column === '') {
      errors.push(`${at}.column: choose a column`);
      return;
    }
    const type = types[r.column];
    if (r.op === 'in' || r.op === 'not-in') {
      const v = parseValueList(r.value, type);
      if (v.ok) out.push({ column: r.column, op: r.op, value: v.values });
      else errors.push(`${at}.value: ${v.message}`);
    } else {
      const v = parseScalar(r.value, type);
      if (v.ok) out.push({ column: r.column, op: r.op, value: v.value });
      else errors.push(`${at}.value: ${v.message}`);
    }
  });
  return out;
}

function parseNumber(raw: string, path: string, errors: string[]): number | undefined {
  const s = raw.trim();
  const x = Number(s);
  if (s === '' || !Number.isFinite(x)) {
    errors.push(`${path}: ${s === '' ? 'enter a number' : `${JSON.stringify(s)} is not a number`}`);
    return undefined;
  }
  return x;
}

/** Turns a draft into a schema-valid Metric (defaults applied), or lists what is wrong with it. */
export function draftToMetric(d: MetricDraft, types: ColumnTypes): DraftResult {
  const errors: string[] = [];
  const base: Record<string, unknown> = { id: d.id.trim(), kind: d.kind };
  if (d.label.trim() !== '') base.label = d.label.trim();
  base.filter = parseFilters(d.filters, types, 'filter', errors);

  if (d.kind === 'local-frequency') {
    if (d.column === '') errors.push('column: choose a column');
    const type = types[d.column];
    const cats = parseValueList(d.categories, type);
    if (!cats.ok) errors.push(`categories: ${cats.message}`);
    const eps = parseNumber(d.localEpsilon, 'privacy.localEpsilon', errors);
    const raw: Record<string, unknown> = { ...base, column: d.column, categories: cats.ok ? cats.values : [], by: [], privacy: { localEpsilon: eps } };
    if (d.otherCategory.trim() !== '') {
      const other = parseScalar(d.otherCategory, type);
      if (other.ok) raw.otherCategory = other.value;
      else errors.push(`otherCategory: ${other.message}`);
    }
    return finish(raw, errors);
  }

  const kept = d.privacy ?? DEFAULT_PRIVACY;
  const { clamp: keptClamp, ...rest } = kept;
  const privacy: Record<string, unknown> = { ...rest };
  if (d.kind !== 'ratio') privacy.budgetShare = parseNumber(d.budgetShare, 'privacy.budgetShare', errors);
  if (needsClamp(d.kind)) {
    const low = parseNumber(d.clampLow, 'privacy.clamp.low', errors);
    const high = d.clampHigh.trim() === ''
      ? (errors.push('privacy.clamp.high: enter the largest value one row may contribute (larger values are clipped)'), undefined)
      : parseNumber(d.clampHigh, 'privacy.clamp.high', errors);
    privacy.clamp = { low, high, mode: keptClamp?.mode ?? 'per-value' };
  }
  const raw: Record<string, unknown> = { ...base, by: [...d.by], privacy };
  switch (d.kind) {
    case 'sum':
    case 'mean':
      if (d.column === '') errors.push('column: choose a numeric column');
      else if (types[d.column] !== undefined && !isNumericType(types[d.column])) errors.push(`column: ${d.column} is not numeric (${types[d.column]})`);
      raw.column = d.column;
      break;
    case 'ratio':
      if (d.numerator === '') errors.push('numerator: choose a metric');
      if (d.denominator === '') errors.push('denominator: choose a metric');
      raw.numerator = d.numerator;
      raw.denominator = d.denominator;
      break;
    case 'conversion':
      raw.from = parseFilters(d.from, types, 'from', errors);
      raw.to = parseFilters(d.to, types, 'to', errors);
      if (d.from.length === 0) errors.push('from: add at least one condition');
      if (d.to.length === 0) errors.push('to: add at least one condition');
      break;
    case 'funnel':
      raw.steps = d.steps.map((s, i) => {
        if (s.length === 0) errors.push(`steps[${i}]: add at least one condition`);
        return parseFilters(s, types, `steps[${i}]`, errors);
      });
      if (d.steps.length < 2) errors.push('steps: a funnel needs at least two steps');
      break;
    default:
      break;
  }
  return finish(raw, errors);
}

function finish(raw: Record<string, unknown>, errors: string[]): DraftResult {
  // The draft's own problems first (they name what to type); the schema's only when there are none,
  // since a missing value would otherwise be reported twice.
  if (errors.length > 0) return { ok: false, errors };
  const r = MetricSchema.safeParse(raw);
  if (r.success) return { ok: true, metric: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) };
}

const blankFilter = (column: string): FilterDraft => ({ column, op: '=', value: '' });

/** The draft of an existing metric. */
export function metricToDraft(m: Metric): MetricDraft {
  const empty = blankDraft(m.id, m.kind);
  const common = { ...empty, label: m.label ?? '', by: [...m.by], filters: m.filter.map(filterToDraft) };
  if (m.kind === 'local-frequency') {
    return {
      ...common,
      column: m.column,
      categories: valueToText(m.categories),
      otherCategory: m.otherCategory === undefined ? '' : String(m.otherCategory),
      localEpsilon: String(m.privacy.localEpsilon),
    };
  }
  const d: MetricDraft = {
    ...common,
    budgetShare: String(m.privacy.budgetShare),
    privacy: m.privacy,
    clampLow: m.privacy.clamp ? String(m.privacy.clamp.low) : empty.clampLow,
    clampHigh: m.privacy.clamp ? String(m.privacy.clamp.high) : empty.clampHigh,
  };
  switch (m.kind) {
    case 'sum':
    case 'mean':
      return { ...d, column: m.column };
    case 'ratio':
      return { ...d, numerator: m.numerator, denominator: m.denominator };
    case 'conversion':
      return { ...d, from: m.from.map(filterToDraft), to: m.to.map(filterToDraft) };
    case 'funnel':
      return { ...d, steps: m.steps.map((s) => s.map(filterToDraft)) };
    default:
      return d;
  }
}

function blankDraft(id: string, kind: MetricKind, filterColumn = ''): MetricDraft {
  return {
    id,
    label: '',
    kind,
    by: [],
    filters: [],
    column: '',
    clampLow: '0',
    clampHigh: '',
    numerator: '',
    denominator: '',
    from: [blankFilter(filterColumn)],
    to: [blankFilter(filterColumn)],
    steps: [[blankFilter(filterColumn)], [blankFilter(filterColumn)]],
    categories: '',
    otherCategory: '',
    localEpsilon: '1',
    budgetShare: String(DEFAULT_PRIVACY.budgetShare),
    privacy: null,
  };
}

/** Share of the budget the central metrics (ratios aside, they spend nothing of their own) already use. */
export function sharesInUse(config: AnalysisConfig): number {
  return config.metrics.reduce((s, m) => s + (m.kind === 'ratio' || m.kind === 'local-frequency' ? 0 : m.privacy.budgetShare), 0);
}

/**
 * A new metric's budget share: 0.1, or what is left of the budget when less than that is left
 * (rounded down to 0.001), so that saving the new metric is not refused for overspending.
 */
export function defaultBudgetShare(config: AnalysisConfig): number {
  const left = 1 - sharesInUse(config);
  if (left >= DEFAULT_PRIVACY.budgetShare - 1e-9) return DEFAULT_PRIVACY.budgetShare;
  const floored = Math.floor(left * 1000 + 1e-9) / 1000;
  return floored >= 0.001 ? floored : DEFAULT_PRIVACY.budgetShare;
}

/** The config with `metric` in place of `previousId` (or of its own id), else appended: what upsertMetric saves. */
export function upsertInto(config: AnalysisConfig, metric: Metric, previousId?: string): AnalysisConfig {
  const at = config.metrics.findIndex((m) => m.id === (previousId ?? metric.id));
  return { ...config, metrics: at >= 0 ? config.metrics.map((m, i) => (i === at ? metric : m)) : [...config.metrics, metric] };
}

/**
 * The config with `metric` saved and, when the shares would add up to more than the whole
 * budget, the other unlocked metrics' shares shrunk in proportion to make room for it (the
 * Privacy screen's lock/hold re-balancing). Null when nothing needs to move or the metric spends
 * no share of its own (ratios, local DP).
 */
export function makeRoomFor(config: AnalysisConfig, metric: Metric, previousId: string | undefined, locked: Readonly<Record<string, boolean>>): AnalysisConfig | null {
  if (metric.kind === 'ratio' || metric.kind === 'local-frequency') return null;
  const next = upsertInto(config, metric, previousId);
  if (sharesInUse(next) <= 1 + 1e-9) return null;
  const shares: Record<string, number> = {};
  for (const m of next.metrics) if (m.kind !== 'ratio' && m.kind !== 'local-frequency') shares[m.id] = m.privacy.budgetShare;
  const held = new Set(Object.keys(locked).filter((k) => locked[k] && k !== metric.id));
  const r = rebalanceShares(shares, held, metric.id, metric.privacy.budgetShare);
  return {
    ...next,
    metrics: next.metrics.map((m) => (m.kind !== 'ratio' && m.kind !== 'local-frequency' && r.shares[m.id] !== undefined ? { ...m, privacy: { ...m.privacy, budgetShare: r.shares[m.id]! } } : m)),
  };
}

/** The first id `metric_<n>` not used by the config. */
export function freshMetricId(config: AnalysisConfig, stem = 'metric'): string {
  const used = new Set(config.metrics.map((m) => m.id));
  for (let n = 1; ; n++) if (!used.has(`${stem}_${n}`)) return `${stem}_${n}`;
}

/**
 * The column a new sum or mean starts on: the first float column, else the first integer column
 * that is not an identifier (event_id is numeric but never summed); '' when there is none.
 */
export function preferredValueColumn(types: ColumnTypes): string {
  const names = Object.keys(types);
  const isId = (c: string): boolean => /(^|[_\s.-])id$/i.test(c) || /[a-z]Id$/.test(c);
  return names.find((c) => types[c] === 'float') ?? names.find((c) => types[c] === 'integer' && !isId(c)) ?? '';
}

/** A new count metric's draft, with a fresh id, the default privacy and the first string column preset in its conditions. */
export function newMetricDraft(config: AnalysisConfig, types: ColumnTypes): MetricDraft {
  const firstString = Object.keys(types).find((c) => types[c] === 'string' && c !== config.privacyUnit.column) ?? '';
  return { ...blankDraft(freshMetricId(config), 'count', firstString), column: preferredValueColumn(types), budgetShare: String(defaultBudgetShare(config)) };
}

/**
 * The draft with another kind: every field is kept (switching back restores them); only a column
 * that cannot serve the new kind is replaced: by a value column for sum and mean, by none (the
 * user chooses) for a local-frequency metric on a float column.
 */
export function withKind(d: MetricDraft, kind: MetricKind, types: ColumnTypes): MetricDraft {
  const next: MetricDraft = { ...d, kind };
  if (needsClamp(kind) && !isNumericType(types[d.column])) return { ...next, column: preferredValueColumn(types) };
  // Categories are few distinct values: never a float column (the user picks one; nothing is guessed).
  if (kind === 'local-frequency' && types[d.column] === 'float') return { ...next, column: '' };
  return next;
}

/** True when a central metric may be grouped by the draft's dimensions (local DP never is). */
export const canGroup = (kind: MetricKind): boolean => isCentralKind(kind);

/** Metrics of the config that group by a dimension (a dimension in use cannot be removed). */
export function metricsUsingDimension(config: AnalysisConfig, name: string): string[] {
  return config.metrics.filter((m) => m.by.includes(name)).map((m) => m.id);
}

/** Ratios of the config that refer to a metric (it cannot be deleted while they do). */
export function ratiosReferring(config: AnalysisConfig, id: string): string[] {
  return config.metrics.filter((m) => m.kind === 'ratio' && (m.numerator === id || m.denominator === id)).map((m) => m.id);
}

export interface DimensionDraft {
  readonly name: string;
  readonly column: string;
  /** '' for none; day or week for a timestamp column. */
  readonly bucket: '' | 'day' | 'week';
  /** Comma-separated public cohort keys; '' for none (cohorts are then selected privately). */
  readonly publicValues: string;
}

/**
 * A dimension from its draft. Public values are typed by the column (bucketed timestamps stay
 * text, e.g. 2024-09-02); a timestamp column without a bucket gets 'day', since one cohort per
 * distinct instant is never what is meant.
 */
export function draftToDimension(d: DimensionDraft, types: ColumnTypes): { ok: true; dimension: Dimension } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const name = d.name.trim();
  if (name === '') errors.push('name: enter a name');
  if (d.column === '') errors.push('column: choose a column');
  const type = types[d.column];
  const bucket = d.bucket !== '' ? d.bucket : type === 'timestamp' ? 'day' : undefined;
  const dim: { name: string; column: string; bucket?: 'day' | 'week'; publicValues?: Scalar[] } = { name, column: d.column };
  if (bucket !== undefined) {
    if (type !== undefined && type !== 'timestamp') errors.push(`bucket: ${d.column} is not a timestamp column`);
    dim.bucket = bucket;
  }
  if (d.publicValues.trim() !== '') {
    const v = parseValueList(d.publicValues, bucket !== undefined ? 'string' : type);
    if (v.ok) dim.publicValues = v.values;
    else errors.push(`publicValues: ${v.message}`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, dimension: dim };
}

/** A dimension name from a column name: letters, digits, _ . - and not starting with a digit. */
export function dimensionNameFor(column: string, bucket: '' | 'day' | 'week'): string {
  const n = column.replace(/[^A-Za-z0-9_.-]/g, '_');
  const safe = /^[A-Za-z_]/.test(n) ? n : `_${n}`;
  return bucket ? `${safe}_${bucket}` : safe;
}

const plural = (unitKind: 'user' | 'device'): string => (unitKind === 'user' ? 'users' : 'devices');

function describeFilters(fs: readonly Filter[]): string {
  return fs.map((f) => `${f.column} ${f.op} ${Array.isArray(f.value) ? `(${f.value.map(String).join(', ')})` : String(f.value)}`).join(' and ');
}

/** One plain-language sentence of what a metric measures. */
export function describeMetric(m: Metric, config: AnalysisConfig): string {
  const unit = `${plural(config.privacyUnit.kind)} (${config.privacyUnit.column})`;
  let what: string;
  switch (m.kind) {
    case 'count': what = 'Counts the rows'; break;
    case 'count-distinct': what = `Counts the distinct ${unit} with at least one row`; break;
    case 'sum': what = `Adds up ${m.column}, each value clamped to [${m.privacy.clamp?.low ?? '?'}, ${m.privacy.clamp?.high ?? '?'}]`; break;
    case 'mean': what = `Averages ${m.column}, each value clamped to [${m.privacy.clamp?.low ?? '?'}, ${m.privacy.clamp?.high ?? '?'}]`; break;
    case 'ratio': what = `Divides ${m.numerator} by ${m.denominator}`; break;
    case 'conversion': what = `Of the ${unit} with a row where ${describeFilters(m.from)}, the share that also have one where ${describeFilters(m.to)}`; break;
    case 'funnel': what = `Counts the ${unit} reaching each of ${m.steps.length} steps in turn (${m.steps.map(describeFilters).join(' → ')})`; break;
    case 'local-frequency': what = `Estimates the share of ${unit} whose most frequent ${m.column} is each of ${m.categories.map(String).join(', ')}; each unit's answer is randomized on its device (local ε ${m.privacy.localEpsilon})`; break;
  }
  const by = m.by.length > 0 ? `, per ${m.by.join(' × ')}` : ', overall';
  const where = m.filter.length > 0 ? `, counting only rows where ${describeFilters(m.filter)}` : '';
  return `${what}${m.kind === 'local-frequency' ? '' : by}${where}.`;
}
