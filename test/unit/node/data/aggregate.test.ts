import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Filter } from '../../../../shared/core/config/schema';
import type { MetricContributions } from '../../../../shared/core/data/contributions';
import { clampedSum, clampedSums, expectedBoundedSums } from '../../../../shared/core/data/clamp';
import { buildContributions, funnelStepCounts } from '../../../../shared/core/data/csr';
import { DpError } from '../../../../shared/core/errors';
import type { AggregationConfig, ContributionMetric } from '../../../../shared/node/data/aggregate';
import { computeContributions, computeTrueValues, fetchColumns } from '../../../../shared/node/data/aggregate';
import { DataError } from '../../../../shared/node/data/errors';
import { closeTo, loadOracles } from '../../../helpers/oracles';

// The hand table. Units sort u1 < u2 < u3 (ids 0, 1, 2); countries DE < FR < NULL.
//  #  user  country ts                event  revenue
const ROWS: [string | null, string | null, string, string, number | null][] = [
  ['u1', 'FR', '2024-03-04 10:00:00', 'view', 0], //  1
  ['u1', 'FR', '2024-03-04 11:00:00', 'cart', 0], //  2
  ['u1', 'FR', '2024-03-04 12:00:00', 'buy', 30], //  3
  ['u1', 'DE', '2024-03-05 09:00:00', 'view', 0], //  4
  ['u2', 'FR', '2024-03-04 08:00:00', 'view', 0], //  5
  ['u2', 'FR', '2024-03-05 08:00:00', 'buy', 10], //  6
  ['u3', 'DE', '2024-03-11 08:00:00', 'cart', 0], //  7 (next ISO week)
  ['u3', 'DE', '2024-03-11 09:00:00', 'buy', 5.5], // 8
  ['u3', null, '2024-03-11 10:00:00', 'view', 0], //  9 (no country)
  [null, 'FR', '2024-03-04 13:00:00', 'buy', 100], // 10 (no unit: belongs to nobody, dropped)
  ['u2', 'FR', '2024-03-04 09:00:00', 'cart', null], // 11 (no revenue)
];

const lit = (v: string | number | null): string => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(`CREATE TABLE events (user_id VARCHAR, country VARCHAR, ts TIMESTAMP, event_type VARCHAR, revenue DOUBLE)`);
  await conn.run(`INSERT INTO events VALUES ${ROWS.map((r) => `(${r.map(lit).join(', ')})`).join(', ')}`);
  const o = loadOracles().clipping_bias;
  await conn.run(`CREATE TABLE clip (user_id VARCHAR, value DOUBLE)`);
  await conn.run(`INSERT INTO clip VALUES ${(o.dataset_rows_user_value as [string, string][]).map(([u, v]) => `('${u}', ${Number(v)})`).join(', ')}`);
});

afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

const config: AggregationConfig = {
  privacyUnit: { column: 'user_id', kind: 'user' },
  dimensions: [
    { name: 'country', column: 'country' },
    { name: 'day', column: 'ts', bucket: 'day' },
    { name: 'week', column: 'ts', bucket: 'week' },
    { name: 'event', column: 'event_type' },
  ],
};

const privacy = { budgetShare: 0.5, mechanism: 'laplace' as const, maxPartitionsContributed: 1, maxContributionsPerPartition: 1, preThreshold: 1, selection: 'laplace' as const, selectionShare: 0.5 };

function metric(m: Partial<ContributionMetric> & Pick<ContributionMetric, 'kind'>): ContributionMetric {
  return { id: 'm', by: ['country'], filter: [], privacy, ...m } as ContributionMetric;
}

/** Each pair's row values, sorted (the order of rows within a pair is not specified). */
function pairRows(c: MetricContributions): number[][] {
  return Array.from(c.pairUnit, (_, p) => Array.from(c.rowValues.subarray(c.rowOffsets[p], c.rowOffsets[p + 1])).sort((a, b) => a - b));
}

