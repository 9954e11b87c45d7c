// SQL text for the data services: quoted identifiers and literals, a metric's filters as a WHERE
// clause and its cohort keys as expressions (time buckets of a timestamp with date_trunc). Every
// name and value the user typed reaches DuckDB quoted here, never spliced in raw.
//
// Filters follow SQL semantics, as the production engines the workbench exports to do: a NULL
// never matches, so `country != 'FR'` leaves out rows whose country is NULL.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { Dimension, Filter } from '../../core/config/schema';
import { DpError } from '../../core/errors';
import { quoteIdent, quoteLiteral } from './engine';

export { quoteIdent, quoteLiteral };

/** How a column's DuckDB type behaves in filters, keys and values. */
export type ColumnClass = 'string' | 'integer' | 'float' | 'boolean' | 'date' | 'timestamp' | 'other';

export interface ColumnInfo {
  readonly name: string;
  /** DuckDB's type name, e.g. VARCHAR, BIGINT, DOUBLE, TIMESTAMP, DECIMAL(18,3). */
  readonly type: string;
  readonly cls: ColumnClass;
}

export function columnClass(duckdbType: string): ColumnClass {
  const t = duckdbType.toUpperCase();
  if (t === 'VARCHAR' || t.startsWith('ENUM') || t === 'UUID') return 'string';
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(t)) return 'integer';
  if (t === 'FLOAT' || t === 'DOUBLE' || t.startsWith('DECIMAL')) return 'float';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  return 'other';
}

/** Columns of a table or view, in order, with their DuckDB types. */
export async function describeTable(conn: DuckDBConnection, table: string): Promise<ColumnInfo[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE ${quoteIdent(table)}`);
  const rows = reader.getRowObjectsJS() as { column_name: string; column_type: string }[];
  return rows.map((r) => ({ name: r.column_name, type: r.column_type, cls: columnClass(r.column_type) }));
}

type Scalar = string | number | boolean;

function badFilter(f: Filter, why: string): DpError {
  return new DpError('InvalidParameter', `filter ${f.column} ${f.op} ${JSON.stringify(f.value)}: ${why}`);
}

/** A filter value as a literal of the column's class (so DuckDB never guesses a cast). */
export function literalFor(value: Scalar, col: ColumnInfo, f: Filter): string {
  switch (col.cls) {
    case 'string':
      return quoteLiteral(String(value));
    case 'integer':
    case 'float': {
      const v = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(v)) throw badFilter(f, `column ${JSON.stringify(col.name)} is numeric (${col.type}) and ${JSON.stringify(value)} is not a finite number`);
      // Shortest round-trip text of a double; integers print without exponent up to 1e21.
      return String(v);
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
      const s = String(value).trim().toLowerCase();
      if (s === 'true' || s === '1') return 'TRUE';
      if (s === 'false' || s === '0') return 'FALSE';
      throw badFilter(f, `column ${JSON.stringify(col.name)} is boolean and ${JSON.stringify(value)} is not true or false`);
    }
    case 'date':
    case 'timestamp': {
      if (typeof value !== 'string') throw badFilter(f, `column ${JSON.stringify(col.name)} is a ${col.type}: give the value as text, e.g. "2024-03-01"`);
      // Checked by DuckDB when the query binds; TRY_CAST below would silently match nothing.
      return `CAST(${quoteLiteral(value)} AS ${col.cls === 'date' ? 'DATE' : col.type})`;
    }
    default:
      return quoteLiteral(String(value));
  }
}

function lookup(columns: ReadonlyMap<string, ColumnInfo>, name: string, what: string): ColumnInfo {
  const col = columns.get(name);
  if (!col) throw new MissingColumnError(name, what, [...columns.keys()]);
  return col;
}

/** A column named by the analysis is not in the table. */
export class MissingColumnError extends Error {
  constructor(readonly column: string, readonly what: string, readonly available: readonly string[]) {
    super(`${what} column ${JSON.stringify(column)} is not in the data (columns: ${available.join(', ')})`);
    this.name = 'MissingColumnError';
  }
}

/** One filter as a SQL boolean expression. */
export function filterSql(f: Filter, columns: ReadonlyMap<string, ColumnInfo>): string {
  const col = lookup(columns, f.column, 'filter');
  const id = quoteIdent(col.name);
  const op = f.op ?? '=';
  if (op === 'in' || op === 'not-in') {
    const values = Array.isArray(f.value) ? f.value : [f.value];
    if (values.length === 0) return op === 'in' ? 'FALSE' : `(${id} IS NOT NULL)`;
    return `(${id} ${op === 'in' ? 'IN' : 'NOT IN'} (${values.map((v) => literalFor(v, col, f)).join(', ')}))`;
  }
  if (Array.isArray(f.value)) throw badFilter(f, `operator ${op} takes one value (use in / not-in for a list)`);
  return `(${id} ${op === '!=' ? '<>' : op} ${literalFor(f.value, col, f)})`;
}

/** Filters ANDed (TRUE when there are none). */
export function filtersSql(filters: readonly Filter[], columns: ReadonlyMap<string, ColumnInfo>): string {
  return filters.length === 0 ? 'TRUE' : filters.map((f) => filterSql(f, columns)).join(' AND ');
}

/**
 * A cohort key as a SQL expression of the row. Time buckets truncate a timestamp to its day or
 * its ISO week (weeks start on Monday) and give a DATE, whose text is YYYY-MM-DD.
 */
export function dimensionSql(dim: Pick<Dimension, 'column' | 'bucket'>, columns: ReadonlyMap<string, ColumnInfo>): string {
  const col = lookup(columns, dim.column, 'cohort');
  const id = quoteIdent(col.name);
  if (!dim.bucket) return id;
  if (col.cls !== 'timestamp' && col.cls !== 'date') {
    throw new DpError('InvalidParameter', `cohort ${JSON.stringify(dim.column)}: a ${dim.bucket} bucket needs a timestamp column, not ${col.type} (set the column's type to timestamp)`);
  }
  // A day is the timestamp's date (the same as date_trunc('day', …), and cheaper).
  return dim.bucket === 'day' ? `CAST(${id} AS DATE)` : `CAST(date_trunc('week', ${id}) AS DATE)`;
}

/** The map `describeTable` gives, keyed by name. */
export function columnMap(cols: readonly ColumnInfo[]): Map<string, ColumnInfo> {
  return new Map(cols.map((c) => [c.name, c]));
}

/** A numeric value column, as DOUBLE. */
export function valueSql(column: string, columns: ReadonlyMap<string, ColumnInfo>, what = 'value'): string {
  const col = lookup(columns, column, what);
  if (col.cls !== 'integer' && col.cls !== 'float' && col.cls !== 'boolean') {
    throw new DpError('InvalidParameter', `${what} column ${JSON.stringify(column)} is ${col.type}, not a number`);
  }
  return `CAST(${quoteIdent(col.name)} AS DOUBLE)`;
}
