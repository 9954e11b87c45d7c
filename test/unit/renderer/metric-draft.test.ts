import { describe, expect, it } from 'vitest';
import { parseConfig, validateConfig } from '../../../shared/core/config/index';
import type { AnalysisConfig, Metric } from '../../../shared/core/config/schema';
import type { ColumnTypes, MetricDraft } from '../../../renderer/features/metrics/metric-draft';
import {
  DEFAULT_PRIVACY, defaultBudgetShare, makeRoomFor, sharesInUse, upsertInto, describeMetric, dimensionNameFor, draftToDimension, draftToMetric, freshMetricId, metricsUsingDimension,
  metricToDraft, METRIC_KINDS, newMetricDraft, preferredValueColumn, parseScalar, parseValueList, ratiosReferring, withKind,
} from '../../../renderer/features/metrics/metric-draft';

const TYPES: ColumnTypes = {
  user_id: 'string',
  ts: 'timestamp',
  event_type: 'string',
  platform: 'string',
  revenue: 'float',
  item_count: 'integer',
  is_test: 'boolean',
  blob: 'other',
};

function config(metrics: unknown[] = [
  { id: 'users', kind: 'count-distinct', by: ['platform'], privacy: { budgetShare: 0.3, maxPartitionsContributed: 1 } },
  { id: 'revenue', kind: 'sum', column: 'revenue', by: ['platform'], privacy: { budgetShare: 0.3, maxPartitionsContributed: 1, clamp: { low: 0, high: 100 } } },
  { id: 'rev_per_user', kind: 'ratio', numerator: 'revenue', denominator: 'users', by: ['platform'], privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } },
]): AnalysisConfig {
  return parseConfig({
    schemaVersion: 1,
    name: 'test',
    dataset: { path: 'x.csv' },
    privacyUnit: { column: 'user_id', kind: 'user' },
    dimensions: [{ name: 'platform', column: 'platform' }, { name: 'day', column: 'ts', bucket: 'day' }],
    budget: { epsilon: 1, delta: 1e-6 },
    metrics,
  });
}

const draft = (patch: Partial<MetricDraft>): MetricDraft => ({ ...newMetricDraft(config(), TYPES), ...patch });

function ok(d: MetricDraft): Metric {
  const r = draftToMetric(d, TYPES);
  if (!r.ok) throw new Error(`expected a metric, got: ${r.errors.join('; ')}`);
  return r.metric;
}

function errors(d: MetricDraft): readonly string[] {
  const r = draftToMetric(d, TYPES);
  if (r.ok) throw new Error('expected the draft to be refused');
  return r.errors;
}

describe('parseScalar and parseValueList', () => {
  it('parses numbers for integer and float columns', () => {
    expect(parseScalar(' 12.5 ', 'float')).toEqual({ ok: true, value: 12.5 });
    expect(parseScalar('3', 'integer')).toEqual({ ok: true, value: 3 });
  });

  it('refuses text that is not a number in a numeric column, naming it', () => {
    const r = parseScalar('abc', 'float');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('"abc" is not a number');
  });

  it('keeps text as text for string, timestamp and unknown columns', () => {
    expect(parseScalar('42', 'string')).toEqual({ ok: true, value: '42' });
    expect(parseScalar('2024-09-02', 'timestamp')).toEqual({ ok: true, value: '2024-09-02' });
    expect(parseScalar(' ios ', undefined)).toEqual({ ok: true, value: 'ios' });
  });

  it('parses true and false for boolean columns only', () => {
    expect(parseScalar('TRUE', 'boolean')).toEqual({ ok: true, value: true });
    expect(parseScalar('yes', 'boolean').ok).toBe(false);
  });

  it('refuses an empty value', () => {
    expect(parseScalar('  ', 'string').ok).toBe(false);
  });

  it('splits comma lists, trims, drops empty items and types each item', () => {
    expect(parseValueList('ios, android,, web ,', 'string')).toEqual({ ok: true, values: ['ios', 'android', 'web'] });
    expect(parseValueList('1, 2.5', 'float')).toEqual({ ok: true, values: [1, 2.5] });
    expect(parseValueList(' , ', 'string').ok).toBe(false);
    expect(parseValueList('1, x', 'integer').ok).toBe(false);
  });
});

