// Property: on random small tables, the pre-aggregated contributions of every metric kind add up to
// the true values — those of one plain SQL GROUP BY (computeTrueValues) and those of a naive JS
// computation straight from the rows — and the CSR layout holds its invariants, whichever way the
// rows are read (every row or runs of equal values; hash or exact-key joins).

import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Filter } from '../../shared/core/config/schema';
import type { MetricContributions } from '../../shared/core/data/contributions';
import { funnelStepCounts } from '../../shared/core/data/csr';
import type { AggregationConfig, ContributionMetric } from '../../shared/node/data/aggregate';
import { computeContributions, computeTrueValues } from '../../shared/node/data/aggregate';

type Row = { user: string | null; country: string | null; event: 'x' | 'y' | 'z'; value: number | null };

const rowArb: fc.Arbitrary<Row> = fc.record({
  user: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 12, arbitrary: fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', "u'5") }),
  country: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: fc.constantFrom('A', 'B', 'C') }),
  event: fc.constantFrom('x' as const, 'y' as const, 'z' as const),
  value: fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 4, arbitrary: fc.integer({ min: -50, max: 500 }) },
    { weight: 4, arbitrary: fc.integer({ min: -5000, max: 50000 }).map((c) => c / 100) },
  ),
});

const KINDS = ['count', 'count-distinct', 'sum', 'mean', 'conversion', 'funnel'] as const;
const BYS = [[], ['country'], ['country', 'event']] as const;
const FILTERS: Filter[][] = [[], [{ column: 'event', op: '!=', value: 'z' }], [{ column: 'value', op: '>=', value: 0 }]];

const config: AggregationConfig = {
  privacyUnit: { column: 'user_id', kind: 'user' },
  dimensions: [{ name: 'country', column: 'country' }, { name: 'event', column: 'event' }],
};
const privacy = { budgetShare: 1, mechanism: 'laplace' as const, maxPartitionsContributed: 1, maxContributionsPerPartition: 1, preThreshold: 1, selection: 'laplace' as const, selectionShare: 0.5 };

function makeMetric(kind: (typeof KINDS)[number], by: readonly string[], filter: Filter[]): ContributionMetric {
  const base = { id: 'p', cadence: 'one-off' as const, by: [...by], filter, privacy };
  switch (kind) {
    case 'sum':
    case 'mean':
      return { ...base, kind, column: 'value' };
    case 'conversion':
      return { ...base, kind, from: [{ column: 'event', op: '=', value: 'x' }], to: [{ column: 'event', op: 'in', value: ['y'] }] };
    case 'funnel':
      return { ...base, kind, steps: [[{ column: 'event', op: '=', value: 'x' }], [{ column: 'event', op: '=', value: 'y' }], [{ column: 'event', op: '=', value: 'z' }]] };
    default:
      return { ...base, kind };
  }
}

const matches = (r: Row, f: Filter): boolean => {
  const v = f.column === 'event' ? r.event : r.value;
  if (v === null) return false;
  if (f.op === '!=') return v !== f.value;
  if (f.op === '>=') return (v as number) >= (f.value as number);
  if (f.op === '=') return v === f.value;
  if (f.op === 'in') return (f.value as unknown[]).includes(v);
  throw new Error(`op ${f.op}`);
};

/** Naive per-partition true values straight from the rows, keyed by JSON of the keys. */
function naive(rows: Row[], m: ContributionMetric): Map<string, number> {
  const key = (r: Row): string => JSON.stringify(m.by.map((d) => (d === 'country' ? r.country : r.event)));
  const kept = rows.filter((r) => r.user !== null && m.filter.every((f) => matches(r, f)) && ((m.kind !== 'sum' && m.kind !== 'mean') || r.value !== null));
  const out = new Map<string, number>();
  if (m.kind === 'count' || m.kind === 'sum' || m.kind === 'mean') {
    const sums = new Map<string, [number, number]>();
    for (const r of kept) {
      const s = sums.get(key(r)) ?? [0, 0];
      s[0] += m.kind === 'count' ? 1 : r.value!;
      s[1] += 1;
      sums.set(key(r), s);
    }
    for (const [k, [s, n]] of sums) out.set(k, m.kind === 'mean' ? s / n : s);
    return out;
  }
  // Per (unit, partition) flags.
  const pairs = new Map<string, { k: string; flags: boolean[] }>();
  const conds: Filter[][] = m.kind === 'conversion' ? [m.from, m.to] : m.kind === 'funnel' ? m.steps : [[]];
  for (const r of kept) {
    const id = JSON.stringify([r.user, key(r)]);
    const p = pairs.get(id) ?? { k: key(r), flags: conds.map(() => false) };
    conds.forEach((c, i) => {
      if (c.every((f) => matches(r, f))) p.flags[i] = true;
    });
    pairs.set(id, p);
  }
  const agg = new Map<string, [number, number]>();
  for (const p of pairs.values()) {
    if (m.kind !== 'count-distinct' && !p.flags[0]) continue;
    const a = agg.get(p.k) ?? [0, 0];
    a[0] += m.kind === 'count-distinct' ? 1 : m.kind === 'conversion' ? (p.flags[1] ? 1 : 0) : p.flags.every(Boolean) ? 1 : 0;
    a[1] += 1;
    agg.set(p.k, a);
  }
  for (const [k, [s, n]] of agg) out.set(k, m.kind === 'conversion' ? s / n : s);
  return out;
}

