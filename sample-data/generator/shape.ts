// What every sample shape provides: its columns (name, type, meaning) and a streaming generator.

import type { Seed } from '../../shared/core/rng';

/** Column types as the workbench's loader names them, with the DuckDB type used for Parquet. */
export type ColumnKind = 'string' | 'integer' | 'float' | 'timestamp';

export const DUCKDB_TYPE: Record<ColumnKind, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  float: 'DOUBLE',
  timestamp: 'TIMESTAMPTZ',
};

export interface ColumnSpec<R> {
  readonly name: keyof R & string;
  readonly type: ColumnKind;
  readonly description: string;
}

export interface GenerateOptions {
  /** Exact number of rows to emit (>= 1). */
  readonly rows: number;
  readonly seed: Seed;
}

/** A generated row: only string and number values (no nulls, no NaN). */
export type SampleRow = { readonly [column: string]: string | number };

export interface Shape<R extends SampleRow, S> {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ColumnSpec<R>[];
  /**
   * Emits exactly `rows` rows, one at a time (nothing is held beyond one unit's rows), and returns
   * a summary of what was emitted. Deterministic in `seed`; the rows for N are a prefix of the
   * rows for any M > N with the same seed.
   */
  generate(opts: GenerateOptions, emit: (row: R) => void): S;
}

export function checkGenerateOptions(opts: GenerateOptions): void {
  if (!Number.isSafeInteger(opts.rows) || opts.rows < 1) throw new RangeError(`rows (${opts.rows}) must be a positive integer`);
}