function checkCsr(c: MetricContributions): void {
  const pairs = c.pairUnit.length;
  expect(c.pairPartition.length).toBe(pairs);
  expect(c.rowOffsets.length).toBe(pairs + 1);
  expect(c.unitPairOffsets.length).toBe(c.unitCount + 1);
  expect(c.unitPairOffsets[0]).toBe(0);
  expect(c.unitPairOffsets[c.unitCount]).toBe(pairs);
  expect(c.rowOffsets[pairs]).toBe(c.rowValues.length);
  for (let u = 0; u < c.unitCount; u++) {
    expect(c.unitPairOffsets[u + 1]!).toBeGreaterThan(c.unitPairOffsets[u]!); // every unit contributes
    for (let p = c.unitPairOffsets[u]!; p < c.unitPairOffsets[u + 1]!; p++) {
      expect(c.pairUnit[p]).toBe(u);
      if (p > c.unitPairOffsets[u]!) expect(c.pairPartition[p]!).toBeGreaterThan(c.pairPartition[p - 1]!);
      expect(c.rowOffsets[p + 1]!).toBeGreaterThan(c.rowOffsets[p]!);
    }
  }
  expect(c.partitions.keys.length).toBe(c.partitionCount);
  expect(c.trueValues.length).toBe(c.partitionCount);
}

async function both(m: ContributionMetric, table = 'events'): Promise<MetricContributions> {
  const c = await computeContributions(conn, table, config, m);
  checkCsr(c);
  const tv = await computeTrueValues(conn, table, config, m);
  expect(tv.partitions.keys).toEqual(c.partitions.keys);
  expect(Array.from(tv.units)).toEqual(Array.from(c.unitsPerPartition));
  for (let i = 0; i < tv.values.length; i++) expect(closeTo(c.trueValues[i]!, tv.values[i]!, { rel: 1e-12, abs: 1e-12 })).toBe(true);
  return c;
}

