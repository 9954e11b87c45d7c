// Loading a sample into DuckDB, strictly. A file becomes one DuckDB table with typed columns, or a
// DataError whose one-line message names the file and, where it applies, the line, column and value.
//
//   CSV / TSV (quoted fields, gzip)  DuckDB read_csv, dialect fixed (no sniffed delimiter, quote,
//                                    skipped rows or comments), strict_mode, no null_padding, no
//                                    ignore_errors
//   NDJSON / JSONL, JSON arrays      DuckDB read_json (records)
//   Parquet                          DuckDB read_parquet
//   Arrow IPC (.arrow, .feather)     DuckDB 1.5 cannot read Arrow IPC files without the `arrow`
//                                    community extension (not available offline), so the file is
//                                    decoded with @uwdata/flechette and appended in data chunks
//
// Before DuckDB: the first 64 KiB are checked for NUL bytes (binary), UTF-16/32 byte order marks,
// invalid UTF-8, a Parquet/Arrow/ZIP file under a text extension, emptiness, and (CSV) ragged rows
// or bad quotes; gzip is recognised from its magic bytes. When DuckDB fails on a text file, the
// whole file is scanned again in Node to find the exact line, column and value of the problem.
// After the read: user type overrides are applied with a checked cast (the first value that does
// not convert is reported; nothing is silently rounded or nulled), NaN/±Infinity in numeric columns
// are errors, and a file without data rows is an error.

import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { createGunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, TIMESTAMP, UBIGINT, VARCHAR,
  DuckDBDataChunk, DuckDBDateValue, DuckDBTimestampValue,
} from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { tableFromIPC } from '@uwdata/flechette';
import type { Column as ArrowColumn, DataType as ArrowDataType, Table as ArrowTable } from '@uwdata/flechette';
import type { ColumnType, DataFormat } from '../../core/config/schema';
import { Engine, QueryCancelled, quoteIdent, quoteLiteral } from './engine';
import { DataError, cancelled, dataError, formatValue } from './errors';
import type { DataErrorCode, DataErrorDetails, DataWarning } from './errors';

// ---------------------------------------------------------------------------------------------
// Public types

export interface LoadProgress {
  /** 'checking' | 'reading' | 'converting' | 'validating' | 'done' */
  readonly phase: string;
  /** 0..1, or null when unknown. */
  readonly fraction: number | null;
  readonly rows?: number;
  /** File size in bytes (on 'reading' start). */
  readonly bytes?: number;
}

export interface OpenDatasetOptions {
  /** Inferred from the extension when absent. */
  readonly format?: DataFormat;
  /** Overrides of inferred column types, applied with a checked cast. */
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LoadProgress) => void;
  /** How often DuckDB's progress is polled while it reads (ms, default 100). */
  readonly progressIntervalMs?: number;
  /** Load into this engine; otherwise a new in-memory engine is created (and closed on failure). */
  readonly engine?: Engine;
  /** Name of the table to create (an existing one is replaced on success only); a fresh name otherwise. */
  readonly table?: string;
  /**
   * Load only these columns (CSV/TSV and Parquet): the analysis's unit, cohort, value and filter
   * columns. A pure optimisation — if any is not in the file, every column is loaded, so the
   * caller's column checks report the missing one with its role.
   */
  readonly columns?: readonly string[];
}

export interface LoadedColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** DuckDB's type, e.g. 'BIGINT', 'DOUBLE', 'VARCHAR', 'TIMESTAMP', 'DATE'. */
  readonly duckdbType: string;
  readonly nullCount: number;
}

export interface LoadedDataset {
  /** The engine that holds the table. Whoever created the engine closes it. */
  readonly engine: Engine;
  /** DuckDB table with the data, rows in file order (rowid = 0-based data row). */
  readonly table: string;
  readonly path: string;
  /** The format actually read (a .json file of one object per line is read as 'ndjson'). */
  readonly format: DataFormat;
  readonly compression: 'none' | 'gzip';
  readonly rowCount: number;
  readonly columns: readonly LoadedColumn[];
  readonly warnings: readonly DataWarning[];
}

export interface ColumnRequirement {
  readonly column: string;
  /** What the analysis uses the column for, as the message says it: 'unit', 'cohort', 'value', … */
  readonly role: string;
  readonly numeric?: boolean;
  readonly nonNegative?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Formats

const EXTENSIONS: Record<string, DataFormat> = {
  csv: 'csv', tsv: 'tsv', tab: 'tsv', ndjson: 'ndjson', jsonl: 'ndjson', json: 'json',
  parquet: 'parquet', pq: 'parquet', arrow: 'arrow', feather: 'arrow', ipc: 'arrow', arrows: 'arrow',
};

/** Format from the file name (.csv, .tsv, .csv.gz, .ndjson, .jsonl, .json, .parquet, .arrow, .feather), or undefined. */
export function formatFromPath(path: string): DataFormat | undefined {
  const name = basename(path).toLowerCase().replace(/\.(gz|gzip)$/, '');
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSIONS[name.slice(dot + 1)];
}

const TEXT_FORMATS: ReadonlySet<DataFormat> = new Set(['csv', 'tsv', 'ndjson', 'json']);
const FORMAT_NAMES: Record<DataFormat, string> = {
  csv: 'CSV text', tsv: 'TSV text', ndjson: 'NDJSON text', json: 'JSON text', parquet: 'a Parquet file', arrow: 'an Arrow IPC file',
};

// ---------------------------------------------------------------------------------------------
// Types

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);
const FLOAT_TYPES = new Set(['FLOAT', 'DOUBLE']);
const TIME_TYPES = new Set(['DATE', 'TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMP WITH TIME ZONE']);

const DUCKDB_TYPE_OF: Record<ColumnType, string> = {
  string: 'VARCHAR', integer: 'BIGINT', float: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP',
};

/** Our column type for a DuckDB type, or undefined for types the workbench does not use directly. */
export function columnTypeOf(duckdbType: string): ColumnType | undefined {
  if (duckdbType === 'VARCHAR') return 'string';
  if (duckdbType === 'BOOLEAN') return 'boolean';
  if (INTEGER_TYPES.has(duckdbType)) return 'integer';
  if (FLOAT_TYPES.has(duckdbType) || duckdbType.startsWith('DECIMAL')) return 'float';
  if (TIME_TYPES.has(duckdbType)) return 'timestamp';
  return undefined;
}

const TYPE_WORDS: Record<ColumnType, string> = {
  string: 'text', integer: 'an integer', float: 'a number', boolean: 'a boolean (true/false)', timestamp: 'a timestamp',
};

// ---------------------------------------------------------------------------------------------
// Text scanning in Node: UTF-8, NUL bytes, CSV structure, and record → line lookups.

interface ScanProblem {
  readonly code: DataErrorCode;
  readonly line: number;
  readonly column?: string;
  readonly value?: string;
  readonly what: string;
}

interface ScanOptions {
  /** 'csv' tokenises fields (with a header); 'lines' treats each non-blank line as a record. */
  readonly kind: 'csv' | 'lines';
  /** Field delimiter byte for 'csv'. */
  readonly delimiter?: number;
  /** Stop once this record (0-based, header included) has been seen, and report its first line. */
  readonly stopAtRecord?: number;
  /** For 'csv': stop at the first data record whose field `index` equals `text`. */
  readonly findValue?: { readonly index: number; readonly text: string };
  /** Column names to use in messages (otherwise the header's). */
  readonly columnNames?: readonly string[];
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const CAPTURE = 200;

/** Tokeniser states. */
const S = { FieldStart: 0, Unquoted: 1, Quoted: 2, QuoteInQuoted: 3 } as const;
type State = (typeof S)[keyof typeof S];

/** Length of the prefix of `b` that holds no incomplete UTF-8 sequence at its end. */
function completeUtf8Prefix(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= Math.min(4, n); k++) {
    const c = b[n - k] as number;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? n - k : n;
  }
  return n;
}

