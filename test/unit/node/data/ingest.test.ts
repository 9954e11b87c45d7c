// Loading samples through DuckDB: every format with its types and row counts, type overrides, and
// the bad-input corpus (each asserting the error code and that the message names file, line,
// column and value). All files are written to a temp dir by the tests themselves.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TimeUnit, bool, dateDay, dictionary, float64, int32, int64, tableFromArrays, tableToIPC, timestamp, utf8,
} from '@uwdata/flechette';
import { Engine } from '../../../../shared/node/data/engine';
import { DataError } from '../../../../shared/node/data/errors';
import type { DataErrorCode } from '../../../../shared/node/data/errors';
import {
  cardinalityWarnings, checkColumns, findColumnProblems, formatFromPath, locateRow, openDataset,
} from '../../../../shared/node/data/ingest';
import type { LoadProgress, LoadedDataset, OpenDatasetOptions } from '../../../../shared/node/data/ingest';

let dir: string;
let engine: Engine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dpw-ingest-'));
  engine = await Engine.create({ threads: 2 });
});

afterAll(() => {
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function load(path: string, opts: OpenDatasetOptions = {}): Promise<LoadedDataset> {
  return openDataset(path, { engine, ...opts });
}

/** The DataError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DataError) return e;
    throw new Error(`expected a DataError, got ${String(e)}`);
  }
  throw new Error('expected a DataError, but it succeeded');
}

async function expectError(p: Promise<unknown>, code: DataErrorCode, message: string | RegExp): Promise<DataError> {
  const e = await failure(p);
  expect(e.code).toBe(code);
  if (typeof message === 'string') expect(e.message).toBe(message);
  else expect(e.message).toMatch(message);
  expect(e.message).not.toContain('\n');
  return e;
}

function types(ds: LoadedDataset): Record<string, string> {
  return Object.fromEntries(ds.columns.map((c) => [c.name, c.type]));
}

async function tableNames(): Promise<string[]> {
  const rows = await engine.rows(`SELECT table_name FROM duckdb_tables() ORDER BY table_name`);
  return rows.map((r) => String(r['table_name']));
}

const EVENTS = [
  'uid,ts,event,country,revenue,ok',
  '1,2024-01-01 10:00:00,view,US,0,true',
  '2,2024-01-02 11:30:00,purchase,"Congo, Rep.",12.5,false',
  '1,2024-01-03 09:15:00,purchase,FR,3.25,true',
  '3,2024-01-03 09:20:00,"say ""hi""",,7,',
].join('\n') + '\n';

describe('formats', () => {
  it('CSV: types inferred, quoted fields, nulls, row count', async () => {
    const ds = await load(file('events.csv', EVENTS));
    expect(ds.format).toBe('csv');
    expect(ds.rowCount).toBe(4);
    expect(types(ds)).toEqual({ uid: 'integer', ts: 'timestamp', event: 'string', country: 'string', revenue: 'float', ok: 'boolean' });
    expect(ds.columns.find((c) => c.name === 'country')?.nullCount).toBe(1);
    expect(ds.columns.find((c) => c.name === 'ok')?.nullCount).toBe(1);
    const rows = await engine.rows(`SELECT country, event FROM ${ds.table} ORDER BY rowid`);
    expect(rows[1]).toEqual({ country: 'Congo, Rep.', event: 'purchase' });
    expect(rows[3]?.['event']).toBe('say "hi"');
    expect(ds.warnings).toEqual([]);
  });

  it('loads only the requested columns, or every column when one of them is missing', async () => {
    const ds = await load(file('proj.csv', EVENTS), { columns: ['uid', 'revenue'] });
    expect(ds.columns.map((c) => c.name)).toEqual(['uid', 'revenue']);
    expect(ds.rowCount).toBe(4);
    const all = await load(file('proj2.csv', EVENTS), { columns: ['uid', 'nope'] });
    expect(all.columns.map((c) => c.name)).toEqual(['uid', 'ts', 'event', 'country', 'revenue', 'ok']);
    // Strictness is kept under a projection: a ragged row in an unread column still fails.
    await expectError(load(file('proj3.csv', EVENTS + '4,2024-01-04 00:00:00,view,US,1,true,extra\n'), { columns: ['uid'] }), 'RaggedRow', /line 6/);
  });

  it('TSV', async () => {
    const ds = await load(file('events.tsv', 'uid\tcountry\trevenue\n1\tUS\t2.5\n2\tFR\t3\n'));
    expect(ds.format).toBe('tsv');
    expect(ds.rowCount).toBe(2);
    expect(types(ds)).toEqual({ uid: 'integer', country: 'string', revenue: 'float' });
  });

  it('gzip CSV (.csv.gz), and gzip content recognised under a plain .csv name', async () => {
    const gz = gzipSync(Buffer.from(EVENTS));
    for (const name of ['events.csv.gz', 'zipped-anyway.csv']) {
      const ds = await load(file(name, gz));
      expect(ds.compression).toBe('gzip');
      expect(ds.rowCount).toBe(4);
      expect(types(ds)['revenue']).toBe('float');
    }
  });

  it('NDJSON and JSONL', async () => {
    const text = '{"uid":1,"ts":"2024-01-02T03:04:05","ok":true,"revenue":2.5,"country":"US"}\n\n{"uid":2,"ts":"2024-01-03T00:00:00","ok":false,"revenue":3,"country":null}\n';
    for (const name of ['e.ndjson', 'e.jsonl']) {
      const ds = await load(file(name, text));
      expect(ds.format).toBe('ndjson');
      expect(ds.rowCount).toBe(2);
      expect(types(ds)).toEqual({ uid: 'integer', ts: 'timestamp', ok: 'boolean', revenue: 'float', country: 'string' });
      expect(ds.columns.find((c) => c.name === 'country')?.nullCount).toBe(1);
    }
  });

  it('JSON array; a .json file of one object per line is read as NDJSON', async () => {
    const arr = await load(file('a.json', '[{"uid":1,"v":1.5},\n {"uid":2,"v":2}]'));
    expect(arr.format).toBe('json');
    expect(arr.rowCount).toBe(2);
    expect(types(arr)).toEqual({ uid: 'integer', v: 'float' });
    const lines = await load(file('bq-export.json', '{"uid":1}\n{"uid":2}\n{"uid":3}\n'));
    expect(lines.format).toBe('ndjson');
    expect(lines.rowCount).toBe(3);
  });

  it('nested JSON values are kept as JSON text, with a warning', async () => {
    const ds = await load(file('nested.ndjson', '{"uid":1,"tags":{"a":1}}\n{"uid":2,"tags":{"a":2}}\n'));
    expect(types(ds)['tags']).toBe('string');
    expect(ds.warnings.map((w) => w.code)).toEqual(['ConvertedToString']);
    expect(await engine.rows(`SELECT tags FROM ${ds.table} ORDER BY rowid`)).toEqual([{ tags: '{"a":1}' }, { tags: '{"a":2}' }]);
  });

  it('Parquet (written by DuckDB COPY), DECIMAL read as float', async () => {
    const path = join(dir, 'events.parquet');
    await engine.run(`COPY (SELECT range AS uid, range * 0.5 AS revenue, 'c' || (range % 3) AS country, range % 2 = 0 AS ok,
      TIMESTAMP '2024-01-01' + to_minutes(range) AS ts, DATE '2024-01-01' + CAST(range AS INTEGER) AS day FROM range(10)) TO '${path}' (FORMAT parquet)`);
    const ds = await load(path);
    expect(ds.format).toBe('parquet');
    expect(ds.rowCount).toBe(10);
    expect(types(ds)).toEqual({ uid: 'integer', revenue: 'float', country: 'string', ok: 'boolean', ts: 'timestamp', day: 'timestamp' });
    expect(ds.columns.find((c) => c.name === 'revenue')?.duckdbType).toBe('DOUBLE');
  });

  it('Arrow IPC file and stream (.arrow, .feather) via flechette', async () => {
    const t = tableFromArrays({
      uid: [1n, 2n, 3n],
      small: [1, 2, null],
      revenue: [1.5, 0, 2.25],
      country: ['US', 'FR', 'US'],
      ok: [true, false, null],
      ts: [new Date('2024-01-01T00:00:00Z'), new Date('2024-01-02T12:00:00.5Z'), null],
      day: [new Date('2024-01-05T00:00:00Z'), null, new Date('2024-01-07T00:00:00Z')],
    }, {
      types: {
        uid: int64(), small: int32(), revenue: float64(), country: dictionary(utf8(), int32()), ok: bool(),
        ts: timestamp(TimeUnit.MICROSECOND), day: dateDay(),
      },
    });
    for (const [name, format] of [['t.arrow', 'file'], ['t.feather', 'file'], ['t.arrows', 'stream']] as const) {
      const ds = await load(file(name, tableToIPC(t, { format }) as Uint8Array));
      expect(ds.format).toBe('arrow');
      expect(ds.rowCount).toBe(3);
      expect(types(ds)).toEqual({ uid: 'integer', small: 'integer', revenue: 'float', country: 'string', ok: 'boolean', ts: 'timestamp', day: 'timestamp' });
      const rows = await engine.rows(`SELECT uid, small, country, ok, CAST(ts AS VARCHAR) AS ts, CAST(day AS VARCHAR) AS day FROM ${ds.table} ORDER BY rowid`);
      expect(rows[1]).toEqual({ uid: 2n, small: 2, country: 'FR', ok: false, ts: '2024-01-02 12:00:00.5', day: null });
      expect(rows[0]?.['day']).toBe('2024-01-05');
      expect(ds.columns.find((c) => c.name === 'ok')?.nullCount).toBe(1);
    }
  });

  it('format from the extension; unknown extensions are refused', async () => {
    expect(formatFromPath('a/b/events.CSV')).toBe('csv');
    expect(formatFromPath('x.csv.gz')).toBe('csv');
    expect(formatFromPath('x.jsonl')).toBe('ndjson');
    expect(formatFromPath('x.feather')).toBe('arrow');
    expect(formatFromPath('x.xlsx')).toBeUndefined();
    await expectError(load(file('events.xlsx', 'a')), 'UnsupportedFormat', /^events\.xlsx: unknown file type; use \.csv/);
    // An explicit format wins over the extension.
    const ds = await load(file('events.txt', 'a,b\n1,2\n'), { format: 'csv' });
    expect(ds.rowCount).toBe(1);
  });

  it('a missing file', async () => {
    await expectError(load(join(dir, 'nope.csv')), 'NotFound', 'nope.csv: cannot open the file: no such file');
  });
});

describe('type overrides', () => {
  it('CSV: ids kept as text (leading zeros), integers as floats, text as timestamps', async () => {
    const path = file('ov.csv', 'uid,n,when\n007,1,2024-01-01 10:00:00\n010,2,2024-01-02\n');
    const ds = await load(path, { columnTypes: { uid: 'string', n: 'float', when: 'timestamp' } });
    expect(types(ds)).toEqual({ uid: 'string', n: 'float', when: 'timestamp' });
    expect(await engine.rows(`SELECT uid, n FROM ${ds.table} ORDER BY rowid`)).toEqual([{ uid: '007', n: 1 }, { uid: '010', n: 2 }]);
  });

  it('a value that does not convert fails loudly with line, column and value (never rounded or nulled)', async () => {
    const before = await tableNames();
    const path = file('ov-bad.csv', 'uid,revenue\n1,3\n2,"multi\nline"\n3,2.5\n');
    const e = await expectError(load(path, { columnTypes: { revenue: 'integer', uid: 'string' } }), 'TypeMismatch',
      'ov-bad.csv: line 3, column "revenue": "multi\\nline" is not an integer');
    expect(e.line).toBe(3);
    const e2 = await expectError(load(file('ov-bad2.csv', 'uid,revenue\n1,3\n2,4\n3,2.5\n'), { columnTypes: { revenue: 'integer' } }),
      'TypeMismatch', 'ov-bad2.csv: line 4, column "revenue": "2.5" is not an integer');
    expect([e2.column, e2.value]).toEqual(['revenue', '2.5']);
    await expectError(load(file('ov-bad3.csv', 'uid,ok\n1,true\n2,maybe\n'), { columnTypes: { ok: 'boolean' } }),
      'TypeMismatch', 'ov-bad3.csv: line 3, column "ok": "maybe" is not a boolean (true/false)');
    expect(await tableNames()).toEqual(before);
  });

  it('Parquet and NDJSON overrides: whole floats become integers, fractions are refused by row or line', async () => {
    const path = join(dir, 'ov.parquet');
    await engine.run(`COPY (SELECT range AS uid, CAST(range AS DOUBLE) AS n, range + 0.5 AS half FROM range(3)) TO '${path}' (FORMAT parquet)`);
    const ds = await load(path, { columnTypes: { n: 'integer', uid: 'string' } });
    expect(types(ds)).toMatchObject({ uid: 'string', n: 'integer' });
    await expectError(load(path, { columnTypes: { half: 'integer' } }), 'TypeMismatch', 'ov.parquet: row 1, column "half": "0.5" is not an integer');
    await expectError(load(file('ov.ndjson', '{"a":1}\n\n{"a":2.5}\n'), { columnTypes: { a: 'integer' } }),
      'TypeMismatch', 'ov.ndjson: line 3, column "a": "2.5" is not an integer');
  });

  it('an override of a column that is not in the file', async () => {
    await expectError(load(file('ov-miss.csv', 'uid,Revenue\n1,2\n'), { columnTypes: { revenue: 'float' } }), 'MissingColumn',
      'ov-miss.csv: columnTypes: column "revenue" not found (did you mean "Revenue"?); columns are: uid, Revenue');
  });
});

describe('bad input corpus', () => {
  it('empty file (0 bytes), header only, only whitespace, empty JSON array, empty Parquet', async () => {
    await expectError(load(file('empty.csv', '')), 'EmptyFile', 'empty.csv: the file is empty (0 bytes)');
    await expectError(load(file('header.csv', 'uid,revenue\n')), 'EmptyFile', 'header.csv: has no data rows (columns: uid, revenue)');
    await expectError(load(file('blank.ndjson', '\n  \n')), 'EmptyFile', 'blank.ndjson: has no data (the file holds only whitespace)');
    await expectError(load(file('empty.json', '[]')), 'EmptyFile', 'empty.json: has no data rows');
    await expectError(load(file('empty.csv.gz', gzipSync(Buffer.alloc(0)))), 'EmptyFile', 'empty.csv.gz: the file is empty (gzip of 0 bytes)');
    const path = join(dir, 'empty.parquet');
    await engine.run(`COPY (SELECT 1 AS uid WHERE false) TO '${path}' (FORMAT parquet)`);
    await expectError(load(path), 'EmptyFile', 'empty.parquet: has no data rows (columns: uid)');
  });

  it('binary files: NUL bytes, a Parquet file named .csv, text named .parquet, a ZIP', async () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7919) % 256);
    await expectError(load(file('blob.csv', bytes)), 'BinaryFile', 'blob.csv: is a binary file, not CSV text (NUL byte at offset 0)');
    const pq = join(dir, 'real.parquet');
    await engine.run(`COPY (SELECT 1 AS a) TO '${pq}' (FORMAT parquet)`);
    const { readFileSync } = await import('node:fs');
    await expectError(load(file('disguised.csv', readFileSync(pq))), 'BinaryFile', 'disguised.csv: is a Parquet file, not CSV text');
    await expectError(load(file('text.parquet', 'a,b\n1,2\n')), 'BinaryFile', 'text.parquet: is not a Parquet file: it looks like a text file');
    await expectError(load(file('sheet.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]))), 'BinaryFile', /^sheet\.csv: is a ZIP archive/);
    await expectError(load(file('bad.arrow', 'not arrow')), 'BinaryFile', 'bad.arrow: is not an Arrow IPC file: it looks like a text file');
    const truncated = readFileSync(pq).subarray(0, 20);
    await expectError(load(file('truncated.parquet', truncated)), 'Unreadable', 'truncated.parquet: is not a complete Parquet file (no footer; truncated?)');
  });

  it('ragged rows: too many and too few fields, also far past the first 64 KiB', async () => {
    const before = await tableNames();
    const e = await expectError(load(file('ragged.csv', 'uid,revenue,country\n1,2.5,US\n2,3,FR,extra\n')), 'RaggedRow',
      'ragged.csv: line 3: 4 fields, but the header has 3 (uid, revenue, country): "2,3,FR,extra"');
    expect(e.line).toBe(3);
    await expectError(load(file('short.csv', 'uid,revenue,country\n1,2.5,US\n\n3,4\n')), 'RaggedRow',
      'short.csv: line 4: 2 fields, but the header has 3 (uid, revenue, country): "3,4"');
    const rows = ['uid,revenue,country'];
    for (let i = 0; i < 30_000; i++) rows.push(`${i},${i % 100},C${i % 7}`);
    rows[25_000] += ',oops';
    await expectError(load(file('ragged-late.csv', rows.join('\n') + '\n')), 'RaggedRow',
      'ragged-late.csv: line 25001: 4 fields, but the header has 3 (uid, revenue, country): "24999,99,C2,oops"');
    expect(await tableNames()).toEqual(before);
  });

  it('unterminated quote, and text after a closing quote', async () => {
    const e = await expectError(load(file('unterminated.csv', 'uid,country\n1,US\n2,"FR\n3,DE\n')), 'UnterminatedQuote',
      'unterminated.csv: line 3, column "country": a quoted field starts here and is never closed');
    expect([e.line, e.column]).toEqual([3, 'country']);
    await expectError(load(file('badquote.csv', 'uid,country\n1,"US"A\n')), 'BadQuote',
      'badquote.csv: line 2, column "country": text after the closing quote in "\\"US\\"A" (a quote inside a quoted field is written "")');
  });

  it('wrong encoding: Latin-1 bytes in CSV and NDJSON, a UTF-16 file', async () => {
    const latin1 = Buffer.concat([Buffer.from('uid,country\n1,US\n2,Fran'), Buffer.from([0xe7]), Buffer.from('e\n')]);
    const e = await expectError(load(file('latin1.csv', latin1)), 'Encoding',
      'latin1.csv: line 3, column "country": invalid UTF-8 (byte 0xE7) in "Fran\uFFFDe"; the file is not UTF-8 (save it as UTF-8)');
    expect([e.line, e.column]).toEqual([3, 'country']);
    const nd = Buffer.concat([Buffer.from('{"uid":1,"c":"US"}\n{"uid":2,"c":"Fran'), Buffer.from([0xe7]), Buffer.from('e"}\n')]);
    await expectError(load(file('latin1.ndjson', nd)), 'Encoding',
      'latin1.ndjson: line 2: invalid UTF-8 (byte 0xE7) in "Fran\uFFFDe"; the file is not UTF-8 (save it as UTF-8)');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('uid,country\n1,US\n', 'utf16le')]);
    await expectError(load(file('utf16.csv', utf16)), 'Encoding', 'utf16.csv: is UTF-16 encoded (byte order mark); save it as UTF-8');
    // Past the first 64 KiB the bytes are found by DuckDB, and the line by a scan.
    const big = ['uid,country'];
    for (let i = 0; i < 30_000; i++) big.push(`${i},US`);
    const late = Buffer.concat([Buffer.from(big.join('\n') + '\n30000,Fran'), Buffer.from([0xe7]), Buffer.from('e\n')]);
    await expectError(load(file('latin1-late.csv', late)), 'Encoding', /^latin1-late\.csv: line 30002, column "country": invalid UTF-8 \(byte 0xE7\)/);
  });

  it('malformed NDJSON and a row that is not an object', async () => {
    await expectError(load(file('broken.ndjson', '{"uid":1}\n{"uid":2\n{"uid":3}\n')), 'Malformed', /^broken\.ndjson: line 3: malformed JSON \(/);
    await expectError(load(file('notobj.ndjson', '{"uid":1}\n[1,2]\n')), 'Malformed', 'notobj.ndjson: line 2: expected a JSON object per row, found array');
  });

  it('text in a numeric column: past the inferred sample, via checkColumns, via an override', async () => {
    const rows = ['uid,revenue'];
    for (let i = 0; i < 30_000; i++) rows.push(`${i},${i % 50}.5`);
    rows[27_000] = '26999,abc';
    const e = await expectError(load(file('text-late.csv', rows.join('\n') + '\n')), 'TypeMismatch',
      /^text-late\.csv: line 27001, column "revenue": "abc" is not a number; the column was read as float/);
    expect([e.line, e.column, e.value]).toEqual([27001, 'revenue', 'abc']);

    const ds = await load(file('text.csv', 'uid,revenue\n1,2.5\n2,3\n3,abc\n'));
    expect(types(ds)['revenue']).toBe('string');
    await expectError(checkColumns(ds, [{ column: 'revenue', role: 'value', numeric: true }]), 'TypeMismatch',
      'text.csv: line 4, column "revenue": "abc" is not a number; a value column must be numeric');
    await expectError(load(file('text2.csv', 'uid,revenue\n1,2.5\n2,n/a\n'), { columnTypes: { revenue: 'float' } }), 'TypeMismatch',
      'text2.csv: line 3, column "revenue": "n/a" is not a number');
  });

  it('NaN and Infinity in numeric columns are errors', async () => {
    await expectError(load(file('nan.csv', 'uid,revenue\n1,2.5\n2,NaN\n')), 'NonFinite', 'nan.csv: line 3, column "revenue": NaN is not a finite number');
    await expectError(load(file('inf.csv', 'uid,revenue\n1,2.5\n2,3\n3,-Infinity\n')), 'NonFinite', 'inf.csv: line 4, column "revenue": -Infinity is not a finite number');
    await expectError(load(file('nan.ndjson', '{"v":1}\n{"v":Infinity}\n')), 'NonFinite', 'nan.ndjson: line 2, column "v": Infinity is not a finite number');
    const arrow = tableToIPC(tableFromArrays({ v: [1, NaN] }), { format: 'file' }) as Uint8Array;
    await expectError(load(file('nan.arrow', arrow)), 'NonFinite', 'nan.arrow: row 2, column "v": NaN is not a finite number');
    // In a text column used as a metric value:
    const ds = await load(file('nan-text.csv', 'uid,revenue\n1,2.5\n2,oops\n3,inf\n'), { columnTypes: { revenue: 'string' } });
    const problems = await findColumnProblems(ds, [{ column: 'revenue', role: 'value', numeric: true }]);
    expect(problems.map((p) => p.code)).toEqual(['TypeMismatch']);
    const ds2 = await load(file('inf-text.csv', 'uid,revenue\n1,2.5\n3,inf\n'), { columnTypes: { revenue: 'string' } });
    await expectError(checkColumns(ds2, [{ column: 'revenue', role: 'value', numeric: true }]), 'NonFinite',
      'inf-text.csv: line 3, column "revenue": "inf" is not a finite number; a value column must hold finite numbers');
  });

  it('missing unit column, non-numeric and negative values (checkColumns)', async () => {
    const ds = await load(file('check.csv', 'user_id,country,revenue,ts\n1,US,2.5,2024-01-01 00:00:00\n2,FR,-3.5,2024-01-01 00:00:00\n'));
    await expectError(checkColumns(ds, [{ column: 'uid', role: 'unit' }]), 'MissingColumn',
      'check.csv: unit column "uid" not found; columns are: user_id, country, revenue, ts');
    await expectError(checkColumns(ds, [{ column: 'user_id', role: 'unit' }, { column: 'revenue', role: 'value', numeric: true, nonNegative: true }]),
      'NegativeValue', 'check.csv: line 3, column "revenue": -3.5 is negative; a value column must hold values >= 0');
    await expectError(checkColumns(ds, [{ column: 'ts', role: 'value', numeric: true }]), 'TypeMismatch',
      'check.csv: column "ts": is a timestamp column, not numeric; a value column must be numeric');
    await expect(checkColumns(ds, [{ column: 'user_id', role: 'unit' }, { column: 'revenue', role: 'value', numeric: true }])).resolves.toBeUndefined();
    const all = await findColumnProblems(ds, [{ column: 'uid', role: 'unit' }, { column: 'Country', role: 'cohort' }, { column: 'revenue', role: 'value', nonNegative: true }]);
    expect(all.map((p) => p.code)).toEqual(['MissingColumn', 'MissingColumn', 'NegativeValue']);
    expect(all[1]?.message).toBe('check.csv: cohort column "Country" not found (did you mean "country"?); columns are: user_id, country, revenue, ts');
    expect(await locateRow(ds, 1)).toEqual({ line: 3, row: 2 });
  });

  it('a cohort key with 10^6 distinct values gives a warning, quickly', async () => {
    const path = join(dir, 'wide.parquet');
    await engine.run(`COPY (SELECT range AS session_id, range % 50 AS country FROM range(1000000)) TO '${path}' (FORMAT parquet)`);
    const ds = await load(path);
    const t0 = performance.now();
    const warnings = await cardinalityWarnings(ds, ['session_id', 'country']);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(warnings).toHaveLength(1);
    const [w] = warnings;
    expect(w?.code).toBe('HighCardinality');
    if (w?.code !== 'HighCardinality') throw new Error('unreachable');
    expect(w.column).toBe('session_id');
    expect(w.distinct).toBeGreaterThan(900_000);
    expect(w.distinct).toBeLessThan(1_100_000);
    expect(w.message).toMatch(/^wide\.parquet: column "session_id": about \d+ distinct values \(more than 10000\); as a cohort key/);
    await expectError(cardinalityWarnings(ds, ['nope']), 'MissingColumn', /^wide\.parquet: cohort column "nope" not found/);
    await engine.run(`DROP TABLE ${ds.table}`);
  });
});

describe('progress and cancellation', () => {
  function bigCsv(name: string, n: number): string {
    const block: string[] = [];
    for (let i = 0; i < 1000; i++) block.push(`${i % 500},2024-01-${10 + (i % 18)} 10:00:00,${i % 3 ? 'view' : 'buy'},C${i % 90},${i % 100}.5\n`);
    return file(name, 'uid,ts,event,country,revenue\n' + block.join('').repeat(Math.ceil(n / 1000)));
  }

  it('reports checking, reading (start with bytes, end with rows) and done', async () => {
    const events: LoadProgress[] = [];
    const ds = await load(file('p.csv', EVENTS), { onProgress: (p) => events.push(p) });
    const phases = events.map((p) => p.phase);
    expect(phases[0]).toBe('checking');
    expect(events.find((p) => p.phase === 'reading')).toMatchObject({ fraction: 0, bytes: EVENTS.length });
    expect(events.filter((p) => p.phase === 'reading').at(-1)).toMatchObject({ fraction: 1, rows: 4 });
    expect(events.at(-1)).toEqual({ phase: 'done', fraction: 1, rows: ds.rowCount });
    await engine.run(`DROP TABLE ${ds.table}`);
  });

  it('an already aborted signal: Cancelled, nothing created', async () => {
    const before = await tableNames();
    const controller = new AbortController();
    controller.abort();
    await expectError(load(file('c0.csv', EVENTS), { signal: controller.signal }), 'Cancelled', 'c0.csv: loading was cancelled');
    expect(await tableNames()).toEqual(before);
  });

  it('aborting while DuckDB reads interrupts it and drops the half-made table; the engine stays usable', async () => {
    const path = bigCsv('big.csv', 400_000);
    const before = await tableNames();
    const controller = new AbortController();
    let polls = 0;
    const e = await failure(load(path, {
      signal: controller.signal,
      progressIntervalMs: 5,
      onProgress: (p) => {
        if (p.phase === 'reading' && (polls += 1) === 2) controller.abort();
      },
    }));
    expect(e.code).toBe('Cancelled');
    expect(e.message).toBe('big.csv: loading was cancelled');
    expect(await tableNames()).toEqual(before);
    expect(await engine.row('SELECT 41 + 1 AS x')).toEqual({ x: 42 });
  });

  it('aborting an Arrow load between chunks', async () => {
    const n = 200_000;
    const t = tableFromArrays({ uid: Int32Array.from({ length: n }, (_, i) => i), v: Float64Array.from({ length: n }, (_, i) => i / 2) });
    const path = file('big.arrow', tableToIPC(t, { format: 'file' }) as Uint8Array);
    const before = await tableNames();
    const controller = new AbortController();
    await expectError(load(path, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'reading' && (p.rows ?? 0) > 0) controller.abort();
      },
    }), 'Cancelled', 'big.arrow: loading was cancelled');
    expect(await tableNames()).toEqual(before);
  });

  it('a failed load into a named table leaves the existing table as it was', async () => {
    const ok = await load(file('keep.csv', 'a\n1\n2\n'), { table: 'events' });
    expect(ok.table).toBe('events');
    await expectError(load(file('keep-bad.csv', 'a\n1\n2,3\n'), { table: 'events' }), 'RaggedRow', /^keep-bad\.csv: line 3/);
    expect(await engine.row('SELECT count(*) AS n FROM events')).toEqual({ n: 2n });
    const replaced = await load(file('keep2.csv', 'b\nx\n'), { table: 'events' });
    expect(replaced.columns.map((c) => c.name)).toEqual(['b']);
    await engine.run('DROP TABLE events');
  });

  it('without an engine, openDataset makes its own', async () => {
    const ds = await openDataset(file('own.csv', 'a\n1\n'));
    expect(ds.engine).not.toBe(engine);
    expect(ds.rowCount).toBe(1);
    ds.engine.close();
    expect(ds.engine.closed).toBe(true);
  });
});
