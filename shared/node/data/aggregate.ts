// True values and per-(unit, partition) contributions of a metric, computed in DuckDB and handed to
// the core as typed arrays (MetricContributions, CSR layout: see core/data/contributions.ts).
//
// The SQL, for a table T, the metric's row filter W and cohort key expressions K:
//   units  U(u, uid)     distinct privacy units of the matching rows, numbered in sorted order
//   parts  P(K, pid)     distinct cohort keys of the matching rows, numbered in sorted key order
//                        (native order of the key types, NULL last)
//   rows are joined to U and P on a 64-bit hash of the unit and of the keys (one integer equality
//   each; the exact keys when two distinct keys share a hash), then, ORDER BY (uid, pid):
//   count, count-distinct, conversion, funnel: GROUP BY (uid, pid) in DuckDB — count(*) and, for
//     conversion and funnel, a bit mask of the steps the unit reached in that partition
//   sum, mean: every row's value, since per-value clamping and L∞ row sampling need them: either
//     one entry per row (uid, pid, value), or — when values repeat within pairs, as the zeros of a
//     revenue column do — GROUP BY (uid, pid, value) with a count, expanded to rows in JS; rows
//     with a NULL value are left out, as SQL's SUM and AVG do
// The result is read column by column out of DuckDB's data chunks straight into typed arrays (no
// per-row JS objects) and laid out as CSR by core/data/csr.ts (which needs no sort: the rows come
// ordered). Unit and partition numbers depend only on the data, so seeded simulations repeat.
//
// Rows with a NULL privacy unit belong to nobody and are left out of every metric.
//
// Metric semantics (per partition, i.e. cohort):
//   conversion: a (unit, partition) pair exists iff the unit has a row matching every `from`
//     filter (and the metric's filter) in that partition; its value is 1 if the unit also has a
//     row matching every `to` filter there, else 0. The true value is converted / pairs.
//   funnel: a pair exists iff the unit reached step 1 (a row matching step 1's filters) in that
//     partition; its value is the number of consecutive steps reached, where step i counts if the
//     unit has rows matching each of steps 1..i in that partition, in any order (order-insensitive:
//     timestamps are not compared). The true value is the number of units reaching the last step;
//     funnelStepCounts (core/data/csr.ts) gives every step.

// The C API bindings under @duckdb/node-api (same version; node-api exposes each chunk's raw
// handle as `chunk.chunk`): vector_get_data gives a vector's values as bytes, copied with one set().
import duckdb from '@duckdb/node-bindings';
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { basename } from 'node:path';
import type { AnalysisConfig, Filter, Metric } from '../../core/config/schema';
import type { MetricContributions, PartitionKeys } from '../../core/data/contributions';
import { buildContributions } from '../../core/data/csr';
import { DpError } from '../../core/errors';
import { QueryCancelled } from './engine';
import { DataError, dataError } from './errors';
import { MissingColumnError, columnMap, describeTable, dimensionSql, filtersSql, quoteIdent, valueSql } from './sql';
import type { ColumnInfo } from './sql';

export type ContributionMetric = Exclude<Metric, { kind: 'ratio' | 'local-frequency' }>;

/** The parts of the analysis config that aggregation reads. */
export type AggregationConfig = Pick<AnalysisConfig, 'privacyUnit' | 'dimensions'>;

export interface AggregateOptions {
  /** The data file, for error messages (the table name otherwise). */
  readonly file?: string;
  /** Cancels the running query (the connection is interrupted). */
  readonly signal?: AbortSignal;
  /**
   * Join rows to units and cohorts on the exact keys instead of their 64-bit hashes (slower).
   * Done anyway when two distinct keys share a hash.
   */
  readonly exactJoin?: boolean;
  /**
   * Sum and mean: read every row ('rows'), or runs of equal values per pair with their counts
   * ('runs': far fewer entries when values repeat, as the zeros of a revenue column do). 'auto'
   * (default) looks at a block sample first. The contributions are the same either way.
   */
  readonly valueEncoding?: 'auto' | 'rows' | 'runs';
}

// ---------------------------------------------------------------------------------------------
// Reading query results into typed arrays