describe('draftToMetric: filters', () => {
  it('parses numbers for numeric columns and keeps strings for string columns', () => {
    const m = ok(draft({ filters: [{ column: 'revenue', op: '>', value: '10' }, { column: 'event_type', op: '=', value: 'purchase' }] }));
    expect(m.filter).toEqual([{ column: 'revenue', op: '>', value: 10 }, { column: 'event_type', op: '=', value: 'purchase' }]);
  });

  it('turns in / not-in values into typed lists', () => {
    const m = ok(draft({ filters: [{ column: 'platform', op: 'in', value: 'ios, android' }, { column: 'item_count', op: 'not-in', value: '0, 1' }] }));
    expect(m.filter).toEqual([{ column: 'platform', op: 'in', value: ['ios', 'android'] }, { column: 'item_count', op: 'not-in', value: [0, 1] }]);
  });

  it('keeps a comma inside a single = value as text', () => {
    expect(ok(draft({ filters: [{ column: 'event_type', op: '=', value: 'a,b' }] })).filter[0]!.value).toBe('a,b');
  });

  it('names the bad filter value and its place', () => {
    expect(errors(draft({ filters: [{ column: 'event_type', op: '=', value: 'x' }, { column: 'revenue', op: '<', value: 'lots' }] }))).toEqual([
      'filter[1].value: "lots" is not a number (the column is float)',
    ]);
    expect(errors(draft({ filters: [{ column: '', op: '=', value: 'x' }] }))).toEqual(['filter[0].column: choose a column']);
  });
});

