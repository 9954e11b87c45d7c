import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContributions } from '../../../../shared/core/data/csr';
import { geometricGrid, profileContributions } from '../../../../shared/core/data/profile';
import type { BoundCandidate } from '../../../../shared/core/data/profile';
import { main } from '../../../../shared/node/cli/main';
import { parseBy, parseWhere } from '../../../../shared/node/cli/commands/profile';
import { openDataset } from '../../../../shared/node/data/ingest';
import type { LoadedDataset } from '../../../../shared/node/data/ingest';
import { metricRequirements, profileDataset, profileJson, requestMetric } from '../../../../shared/node/data/profile';

// Hand contributions (sum metric). Units u0, u1, u2; partitions 0, 1, 2.
//   u0: p0 rows [1, 2, 3], p1 [4]
//   u1: p0 [10]
//   u2: p0 [-2, 2], p1 [5], p2 [1, 1, 1, 1]
const hand = buildContributions({
  unitIds: Int32Array.from([0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2]),
  partitionIds: Int32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 2, 2, 2, 2]),
  values: Float64Array.from([1, 2, 3, 4, 10, -2, 2, 5, 1, 1, 1, 1]),
  unitIdCount: 3,
  partitionIdCount: 3,
}, { metricId: 'h', kind: 'sum', partitions: { dimensions: ['d'], keys: [['a'], ['b'], ['c']] } });

const at = (c: readonly BoundCandidate[], bound: number): BoundCandidate => c.find((x) => x.bound === bound)!;