describe('computeContributions on a hand-computed table', () => {
  it('count by country: rows per unit per cohort, NULL cohort last, NULL units dropped', async () => {
    const c = await both(metric({ kind: 'count' }));
    expect(c.partitions).toEqual({ dimensions: ['country'], keys: [['DE'], ['FR'], [null]] });
    expect(Array.from(c.trueValues)).toEqual([3, 6, 1]);
    expect(c.unitCount).toBe(3);
    expect(Array.from(c.pairUnit)).toEqual([0, 0, 1, 2, 2]);
    expect(Array.from(c.pairPartition)).toEqual([0, 1, 1, 0, 2]);
    expect(Array.from(c.unitPairOffsets)).toEqual([0, 2, 3, 5]);
    expect(Array.from(c.rowOffsets)).toEqual([0, 1, 4, 7, 9, 10]);
    expect(Array.from(c.rowValues)).toEqual(new Array(10).fill(1));
    expect(Array.from(c.unitsPerPartition)).toEqual([2, 2, 1]);
    expect(Array.from(c.rowsPerPartition)).toEqual([3, 6, 1]);
    expect(c.metricId).toBe('m');
    expect(c.kind).toBe('count');
  });

  it('count-distinct: one row of 1 per pair', async () => {
    const c = await both(metric({ kind: 'count-distinct' }));
    expect(Array.from(c.trueValues)).toEqual([2, 2, 1]);
    expect(Array.from(c.rowOffsets)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(c.rowValues)).toEqual([1, 1, 1, 1, 1]);
  });

  it('sum: every non-NULL value as a row; true value = SQL SUM', async () => {
    const c = await both(metric({ kind: 'sum', column: 'revenue' } as Partial<ContributionMetric> & { kind: 'sum' }));
    expect(Array.from(c.trueValues)).toEqual([5.5, 40, 0]);
    expect(pairRows(c)).toEqual([[0], [0, 0, 30], [0, 10], [0, 5.5], [0]]);
    expect(Array.from(c.rowsPerPartition)).toEqual([3, 5, 1]);
  });

  it('mean: sum / non-NULL rows = SQL AVG', async () => {
    const c = await both(metric({ kind: 'mean', column: 'revenue' } as Partial<ContributionMetric> & { kind: 'mean' }));
    expect(c.trueValues[0]).toBeCloseTo(5.5 / 3, 14);
    expect(c.trueValues[1]).toBe(8);
    expect(c.trueValues[2]).toBe(0);
  });

  it('conversion: pairs of units that did `from` in the cohort; value 1 if they also did `to` there', async () => {
    const from: Filter[] = [{ column: 'event_type', op: '=', value: 'view' }];
    const to: Filter[] = [{ column: 'event_type', op: '=', value: 'buy' }];
    const c = await both(metric({ kind: 'conversion', from, to } as Partial<ContributionMetric> & { kind: 'conversion' }));
    // u3 bought in DE but viewed only in the NULL cohort: no DE pair, 0 in NULL.
    expect(c.partitions.keys).toEqual([['DE'], ['FR'], [null]]);
    expect(Array.from(c.pairUnit)).toEqual([0, 0, 1, 2]);
    expect(Array.from(c.pairPartition)).toEqual([0, 1, 1, 2]);
    expect(Array.from(c.rowValues)).toEqual([0, 1, 1, 0]);
    expect(Array.from(c.trueValues)).toEqual([0, 1, 0]);
  });

  it('funnel: consecutive steps reached per pair (order-insensitive); true value = units at the last step', async () => {
    const steps: Filter[][] = [[{ column: 'event_type', op: '=', value: 'view' }], [{ column: 'event_type', op: '=', value: 'cart' }], [{ column: 'event_type', op: '=', value: 'buy' }]];
    const c = await both(metric({ kind: 'funnel', steps } as Partial<ContributionMetric> & { kind: 'funnel' }));
    expect(Array.from(c.pairUnit)).toEqual([0, 0, 1, 2]);
    expect(Array.from(c.pairPartition)).toEqual([0, 1, 1, 2]);
    // u1 DE: view only; u1 FR: view, cart, buy; u2 FR: view, cart (row 11), buy; u3 NULL: view.
    expect(Array.from(c.rowValues)).toEqual([1, 3, 3, 1]);
    expect(Array.from(c.trueValues)).toEqual([0, 2, 0]);
    expect(funnelStepCounts(c, 3).map((a) => Array.from(a))).toEqual([[1, 2, 1], [0, 2, 0], [0, 2, 0]]);
  });

  it('a funnel step counts only if every earlier step was reached in that cohort', async () => {
    // Step 2 = buy, step 3 = cart: u1 FR reaches all three; u3 DE never viewed there (no pair).
    const steps: Filter[][] = [[{ column: 'event_type', op: '=', value: 'view' }], [{ column: 'event_type', op: 'in', value: ['buy'] }], [{ column: 'event_type', op: '=', value: 'nothing' }]];
    const c = await both(metric({ kind: 'funnel', steps, by: [] } as Partial<ContributionMetric> & { kind: 'funnel' }));
    // by []: u1 (view, buy), u2 (view, buy), u3 (view, buy in DE): all reach 2 steps, none 3.
    expect(Array.from(c.rowValues)).toEqual([2, 2, 2]);
    expect(Array.from(c.trueValues)).toEqual([0]);
  });

  it('cohorts by day and by ISO week of a timestamp, and by two keys', async () => {
    const day = await both(metric({ kind: 'count', by: ['day'] }));
    expect(day.partitions.keys).toEqual([['2024-03-04'], ['2024-03-05'], ['2024-03-11']]);
    expect(Array.from(day.trueValues)).toEqual([5, 2, 3]);
    const week = await both(metric({ kind: 'count', by: ['week'] }));
    expect(week.partitions.keys).toEqual([['2024-03-04'], ['2024-03-11']]);
    expect(Array.from(week.trueValues)).toEqual([7, 3]);
    const two = await both(metric({ kind: 'count-distinct', by: ['week', 'country'] }));
    expect(two.partitions).toEqual({ dimensions: ['week', 'country'], keys: [['2024-03-04', 'DE'], ['2024-03-04', 'FR'], ['2024-03-11', 'DE'], ['2024-03-11', null]] });
    expect(Array.from(two.trueValues)).toEqual([1, 2, 1, 1]);
  });

  it('no cohort keys: one overall partition', async () => {
    const c = await both(metric({ kind: 'count', by: [] }));
    expect(c.partitions).toEqual({ dimensions: [], keys: [[]] });
    expect(Array.from(c.trueValues)).toEqual([10]);
    expect(Array.from(c.rowOffsets)).toEqual([0, 4, 7, 10]);
  });

  it('filters: =, !=, <, <=, >, >=, in, not-in (SQL semantics: NULL never matches)', async () => {
    const count = async (filter: Filter[]): Promise<number[]> => Array.from((await both(metric({ kind: 'count', filter }))).trueValues);
    expect(await count([{ column: 'event_type', op: '=', value: 'buy' }])).toEqual([1, 2]);
    expect(await count([{ column: 'revenue', op: '>', value: 5 }])).toEqual([1, 2]);
    expect(await count([{ column: 'revenue', op: '>=', value: '10' }])).toEqual([2]);
    expect(await count([{ column: 'revenue', op: '<', value: 5.5 }])).toEqual([2, 3, 1]);
    expect(await count([{ column: 'revenue', op: '<=', value: 5.5 }])).toEqual([3, 3, 1]);
    expect(await count([{ column: 'event_type', op: '!=', value: 'view' }])).toEqual([2, 4]);
    expect(await count([{ column: 'event_type', op: 'in', value: ['view', 'cart'] }])).toEqual([2, 4, 1]);
    expect(await count([{ column: 'event_type', op: 'not-in', value: ['view', 'cart'] }])).toEqual([1, 2]);
    expect(await count([{ column: 'ts', op: '>=', value: '2024-03-05' }])).toEqual([3, 1, 1]);
    expect(await count([{ column: 'event_type', op: '=', value: 'view' }, { column: 'country', op: '=', value: 'FR' }])).toEqual([2]);
    expect(await count([{ column: 'event_type', op: '=', value: "it's not there" }])).toEqual([]);
  });

  it('a filter value of the wrong type is a parameter error naming the filter', async () => {
    await expect(computeContributions(conn, 'events', config, metric({ kind: 'count', filter: [{ column: 'revenue', op: '=', value: 'abc' }] })))
      .rejects.toThrow(/filter revenue = "abc".*not a finite number/);
    await expect(computeContributions(conn, 'events', config, metric({ kind: 'count', filter: [{ column: 'country', op: '=', value: ['a'] }] })))
      .rejects.toBeInstanceOf(DpError);
  });

  it('a missing column is a DataError naming the file and the column', async () => {
    const e = await computeContributions(conn, 'events', { ...config, privacyUnit: { column: 'uid', kind: 'user' } }, metric({ kind: 'count' }), { file: '/data/events.csv' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).code).toBe('MissingColumn');
    expect((e as DataError).message).toBe('events.csv: unit column "uid" not found; columns are: user_id, country, ts, event_type, revenue');
  });

  it('a time bucket of a text column and a sum of a text column are parameter errors', async () => {
    await expect(computeContributions(conn, 'events', { ...config, dimensions: [{ name: 'c', column: 'country', bucket: 'day' }] }, metric({ kind: 'count', by: ['c'] })))
      .rejects.toThrow(/day bucket needs a timestamp column/);
    await expect(computeContributions(conn, 'events', config, metric({ kind: 'sum', column: 'country' } as Partial<ContributionMetric> & { kind: 'sum' })))
      .rejects.toThrow(/"country" is VARCHAR, not a number/);
  });

  it('a cancelled signal stops before any query', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(computeContributions(conn, 'events', config, metric({ kind: 'count' }), { signal: ac.signal })).rejects.toThrow(/cancelled/);
  });

  it('temporary tables are dropped afterwards', async () => {
    await computeContributions(conn, 'events', config, metric({ kind: 'count' }));
    const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER FROM duckdb_tables() WHERE table_name LIKE '__dpw_%'`);
    expect(r.getRowsJS()[0]![0]).toBe(0);
  });

  it('integer and boolean units and keys work like text ones', async () => {
    await conn.run(`CREATE TABLE typed AS SELECT i % 3 AS user_id, i % 2 = 0 AS flag, i AS x FROM range(10) t(i)`);
    const cfg: AggregationConfig = { privacyUnit: { column: 'user_id', kind: 'user' }, dimensions: [{ name: 'flag', column: 'flag' }] };
    const c = await computeContributions(conn, 'typed', cfg, metric({ kind: 'sum', column: 'x', by: ['flag'] } as Partial<ContributionMetric> & { kind: 'sum' }));
    expect(c.partitions.keys).toEqual([['false'], ['true']]);
    expect(Array.from(c.trueValues)).toEqual([1 + 3 + 5 + 7 + 9, 0 + 2 + 4 + 6 + 8]);
    expect(c.unitCount).toBe(3);
  });
});

describe('fetchColumns', () => {
  it('copies INTEGER and DOUBLE columns of many chunks into typed arrays', async () => {
    const [a, b] = await fetchColumns(conn, 'SELECT i::INTEGER, (i * 0.5)::DOUBLE FROM range(10000) t(i) ORDER BY 1', ['i32', 'f64']);
    expect(a).toBeInstanceOf(Int32Array);
    expect(b).toBeInstanceOf(Float64Array);
    expect(a!.length).toBe(10000);
    expect(a![9999]).toBe(9999);
    expect(b![4097]).toBe(2048.5);
  });
  it('refuses a NULL or a column of another type', async () => {
    await expect(fetchColumns(conn, 'SELECT NULL::INTEGER', ['i32'])).rejects.toThrow(/NULL/);
    await expect(fetchColumns(conn, 'SELECT 1::BIGINT', ['i32'])).rejects.toThrow(/expected i32/);
  });
});

describe('buildContributions (core)', () => {
  it('sorts unsorted entries, merges repeated (unit, partition) entries and drops unused ids', () => {
    const c = buildContributions({
      unitIds: Int32Array.from([3, 0, 3, 0, 3]),
      partitionIds: Int32Array.from([1, 2, 0, 2, 1]),
      values: Float64Array.from([1.5, 2, 3, 4, 5]),
      unitIdCount: 5, // ids 1, 2 and 4 unused
      partitionIdCount: 3,
    }, { metricId: 'x', kind: 'sum', partitions: { dimensions: ['d'], keys: [['a'], ['b'], ['c']] } });
    expect(c.unitCount).toBe(2);
    expect(Array.from(c.pairUnit)).toEqual([0, 1, 1]);
    expect(Array.from(c.pairPartition)).toEqual([2, 0, 1]);
    expect(Array.from(c.rowOffsets)).toEqual([0, 2, 3, 5]);
    expect(Array.from(c.rowValues)).toEqual([2, 4, 3, 1.5, 5]); // stable within a pair
    expect(Array.from(c.trueValues)).toEqual([3, 6.5, 6]);
  });
  it('expands per-pair row counts into rows of 1', () => {
    const c = buildContributions({ unitIds: Int32Array.from([0, 1]), partitionIds: Int32Array.from([0, 0]), rowCounts: Int32Array.from([3, 2]), unitIdCount: 2, partitionIdCount: 1 },
      { metricId: 'x', kind: 'count', partitions: { dimensions: [], keys: [[]] } });
    expect(Array.from(c.rowOffsets)).toEqual([0, 3, 5]);
    expect(Array.from(c.rowValues)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(c.trueValues)).toEqual([5]);
  });
  it('rejects ids out of range and mismatched lengths', () => {
    const keys = { dimensions: [], keys: [[]] };
    expect(() => buildContributions({ unitIds: Int32Array.from([2]), partitionIds: Int32Array.from([0]), unitIdCount: 2, partitionIdCount: 1 }, { metricId: 'x', kind: 'count', partitions: keys })).toThrow(/outside/);
    expect(() => buildContributions({ unitIds: Int32Array.from([0]), partitionIds: Int32Array.from([0, 0]), unitIdCount: 1, partitionIdCount: 1 }, { metricId: 'x', kind: 'count', partitions: keys })).toThrow(/same length/);
  });
});

describe('clipping bias oracle (../shared/oracles/public.json clipping_bias)', () => {
  const o = () => loadOracles().clipping_bias;
  const sumMetric = metric({ kind: 'sum', column: 'value', by: [] } as Partial<ContributionMetric> & { kind: 'sum' });

  it('true sum and mean of the 15-row dataset', async () => {
    const c = await both(sumMetric, 'clip');
    const tol = o().tolerance;
    expect(closeTo(c.trueValues[0]!, 1427.49, tol)).toBe(true);
    expect(c.rowValues.length).toBe(15);
    expect(c.unitCount).toBe(8);
    const mean = await both({ ...sumMetric, kind: 'mean' } as ContributionMetric, 'clip');
    expect(closeTo(mean.trueValues[0]!, 95.166, tol)).toBe(true);
  });

  it('row-level clipping [L, U]: clipped sum, sum bias and mean bias', async () => {
    const c = await computeContributions(conn, 'clip', config, sumMetric);
    const cases = o().cases.filter((k: { kind: string }) => k.kind.startsWith('row-level'));
    expect(cases.length).toBe(2);
    for (const k of cases) {
      const { L, U } = k.inputs;
      const clipped = clampedSum(c, L, U, 'per-value');
      const tol = o().tolerance;
      expect(closeTo(clipped, k.expected.clipped_sum.float, tol)).toBe(true);
      expect(closeTo(clipped - c.trueValues[0]!, k.expected.sum_bias.float, tol)).toBe(true);
      const rows = c.rowsPerPartition[0]!;
      expect(closeTo(clipped / rows - c.trueValues[0]! / rows, k.expected.mean_bias.float, tol)).toBe(true);
      expect(closeTo(clipped / rows, k.expected.clipped_mean.float, tol)).toBe(true);
    }
  });

  it('user-level clipping: each user total in the partition clipped to [L, U]', async () => {
    const c = await computeContributions(conn, 'clip', config, sumMetric);
    const k = o().cases.find((x: { kind: string }) => x.kind.startsWith('user-level'));
    const clipped = clampedSum(c, k.inputs.L, k.inputs.U, 'per-partition');
    const tol = o().tolerance;
    expect(closeTo(clipped, k.expected.clipped_sum.float, tol)).toBe(true);
    expect(closeTo(clipped - c.trueValues[0]!, k.expected.sum_bias.float, tol)).toBe(true);
    expect(closeTo(clipped / c.unitCount - c.trueValues[0]! / c.unitCount, k.expected.mean_per_user_bias.float, tol)).toBe(true);
    expect(Array.from(clampedSums(c, k.inputs.L, k.inputs.U, 'per-partition'))).toHaveLength(1);
  });

  it('contribution bounding: expected sum after keeping <= c random rows per user, then clipping', async () => {
    const c = await computeContributions(conn, 'clip', config, sumMetric);
    const k = o().cases.find((x: { kind: string }) => x.kind.startsWith('contribution bounding'));
    const e = expectedBoundedSums(c, { maxContributionsPerPartition: k.inputs.max_rows_per_user, clamp: { low: k.inputs.L, high: k.inputs.U } });
    const tol = o().tolerance;
    expect(closeTo(e.sums[0]!, k.expected.expected_sum.float, tol)).toBe(true);
    expect(closeTo(e.sums[0]! - c.trueValues[0]!, k.expected.sum_bias.float, tol)).toBe(true);
    expect(closeTo(e.rows[0]!, k.expected.rows_kept, tol)).toBe(true);
    expect(closeTo(e.rows[0]! - c.rowValues.length, k.expected.count_bias, tol)).toBe(true);
  });

  it('clamp helpers validate their range', async () => {
    const c = await computeContributions(conn, 'clip', config, sumMetric);
    expect(() => clampedSum(c, 5, 1)).toThrow(/low \(5\) must be <= high \(1\)/);
    expect(() => clampedSum(c, NaN, 1)).toThrow(DpError);
    expect(() => expectedBoundedSums(c, { maxPartitionsContributed: 0 })).toThrow(/must be >= 1/);
  });
});

describe('exact-key joins (used when two keys share a hash)', () => {
  it('give the same contributions as the hash joins', async () => {
    const steps: Filter[][] = [[{ column: 'event_type', op: '=', value: 'view' }], [{ column: 'event_type', op: '=', value: 'buy' }]];
    for (const m of [
      metric({ kind: 'count', by: ['country', 'week'] }),
      metric({ kind: 'sum', column: 'revenue' } as Partial<ContributionMetric> & { kind: 'sum' }),
      metric({ kind: 'funnel', steps } as Partial<ContributionMetric> & { kind: 'funnel' }),
    ]) {
      const a = await computeContributions(conn, 'events', config, m);
      const b = await computeContributions(conn, 'events', config, m, { exactJoin: true });
      // Rows within a pair come in no particular order.
      expect({ ...b, rowValues: pairRows(b) }).toEqual({ ...a, rowValues: pairRows(a) });
    }
  });
});

describe('sum and mean values: every row, or runs of equal values per pair', () => {
  it('give the same contributions', async () => {
    await conn.run(`CREATE TABLE repeats AS SELECT 'u' || (i % 7) AS user_id, CASE WHEN i % 3 = 0 THEN 'A' ELSE 'B' END AS country, (i % 4 = 0)::INTEGER * 2.5 AS revenue FROM range(200) t(i)`);
    for (const kind of ['sum', 'mean'] as const) {
      const m = metric({ kind, column: 'revenue' } as Partial<ContributionMetric> & { kind: 'sum' });
      const rows = await computeContributions(conn, 'repeats', config, m, { valueEncoding: 'rows' });
      const runs = await computeContributions(conn, 'repeats', config, m, { valueEncoding: 'runs' });
      const auto = await computeContributions(conn, 'repeats', config, m);
      checkCsr(runs);
      expect({ ...runs, rowValues: pairRows(runs) }).toEqual({ ...rows, rowValues: pairRows(rows) });
      expect({ ...auto, rowValues: pairRows(auto) }).toEqual({ ...rows, rowValues: pairRows(rows) });
      expect(runs.rowValues.length).toBe(200);
    }
  });
});