/** Offset of the first invalid UTF-8 sequence in b[0, end), or -1. Incomplete at `end` counts as invalid. */
export function firstInvalidUtf8(b: Uint8Array, end = b.length): number {
  let i = 0;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [need, cp, min] = [1, c & 0x1f, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, cp, min] = [2, c & 0x0f, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, cp, min] = [3, c & 0x07, 0x10000];
    else return i;
    for (let j = 1; j <= need; j++) {
      const d = i + j < end ? (b[i + j] as number) : -1;
      if (d < 0 || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

const lossy = new TextDecoder('utf-8', { fatal: false });

class TextScanner {
  problem: ScanProblem | undefined;
  /** 1-based line where the requested record (stopAtRecord / findValue) starts. */
  foundLine: number | undefined;
  header: string[] | undefined;
  /** Complete non-blank records seen (header included for csv). */
  records = 0;

  private line = 1;
  private state: State = S.FieldStart;
  private pendingCR = false;
  private field = 0;
  private recordLine = 1;
  private recordBlank = true;
  private quoteLine = 0;
  private fieldBytes: number[] = [];
  private recordBytes: number[] = [];
  private fields: string[] = [];
  private carry: Uint8Array = new Uint8Array(0);
  private done = false;

  constructor(private readonly opts: ScanOptions) {}

  get finished(): boolean {
    return this.done;
  }

  /** Feed the next chunk; returns false once a problem or the requested record was found. */
  push(chunk: Uint8Array): boolean {
    if (this.done) return false;
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = completeUtf8Prefix(buf);
    let bad = -1;
    if (!isUtf8(buf.subarray(0, cut))) bad = firstInvalidUtf8(buf, cut);
    const end = bad >= 0 ? bad : cut;
    this.consume(buf, end);
    if (!this.done && bad >= 0) this.encodingProblem(buf, bad);
    this.carry = this.done ? new Uint8Array(0) : Uint8Array.from(buf.subarray(cut));
    return !this.done;
  }

  /** End of input. */
  end(): void {
    if (this.done) return;
    if (this.carry.length > 0) {
      this.encodingProblem(this.carry, 0);
      return;
    }
    if (this.pendingCR) {
      this.pendingCR = false;
      this.newline();
    }
    if (this.done) return;
    if (this.opts.kind === 'csv') {
      if (this.state === S.Quoted) {
        this.fail({
          code: 'UnterminatedQuote', line: this.quoteLine, column: this.columnName(this.field),
          value: this.fieldText(), what: 'a quoted field starts here and is never closed',
        });
        return;
      }
      if (!this.recordBlank || this.field > 0) this.endRecord();
    } else if (!this.recordBlank) {
      this.endRecord();
    }
    this.done = true;
  }

  private fail(problem: ScanProblem): void {
    this.problem = problem;
    this.done = true;
  }

  private columnName(index: number): string | undefined {
    return this.opts.columnNames?.[index] ?? this.header?.[index];
  }

  private fieldText(): string {
    return lossy.decode(Uint8Array.from(this.fieldBytes)).replace(/\r$/, '');
  }

  private encodingProblem(buf: Uint8Array, at: number): void {
    const byte = buf[at] as number;
    // The value: the field so far, the bad byte and what follows up to the end of the field.
    // In JSON lines, the string so far (after the last quote) stands for the field.
    const csv = this.opts.kind === 'csv';
    const lastQuote = this.recordBytes.lastIndexOf(QUOTE);
    const prefix = csv ? this.fieldBytes : this.recordBytes.slice(lastQuote + 1).slice(-40);
    const tail: number[] = [];
    for (let i = at; i < buf.length && tail.length < 40; i++) {
      const c = buf[i] as number;
      if (c === LF || c === CR || c === QUOTE || (csv && c === this.opts.delimiter)) break;
      tail.push(c);
    }
    const value = lossy.decode(Uint8Array.from([...prefix, ...tail]));
    const column = csv ? this.columnName(this.field) : undefined;
    this.fail({
      code: 'Encoding', line: this.line, ...(column !== undefined ? { column } : {}), value,
      what: `invalid UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}) in ${formatValue(value)}; the file is not UTF-8 (save it as UTF-8)`,
    });
  }

  private consume(b: Uint8Array, end: number): void {
    const csv = this.opts.kind === 'csv';
    const delim = this.opts.delimiter ?? 0x2c;
    for (let i = 0; i < end && !this.done; i++) {
      const c = b[i] as number;
      if (c === 0) {
        this.fail({ code: 'BinaryFile', line: this.line, what: 'NUL byte: this is a binary file, not text' });
        return;
      }
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === LF) {
          this.newline();
          continue;
        }
        this.byte(CR, csv, delim); // a lone CR is content
        if (this.done) return;
      }
      if (c === CR && this.state !== S.Quoted) {
        this.pendingCR = true;
        continue;
      }
      if (c === LF && this.state !== S.Quoted) {
        this.newline();
        continue;
      }
      this.byte(c, csv, delim);
    }
  }

  /** A non-newline byte (or a newline inside quotes). */
  private byte(c: number, csv: boolean, delim: number): void {
    if (this.recordBytes.length < CAPTURE) this.recordBytes.push(c);
    if (!csv) {
      if (c !== 0x20 && c !== 0x09) this.recordBlank = false;
      return;
    }
    this.recordBlank = false;
    switch (this.state) {
      case S.FieldStart:
        if (c === QUOTE) {
          this.state = S.Quoted;
          this.quoteLine = this.line;
        } else if (c === delim) {
          this.endField();
        } else {
          this.state = S.Unquoted;
          this.keep(c);
        }
        return;
      case S.Unquoted:
        // A quote inside an unquoted field is kept as text, as DuckDB does.
        if (c === delim) this.endField();
        else this.keep(c);
        return;
      case S.Quoted:
        if (c === QUOTE) this.state = S.QuoteInQuoted;
        else {
          if (c === LF) this.line += 1;
          this.keep(c);
        }
        return;
      case S.QuoteInQuoted:
        if (c === QUOTE) {
          this.state = S.Quoted;
          this.keep(c);
        } else if (c === delim) {
          this.endField();
        } else {
          const column = this.columnName(this.field);
          this.fail({
            code: 'BadQuote', line: this.line, ...(column !== undefined ? { column } : {}),
            value: `"${this.fieldText()}"${String.fromCharCode(c)}`,
            what: `text after the closing quote in ${formatValue(`"${this.fieldText()}"${String.fromCharCode(c)}`)} (a quote inside a quoted field is written "")`,
          });
        }
        return;
    }
  }

  private keep(c: number): void {
    if (this.fieldBytes.length < CAPTURE) this.fieldBytes.push(c);
  }

  private endField(): void {
    if (this.opts.kind === 'csv' && (this.records === 0 || this.opts.findValue)) this.fields.push(this.fieldText());
    this.field += 1;
    this.fieldBytes = [];
    this.state = S.FieldStart;
  }

  private newline(): void {
    if (this.opts.kind === 'csv') {
      if (!this.recordBlank) this.endRecord();
    } else if (!this.recordBlank) {
      this.endRecord();
    }
    this.line += 1;
    this.recordLine = this.line;
    this.recordBlank = true;
    this.recordBytes = [];
  }

  private endRecord(): void {
    if (this.opts.kind === 'csv') {
      this.endField();
      const count = this.field;
      if (this.records === 0) {
        this.header = this.fields;
      } else if (this.header && count !== this.header.length) {
        const text = lossy.decode(Uint8Array.from(this.recordBytes)).replace(/\r$/, '');
        const names = (this.opts.columnNames ?? this.header).join(', ');
        this.fail({
          code: 'RaggedRow', line: this.recordLine, value: text,
          what: `${count} field${count === 1 ? '' : 's'}, but the header has ${this.header.length} (${names}): ${formatValue(text)}`,
        });
        return;
      } else if (this.opts.findValue && this.fields[this.opts.findValue.index] === this.opts.findValue.text) {
        this.foundLine = this.recordLine;
        this.done = true;
      }
    }
    if (this.opts.stopAtRecord !== undefined && this.records === this.opts.stopAtRecord) {
      this.foundLine = this.recordLine;
      this.done = true;
    }
    this.records += 1;
    this.field = 0;
    this.fields = [];
    this.fieldBytes = [];
    this.state = S.FieldStart;
  }
}

async function scanFile(path: string, gzip: boolean, opts: ScanOptions, signal?: AbortSignal): Promise<TextScanner> {
  const scanner = new TextScanner(opts);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const source = gzip ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw cancelled(path, signal.reason);
      if (!scanner.push(chunk)) break;
    }
    scanner.end();
  } catch (e) {
    if (e instanceof DataError) throw e;
    // A truncated gzip stream: report what was found so far.
    if (!scanner.problem) scanner.end();
  } finally {
    file.destroy();
    if (source !== file) (source as NodeJS.ReadableStream & { destroy(): void }).destroy();
  }
  return scanner;
}