describe('profileContributions on a hand table', () => {
  const p = profileContributions(hand);

  it('counts', () => {
    expect([p.rows, p.units, p.partitions, p.pairs]).toEqual([12, 3, 3, 6]);
    expect(p.totalValue).toBe(29);
    expect(p.totalAbsValue).toBe(33);
  });

  it('L0: partitions per unit [2, 1, 3]; quantiles are the inverse empirical CDF', () => {
    expect(p.l0).toMatchObject({ count: 3, min: 1, max: 3, mean: 2, total: 6, quantiles: { '0.5': 2, '0.9': 3, '0.99': 3 } });
    expect(p.l0.histogram).toEqual({ lower: [1, 2], upper: [2, 4], counts: [1, 2] });
  });

  it('L∞: rows per pair [3, 1, 1, 2, 1, 4]', () => {
    expect(p.linf).toMatchObject({ count: 6, min: 1, max: 4, mean: 2, quantiles: { '0.5': 1, '0.9': 4, '0.99': 4 } });
    expect(p.linf.histogram).toEqual({ lower: [1, 2, 4], upper: [2, 4, 8], counts: [3, 2, 1] });
  });

  it('units per partition [3, 2, 1]', () => {
    expect(p.unitsPerPartition).toMatchObject({ min: 1, max: 3, quantiles: { '0.5': 2, '0.9': 3, '0.99': 3 } });
  });

  it('per-unit-per-partition sums [6, 4, 10, 0, 5, 4] and row values', () => {
    expect(p.pairValues).toMatchObject({ min: 0, max: 10, total: 29, negative: 0, quantiles: { '0.5': 4, '0.9': 10, '0.99': 10 } });
    expect(p.rowValues).toMatchObject({ min: -2, max: 10, negative: 1, quantiles: { '0.5': 1, '0.9': 5, '0.99': 10 } });
    // |x| bins: zero bin, then [1,2): 1,1,1,1,1  [2,4): -2,2,2,3  [4,8): 4,5  [8,16): 10
    const h = p.rowValues!.histogram;
    expect(h.counts.slice(-4)).toEqual([5, 4, 2, 1]);
    expect(h.lower.slice(-4)).toEqual([1, 2, 4, 8]);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(12);
  });

  it('L0 candidates: expected share dropped when a unit in n partitions keeps L0 of them at random', () => {
    expect(p.candidates.l0.map((c) => c.bound)).toEqual([1, 2, 4]);
    // bound 1: u0 drops 1/2 of (4 rows, |value| 10), u2 drops 2/3 of (7 rows, |value| 13).
    expect(at(p.candidates.l0, 1).rows).toBeCloseTo((2 + 14 / 3) / 12, 14);
    expect(at(p.candidates.l0, 1).value).toBeCloseTo((5 + 26 / 3) / 33, 14);
    expect(at(p.candidates.l0, 2).rows).toBeCloseTo(7 / 36, 14);
    expect(at(p.candidates.l0, 2).value).toBeCloseTo(13 / 99, 14);
    expect(at(p.candidates.l0, 4)).toEqual({ bound: 4, rows: 0, value: 0 });
  });

  it('L∞ candidates: a pair of m rows keeps L∞ of them at random', () => {
    expect(p.candidates.linf.map((c) => c.bound)).toEqual([1, 2, 4]);
    expect(at(p.candidates.linf, 1).rows).toBeCloseTo(6 / 12, 14);
    expect(at(p.candidates.linf, 1).value).toBeCloseTo(9 / 33, 14);
    expect(at(p.candidates.linf, 2).rows).toBeCloseTo(3 / 12, 14);
    expect(at(p.candidates.linf, 2).value).toBeCloseTo(4 / 33, 14);
    expect(at(p.candidates.linf, 4)).toEqual({ bound: 4, rows: 0, value: 0 });
  });

  it('evaluates extra L0 / L∞ bounds (a config\'s own) exactly, in order among the powers of two', () => {
    const q = profileContributions(hand, { bounds: { l0: [3], linf: [3] } });
    expect(q.candidates.l0.map((c) => c.bound)).toEqual([1, 2, 3, 4]);
    expect(q.candidates.linf.map((c) => c.bound)).toEqual([1, 2, 3, 4]);
    // A pair of m > 3 rows keeps 3 of them: m − 3 rows dropped (in expectation), over all rows.
    let dropped = 0;
    for (let k = 0; k + 1 < hand.rowOffsets.length; k++) dropped += Math.max(0, hand.rowOffsets[k + 1]! - hand.rowOffsets[k]! - 3);
    expect(at(q.candidates.linf, 3).rows).toBeCloseTo(dropped / 12, 14);
    // Every unit of the example is in at most 3 partitions: nothing dropped at L0 3.
    expect(at(q.candidates.l0, 3).rows).toBe(0);
  });

  it('clamp candidates: share of values changed and of |value| clipped to [-C, C]', () => {
    const v = p.candidates.clampPerValue!;
    expect(v[v.length - 1]).toEqual({ bound: 16, rows: 0, value: 0 });
    expect(at(v, 4).rows).toBeCloseTo(2 / 12, 14);
    expect(at(v, 4).value).toBeCloseTo(7 / 33, 14);
    expect(at(v, 2).rows).toBeCloseTo(4 / 12, 14); // |-2| and 2 sit on the bound: unchanged
    expect(at(v, 2).value).toBeCloseTo(14 / 33, 14);
    expect(at(v, 1).value).toBeCloseTo(21 / 33, 14);
    const q = p.candidates.clampPerPartition!;
    expect(at(q, 4).rows).toBeCloseTo(3 / 6, 14);
    expect(at(q, 4).value).toBeCloseTo(9 / 29, 14);
  });

  it('custom quantiles; count metrics have no value stats or clamp candidates', () => {
    const c = profileContributions({ ...hand, kind: 'count' }, { quantiles: [0.25, 1] });
    expect(c.l0.quantiles).toEqual({ '0.25': 1, '1': 3 });
    expect(c.rowValues).toBeUndefined();
    expect(c.candidates.clampPerValue).toBeUndefined();
    expect(() => profileContributions(hand, { quantiles: [0] })).toThrow(/quantile/);
  });

  it('empty contributions give NaN quantiles and no candidates beyond 1', () => {
    const empty = buildContributions({ unitIds: new Int32Array(0), partitionIds: new Int32Array(0), unitIdCount: 0, partitionIdCount: 0 },
      { metricId: 'e', kind: 'count', partitions: { dimensions: [], keys: [] } });
    const e = profileContributions(empty);
    expect([e.rows, e.units, e.partitions]).toEqual([0, 0, 0]);
    expect(e.l0.quantiles['0.5']).toBeNaN();
    expect(e.candidates.l0).toEqual([{ bound: 1, rows: 0, value: 0 }]);
  });

  it('geometric grid 1, 2, 4, ... up to the first power of two >= max', () => {
    expect(geometricGrid(0)).toEqual([1]);
    expect(geometricGrid(1)).toEqual([1]);
    expect(geometricGrid(5)).toEqual([1, 2, 4, 8]);
    expect(geometricGrid(8)).toEqual([1, 2, 4, 8]);
  });

  it('quantiles by selection agree with sorting on a large random sample', () => {
    let x = 7;
    const n = 20001;
    const values = Float64Array.from({ length: n }, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x / 2 ** 32) * 1000 - 100;
    });
    const c = buildContributions({ unitIds: Int32Array.from({ length: n }, (_, i) => i), partitionIds: new Int32Array(n), values, unitIdCount: n, partitionIdCount: 1 },
      { metricId: 'r', kind: 'sum', partitions: { dimensions: [], keys: [[]] } });
    const sorted = Float64Array.from(values).sort();
    const pr = profileContributions(c, { quantiles: [0.5, 0.9, 0.99, 0.001] });
    for (const q of [0.5, 0.9, 0.99, 0.001]) expect(pr.rowValues!.quantiles[String(q)]).toBe(sorted[Math.ceil(q * n) - 1]);
  });
});