type ColumnSpec = 'i32' | 'f64';
type ColumnArray = Int32Array | Float64Array;

const SPEC_TYPE: Record<ColumnSpec, DuckDBTypeId> = { i32: DuckDBTypeId.INTEGER, f64: DuckDBTypeId.DOUBLE };

function allocate(spec: ColumnSpec, n: number): ColumnArray {
  return spec === 'i32' ? new Int32Array(n) : new Float64Array(n);
}

/**
 * Runs a query whose columns are non-NULL INTEGER / DOUBLE and copies each chunk's vectors into
 * typed arrays (one memcpy per vector; no per-value JS objects). The query must guarantee that no
 * value is NULL; a NULL is an internal error.
 */
export async function fetchColumns(conn: DuckDBConnection, sql: string, specs: readonly ColumnSpec[]): Promise<ColumnArray[]> {
  // Materialized: DuckDB runs the whole query in parallel, then chunks are read synchronously.
  // (A streaming result pulls each 2048-row chunk through the pipeline one at a time: several
  // times slower for 10^7 rows.)
  const result = await conn.run(sql);
  if (result.columnCount !== specs.length) throw new Error(`internal: query gives ${result.columnCount} columns, expected ${specs.length}`);
  specs.forEach((s, j) => {
    if (result.columnTypeId(j) !== SPEC_TYPE[s]) throw new Error(`internal: column ${result.columnName(j)} is ${result.columnType(j).toString()}, expected ${s}`);
  });
  const total = result.rowCount;
  const out = specs.map((s) => allocate(s, total));
  let n = 0;
  for (let c = 0, chunks = result.chunkCount; c < chunks; c++) {
    const chunk = result.getChunk(c);
    const m = chunk.rowCount;
    if (m === 0) continue;
    if (n + m > total) throw new Error('internal: more rows than the result reported');
    for (let j = 0; j < specs.length; j++) {
      const target = out[j]!;
      const size = target.BYTES_PER_ELEMENT;
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, j);
      const validity = duckdb.vector_get_validity(vector, Math.ceil(m / 64) * 8);
      if (validity && !allValid(validity, m)) throw new Error(`internal: NULL in column ${result.columnName(j)}`);
      let bytes = duckdb.vector_get_data(vector, m * size);
      if (bytes.byteOffset % size !== 0) bytes = bytes.slice();
      const view = size === 4 ? new Int32Array(bytes.buffer, bytes.byteOffset, m) : new Float64Array(bytes.buffer, bytes.byteOffset, m);
      target.set(view, n);
    }
    n += m;
  }
  return n === total ? out : out.map((a) => a.slice(0, n));
}

function allValid(mask: Uint8Array, m: number): boolean {
  const full = m >>> 3;
  for (let i = 0; i < full; i++) if (mask[i] !== 0xff) return false;
  const rest = m & 7;
  return rest === 0 || ((mask[full] ?? 0) & ((1 << rest) - 1)) === (1 << rest) - 1;
}

// ---------------------------------------------------------------------------------------------
// The SQL of a metric

interface MetricSql {
  readonly unit: string;
  readonly keys: readonly string[];
  readonly dimensions: readonly string[];
  /** Rows that can contribute (metric filter, unit not NULL, value not NULL, some step). */
  readonly where: string;
  readonly value?: string;
  /** Conditions whose bits make the per-pair step mask (conversion: from, to; funnel: steps). */
  readonly steps?: readonly string[];
}

const MAX_FUNNEL_STEPS = 30;

