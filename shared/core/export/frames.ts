// Data-frame code shared by the OpenDP (Polars) and Tumult (Spark) exports: filters as column
// expressions, cohort columns, and the per-(unit, cohort) step flags of conversions and funnels.

import type { AnalysisConfig, Dimension, Filter } from '../config/schema';
import { pyList, pyScalar, pyStr } from './python';

/** One filter as a Polars (`pl`) or Spark (`F`) boolean column expression. */
function filterExpr(f: Filter, lib: 'pl' | 'F'): string {
  const col = `${lib}.col(${pyStr(f.column)})`;
  if (f.op === 'in' || f.op === 'not-in') {
    const values = pyList((Array.isArray(f.value) ? f.value : [f.value]).map(pyScalar));
    const inExpr = lib === 'pl' ? `${col}.is_in(${values})` : `${col}.isin(${values})`;
    return f.op === 'in' ? inExpr : `(~${inExpr} & ${col}.${lib === 'pl' ? 'is_not_null' : 'isNotNull'}())`;
  }
  const v = pyScalar(Array.isArray(f.value) ? f.value[0]! : f.value);
  return `(${col} ${f.op === '=' ? '==' : f.op} ${v})`;
}

/** Filters ANDed as one column expression (a true literal when there are none). */
export function filtersExpr(fs: readonly Filter[], lib: 'pl' | 'F'): string {
  if (fs.length === 0) return `${lib}.lit(True)`;
  return fs.map((f) => filterExpr(f, lib)).join(' & ');
}

/** `frame.filter(<filters>)`, or the frame itself when there are no filters. */
export function filtered(frame: string, fs: readonly Filter[], lib: 'pl' | 'F'): string {
  return fs.length ? `${frame}.filter(${filtersExpr(fs, lib)})` : frame;
}

// Every dimension becomes a text column named after the dimension (days and ISO weeks, which
// start on Monday, as YYYY-MM-DD), so the public keys compare as text whatever the column type.

/** Polars expressions adding the dimension columns. */
export function polarsDimensionColumns(config: AnalysisConfig): string[] {
  return config.dimensions.map((d) => {
    const c = `pl.col(${pyStr(d.column)})`;
    if (d.bucket === 'day') return `${c}.dt.date().cast(pl.String).alias(${pyStr(d.name)})`;
    if (d.bucket === 'week') return `${c}.dt.truncate("1w").dt.date().cast(pl.String).alias(${pyStr(d.name)})`;
    return `${c}.cast(pl.String).alias(${pyStr(d.name)})`;
  });
}

/** Spark (name, expression) pairs adding the dimension columns. */
export function sparkDimensionColumns(config: AnalysisConfig): [string, string][] {
  return config.dimensions.map((d) => {
    const c = `F.col(${pyStr(d.column)})`;
    if (d.bucket === 'day') return [d.name, `F.date_format(F.to_date(${c}), "yyyy-MM-dd")`];
    if (d.bucket === 'week') return [d.name, `F.date_format(F.date_trunc("week", ${c}), "yyyy-MM-dd")`];
    return [d.name, `${c}.cast("string")`];
  });
}

/** Public keys of the dimensions as Python lists of text (as the cohort columns hold them). */
export function publicKeyLists(dims: readonly Dimension[]): string[] {
  return dims.map((d) => pyList(d.publicValues!.map((v) => pyStr(String(v)))));
}