// ---------------------------------------------------------------------------------------------
// The first bytes of the file

interface Head {
  readonly size: number;
  readonly gzip: boolean;
  /** Up to 64 KiB of (decompressed) content. */
  readonly bytes: Uint8Array;
  /** `bytes` is the whole (decompressed) content. */
  readonly complete: boolean;
}

const HEAD_BYTES = 64 * 1024;

async function readHead(path: string): Promise<Head> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    const what = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw dataError('NotFound', { file: path }, `cannot open the file: ${what}`, e);
  });
  if (info.isDirectory()) throw dataError('NotFound', { file: path }, 'is a directory, not a file');
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw dataError('NotFound', { file: path }, `cannot open the file: ${e.code === 'EACCES' ? 'permission denied' : e.message}`, e);
  });
  try {
    const raw = Buffer.alloc(Math.min(info.size, HEAD_BYTES));
    const { bytesRead } = await handle.read(raw, 0, raw.length, 0);
    const first = raw.subarray(0, bytesRead);
    const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    if (!gzip) return { size: info.size, gzip, bytes: first, complete: info.size <= HEAD_BYTES };
    let out: Buffer;
    try {
      out = gunzipSync(first, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (e) {
      throw dataError('Unreadable', { file: path }, `is not a valid gzip file (${(e as Error).message})`, e);
    }
    const complete = info.size <= HEAD_BYTES && out.length <= HEAD_BYTES;
    return { size: info.size, gzip, bytes: out.subarray(0, HEAD_BYTES), complete };
  } finally {
    await handle.close();
  }
}

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  return sig.every((v, i) => b[at + i] === v);
}

const PAR1 = [0x50, 0x41, 0x52, 0x31];
const ARROW1 = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];
const ARROW_STREAM = [0xff, 0xff, 0xff, 0xff];
const ZIP = [0x50, 0x4b, 0x03, 0x04];

function sniffKind(b: Uint8Array): string | undefined {
  if (startsWith(b, PAR1)) return 'a Parquet file';
  if (startsWith(b, ARROW1)) return 'an Arrow IPC file';
  if (startsWith(b, ZIP)) return 'a ZIP archive (an Excel workbook?)';
  if (startsWith(b, ARROW_STREAM)) return 'an Arrow IPC stream';
  return undefined;
}

function isBlank(b: Uint8Array, from: number): boolean {
  for (let i = from; i < b.length; i++) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x09 && c !== LF && c !== CR) return false;
  }
  return true;
}

function firstNonBlank(b: Uint8Array, from: number): number | undefined {
  for (let i = from; i < b.length; i++) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x09 && c !== LF && c !== CR) return c;
  }
  return undefined;
}