function pairSums(c: MetricContributions): Float64Array {
  const out = new Float64Array(c.partitionCount);
  for (let p = 0; p < c.pairUnit.length; p++) {
    for (let k = c.rowOffsets[p]!; k < c.rowOffsets[p + 1]!; k++) out[c.pairPartition[p]!]! += c.rowValues[k]!;
  }
  return out;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

let instance: DuckDBInstance;
let conn: DuckDBConnection;
let tableNo = 0;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

const lit = (v: string | number | null): string => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

describe('contributions sum to the true values', () => {
  it('for every metric kind, cohort keys and filter, on random tables', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(rowArb, { minLength: 0, maxLength: 40 }),
      fc.constantFrom(...KINDS), fc.constantFrom(...BYS), fc.constantFrom(...FILTERS),
      fc.constantFrom('auto' as const, 'rows' as const, 'runs' as const), fc.boolean(),
      async (rows, kind, by, filter, valueEncoding, exactJoin) => {
        const table = `prop_${++tableNo}`;
        await conn.run(`CREATE TABLE ${table} (user_id VARCHAR, country VARCHAR, event VARCHAR, value DOUBLE)`);
        try {
          if (rows.length > 0) await conn.run(`INSERT INTO ${table} VALUES ${rows.map((r) => `(${[r.user, r.country, r.event, r.value].map(lit).join(', ')})`).join(', ')}`);
          const m = makeMetric(kind, by, filter);
          const c = await computeContributions(conn, table, config, m, { valueEncoding, exactJoin });
          const sql = await computeTrueValues(conn, table, config, m);
          const ref = naive(rows, m);

          // Same partitions, in sorted key order (NULL last), as SQL and as the naive reference.
          expect(c.partitions.keys).toEqual(sql.partitions.keys);
          expect(new Set(c.partitions.keys.map((k) => JSON.stringify(k)))).toEqual(new Set(ref.keys()));
          for (let q = 0; q < c.partitionCount; q++) {
            expect(close(c.trueValues[q]!, sql.values[q]!)).toBe(true);
            expect(close(c.trueValues[q]!, ref.get(JSON.stringify(c.partitions.keys[q]))!)).toBe(true);
          }
          // Pre-aggregated contributions add up to the true values.
          const sums = pairSums(c);
          for (let q = 0; q < c.partitionCount; q++) {
            const expected = kind === 'mean' ? c.trueValues[q]! * c.rowsPerPartition[q]!
              : kind === 'conversion' ? c.trueValues[q]! * c.unitsPerPartition[q]!
                : kind === 'funnel' ? funnelStepCounts(c, 3).reduce((s, a) => s + a[q]!, 0)
                  : c.trueValues[q]!;
            expect(close(sums[q]!, expected)).toBe(true);
            expect(c.unitsPerPartition[q]).toBe(sql.units[q]);
          }
          // CSR invariants.
          expect(c.unitPairOffsets[c.unitCount]).toBe(c.pairUnit.length);
          expect(c.rowOffsets[c.pairUnit.length]).toBe(c.rowValues.length);
          for (let p = 0; p < c.pairUnit.length; p++) {
            expect(c.rowOffsets[p + 1]!).toBeGreaterThan(c.rowOffsets[p]!);
            if (p > 0) {
              const du = c.pairUnit[p]! - c.pairUnit[p - 1]!;
              expect(du === 1 || (du === 0 && c.pairPartition[p]! > c.pairPartition[p - 1]!)).toBe(true);
            }
          }
          expect(c.unitCount).toBe(new Set(c.pairUnit).size);
        } finally {
          await conn.run(`DROP TABLE ${table}`);
        }
      },
    ), { numRuns: 120 });
  });
});
