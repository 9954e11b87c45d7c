// Errors and warnings of the data services. One class with a closed set of codes; the message is one
// line that names the file and, where it applies, the line (text formats) or row (binary formats),
// the column and the value: `events.csv: line 17, column "revenue": "abc" is not a number`.
// Process boundaries (CLI, IPC) turn it into { code, message, file, line, row, column, value }.

import { basename } from 'node:path';

export type DataErrorCode =
  /** The file is missing, a directory, or cannot be read. */
  | 'NotFound'
  /** 0 bytes, only whitespace, a header and no data rows, or no records. */
  | 'EmptyFile'
  /** NUL bytes where text was expected, or a binary file that is not of the expected format. */
  | 'BinaryFile'
  /** Not UTF-8 (invalid byte sequence, or a UTF-16/UTF-32 byte order mark). */
  | 'Encoding'
  /** A CSV/TSV record with more or fewer fields than the header. */
  | 'RaggedRow'
  /** A quoted field that is never closed. */
  | 'UnterminatedQuote'
  /** Text after the closing quote of a quoted field. */
  | 'BadQuote'
  /** Malformed JSON / NDJSON (syntax error, or a row that is not an object). */
  | 'Malformed'
  /** A value that cannot be read as the column's type (inferred or set by the user). */
  | 'TypeMismatch'
  /** NaN or ±Infinity in a numeric column. */
  | 'NonFinite'
  /** A column the analysis needs is not in the file. */
  | 'MissingColumn'
  /** A negative value where a metric needs values >= 0. */
  | 'NegativeValue'
  /** Any other read failure of the engine (the engine's first line is kept). */
  | 'Unreadable'
  /** The caller's AbortSignal fired; nothing was left behind. */
  | 'Cancelled'
  /** Unknown extension or format, or a column type the workbench cannot use. */
  | 'UnsupportedFormat';

export interface DataErrorDetails {
  /** The path as given by the caller. */
  readonly file: string;
  /** 1-based physical line in a text file (CSV, TSV, NDJSON). */
  readonly line?: number;
  /** 1-based data row (record), header not counted. */
  readonly row?: number;
  readonly column?: string;
  /** The offending value, as text. */
  readonly value?: string;
}

export class DataError extends Error {
  readonly code: DataErrorCode;
  readonly file: string;
  readonly line?: number;
  readonly row?: number;
  readonly column?: string;
  readonly value?: string;

  constructor(code: DataErrorCode, details: DataErrorDetails, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataError';
    this.code = code;
    this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.row !== undefined) this.row = details.row;
    if (details.column !== undefined) this.column = details.column;
    if (details.value !== undefined) this.value = details.value;
  }

  /** Plain object for process boundaries (JSON, IPC). */
  toJSON(): { code: DataErrorCode; message: string } & DataErrorDetails {
    return {
      code: this.code,
      message: this.message,
      file: this.file,
      ...(this.line !== undefined ? { line: this.line } : {}),
      ...(this.row !== undefined ? { row: this.row } : {}),
      ...(this.column !== undefined ? { column: this.column } : {}),
      ...(this.value !== undefined ? { value: this.value } : {}),
    };
  }
}

export function isDataError(e: unknown, code?: DataErrorCode): e is DataError {
  return e instanceof DataError && (code === undefined || e.code === code);
}

const MAX_VALUE_CHARS = 60;

/** A value as it appears in a message: strings quoted (and cut), numbers and NaN/Infinity bare. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value;
    return JSON.stringify(cut);
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return 'Infinity';
    if (value === -Infinity) return '-Infinity';
    return String(value);
  }
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** "events.csv: line 17, column "revenue": " — the prefix of every message. */
export function where(details: DataErrorDetails): string {
  const parts: string[] = [];
  if (details.line !== undefined) parts.push(`line ${details.line}`);
  else if (details.row !== undefined) parts.push(`row ${details.row}`);
  if (details.column !== undefined) parts.push(`column ${JSON.stringify(details.column)}`);
  const name = basename(details.file) || details.file;
  return parts.length > 0 ? `${name}: ${parts.join(', ')}: ` : `${name}: `;
}

/** Build a DataError whose message is `where(details) + what` on one line. */
export function dataError(code: DataErrorCode, details: DataErrorDetails, what: string, cause?: unknown): DataError {
  const message = (where(details) + what).replace(/\s*\n\s*/g, ' ');
  return new DataError(code, details, message, cause === undefined ? undefined : { cause });
}

export function cancelled(file: string, cause?: unknown): DataError {
  return dataError('Cancelled', { file }, 'loading was cancelled', cause);
}

// ---------------------------------------------------------------------------------------------
// Warnings: the data loads, but the user should know.

export type DataWarning =
  | {
      readonly code: 'HighCardinality';
      readonly file: string;
      readonly column: string;
      /** Approximate number of distinct values (HyperLogLog). */
      readonly distinct: number;
      readonly message: string;
    }
  | {
      readonly code: 'ConvertedToString';
      readonly file: string;
      readonly column: string;
      /** The engine type the column had before it was turned into text. */
      readonly from: string;
      readonly message: string;
    };