/** Checks of the head that need no engine; returns the CSV header when the format is CSV/TSV. */
function checkHead(path: string, format: DataFormat, head: Head): { header?: string[]; bom: number } {
  const file = path;
  const b = head.bytes;
  if (head.size === 0 || (head.complete && b.length === 0)) {
    throw dataError('EmptyFile', { file }, head.size === 0 ? 'the file is empty (0 bytes)' : 'the file is empty (gzip of 0 bytes)');
  }
  if (!TEXT_FORMATS.has(format)) {
    const expected = format === 'parquet' ? startsWith(b, PAR1) : startsWith(b, ARROW1) || startsWith(b, ARROW_STREAM);
    if (head.gzip) throw dataError('UnsupportedFormat', { file }, `is gzip-compressed; ${FORMAT_NAMES[format]} is read uncompressed (decompress it first)`);
    if (!expected) {
      const kind = sniffKind(b);
      const what = kind ?? (b.includes(0) ? 'a binary file of another kind' : 'a text file');
      throw dataError('BinaryFile', { file }, `is not ${FORMAT_NAMES[format]}: it looks like ${what}`);
    }
    return { bom: 0 };
  }
  // Text formats.
  if (startsWith(b, [0xff, 0xfe, 0, 0]) || startsWith(b, [0, 0, 0xfe, 0xff])) {
    throw dataError('Encoding', { file }, 'is UTF-32 encoded (byte order mark); save it as UTF-8');
  }
  if (startsWith(b, [0xff, 0xfe]) || startsWith(b, [0xfe, 0xff])) {
    throw dataError('Encoding', { file }, 'is UTF-16 encoded (byte order mark); save it as UTF-8');
  }
  const kind = sniffKind(b);
  if (kind) throw dataError('BinaryFile', { file }, `is ${kind}, not ${FORMAT_NAMES[format]}`);
  const nul = b.indexOf(0);
  if (nul >= 0) {
    throw dataError('BinaryFile', { file }, `is a binary file, not ${FORMAT_NAMES[format]} (NUL byte at offset ${nul})`);
  }
  const bom = startsWith(b, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  if (head.complete && isBlank(b, bom)) throw dataError('EmptyFile', { file }, 'has no data (the file holds only whitespace)');

  // Scan the head: encoding, and for CSV the header and the structure of the first records.
  const csv = format === 'csv' || format === 'tsv';
  const scanner = new TextScanner(csv ? { kind: 'csv', delimiter: format === 'tsv' ? 0x09 : 0x2c } : { kind: 'lines' });
  let text = b.subarray(bom);
  if (!head.complete) {
    // Only whole lines: a record cut at the end of the head is not a problem.
    const lastLF = text.lastIndexOf(LF);
    text = text.subarray(0, lastLF >= 0 ? lastLF + 1 : 0);
  }
  scanner.push(text);
  if (head.complete) scanner.end();
  const p = scanner.problem;
  // An unterminated quote can only be judged on the whole file; a quote opened near the end of a
  // partial head may close later.
  if (p) throw dataError(p.code, locationOf(file, p), p.what);
  return { ...(scanner.header ? { header: scanner.header } : {}), bom };
}

function locationOf(file: string, p: ScanProblem): DataErrorDetails {
  return { file, line: p.line, ...(p.column !== undefined ? { column: p.column } : {}), ...(p.value !== undefined ? { value: p.value } : {}) };
}

// ---------------------------------------------------------------------------------------------
// DuckDB error text → DataError

interface SourceInfo {
  readonly path: string;
  readonly format: DataFormat;
  readonly gzip: boolean;
  /** Column names (when known) for messages. */
  columnNames?: readonly string[];
  /** Column types as inferred or set (DuckDB types), when known. */
  duckdbTypes?: Readonly<Record<string, string>>;
  /** Columns whose type the user set. */
  overridden?: ReadonlySet<string>;
}

function engineMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first meaningful line of a DuckDB error, without its "Xxx Error: " prefix. */
function firstLine(message: string): string {
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return line.replace(/^[A-Za-z ]*Error: /, '').trim();
}

function csvDelimiter(format: DataFormat): number {
  return format === 'tsv' ? 0x09 : 0x2c;
}

/** Scan a CSV/NDJSON file for its first structural problem. */
async function findTextProblem(src: SourceInfo, signal?: AbortSignal): Promise<ScanProblem | undefined> {
  if (!TEXT_FORMATS.has(src.format)) return undefined;
  const csv = src.format === 'csv' || src.format === 'tsv';
  const scanner = await scanFile(src.path, src.gzip,
    csv ? { kind: 'csv', delimiter: csvDelimiter(src.format), ...(src.columnNames ? { columnNames: src.columnNames } : {}) } : { kind: 'lines' },
    signal);
  return scanner.problem;
}

const NUMBER_WORD = (duckdbType: string): string => {
  const t = columnTypeOf(duckdbType);
  return t ? TYPE_WORDS[t] : duckdbType;
};

async function mapReadError(e: unknown, src: SourceInfo, signal?: AbortSignal): Promise<DataError> {
  if (e instanceof DataError) return e;
  if (e instanceof QueryCancelled) return cancelled(src.path, e);
  const file = src.path;
  const message = engineMessage(e);
  const csv = src.format === 'csv' || src.format === 'tsv';

  if (csv) {
    // Conversion of an (inferred or set) type: DuckDB names the column and the value.
    const conv = /Error when converting column "((?:[^"]|"")*)"\. Could not convert string "((?:[^"\\]|\\.)*)" to '([^']+)'/.exec(message);
    if (conv) {
      const column = conv[1] as string;
      const value = conv[2] as string;
      const target = conv[3] as string;
      const duckLine = Number(/CSV Error on Line: (\d+)/.exec(message)?.[1] ?? NaN);
      // DuckDB counts records; find the physical line of the first record with this value.
      const index = src.columnNames?.indexOf(column) ?? -1;
      let line: number | undefined = Number.isFinite(duckLine) ? duckLine : undefined;
      if (index >= 0) {
        const s = await scanFile(file, src.gzip, { kind: 'csv', delimiter: csvDelimiter(src.format), findValue: { index, text: value } }, signal);
        if (s.foundLine !== undefined) line = s.foundLine;
      }
      const inferred = !src.overridden?.has(column);
      const hint = inferred
        ? `; the column was read as ${columnTypeOf(target) ?? target} from its first rows (set its type to string to read it as text)`
        : '';
      return dataError('TypeMismatch', { file, ...(line !== undefined ? { line } : {}), column, value },
        `${formatValue(value)} is not ${NUMBER_WORD(target)}${hint}`, e);
    }
    const problem = await findTextProblem(src, signal);
    if (problem) return dataError(problem.code, locationOf(file, problem), problem.what, e);
    const line = Number(/CSV Error on Line: (\d+)/.exec(message)?.[1] ?? NaN);
    const at: DataErrorDetails = Number.isFinite(line) ? { file, line } : { file };
    const found = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
    if (found) return dataError('RaggedRow', at, `${found[2]} fields, but the header has ${found[1]}`, e);
    if (/unterminated quote/i.test(message)) return dataError('UnterminatedQuote', at, 'a quoted field is never closed', e);
    if (/Invalid unicode|not utf-8/i.test(message)) return dataError('Encoding', at, 'invalid UTF-8; the file is not UTF-8 (save it as UTF-8)', e);
    if (/Error when sniffing file/.test(message)) {
      return dataError('Unreadable', { file }, 'could not make out the CSV layout (delimiter, quotes, header); check that the file is comma-separated with a header row', e);
    }
  }

  if (src.format === 'ndjson' || src.format === 'json') {
    const malformed = /Malformed JSON in file "(?:[^"]|\\")*", at byte \d+ in line (\d+): (.*?)\.?\s*$/m.exec(message);
    if (malformed) {
      const line = Number(malformed[1]);
      const detail = malformed[2] as string;
      if (/UTF-8/i.test(detail)) {
        const problem = await findTextProblem(src, signal);
        if (problem?.code === 'Encoding') return dataError('Encoding', locationOf(file, problem), problem.what, e);
        return dataError('Encoding', { file, line }, 'invalid UTF-8; the file is not UTF-8 (save it as UTF-8)', e);
      }
      return dataError('Malformed', { file, line }, `malformed JSON (${detail})`, e);
    }
    const transform = /JSON transform error in file "(?:[^"]|\\")*", in (?:line|record\/value) (\d+): (.*)$/m.exec(message);
    if (transform) {
      const line = Number(transform[1]);
      const detail = (transform[2] as string).replace(/^Failed to cast value to numerical/, 'not a number').replace(/^Failed to cast value/, 'cannot read value');
      return dataError('TypeMismatch', src.format === 'ndjson' ? { file, line } : { file, row: line },
        `${detail}; a value of another type than in the first rows (set the column's type to string to read it as text)`, e);
    }
    if (/Expected top-level JSON array/.test(message)) {
      return dataError('Malformed', { file }, 'expected a JSON array of objects ([{...}, ...]); for one object per line use .ndjson', e);
    }
    if (/expected records, but got non-record JSON/.test(message)) return nonRecordJson(src, e);
  }

  if (src.format === 'parquet') {
    if (/No magic bytes found|not a parquet file/i.test(message)) {
      return dataError('Unreadable', { file }, 'is not a complete Parquet file (no footer; truncated?)', e);
    }
    return dataError('Unreadable', { file }, `cannot read the Parquet file (${firstLine(message)})`, e);
  }

  if (/Input is not a GZIP stream|gzip/i.test(message) && src.gzip) {
    return dataError('Unreadable', { file }, `cannot decompress the gzip file (${firstLine(message)})`, e);
  }
  return dataError('Unreadable', { file }, `cannot read the file (${firstLine(message)})`, e);
}

