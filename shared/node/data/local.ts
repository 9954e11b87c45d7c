// The data of a local-DP metric (local-frequency, config/schema.ts): the one category each privacy
// unit would report through randomized response on its device.
//
// Per unit, among its rows that match the metric's filter and have a non-NULL `column`, each value
// is mapped to its index in the public `categories` list (compared as a literal of the column's
// type, as filters are); a value outside the list maps to `otherCategory` when the config sets
// one, and is otherwise an error naming the value. The unit's category is the most frequent mapped
// category among its rows, ties going to the first in `categories` order. Units with no such row
// do not report (they are not counted in n). Units are in ascending order of their id.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { AnalysisConfig, LocalFrequencyMetric } from '../../core/config/schema';
import { DpError } from '../../core/errors';
import { fetchColumns } from './aggregate';
import { MissingColumnError, columnMap, describeTable, filtersSql, literalFor, quoteIdent } from './sql';

export interface LocalCategories {
  readonly metricId: string;
  /** The public categories, in config order (index = category id). */
  readonly categories: readonly (string | number | boolean)[];
  /** Category index of each reporting unit (length = units). */
  readonly unitCategories: Int32Array;
  /** Units per category. */
  readonly trueCounts: Float64Array;
  /** trueCounts / units (all 0 when no unit reports). */
  readonly trueFrequencies: Float64Array;
  readonly units: number;
  /** Units whose category came from values outside the list, mapped to otherCategory. */
  readonly unitsMappedToOther: number;
}

/**
 * The category of every unit of a local-frequency metric (see the module comment). `table` is a
 * DuckDB table or view on `conn`.
 */
export async function computeLocalCategories(
  conn: DuckDBConnection,
  table: string,
  config: Pick<AnalysisConfig, 'privacyUnit'>,
  metric: LocalFrequencyMetric,
): Promise<LocalCategories> {
  const columns = columnMap(await describeTable(conn, table));
  const unitCol = columns.get(config.privacyUnit.column);
  if (!unitCol) throw new MissingColumnError(config.privacyUnit.column, 'unit', [...columns.keys()]);
  const col = columns.get(metric.column);
  if (!col) throw new MissingColumnError(metric.column, `metric ${metric.id}: category`, [...columns.keys()]);
  const k = metric.categories.length;
  const id = quoteIdent(col.name);
  const lit = (v: string | number | boolean): string => literalFor(v, col, { column: col.name, op: '=', value: v });
  const other = metric.otherCategory === undefined ? -1 : metric.categories.findIndex((c) => c === metric.otherCategory);
  const cases = metric.categories.map((c, i) => `WHEN ${id} = ${lit(c)} THEN ${i}`).join(' ');
  const where = [`${quoteIdent(unitCol.name)} IS NOT NULL`, `${id} IS NOT NULL`, ...(metric.filter.length > 0 ? [filtersSql(metric.filter, columns)] : [])].join(' AND ');
  const rows = `SELECT ${quoteIdent(unitCol.name)} AS u, CASE ${cases} ELSE -1 END AS ci, ${id} AS raw FROM ${quoteIdent(table)} WHERE ${where}`;

  if (other < 0) {
    const reader = await conn.runAndReadAll(`SELECT CAST(raw AS VARCHAR) AS v, count(*)::DOUBLE AS n FROM (${rows}) WHERE ci < 0 GROUP BY 1 ORDER BY n DESC, v LIMIT 5`);
    const bad = reader.getRowsJS() as unknown[][];
    if (bad.length > 0) {
      const list = bad.map((r) => `${JSON.stringify(String(r[0]))} (${Number(r[1])} rows)`).join(', ');
      throw new DpError('InvalidParameter', `metric ${metric.id}: column ${JSON.stringify(metric.column)} has value ${JSON.stringify(String(bad[0]![0]))}, which is not one of its categories [${metric.categories.map((c) => JSON.stringify(c)).join(', ')}] (values outside the list: ${list}); add it to categories or set otherCategory`);
    }
  }

  const mapped = `SELECT u, CASE WHEN ci < 0 THEN ${Math.max(other, 0)} ELSE ci END AS ci, ci < 0 AS outside FROM (${rows})`;
  const perPair = `SELECT u, ci, count(*) AS n, bool_or(outside) AS outside FROM (${mapped}) GROUP BY u, ci`;
  const ranked = `SELECT u, ci, outside, row_number() OVER (PARTITION BY u ORDER BY n DESC, ci ASC) AS rk FROM (${perPair})`;
  const [cats, outside] = await fetchColumns(conn, `SELECT CAST(ci AS INTEGER) AS ci, CAST(outside AS INTEGER) AS o FROM (${ranked}) WHERE rk = 1 ORDER BY u`, ['i32', 'i32']) as [Int32Array, Int32Array];
  const units = cats.length;
  const trueCounts = new Float64Array(k);
  let mappedToOther = 0;
  for (let i = 0; i < units; i++) {
    trueCounts[cats[i]!]! += 1;
    mappedToOther += outside[i]!;
  }
  return {
    metricId: metric.id,
    categories: [...metric.categories],
    unitCategories: cats,
    trueCounts,
    trueFrequencies: trueCounts.map((c) => (units > 0 ? c / units : 0)),
    units,
    unitsMappedToOther: mappedToOther,
  };
}
