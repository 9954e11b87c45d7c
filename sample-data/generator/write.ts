// Writes a generated sample to a file as CSV, NDJSON or Parquet, streaming: rows go through a 1 MiB
// buffer to the file and are never all in memory. Parquet goes through a temporary CSV that DuckDB
// converts with explicit column types (COPY … TO … (FORMAT parquet)).

import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Seed } from '../../shared/core/rng';
import { makeCsvFormatter, makeNdjsonFormatter } from './csv';
import { DUCKDB_TYPE } from './shape';
import { SHAPES } from './shapes';
import type { ShapeName, ShapeSummary } from './shapes';

export const FORMATS = ['csv', 'ndjson', 'parquet'] as const;
export type SampleFormat = (typeof FORMATS)[number];

export interface WriteSampleOptions {
  readonly shape: ShapeName;
  readonly rows: number;
  readonly seed: Seed;
  readonly out: string;
  /** Inferred from the extension of `out` when absent (.csv, .ndjson/.jsonl, .parquet). */
  readonly format?: SampleFormat;
}

export interface WriteSampleResult {
  readonly out: string;
  readonly format: SampleFormat;
  readonly rows: number;
  readonly bytes: number;
  /** Generation and text writing. */
  readonly generateSeconds: number;
  /** CSV → Parquet conversion (0 for text formats). */
  readonly convertSeconds: number;
  readonly summary: ShapeSummary;
}

export function formatFromPath(path: string): SampleFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.parquet') return 'parquet';
  return undefined;
}

const FLUSH_BYTES = 1 << 20;

/** Streams `rows` rows of a shape as text (CSV with a header line, or NDJSON) into `path`. */
export function writeText(shape: ShapeName, rows: number, seed: Seed, path: string, format: 'csv' | 'ndjson'): ShapeSummary {
  const s = SHAPES[shape];
  const names = s.columns.map((c) => c.name);
  const fd = openSync(path, 'w');
  try {
    // Each line goes straight into a byte buffer, so its string dies young (cheap for the GC).
    const buf = Buffer.allocUnsafe(FLUSH_BYTES);
    let pos = 0;
    const put = (line: string): void => {
      if (pos + line.length * 3 > FLUSH_BYTES) {
        writeSync(fd, buf, 0, pos);
        pos = 0;
        if (line.length * 3 > FLUSH_BYTES) {
          writeSync(fd, line);
          return;
        }
      }
      pos += buf.write(line, pos, 'utf8');
    };
    let lineOf: (row: { readonly [c: string]: string | number }) => string;
    if (format === 'csv') {
      const f = makeCsvFormatter(names);
      put(f.header);
      lineOf = f.line;
    } else {
      lineOf = makeNdjsonFormatter(names).line;
    }
    const summary = s.generate({ rows, seed }, (row) => put(lineOf(row)));
    if (pos > 0) writeSync(fd, buf, 0, pos);
    return summary;
  } finally {
    closeSync(fd);
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The DuckDB read_csv expression for a CSV of the given shape, with explicit column types. */
export function readCsvSql(shape: ShapeName, csvPath: string): string {
  const cols = SHAPES[shape].columns.map((c) => `${sqlString(c.name)}: ${sqlString(DUCKDB_TYPE[c.type])}`).join(', ');
  return `read_csv(${sqlString(csvPath)}, header = true, delim = ',', quote = '"', escape = '"', columns = {${cols}})`;
}

/** Converts a CSV of the given shape to Parquet (zstd) with DuckDB, keeping the row order. */
export async function csvToParquet(shape: ShapeName, csvPath: string, parquetPath: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    await con.run('SET preserve_insertion_order = true');
    await con.run("SET TimeZone = 'UTC'");
    await con.run(`COPY (SELECT * FROM ${readCsvSql(shape, csvPath)}) TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Generates a sample into a file and reports its size and timings. */
export async function writeSample(opts: WriteSampleOptions): Promise<WriteSampleResult> {
  const format = opts.format ?? formatFromPath(opts.out);
  if (!format) throw new RangeError(`cannot tell the format of ${JSON.stringify(opts.out)}: use .csv, .ndjson or .parquet, or pass a format`);
  mkdirSync(dirname(opts.out), { recursive: true });
  const t0 = performance.now();
  if (format !== 'parquet') {
    const tmp = `${opts.out}.partial`;
    let summary: ShapeSummary;
    try {
      summary = writeText(opts.shape, opts.rows, opts.seed, tmp, format);
      renameSync(tmp, opts.out);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const t1 = performance.now();
    return { out: opts.out, format, rows: summary.rows, bytes: statSync(opts.out).size, generateSeconds: (t1 - t0) / 1000, convertSeconds: 0, summary };
  }
  const tmp = `${opts.out}.partial.csv`;
  try {
    const summary = writeText(opts.shape, opts.rows, opts.seed, tmp, 'csv');
    const t1 = performance.now();
    await csvToParquet(opts.shape, tmp, opts.out);
    const t2 = performance.now();
    return { out: opts.out, format, rows: summary.rows, bytes: statSync(opts.out).size, generateSeconds: (t1 - t0) / 1000, convertSeconds: (t2 - t1) / 1000, summary };
  } finally {
    rmSync(tmp, { force: true });
  }
}