describe('draftToMetric: kinds', () => {
  it('builds a new count with the default privacy', () => {
    const m = ok(draft({ id: 'events', label: ' Events ' }));
    expect(m).toMatchObject({ id: 'events', label: 'Events', kind: 'count', by: [], filter: [] });
    expect(m.kind !== 'local-frequency' && m.privacy).toEqual({ ...DEFAULT_PRIVACY });
  });

  it('leaves an empty label out', () => {
    expect('label' in ok(draft({ label: '  ' }))).toBe(false);
  });

  it('gives a sum its column and clamp, and asks for the clamp’s upper end', () => {
    const m = ok(draft({ kind: 'sum', column: 'revenue', clampLow: '0', clampHigh: '250' }));
    expect(m.kind === 'sum' && [m.column, m.privacy.clamp]).toEqual(['revenue', { low: 0, high: 250, mode: 'per-value' }]);
    expect(errors(draft({ kind: 'mean', column: 'revenue', clampHigh: '' }))[0]).toMatch(/^privacy\.clamp\.high: /);
  });

  it('refuses a sum of a non-numeric column and a clamp with low above high', () => {
    expect(errors(draft({ kind: 'sum', column: 'platform', clampHigh: '1' }))).toEqual(['column: platform is not numeric (string)']);
    expect(errors(draft({ kind: 'sum', column: 'revenue', clampLow: '5', clampHigh: '1' })).join('\n')).toContain('low must be <= high');
  });

  it('drops the clamp when a sum becomes a count', () => {
    const d = metricToDraft(config().metrics[1]!);
    const m = ok(withKind(d, 'count', TYPES));
    expect(m.kind === 'count' && m.privacy.clamp).toBeUndefined();
  });

  it('builds a ratio and asks for both parts', () => {
    const m = ok(draft({ kind: 'ratio', numerator: 'revenue', denominator: 'users', by: ['platform'] }));
    expect(m).toMatchObject({ kind: 'ratio', numerator: 'revenue', denominator: 'users', by: ['platform'] });
    expect(errors(draft({ kind: 'ratio' }))).toEqual(['numerator: choose a metric', 'denominator: choose a metric']);
  });

  it('builds a conversion from its from and to conditions', () => {
    const m = ok(draft({ kind: 'conversion', from: [{ column: 'event_type', op: '=', value: 'cart' }], to: [{ column: 'event_type', op: 'in', value: 'purchase, refund' }] }));
    expect(m.kind === 'conversion' && [m.from, m.to]).toEqual([[{ column: 'event_type', op: '=', value: 'cart' }], [{ column: 'event_type', op: 'in', value: ['purchase', 'refund'] }]]);
    expect(errors(draft({ kind: 'conversion', from: [], to: [{ column: 'event_type', op: '=', value: 'x' }] }))).toEqual(['from: add at least one condition']);
  });

  it('builds a funnel of steps and needs two of them', () => {
    const step = (v: string): { column: string; op: '='; value: string }[] => [{ column: 'event_type', op: '=', value: v }];
    const m = ok(draft({ kind: 'funnel', steps: [step('view'), step('cart'), step('buy')] }));
    expect(m.kind === 'funnel' && m.steps.map((s) => s[0]!.value)).toEqual(['view', 'cart', 'buy']);
    expect(errors(draft({ kind: 'funnel', steps: [step('view')] }))).toEqual(['steps: a funnel needs at least two steps']);
    expect(errors(draft({ kind: 'funnel', steps: [step('view'), [{ column: 'event_type', op: '=', value: '' }]] }))).toEqual(['steps[1][0].value: enter a value']);
  });

  it('builds a local-frequency metric: typed categories, local ε, never grouped', () => {
    const m = ok(draft({ kind: 'local-frequency', column: 'platform', categories: 'ios, android, web', otherCategory: 'web', localEpsilon: '2', by: ['platform'] }));
    expect(m).toMatchObject({ kind: 'local-frequency', column: 'platform', categories: ['ios', 'android', 'web'], otherCategory: 'web', by: [], privacy: { localEpsilon: 2 } });
    expect(errors(draft({ kind: 'local-frequency', column: 'platform', categories: 'ios', localEpsilon: '2' })).join('\n')).toMatch(/^categories: /);
  });

  it('reports schema problems with their path', () => {
    expect(errors(draft({ id: '1bad' }))[0]).toMatch(/^id: /);
    expect(errors(draft({ budgetShare: '0' }))[0]).toMatch(/^privacy\.budgetShare: /);
    expect(errors(draft({ budgetShare: 'half' }))).toEqual(['privacy.budgetShare: "half" is not a number']);
  });
});

describe('metricToDraft', () => {
  it('round-trips every metric of a config unchanged', () => {
    const c = config([
      ...config().metrics,
      { id: 'conv', kind: 'conversion', from: [{ column: 'event_type', value: 'cart' }], to: [{ column: 'event_type', op: 'in', value: ['buy', 'refund'] }], privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } },
      { id: 'funnel', kind: 'funnel', steps: [[{ column: 'event_type', value: 'view' }], [{ column: 'item_count', op: '>=', value: 2 }]], privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } },
      { id: 'local', kind: 'local-frequency', column: 'platform', categories: ['ios', 'web'], otherCategory: 'web', privacy: { localEpsilon: 1.5 } },
      { id: 'items', label: 'Items', kind: 'mean', column: 'item_count', filter: [{ column: 'is_test', op: '!=', value: true }], privacy: { budgetShare: 0.1, maxPartitionsContributed: 2, clamp: { low: 1, high: 10, mode: 'per-partition' }, mechanism: 'gaussian' } },
    ]);
    for (const m of c.metrics) expect(ok(metricToDraft(m))).toEqual(m);
  });

  it('keeps the other kinds’ fields when the kind changes back and forth', () => {
    const d = metricToDraft(config().metrics[1]!);
    const back = withKind(withKind(d, 'funnel', TYPES), 'sum', TYPES);
    expect(ok(back)).toEqual(config().metrics[1]);
  });

  it('starts a sum on a float column, else on an integer column that is not an identifier', () => {
    expect(preferredValueColumn({ event_id: 'integer', item_count: 'integer', revenue: 'float' })).toBe('revenue');
    expect(preferredValueColumn({ event_id: 'integer', userId: 'integer', item_count: 'integer' })).toBe('item_count');
    expect(preferredValueColumn({ id: 'integer', ORDER_ID: 'integer', name: 'string' })).toBe('');
  });

  it('picks a numeric column when a metric becomes a sum over a text column', () => {
    const d = draft({ column: 'platform' });
    expect(withKind(d, 'mean', TYPES).column).toBe('revenue');
    expect(withKind(draft({ column: 'revenue' }), 'local-frequency', TYPES).column).toBe('');
    expect(withKind(draft({ column: 'platform' }), 'local-frequency', TYPES).column).toBe('platform');
  });
});