function metricSql(config: AggregationConfig, metric: ContributionMetric, columns: ReadonlyMap<string, ColumnInfo>): MetricSql {
  const unitCol = columns.get(config.privacyUnit.column);
  if (!unitCol) throw new MissingColumnError(config.privacyUnit.column, 'unit', [...columns.keys()]);
  const unit = quoteIdent(unitCol.name);
  const keys = metric.by.map((name) => {
    const dim = config.dimensions.find((d) => d.name === name);
    if (!dim) throw new DpError('InvalidParameter', `metric ${metric.id}: unknown dimension ${JSON.stringify(name)}`);
    return dimensionSql(dim, columns);
  });
  const parts = [`${unit} IS NOT NULL`];
  if (metric.filter.length > 0) parts.push(filtersSql(metric.filter, columns));
  let value: string | undefined;
  let steps: string[] | undefined;
  switch (metric.kind) {
    case 'sum':
    case 'mean':
      value = valueSql(metric.column, columns);
      parts.push(`${quoteIdent(metric.column)} IS NOT NULL`);
      break;
    case 'conversion':
      steps = [filtersSql(metric.from, columns), filtersSql(metric.to, columns)];
      break;
    case 'funnel':
      if (metric.steps.length > MAX_FUNNEL_STEPS) throw new DpError('InvalidParameter', `metric ${metric.id}: a funnel has at most ${MAX_FUNNEL_STEPS} steps, not ${metric.steps.length}`);
      steps = metric.steps.map((s: Filter[]) => filtersSql(s, columns));
      break;
    default:
      break;
  }
  if (steps) parts.push(`(${steps.map((s) => `(${s})`).join(' OR ')})`);
  return { unit, keys, dimensions: [...metric.by], where: parts.join(' AND '), ...(value ? { value } : {}), ...(steps ? { steps } : {}) };
}

const keyName = (i: number): string => `k${i}`;

function keyOrder(n: number): string {
  return Array.from({ length: n }, (_, i) => `${keyName(i)} NULLS LAST`).join(', ');
}

function keyJoin(left: string, right: string, n: number): string {
  return Array.from({ length: n }, (_, i) => `${left}.${keyName(i)} IS NOT DISTINCT FROM ${right}.${keyName(i)}`).join(' AND ');
}

let tempCounter = 0;

// ---------------------------------------------------------------------------------------------
// Errors and cancellation