/** DuckDB refused a JSON file whose rows are not objects: say which row, or that there is none. */
async function nonRecordJson(src: SourceInfo, cause: unknown): Promise<DataError> {
  const file = src.path;
  const engine = await Engine.create({ threads: 1 });
  try {
    const reader = `read_json(${quoteLiteral(file)}, format = ${quoteLiteral(src.format === 'ndjson' ? 'newline_delimited' : 'array')}, records = false, compression = ${quoteLiteral(src.gzip ? 'gzip' : 'uncompressed')})`;
    const count = await engine.row(`SELECT count(*) AS n FROM ${reader}`);
    if (Number(count?.['n'] ?? 0) === 0) return dataError('EmptyFile', { file }, 'has no data rows', cause);
    const bad = await engine.row(`SELECT n, t FROM (SELECT row_number() OVER () AS n, json_type(json) AS t FROM ${reader}) WHERE t <> 'OBJECT' ORDER BY n LIMIT 1`);
    if (bad) {
      const n = Number(bad['n']);
      let details: DataErrorDetails = { file, row: n };
      if (src.format === 'ndjson') {
        const s = await scanFile(file, src.gzip, { kind: 'lines', stopAtRecord: n - 1 });
        if (s.foundLine !== undefined) details = { file, line: s.foundLine };
      }
      return dataError('Malformed', details, `expected a JSON object per row, found ${String(bad['t']).toLowerCase()}`, cause);
    }
  } catch {
    // fall through
  } finally {
    engine.close();
  }
  return dataError('Malformed', { file }, 'expected JSON objects (one per row)', cause);
}

// ---------------------------------------------------------------------------------------------
// Row → line

/** Where 0-based data row `rowid` is in the file: the physical line for CSV/TSV/NDJSON, else the row. */
export async function locateRow(dataset: Pick<LoadedDataset, 'path' | 'format' | 'compression'>, rowid: number): Promise<{ line?: number; row: number }> {
  const row = rowid + 1;
  const { format } = dataset;
  if (format !== 'csv' && format !== 'tsv' && format !== 'ndjson') return { row };
  const csv = format !== 'ndjson';
  const s = await scanFile(dataset.path, dataset.compression === 'gzip',
    csv ? { kind: 'csv', delimiter: csvDelimiter(format), stopAtRecord: rowid + 1 } : { kind: 'lines', stopAtRecord: rowid });
  return s.foundLine !== undefined ? { line: s.foundLine, row } : { row };
}

// ---------------------------------------------------------------------------------------------
// Arrow IPC via flechette

interface ArrowPlan {
  readonly name: string;
  readonly duck: DuckDBType;
  readonly sqlType: string;
  readonly convert: (v: unknown) => DuckDBValue;
  /** Set when the Arrow type is turned into text. */
  readonly convertedFrom?: string;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'Null', 2: 'Int', 3: 'Float', 4: 'Binary', 5: 'Utf8', 6: 'Bool', 7: 'Decimal', 8: 'Date', 9: 'Time', 10: 'Timestamp',
  11: 'Interval', 12: 'List', 13: 'Struct', 14: 'Union', 15: 'FixedSizeBinary', 16: 'FixedSizeList', 17: 'Map', 18: 'Duration',
  19: 'LargeBinary', 20: 'LargeUtf8', 21: 'LargeList', 22: 'RunEndEncoded', 23: 'BinaryView', 24: 'Utf8View', 25: 'ListView', 26: 'LargeListView',
};

function jsonText(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'string') return v;
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
}

const MICROS_PER_UNIT = [1_000_000n, 1000n, 1n, 0n] as const;

function arrowPlan(name: string, type: ArrowDataType): ArrowPlan {
  const asText = (from: string): ArrowPlan => ({
    name, duck: VARCHAR, sqlType: 'VARCHAR', convertedFrom: from,
    convert: (v) => (v === null || v === undefined ? null : jsonText(v)),
  });
  switch (type.typeId) {
    case -1:
      return { ...arrowPlan(name, type.dictionary), name };
    case 1:
      return { name, duck: VARCHAR, sqlType: 'VARCHAR', convert: () => null };
    case 2: {
      if (type.bitWidth === 64) {
        return type.signed
          ? { name, duck: BIGINT, sqlType: 'BIGINT', convert: (v) => (v === null || v === undefined ? null : BigInt(v as bigint)) }
          : { name, duck: UBIGINT, sqlType: 'UBIGINT', convert: (v) => (v === null || v === undefined ? null : BigInt(v as bigint)) };
      }
      if (type.bitWidth === 32 && !type.signed) {
        return { name, duck: BIGINT, sqlType: 'BIGINT', convert: (v) => (v === null || v === undefined ? null : BigInt(v as number)) };
      }
      return { name, duck: INTEGER, sqlType: 'INTEGER', convert: (v) => (v === null || v === undefined ? null : (v as number)) };
    }
    case 3:
    case 7:
      return { name, duck: DOUBLE, sqlType: 'DOUBLE', convert: (v) => (v === null || v === undefined ? null : Number(v)) };
    case 5:
    case 20:
    case 24:
      return { name, duck: VARCHAR, sqlType: 'VARCHAR', convert: (v) => (v === null || v === undefined ? null : (v as string)) };
    case 6:
      return { name, duck: BOOLEAN, sqlType: 'BOOLEAN', convert: (v) => (v === null || v === undefined ? null : Boolean(v)) };
    case 8:
      // Flechette gives dates as epoch milliseconds.
      return { name, duck: DATE, sqlType: 'DATE', convert: (v) => (v === null || v === undefined ? null : new DuckDBDateValue(Math.floor(Number(v) / 86_400_000))) };
    case 10: {
      const unit = type.unit;
      return {
        name, duck: TIMESTAMP, sqlType: 'TIMESTAMP',
        convert: (v) => {
          if (v === null || v === undefined) return null;
          const raw = BigInt(v as bigint);
          const micros = unit === 3 ? raw / 1000n : raw * (MICROS_PER_UNIT[unit] ?? 1n);
          return new DuckDBTimestampValue(micros);
        },
      };
    }
    default:
      return asText(TYPE_NAMES[type.typeId] ?? `type ${type.typeId}`);
  }
}

const CHUNK_ROWS = 2048;