describe('new metrics', () => {
  it('gets the first free id and a 0.1 budget share when enough is left', () => {
    const c = config();
    expect(freshMetricId(c)).toBe('metric_1');
    expect(freshMetricId(config([...c.metrics, { id: 'metric_1', kind: 'count', privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } }]))).toBe('metric_2');
    expect(defaultBudgetShare(c)).toBe(0.1);
    const d = newMetricDraft(c, TYPES);
    expect([d.id, d.kind, d.budgetShare, d.privacy]).toEqual(['metric_1', 'count', '0.1', null]);
  });

  it('takes what is left of the budget when less than 0.1 is, so the save is not refused', () => {
    const c = config([
      { id: 'a', kind: 'count', privacy: { budgetShare: 0.95, maxPartitionsContributed: 1 } },
      { id: 'r', kind: 'ratio', numerator: 'a', denominator: 'a', privacy: { budgetShare: 0.5, maxPartitionsContributed: 1 } },
    ]);
    expect(defaultBudgetShare(c)).toBe(0.05);
    const m = ok({ ...newMetricDraft(c, TYPES), id: 'b' });
    expect(validateConfig({ ...c, metrics: [...c.metrics, m] }).ok).toBe(true);
  });

  it('keeps 0.1 when nothing is left (saving then explains the overspend)', () => {
    expect(defaultBudgetShare(config([{ id: 'a', kind: 'count', privacy: { budgetShare: 1, maxPartitionsContributed: 1 } }]))).toBe(0.1);
  });

  it('offers every kind with a description', () => {
    expect(METRIC_KINDS.map((k) => k.kind)).toEqual(['count', 'count-distinct', 'sum', 'mean', 'ratio', 'conversion', 'funnel', 'local-frequency']);
    expect(METRIC_KINDS.find((k) => k.kind === 'count-distinct')!.description).toBe('number of distinct units (active users)');
  });
});