function toDataError(e: unknown, file: string): unknown {
  if (e instanceof DataError || e instanceof DpError || e instanceof QueryCancelled) return e;
  if (e instanceof MissingColumnError) {
    return new DataError('MissingColumn', { file, column: e.column },
      `${basename(file)}: ${e.what} column ${JSON.stringify(e.column)} not found; columns are: ${e.available.join(', ')}`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (/^INTERRUPT Error|Interrupted!/.test(msg)) return new QueryCancelled(e);
  const first = msg.split('\n')[0] ?? msg;
  if (/^Conversion Error/.test(first)) return dataError('TypeMismatch', { file }, first, e);
  return e;
}

async function guarded<T>(conn: DuckDBConnection, opts: AggregateOptions, file: string, work: () => Promise<T>): Promise<T> {
  const { signal } = opts;
  if (signal?.aborted) throw new QueryCancelled(signal.reason);
  const onAbort = (): void => conn.interrupt();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const out = await work();
    if (signal?.aborted) throw new QueryCancelled(signal.reason);
    return out;
  } catch (e) {
    if (signal?.aborted && !(e instanceof QueryCancelled)) throw new QueryCancelled(e);
    throw toDataError(e, file);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function readKeys(conn: DuckDBConnection, sql: string, n: number): Promise<(string | null)[][]> {
  const reader = await conn.runAndReadAll(sql);
  const rows = reader.getRowsJS() as unknown[][];
  return rows.map((r) => r.slice(0, n).map((v) => (v === null || v === undefined ? null : String(v))));
}

// ---------------------------------------------------------------------------------------------
// Contributions

/**
 * The CSR contributions and exact per-partition values of one metric (any kind but ratio: a
 * ratio's caller computes its numerator and denominator). `table` is a DuckDB table or view on
 * `conn`; temporary tables are created and dropped on the same connection.
 */
export async function computeContributions(
  conn: DuckDBConnection,
  table: string,
  config: AggregationConfig,
  anyMetric: ContributionMetric | Extract<Metric, { kind: 'local-frequency' }>,
  opts: AggregateOptions = {},
): Promise<MetricContributions> {
  const metric = anyMetric as ContributionMetric;
  if ((metric as Metric).kind === 'ratio') throw new DpError('InvalidParameter', `metric ${metric.id}: a ratio has no contributions of its own; compute its numerator and denominator`);
  if ((metric as Metric).kind === 'local-frequency') throw new DpError('InvalidParameter', `metric ${metric.id}: a local-frequency metric has no central contributions; use computeLocalCategories (data/local.ts)`);
  const file = opts.file ?? table;
  return guarded(conn, opts, file, async () => {
    const columns = columnMap(await describeTable(conn, table));
    const m = metricSql(config, metric, columns);
    const n = m.keys.length;
    const t = quoteIdent(table);
    const id = ++tempCounter;
    const unitsT = quoteIdent(`__dpw_units_${id}`);
    const partsT = quoteIdent(`__dpw_parts_${id}`);
    try {
      const keySel = m.keys.map((k, i) => `${k} AS ${keyName(i)}`);
      const keyHash = n > 0 ? `hash(${m.keys.join(', ')})` : '';
      // Units and partitions are joined to the rows by a 64-bit hash of their keys (an equality
      // join on one integer); if two distinct keys ever share a hash, by the exact keys instead.
      await conn.run(`CREATE TEMP TABLE ${unitsT} AS SELECT u, hash(u) AS h, (row_number() OVER (ORDER BY u) - 1)::INTEGER AS uid FROM (SELECT DISTINCT ${m.unit} AS u FROM ${t} WHERE ${m.where})`);
      let partitionKeys: (string | null)[][] = [[]];
      if (n > 0) {
        await conn.run(`CREATE TEMP TABLE ${partsT} AS SELECT *, hash(${Array.from({ length: n }, (_, i) => keyName(i)).join(', ')}) AS h, (row_number() OVER (ORDER BY ${keyOrder(n)}) - 1)::INTEGER AS pid FROM (SELECT DISTINCT ${keySel.join(', ')} FROM ${t} WHERE ${m.where})`);
        partitionKeys = await readKeys(conn, `SELECT ${Array.from({ length: n }, (_, i) => `CAST(${keyName(i)} AS VARCHAR)`).join(', ')} FROM ${partsT} ORDER BY pid`, n);
      }
      const check = await conn.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT h)::INTEGER FROM ${unitsT}${n > 0 ? ` UNION ALL SELECT count(*)::INTEGER, count(DISTINCT h)::INTEGER FROM ${partsT}` : ''}`);
      const counts = check.getRowsJS() as number[][];
      const unitIdCount = Number(counts[0]?.[0] ?? 0);
      const exact = opts.exactJoin === true || counts.some((r) => r[0] !== r[1]);
      const baseSel = exact ? [`${m.unit} AS u`, ...keySel] : [`hash(${m.unit}) AS hu`, ...(n > 0 ? [`${keyHash} AS hk`] : [])];
      if (m.value) baseSel.push(`${m.value} AS v`);
      if (m.steps) baseSel.push(`(${m.steps.map((s, i) => `CASE WHEN ${s} THEN ${2 ** i} ELSE 0 END`).join(' + ')})::INTEGER AS f`);
      const unitJoin = exact ? 'b.u = U.u' : 'b.hu = U.h';
      const partJoin = exact ? keyJoin('b', 'P', n) : 'b.hk = P.h';
      const joined = `(SELECT ${baseSel.join(', ')} FROM ${t} WHERE ${m.where}) b JOIN ${unitsT} U ON ${unitJoin}${n > 0 ? ` JOIN ${partsT} P ON ${partJoin}` : ''}`;
      const pidSel = n > 0 ? 'P.pid' : '0::INTEGER';
      const partitions: PartitionKeys = { dimensions: m.dimensions, keys: partitionKeys };
      const common = { unitIdCount, partitionIdCount: partitionKeys.length };
      const build = { metricId: metric.id, kind: metric.kind, partitions };
      switch (metric.kind) {
        case 'sum':
        case 'mean': {
          const runs = opts.valueEncoding === 'runs' || (opts.valueEncoding !== 'rows' && await repeatsPay(conn, t, m));
          const [u, p, v, c] = runs
            ? await fetchColumns(conn, `SELECT U.uid, ${pidSel} AS pid, b.v, count(*)::INTEGER AS n FROM ${joined} GROUP BY ALL ORDER BY 1, 2`, ['i32', 'i32', 'f64', 'i32'])
            : await fetchColumns(conn, `SELECT U.uid, ${pidSel} AS pid, b.v FROM ${joined} ORDER BY 1, 2`, ['i32', 'i32', 'f64']);
          const values = v as Float64Array;
          for (let i = 0; i < values.length; i++) {
            if (!Number.isFinite(values[i]!)) {
              throw dataError('NonFinite', { file, column: metric.column, value: String(values[i]) }, `${values[i]} is not a finite number`);
            }
          }
          return buildContributions({ unitIds: u as Int32Array, partitionIds: p as Int32Array, values, ...(c ? { rowCounts: c as Int32Array } : {}), ...common }, build);
        }
        case 'count': {
          const [u, p, c] = await fetchColumns(conn, `SELECT U.uid, ${pidSel} AS pid, count(*)::INTEGER AS n FROM ${joined} GROUP BY ALL ORDER BY 1, 2`, ['i32', 'i32', 'i32']);
          return buildContributions({ unitIds: u as Int32Array, partitionIds: p as Int32Array, rowCounts: c as Int32Array, ...common }, build);
        }
        case 'count-distinct': {
          const [u, p] = await fetchColumns(conn, `SELECT U.uid, ${pidSel} AS pid FROM ${joined} GROUP BY ALL ORDER BY 1, 2`, ['i32', 'i32']);
          return buildContributions({ unitIds: u as Int32Array, partitionIds: p as Int32Array, ...common }, build);
        }
        case 'conversion':
        case 'funnel': {
          const [u, p, f] = await fetchColumns(conn, `SELECT U.uid, ${pidSel} AS pid, bit_or(b.f)::INTEGER AS f FROM ${joined} GROUP BY ALL HAVING bit_or(b.f) & 1 = 1 ORDER BY 1, 2`, ['i32', 'i32', 'i32']);
          const mask = f as Int32Array;
          const values = new Float64Array(mask.length);
          // conversion: bit 0 = from (always set here), bit 1 = to. funnel: consecutive steps from bit 0.
          for (let i = 0; i < mask.length; i++) values[i] = metric.kind === 'conversion' ? (mask[i]! >> 1) & 1 : trailingOnes(mask[i]!);
          return buildContributions({ unitIds: u as Int32Array, partitionIds: p as Int32Array, values, ...common },
            metric.kind === 'funnel' ? { ...build, funnelSteps: metric.steps.length } : build);
        }
      }
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${unitsT}; DROP TABLE IF EXISTS ${partsT}`).catch(() => undefined);
    }
  });
}

/**
 * Whether values repeat enough that reading runs (unit, partition, value, count) beats reading every
 * row: when the 10 most common values cover at least half of the rows (revenue of events is mostly
 * 0: the runs are ~6x fewer than the rows). Estimated on a 2% block sample of the table (the whole
 * table when the sample holds fewer than 1000 matching rows); either way the result is the same.
 */
async function repeatsPay(conn: DuckDBConnection, t: string, m: MetricSql): Promise<boolean> {
  const share = async (from: string): Promise<[number, number]> => {
    const r = await conn.runAndReadAll(`WITH s AS (SELECT ${m.value} AS v FROM ${from} WHERE ${m.where}),
      top AS (SELECT count(*) AS k FROM s GROUP BY v ORDER BY k DESC LIMIT 10)
      SELECT (SELECT count(*) FROM s)::DOUBLE, coalesce((SELECT sum(k) FROM top), 0)::DOUBLE`);
    return (r.getRowsJS()[0] ?? [0, 0]) as [number, number];
  };
  let [rows, top] = await share(`${t} TABLESAMPLE 2% (system)`);
  if (rows < 1000) [rows, top] = await share(t);
  return rows > 0 && top >= 0.5 * rows;
}

function trailingOnes(x: number): number {
  let k = 0;
  while ((x >> k) & 1) k++;
  return k;
}

// ---------------------------------------------------------------------------------------------
// True values by a plain GROUP BY (independent of the contributions: the two are checked
// against each other in the tests)

export interface TrueValues {
  readonly metricId: string;
  readonly partitions: PartitionKeys;
  /** count, distinct units, sum, mean, conversion rate, or units reaching the funnel's last step. */
  readonly values: Float64Array;
  /** Distinct units per partition (pairs). */
  readonly units: Float64Array;
}

/** Exact per-partition values of one metric with one SQL GROUP BY over the cohort keys. */
export async function computeTrueValues(
  conn: DuckDBConnection,
  table: string,
  config: AggregationConfig,
  metric: ContributionMetric,
  opts: AggregateOptions = {},
): Promise<TrueValues> {
  const file = opts.file ?? table;
  return guarded(conn, opts, file, async () => {
    const columns = columnMap(await describeTable(conn, table));
    const m = metricSql(config, metric, columns);
    const n = m.keys.length;
    const t = quoteIdent(table);
    const keySel = m.keys.map((k, i) => `${k} AS ${keyName(i)}`);
    const keyCols = Array.from({ length: n }, (_, i) => keyName(i));
    const group = n > 0 ? `GROUP BY ${keyCols.join(', ')}` : '';
    const order = n > 0 ? `ORDER BY ${keyOrder(n)}` : '';
    const outKeys = keyCols.map((k) => `CAST(${k} AS VARCHAR)`);
    let inner: string;
    switch (metric.kind) {
      case 'count':
        inner = `SELECT ${[...keySel, 'count(*)::DOUBLE AS val', `count(DISTINCT ${m.unit})::DOUBLE AS units`].join(', ')} FROM ${t} WHERE ${m.where} ${n > 0 ? `GROUP BY ${m.keys.map((_, i) => i + 1).join(', ')}` : ''}`;
        break;
      case 'count-distinct':
        inner = `SELECT ${[...keySel, `count(DISTINCT ${m.unit})::DOUBLE AS val`, `count(DISTINCT ${m.unit})::DOUBLE AS units`].join(', ')} FROM ${t} WHERE ${m.where} ${n > 0 ? `GROUP BY ${m.keys.map((_, i) => i + 1).join(', ')}` : ''}`;
        break;
      case 'sum':
      case 'mean':
        inner = `SELECT ${[...keySel, `${metric.kind === 'sum' ? 'sum' : 'avg'}(${m.value})::DOUBLE AS val`, `count(DISTINCT ${m.unit})::DOUBLE AS units`].join(', ')} FROM ${t} WHERE ${m.where} ${n > 0 ? `GROUP BY ${m.keys.map((_, i) => i + 1).join(', ')}` : ''}`;
        break;
      case 'conversion':
      case 'funnel': {
        const steps = m.steps!;
        const flags = steps.map((s, i) => `bool_or(${s}) AS s${i}`);
        const pairs = `SELECT ${[`${m.unit} AS u`, ...keySel].join(', ')}, ${flags.join(', ')} FROM ${t} WHERE ${m.where} GROUP BY ${[1, ...m.keys.map((_, i) => i + 2)].join(', ')}`;
        const reached = metric.kind === 'conversion' ? 's1' : steps.map((_, i) => `s${i}`).join(' AND ');
        const agg = metric.kind === 'conversion' ? `avg(CASE WHEN ${reached} THEN 1 ELSE 0 END)::DOUBLE` : `count(*) FILTER (WHERE ${reached})::DOUBLE`;
        inner = `SELECT ${[...keyCols, `${agg} AS val`, 'count(*)::DOUBLE AS units'].join(', ')} FROM (${pairs}) WHERE s0 ${group}`;
        break;
      }
    }
    const reader = await conn.runAndReadAll(`SELECT ${[...outKeys, 'val', 'units'].join(', ')} FROM (${inner}) ${order}`);
    const rows = reader.getRowsJS() as unknown[][];
    // A metric without cohort keys over no rows still has its one (empty) partition in SQL; the
    // contributions have none, so drop it here too.
    const kept = n === 0 ? rows.filter((r) => Number(r[n + 1]) > 0) : rows;
    return {
      metricId: metric.id,
      partitions: { dimensions: m.dimensions, keys: kept.map((r) => r.slice(0, n).map((v) => (v === null || v === undefined ? null : String(v)))) },
      values: Float64Array.from(kept, (r) => Number(r[n])),
      units: Float64Array.from(kept, (r) => Number(r[n + 1])),
    };
  });
}