async function loadArrow(engine: Engine, src: SourceInfo, table: string, opts: OpenDatasetOptions, warnings: DataWarning[], size: number): Promise<void> {
  const file = src.path;
  const { signal, onProgress } = opts;
  onProgress?.({ phase: 'reading', fraction: 0, bytes: size });
  const bytes = await readFile(file);
  if (signal?.aborted) throw cancelled(file, signal.reason);
  let arrow: ArrowTable;
  try {
    arrow = tableFromIPC(bytes, { useBigInt: true, useBigIntTimestamp: true });
  } catch (e) {
    throw dataError('Unreadable', { file }, `cannot read the Arrow IPC file (${(e as Error).message})`, e);
  }
  const fields = arrow.schema.fields;
  if (fields.length === 0) throw dataError('EmptyFile', { file }, 'has no columns');
  const plans = fields.map((f) => arrowPlan(f.name, f.type));
  for (const p of plans) {
    if (p.convertedFrom) {
      warnings.push({
        code: 'ConvertedToString', file, column: p.name, from: `Arrow ${p.convertedFrom}`,
        message: `${basename(file)}: column ${JSON.stringify(p.name)}: Arrow ${p.convertedFrom} values were read as text`,
      });
    }
  }
  const n = arrow.numRows;
  const columns: ArrowColumn<unknown>[] = fields.map((_f, i) => arrow.getChildAt(i));
  const arrays = columns.map((c) => c.toArray() as ArrayLike<unknown>);
  const types = plans.map((p) => p.duck);
  await engine.run(`CREATE OR REPLACE TABLE ${quoteIdent(table)} (${plans.map((p) => `${quoteIdent(p.name)} ${p.sqlType}`).join(', ')})`);
  await engine.withConnection(async (connection) => {
    const appender = await connection.createAppender(table);
    try {
      for (let off = 0; off < n; off += CHUNK_ROWS) {
        const m = Math.min(CHUNK_ROWS, n - off);
        const chunk = DuckDBDataChunk.create(types, m);
        for (let c = 0; c < plans.length; c++) {
          const plan = plans[c] as ArrowPlan;
          const src = arrays[c] as ArrayLike<unknown>;
          const values = new Array<DuckDBValue>(m);
          for (let i = 0; i < m; i++) values[i] = plan.convert(src[off + i]);
          chunk.setColumnValues(c, values);
        }
        appender.appendDataChunk(chunk);
        if ((off / CHUNK_ROWS) % 32 === 31) {
          onProgress?.({ phase: 'reading', fraction: (off + m) / n, rows: off + m });
          await yieldToEventLoop();
          if (signal?.aborted) throw cancelled(file, signal.reason);
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }, signal);
}

// ---------------------------------------------------------------------------------------------
// Loading

function readerSql(src: SourceInfo, format: DataFormat, types: Readonly<Record<string, string>>): string {
  const path = quoteLiteral(src.path);
  const compression = quoteLiteral(src.gzip ? 'gzip' : 'none');
  switch (format) {
    case 'csv':
    case 'tsv': {
      const entries = Object.entries(types);
      const typesSql = entries.length > 0 ? `, types = {${entries.map(([k, v]) => `${quoteLiteral(k)}: ${quoteLiteral(v)}`).join(', ')}}` : '';
      return `read_csv(${path}, header = true, delim = ${quoteLiteral(format === 'tsv' ? '\t' : ',')}, quote = '"', escape = '"', `
        + `skip = 0, comment = '', strict_mode = true, null_padding = false, ignore_errors = false, `
        + `compression = ${compression}${typesSql})`;
    }
    case 'ndjson':
    case 'json':
      return `read_json(${path}, format = ${quoteLiteral(format === 'ndjson' ? 'newline_delimited' : 'array')}, records = true, `
        + `ignore_errors = false, compression = ${quoteLiteral(src.gzip ? 'gzip' : 'uncompressed')})`;
    case 'parquet':
      return `read_parquet(${path})`;
    case 'arrow':
      throw new Error('Arrow is not read through SQL');
  }
}

interface DescribedColumn {
  readonly name: string;
  readonly duckdbType: string;
}

async function describe(engine: Engine, relation: string, signal?: AbortSignal): Promise<DescribedColumn[]> {
  const rows = await engine.rows(`DESCRIBE ${relation}`, signal ? { signal } : {});
  return rows.map((r) => ({ name: String(r['column_name']), duckdbType: String(r['column_type']) }));
}

/** `events.csv: unit column "uid" not found; columns are: …` (label: 'unit column', 'columnTypes: column', …). */
function missingColumn(file: string, column: string, label: string, names: readonly string[]): DataError {
  const near = names.find((n) => n.toLowerCase() === column.toLowerCase());
  const hint = near !== undefined ? ` (did you mean ${JSON.stringify(near)}?)` : '';
  return new DataError('MissingColumn', { file, column },
    `${basename(file)}: ${label} ${JSON.stringify(column)} not found${hint}; columns are: ${names.join(', ')}`);
}

const NESTED = /^(STRUCT|MAP|UNION)\(|\]$/;

/** One check of a user type override: the SQL of a "bad value" predicate and the cast to apply. */
function overridePlan(column: string, from: string, to: ColumnType): { bad?: string; using: string } | 'same' | 'impossible' {
  const c = quoteIdent(column);
  const fromType = columnTypeOf(from);
  const target = DUCKDB_TYPE_OF[to];
  if (to === 'string') {
    if (from === 'VARCHAR') return 'same';
    if (from === 'JSON') return { using: `CASE WHEN json_type(${c}) = 'VARCHAR' THEN ${c} ->> '$' ELSE CAST(${c} AS VARCHAR) END` };
    if (NESTED.test(from)) return { using: `CAST(to_json(${c}) AS VARCHAR)` };
    return { using: `CAST(${c} AS VARCHAR)` };
  }
  if (fromType === to && (to !== 'integer' || from === 'BIGINT') && (to !== 'float' || from === 'DOUBLE')) return 'same';
  const text = from === 'VARCHAR' ? `trim(${c})` : from === 'JSON' ? `trim(CASE WHEN json_type(${c}) = 'VARCHAR' THEN ${c} ->> '$' ELSE CAST(${c} AS VARCHAR) END)` : undefined;
  switch (to) {
    case 'integer':
      if (text) return { bad: `NOT regexp_full_match(${text}, '[+-]?[0-9]+') OR TRY_CAST(${text} AS BIGINT) IS NULL`, using: `CAST(${text} AS BIGINT)` };
      if (fromType === 'integer' || fromType === 'boolean') return { using: `CAST(${c} AS BIGINT)` };
      if (fromType === 'float') return { bad: `NOT isfinite(CAST(${c} AS DOUBLE)) OR ${c} <> trunc(${c}) OR TRY_CAST(${c} AS BIGINT) IS NULL`, using: `CAST(${c} AS BIGINT)` };
      return 'impossible';
    case 'float':
      if (text) return { bad: `TRY_CAST(${text} AS DOUBLE) IS NULL`, using: `CAST(${text} AS DOUBLE)` };
      if (fromType === 'integer' || fromType === 'float' || fromType === 'boolean') return { using: `CAST(${c} AS DOUBLE)` };
      return 'impossible';
    case 'boolean':
      if (text) return { bad: `TRY_CAST(${text} AS BOOLEAN) IS NULL`, using: `CAST(${text} AS BOOLEAN)` };
      if (fromType === 'integer' || fromType === 'float') return { bad: `${c} NOT IN (0, 1)`, using: `${c} = 1` };
      return 'impossible';
    case 'timestamp':
      if (text) return { bad: `TRY_CAST(${text} AS ${target}) IS NULL`, using: `CAST(${text} AS ${target})` };
      if (fromType === 'timestamp') return { using: `CAST(${c} AS ${target})` };
      return 'impossible';
  }
}

/** Location of 0-based row `rowid` for messages. */
async function whereRow(src: SourceInfo, rowid: number, signal?: AbortSignal): Promise<{ line?: number; row?: number }> {
  const found = await locateRow({ path: src.path, format: src.format, compression: src.gzip ? 'gzip' : 'none' }, rowid);
  if (signal?.aborted) throw cancelled(src.path, signal.reason);
  return found.line !== undefined ? { line: found.line } : { row: found.row };
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatValue(v);
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function throwIfAborted(file: string, signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelled(file, signal.reason);
}

/**
 * Load a sample file into a DuckDB table, strictly. Errors are DataError (code + one-line message
 * naming file, line, column and value); on any error, and on cancellation, the half-made table is
 * dropped (and an engine created here is closed).
 */
export async function openDataset(path: string, opts: OpenDatasetOptions = {}): Promise<LoadedDataset> {
  const { signal, onProgress } = opts;
  const file = path;
  const requested = opts.format ?? formatFromPath(path);
  if (!requested) {
    throw dataError('UnsupportedFormat', { file },
      'unknown file type; use .csv, .tsv, .csv.gz, .ndjson, .jsonl, .json, .parquet, .arrow or .feather, or give the format');
  }
  for (const [column, type] of Object.entries(opts.columnTypes ?? {})) {
    if (!(type in DUCKDB_TYPE_OF)) {
      throw dataError('UnsupportedFormat', { file, column }, `unknown column type ${JSON.stringify(type)} (use string, integer, float, boolean or timestamp)`);
    }
  }
  throwIfAborted(file, signal);
  onProgress?.({ phase: 'checking', fraction: null });
  const head = await readHead(path);
  const checked = checkHead(path, requested, head);
  let format = requested;
  if (format === 'json' || format === 'ndjson') {
    // The container follows the content: BigQuery writes one object per line to .json files.
    const first = firstNonBlank(head.bytes, checked.bom);
    if (first === 0x7b) format = 'ndjson';
    else if (first === 0x5b) format = 'json';
  }
  throwIfAborted(file, signal);

  const ownsEngine = opts.engine === undefined;
  const engine = opts.engine ?? (await Engine.create());
  // Built under a fresh name; an existing table named opts.table is replaced only on success.
  const table = engine.newTableName(basename(path).replace(/\..*$/, '') || 'data');
  const src: SourceInfo = { path, format, gzip: head.gzip };
  const warnings: DataWarning[] = [];
  const overrides = new Map(Object.entries(opts.columnTypes ?? {}));
  src.overridden = new Set(overrides.keys());
  let created = false;
  try {
    // 1. Read into a table.
    if (format === 'arrow') {
      created = true;
      await loadArrow(engine, src, table, opts, warnings, head.size);
    } else {
      const csv = format === 'csv' || format === 'tsv';
      let types: Record<string, string> = {};
      if (csv) {
        const described = await describe(engine, `SELECT * FROM ${readerSql(src, format, {})}`, signal).catch(async (e: unknown) => {
          throw await mapReadError(e, src, signal);
        });
        src.columnNames = described.map((c) => c.name);
        if (checked.header && checked.header.length !== described.length) {
          const problem = await findTextProblem(src, signal);
          if (problem) throw dataError(problem.code, locationOf(file, problem), problem.what);
          throw dataError('Unreadable', { file }, `the header has ${checked.header.length} fields but ${described.length} columns were read; check the delimiter and quotes`);
        }
        for (const column of overrides.keys()) {
          if (!src.columnNames.includes(column)) throw missingColumn(file, column, 'columnTypes: column', src.columnNames);
        }
        // Overridden columns are read as text and converted with a checked cast below.
        types = Object.fromEntries([...overrides.keys()].map((k) => [k, 'VARCHAR']));
      }
      onProgress?.({ phase: 'reading', fraction: 0, bytes: head.size });
      let projection = '*';
      if (opts.columns && opts.columns.length > 0 && (csv || format === 'parquet')) {
        const names = src.columnNames ?? (await describe(engine, `SELECT * FROM ${readerSql(src, format, {})}`, signal).catch(async (e: unknown) => {
          throw await mapReadError(e, src, signal);
        })).map((c) => c.name);
        const wanted = [...new Set([...opts.columns, ...overrides.keys()])];
        if (wanted.every((c) => names.includes(c))) projection = wanted.map(quoteIdent).join(', ');
      }
      created = true;
      await engine.run(`CREATE OR REPLACE TABLE ${quoteIdent(table)} AS SELECT ${projection} FROM ${readerSql(src, format, types)}`, {
        ...(signal ? { signal } : {}),
        ...(opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {}),
        ...(onProgress ? { onProgress: (p: { fraction: number | null }) => onProgress({ phase: 'reading', fraction: p.fraction }) } : {}),
      }).catch(async (e: unknown) => {
        throw await mapReadError(e, src, signal);
      });
    }
    throwIfAborted(file, signal);
    const q = signal ? { signal } : {};
    let columns = await describe(engine, quoteIdent(table), signal);
    src.columnNames = columns.map((c) => c.name);
    const count = await engine.row(`SELECT count(*) AS n FROM ${quoteIdent(table)}`, q);
    const rowCount = Number(count?.['n'] ?? 0);
    onProgress?.({ phase: 'reading', fraction: 1, rows: rowCount });
    if (rowCount === 0) {
      throw dataError('EmptyFile', { file }, columns.length > 0 ? `has no data rows (columns: ${src.columnNames.join(', ')})` : 'has no data rows');
    }

    // 2. User type overrides, with a checked cast.
    onProgress?.({ phase: 'converting', fraction: null });
    for (const [column, to] of overrides) {
      const col = columns.find((c) => c.name === column);
      if (!col) throw missingColumn(file, column, 'columnTypes: column', src.columnNames);
      const plan = overridePlan(column, col.duckdbType, to);
      if (plan === 'same') continue;
      if (plan === 'impossible') {
        throw dataError('TypeMismatch', { file, column }, `a ${columnTypeOf(col.duckdbType) ?? col.duckdbType} column cannot be read as ${to}`);
      }
      if (plan.bad) {
        const bad = await engine.row(
          `SELECT rowid AS r, CAST(${quoteIdent(column)} AS VARCHAR) AS v FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} IS NOT NULL AND (${plan.bad}) ORDER BY rowid LIMIT 1`, q);
        if (bad) {
          const value = valueText(bad['v']);
          const at = await whereRow(src, Number(bad['r']), signal);
          throw dataError('TypeMismatch', { file, ...at, column, value }, `${formatValue(value)} is not ${TYPE_WORDS[to]}`);
        }
      }
      await engine.run(`ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${quoteIdent(column)} SET DATA TYPE ${DUCKDB_TYPE_OF[to]} USING ${plan.using}`, q);
    }

    // 3. Normalise types the workbench does not use directly.
    columns = await describe(engine, quoteIdent(table), signal);
    for (const col of columns) {
      if (col.duckdbType.startsWith('DECIMAL')) {
        await engine.run(`ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${quoteIdent(col.name)} SET DATA TYPE DOUBLE`, q);
      } else if (columnTypeOf(col.duckdbType) === undefined) {
        const plan = overridePlan(col.name, col.duckdbType, 'string');
        if (plan !== 'same' && plan !== 'impossible') {
          await engine.run(`ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${quoteIdent(col.name)} SET DATA TYPE VARCHAR USING ${plan.using}`, q);
          warnings.push({
            code: 'ConvertedToString', file, column: col.name, from: col.duckdbType,
            message: `${basename(file)}: column ${JSON.stringify(col.name)}: ${col.duckdbType === 'JSON' ? 'values of mixed JSON types' : `${col.duckdbType} values`} were read as text`,
          });
        }
      }
    }
    columns = await describe(engine, quoteIdent(table), signal);

    // 4. Null counts and non-finite numbers, in one scan.
    onProgress?.({ phase: 'validating', fraction: null });
    const floats = columns.filter((c) => FLOAT_TYPES.has(c.duckdbType));
    const stats = await engine.row(`SELECT ${[
      ...columns.map((c, i) => `count(${quoteIdent(c.name)}) AS "nn${i}"`),
      ...floats.map((c, i) => `count_if(NOT isfinite(${quoteIdent(c.name)})) AS "nf${i}"`),
    ].join(', ')} FROM ${quoteIdent(table)}`, q);
    for (const [i, c] of floats.entries()) {
      if (Number(stats?.[`nf${i}`] ?? 0) > 0) throw await nonFiniteError(engine, src, table, c.name, signal);
    }
    const loaded: LoadedColumn[] = columns.map((c, i) => ({
      name: c.name,
      type: columnTypeOf(c.duckdbType) ?? 'string',
      duckdbType: c.duckdbType,
      nullCount: rowCount - Number(stats?.[`nn${i}`] ?? 0),
    }));
    throwIfAborted(file, signal);
    let name = table;
    if (opts.table !== undefined && opts.table !== table) {
      await engine.run(`DROP TABLE IF EXISTS ${quoteIdent(opts.table)}; ALTER TABLE ${quoteIdent(table)} RENAME TO ${quoteIdent(opts.table)}`);
      name = opts.table;
    }
    onProgress?.({ phase: 'done', fraction: 1, rows: rowCount });
    return { engine, table: name, path, format, compression: head.gzip ? 'gzip' : 'none', rowCount, columns: loaded, warnings };
  } catch (e) {
    if (created && !engine.closed) {
      await engine.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`).catch(() => undefined);
    }
    if (ownsEngine) engine.close();
    if (e instanceof DataError) throw e;
    if (e instanceof QueryCancelled) throw cancelled(file, e);
    throw dataError('Unreadable', { file }, `cannot read the file (${firstLine(engineMessage(e))})`, e);
  }
}

async function nonFiniteError(engine: Engine, src: SourceInfo, table: string, column: string, signal?: AbortSignal): Promise<DataError> {
  const c = quoteIdent(column);
  const bad = await engine.row(`SELECT rowid AS r, ${c} AS v FROM ${quoteIdent(table)} WHERE NOT isfinite(${c}) ORDER BY rowid LIMIT 1`, signal ? { signal } : {});
  const v = Number(bad?.['v']);
  const at = bad ? await whereRow(src, Number(bad['r']), signal) : {};
  return dataError('NonFinite', { file: src.path, ...at, column, value: formatValue(v) }, `${formatValue(v)} is not a finite number`);
}

// ---------------------------------------------------------------------------------------------
// Checks of a loaded dataset against what an analysis needs

function sourceOf(ds: LoadedDataset): SourceInfo {
  return { path: ds.path, format: ds.format, gzip: ds.compression === 'gzip', columnNames: ds.columns.map((c) => c.name) };
}

/**
 * Every problem of the required columns (at most one per requirement, in order): missing columns,
 * text in a numeric column, NaN/Infinity, negative values where values must be >= 0.
 */
export async function findColumnProblems(ds: LoadedDataset, required: readonly ColumnRequirement[], signal?: AbortSignal): Promise<DataError[]> {
  const problems: DataError[] = [];
  const names = ds.columns.map((c) => c.name);
  const src = sourceOf(ds);
  const file = ds.path;
  const t = quoteIdent(ds.table);
  const q = signal ? { signal } : {};
  for (const req of required) {
    const col = ds.columns.find((c) => c.name === req.column);
    if (!col) {
      problems.push(missingColumn(file, req.column, `${req.role} column`, names));
      continue;
    }
    const c = quoteIdent(col.name);
    if (req.numeric || req.nonNegative) {
      if (col.type === 'string') {
        // Text that is not a number, or a number that is not finite.
        const bad = await ds.engine.row(
          `SELECT rowid AS r, ${c} AS v, TRY_CAST(trim(${c}) AS DOUBLE) AS x FROM ${t} WHERE ${c} IS NOT NULL AND (TRY_CAST(trim(${c}) AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST(trim(${c}) AS DOUBLE))) ORDER BY rowid LIMIT 1`, q);
        if (bad) {
          const value = valueText(bad['v']);
          const at = await whereRow(src, Number(bad['r']), signal);
          const x = bad['x'];
          problems.push(typeof x === 'number'
            ? dataError('NonFinite', { file, ...at, column: col.name, value }, `${formatValue(value)} is not a finite number; a ${req.role} column must hold finite numbers`)
            : dataError('TypeMismatch', { file, ...at, column: col.name, value }, `${formatValue(value)} is not a number; a ${req.role} column must be numeric`));
        } else {
          problems.push(dataError('TypeMismatch', { file, column: col.name },
            `holds numbers as text (type string); set its type to float or integer to use it as a ${req.role} column`));
        }
        continue;
      }
      if (col.type !== 'integer' && col.type !== 'float') {
        problems.push(dataError('TypeMismatch', { file, column: col.name }, `is ${col.type === 'boolean' ? 'a boolean' : 'a timestamp'} column, not numeric; a ${req.role} column must be numeric`));
        continue;
      }
      if (col.type === 'float') {
        const bad = await ds.engine.row(`SELECT rowid AS r, ${c} AS v FROM ${t} WHERE NOT isfinite(${c}) ORDER BY rowid LIMIT 1`, q);
        if (bad) {
          const v = Number(bad['v']);
          const at = await whereRow(src, Number(bad['r']), signal);
          problems.push(dataError('NonFinite', { file, ...at, column: col.name, value: formatValue(v) }, `${formatValue(v)} is not a finite number`));
          continue;
        }
      }
      if (req.nonNegative) {
        const bad = await ds.engine.row(`SELECT rowid AS r, CAST(${c} AS VARCHAR) AS v FROM ${t} WHERE ${c} < 0 ORDER BY rowid LIMIT 1`, q);
        if (bad) {
          const value = valueText(bad['v']);
          const at = await whereRow(src, Number(bad['r']), signal);
          problems.push(dataError('NegativeValue', { file, ...at, column: col.name, value },
            `${value} is negative; a ${req.role} column must hold values >= 0`));
        }
      }
    }
  }
  return problems;
}

/** Throws the first problem of the required columns (see findColumnProblems). */
export async function checkColumns(ds: LoadedDataset, required: readonly ColumnRequirement[], signal?: AbortSignal): Promise<void> {
  const [first] = await findColumnProblems(ds, required, signal);
  if (first) throw first;
}

/** Default: more distinct values than this make a column a poor cohort key. */
export const HIGH_CARDINALITY = 10_000;

/**
 * A HighCardinality warning for each column with more than `threshold` distinct values
 * (approx_count_distinct: one pass, bounded memory, no hang on 10^6 values).
 */
export async function cardinalityWarnings(
  ds: LoadedDataset,
  columns: readonly string[],
  opts: { threshold?: number; signal?: AbortSignal } = {},
): Promise<DataWarning[]> {
  if (columns.length === 0) return [];
  const names = ds.columns.map((c) => c.name);
  for (const column of columns) {
    if (!names.includes(column)) throw missingColumn(ds.path, column, 'cohort column', names);
  }
  const threshold = opts.threshold ?? HIGH_CARDINALITY;
  const row = await ds.engine.row(
    `SELECT ${columns.map((c, i) => `approx_count_distinct(${quoteIdent(c)}) AS "d${i}"`).join(', ')} FROM ${quoteIdent(ds.table)}`,
    opts.signal ? { signal: opts.signal } : {},
  );
  const warnings: DataWarning[] = [];
  columns.forEach((column, i) => {
    const distinct = Number(row?.[`d${i}`] ?? 0);
    if (distinct > threshold) {
      warnings.push({
        code: 'HighCardinality', file: ds.path, column, distinct,
        message: `${basename(ds.path)}: column ${JSON.stringify(column)}: about ${distinct} distinct values (more than ${threshold}); as a cohort key most cohorts would be too small to release — use a coarser key`,
      });
    }
  });
  return warnings;
}