describe('makeRoomFor', () => {
  const full = (): AnalysisConfig => config([
    { id: 'a', kind: 'count', privacy: { budgetShare: 0.6, maxPartitionsContributed: 1 } },
    { id: 'b', kind: 'count', privacy: { budgetShare: 0.4, maxPartitionsContributed: 1 } },
  ]);
  const share = (c: AnalysisConfig, id: string): number => {
    const m = c.metrics.find((x) => x.id === id)!;
    return m.kind === 'local-frequency' ? Number.NaN : m.privacy.budgetShare;
  };

  it('saves a new metric into a fully allocated budget by shrinking the others in proportion', () => {
    const m = ok({ ...newMetricDraft(full(), TYPES), id: 'c' });
    const next = makeRoomFor(full(), m, undefined, {})!;
    expect(validateConfig(next).ok).toBe(true);
    expect(share(next, 'c')).toBeCloseTo(0.1, 12);
    expect(sharesInUse(next)).toBeCloseTo(1, 9);
    expect(share(next, 'a') / share(next, 'b')).toBeCloseTo(1.5, 2);
  });

  it('holds locked metrics’ shares', () => {
    const m = ok({ ...newMetricDraft(full(), TYPES), id: 'c' });
    const next = makeRoomFor(full(), m, undefined, { a: true })!;
    expect(share(next, 'a')).toBe(0.6);
    expect(share(next, 'b')).toBeCloseTo(0.3, 9);
  });

  it('replaces an edited metric in place instead of adding it', () => {
    const edited = ok({ ...metricToDraft(full().metrics[1]!), id: 'b2', budgetShare: '0.5' });
    const next = makeRoomFor(full(), edited, 'b', {})!;
    expect(next.metrics.map((x) => x.id)).toEqual(['a', 'b2']);
    expect(share(next, 'b2')).toBeCloseTo(0.5, 12);
    expect(sharesInUse(next)).toBeCloseTo(1, 9);
  });

  it('has nothing to do when the shares fit or the metric spends no share of its own', () => {
    expect(makeRoomFor(config(), ok(draft({ id: 'c' })), undefined, {})).toBeNull();
    expect(makeRoomFor(full(), ok(draft({ id: 'r', kind: 'ratio', numerator: 'a', denominator: 'b' })), undefined, {})).toBeNull();
  });

  it('upsertInto appends a new metric and replaces an existing one by its previous id', () => {
    const c = full();
    expect(upsertInto(c, ok(draft({ id: 'c' }))).metrics.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(upsertInto(c, ok(draft({ id: 'z' })), 'a').metrics.map((x) => x.id)).toEqual(['z', 'b']);
  });
});

describe('references', () => {
  it('finds the metrics grouping by a dimension and the ratios referring to a metric', () => {
    const c = config();
    expect(metricsUsingDimension(c, 'platform')).toEqual(['users', 'revenue', 'rev_per_user']);
    expect(metricsUsingDimension(c, 'day')).toEqual([]);
    expect(ratiosReferring(c, 'users')).toEqual(['rev_per_user']);
    expect(ratiosReferring(c, 'rev_per_user')).toEqual([]);
  });
});

describe('draftToDimension', () => {
  it('types public values by the column', () => {
    expect(draftToDimension({ name: 'items', column: 'item_count', bucket: '', publicValues: '1, 2, 3' }, TYPES)).toEqual({ ok: true, dimension: { name: 'items', column: 'item_count', publicValues: [1, 2, 3] } });
  });

  it('buckets a timestamp by day unless told week, and keeps its public values as text', () => {
    expect(draftToDimension({ name: 'd', column: 'ts', bucket: '', publicValues: '' }, TYPES)).toEqual({ ok: true, dimension: { name: 'd', column: 'ts', bucket: 'day' } });
    expect(draftToDimension({ name: 'w', column: 'ts', bucket: 'week', publicValues: '2024-09-02, 2024-09-09' }, TYPES)).toEqual({ ok: true, dimension: { name: 'w', column: 'ts', bucket: 'week', publicValues: ['2024-09-02', '2024-09-09'] } });
  });

  it('refuses a bucket on a column that is not a timestamp, and a missing name or column', () => {
    const r = draftToDimension({ name: '', column: 'platform', bucket: 'week', publicValues: '' }, TYPES);
    expect(r).toEqual({ ok: false, errors: ['name: enter a name', 'bucket: platform is not a timestamp column'] });
    expect(draftToDimension({ name: 'x', column: '', bucket: '', publicValues: '' }, TYPES)).toEqual({ ok: false, errors: ['column: choose a column'] });
  });

  it('derives a valid dimension name from any column name', () => {
    expect(dimensionNameFor('ts', 'week')).toBe('ts_week');
    expect(dimensionNameFor('2nd col', '')).toBe('_2nd_col');
  });
});

describe('describeMetric', () => {
  it('says in words what a metric counts, per which cohorts, under which filter', () => {
    const c = config();
    expect(describeMetric(c.metrics[0]!, c)).toBe('Counts the distinct users (user_id) with at least one row, per platform.');
    const sum = ok(draft({ kind: 'sum', column: 'revenue', clampHigh: '50', filters: [{ column: 'event_type', op: 'in', value: 'buy, refund' }] }));
    expect(describeMetric(sum, c)).toBe('Adds up revenue, each value clamped to [0, 50], overall, counting only rows where event_type in (buy, refund).');
  });
});