// ---------------------------------------------------------------------------------------------
// The service and `dpw profile`, on small files.

const CSV = `user_id,country,ts,event_type,revenue
u1,FR,2024-03-04 10:00:00,view,0
u1,FR,2024-03-04 11:00:00,cart,0
u1,FR,2024-03-04 12:00:00,buy,30
u1,DE,2024-03-05 09:00:00,view,0
u2,FR,2024-03-04 08:00:00,view,0
u2,FR,2024-03-05 08:00:00,buy,10
u3,DE,2024-03-11 08:00:00,cart,0
u3,DE,2024-03-11 09:00:00,buy,5.5
u3,,2024-03-11 10:00:00,view,0
,FR,2024-03-04 13:00:00,buy,100
u2,FR,2024-03-04 09:00:00,cart,
`;

let dir: string;
let events: string;
let ds: LoadedDataset;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dpw-profile-test-'));
  events = join(dir, 'events.csv');
  writeFileSync(events, CSV);
  writeFileSync(join(dir, 'empty.csv'), '');
  writeFileSync(join(dir, 'ragged.csv'), 'user_id,country\nu1,FR\nu2,FR,extra\n');
  ds = await openDataset(events);
});
afterAll(() => {
  ds.engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function dpw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

describe('profileDataset', () => {
  it('count per unit per country', async () => {
    const r = await profileDataset(ds, { unit: 'user_id', by: [{ column: 'country' }] });
    expect(r.contributions.partitions.keys).toEqual([['DE'], ['FR'], [null]]);
    expect([r.profile.rows, r.profile.units, r.profile.partitions, r.profile.pairs]).toEqual([10, 3, 3, 5]);
    expect(r.profile.l0.quantiles).toEqual({ '0.5': 2, '0.9': 2, '0.99': 2 });
    expect(r.warnings).toEqual([]);
  });

  it('warns about a cohort key with many distinct values', async () => {
    const r = await profileDataset(ds, { unit: 'user_id', by: [{ column: 'ts' }], cardinalityThreshold: 5 });
    expect(r.warnings.map((w) => w.code)).toEqual(['HighCardinality']);
  });

  it('requirements name the unit, cohort, value and filter columns', () => {
    const { config, metric } = requestMetric({ unit: 'u', by: [{ column: 't', bucket: 'week' }], value: 'v', where: [{ column: 'e', op: '=', value: 'x' }] });
    expect(metric.by).toEqual(['t:week']);
    expect(metricRequirements(config, metric)).toEqual([
      { column: 'u', role: 'unit' }, { column: 't', role: 'cohort' }, { column: 'v', role: 'value', numeric: true }, { column: 'e', role: 'filter' },
    ]);
  });

  it('JSON shape: NaN becomes null', () => {
    const empty = buildContributions({ unitIds: new Int32Array(0), partitionIds: new Int32Array(0), unitIdCount: 0, partitionIdCount: 0 },
      { metricId: 'e', kind: 'count', partitions: { dimensions: [], keys: [] } });
    const j = profileJson(profileContributions(empty)) as { l0: { max: unknown; quantiles: Record<string, unknown> } };
    expect(j.l0.max).toBeNull();
    expect(j.l0.quantiles['0.5']).toBeNull();
  });
});

describe('dpw profile', () => {
  it('--json prints rows, units, partitions, l0, linf and units_per_partition with quantiles "0.5", "0.9", "0.99"', async () => {
    const r = await dpw('profile', events, '--unit', 'user_id', '--by', 'country', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      rows: 10, units: 3, partitions: 3, pairs: 5,
      l0: { max: 2, quantiles: { '0.5': 2, '0.9': 2, '0.99': 2 } },
      linf: { max: 3, quantiles: { '0.5': 2, '0.9': 3, '0.99': 3 } },
      units_per_partition: { min: 1, max: 2, quantiles: { '0.5': 2, '0.9': 2, '0.99': 2 } },
    });
    expect(Object.keys(j.l0.quantiles)).toEqual(['0.5', '0.9', '0.99']);
    expect(j.value).toBeUndefined();
    // L0 = 1: u1 (2 cohorts, 4 rows) and u3 (2 cohorts, 3 rows) each keep half in expectation.
    expect(j.bounds.l0[0]).toEqual({ bound: 1, rows_dropped: 3.5 / 10, value_dropped: 3.5 / 10 });
  });

  it('--value adds value stats and clamp candidates', async () => {
    const r = await dpw('profile', events, '--unit', 'user_id', '--by', 'country', '--value', 'revenue', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.rows).toBe(9); // the row without revenue is not a value
    expect(j.value).toMatchObject({ total: 45.5, min: 0, max: 30, per_unit_partition: { max: 30 } });
    expect(j.bounds.clamp_per_value.at(-1)).toEqual({ bound: 32, rows_dropped: 0, value_dropped: 0 });
    expect(j.bounds.clamp_per_partition).toBeDefined();
  });

  it('--where filters rows; several are ANDed; --by takes day and week buckets', async () => {
    const buy = JSON.parse((await dpw('profile', events, '--unit', 'user_id', '--by', 'country', '--where', 'event_type=buy', '--json')).out);
    expect([buy.rows, buy.units, buy.partitions]).toEqual([3, 3, 2]);
    const two = JSON.parse((await dpw('profile', events, '--unit', 'user_id', '--where', 'event_type=buy', '--where', 'revenue > 6', '--json')).out);
    expect([two.rows, two.units, two.partitions]).toEqual([2, 2, 1]);
    const day = JSON.parse((await dpw('profile', events, '--unit', 'user_id', '--by', 'country,ts:day', '--json')).out);
    expect(day.partitions).toBe(5); // FR 03-04, DE 03-05, FR 03-05, DE 03-11, NULL 03-11
    const week = JSON.parse((await dpw('profile', events, '--unit', 'user_id', '--by', 'ts:week', '--json')).out);
    expect(week.partitions).toBe(2);
  });

  it('prints a readable summary without --json', async () => {
    const r = await dpw('profile', events, '--unit', 'user_id', '--by', 'country', '--value', 'revenue');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^.*events\.csv: 9 rows, 3 units \(user_id\), 3 cohorts \(country\), 5 unit-cohort pairs/);
    expect(r.out).toMatch(/cohorts per unit \(L0\)/);
    expect(r.out).toMatch(/clamp per value/);
  });

  it('--help', async () => {
    const r = await dpw('profile', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: dpw profile DATA --unit COL/);
  });

  it.each([
    [['--unit', 'user_id'], /^dpw profile: DATA is required/],
    [['EVENTS'], /^dpw profile: --unit is required/],
    [['EVENTS', '--unit', 'user_id', '--where', 'revenue=abc'], /^dpw profile: --where "revenue=abc": column "revenue" is numeric \(DOUBLE\) and "abc" is not a finite number$/],
    [['EVENTS', '--unit', 'user_id', '--where', 'nonsense'], /^dpw profile: --where "nonsense": expected COL=VALUE/],
    [['EVENTS', '--unit', 'user_id', '--by', 'ts:hour'], /^dpw profile: --by "ts:hour": unknown time bucket "hour"/],
    [['EVENTS', '--unit', 'user_id', '--by', 'country:day'], /^dpw profile: --by "country:day": "country" is a string column; :day needs a timestamp column$/],
    [['EVENTS', '--unit', 'user_id', '--by', 'country,'], /^dpw profile: --by "country,": empty column name$/],
    [['EVENTS', '--unit', 'user_id', '--memory-limit', 'lots'], /^dpw profile: --memory-limit "lots": expected a size/],
    [['EVENTS', '--unit', 'user_id', '--format', 'xls'], /^dpw profile: --format "xls": must be one of/],
    [['EVENTS', '--unit', 'user_id', '--bogus'], /^dpw profile: unknown option --bogus/],
    [['EVENTS', 'OTHER', '--unit', 'user_id'], /^dpw profile: one DATA file only/],
  ])('bad arguments exit 2 with one line naming the flag: %j', async (args, message) => {
    const r = await dpw('profile', ...args.map((a) => (a === 'EVENTS' ? events : a)));
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it.each([
    [['EVENTS', '--unit', 'uid'], /^dpw profile: events\.csv: unit column "uid" not found; columns are: user_id, country, ts, event_type, revenue$/],
    [['EVENTS', '--unit', 'user_id', '--by', 'region'], /^dpw profile: events\.csv: cohort column "region" not found/],
    [['EVENTS', '--unit', 'user_id', '--value', 'country'], /^dpw profile: events\.csv: .*column "country".*not a number/],
    [['EVENTS', '--unit', 'user_id', '--where', 'plan=pro'], /^dpw profile: events\.csv: filter column "plan" not found/],
    [['EMPTY', '--unit', 'user_id'], /^dpw profile: empty\.csv: /],
    [['RAGGED', '--unit', 'user_id'], /^dpw profile: ragged\.csv: line 3/],
    [['MISSING', '--unit', 'user_id'], /^dpw profile: missing\.csv: /],
  ])('bad data exits 1 with the loader\'s one-line message and no stack trace: %j', async (args, message) => {
    const files: Record<string, string> = { EVENTS: events, EMPTY: join(dir, 'empty.csv'), RAGGED: join(dir, 'ragged.csv'), MISSING: join(dir, 'missing.csv') };
    const r = await dpw('profile', ...args.map((a) => files[a] ?? a));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });
});

describe('argument parsers', () => {
  it('--where', () => {
    expect(parseWhere('country=FR')).toEqual({ column: 'country', op: '=', value: 'FR' });
    expect(parseWhere(' revenue >= 10 ')).toEqual({ column: 'revenue', op: '>=', value: '10 ' });
    expect(parseWhere('a!=b=c')).toEqual({ column: 'a', op: '!=', value: 'b=c' });
    expect(parseWhere('note=')).toEqual({ column: 'note', op: '=', value: '' });
  });
  it('--by', () => {
    expect(parseBy('country, ts:week')).toEqual([{ column: 'country' }, { column: 'ts', bucket: 'week' }]);
  });
});
