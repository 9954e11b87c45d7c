// RFC 4180 CSV and NDJSON line formatting for generated rows.

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV field: numbers as JavaScript prints them; strings quoted (with "" escapes) when needed. */
export function csvField(v: string | number): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} to CSV`);
    return String(v);
  }
  return NEEDS_QUOTES.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A formatter of rows into CSV lines (with \n), for a fixed column order. */
export function makeCsvFormatter(columns: readonly string[]): { header: string; line(row: { readonly [c: string]: string | number }): string } {
  return {
    header: columns.map(csvField).join(',') + '\n',
    line(row) {
      let s = '';
      for (let i = 0; i < columns.length; i++) {
        if (i > 0) s += ',';
        s += csvField(row[columns[i]!]!);
      }
      return s + '\n';
    },
  };
}

/** A formatter of rows into NDJSON lines (keys in column order, numbers as numbers). */
export function makeNdjsonFormatter(columns: readonly string[]): { line(row: { readonly [c: string]: string | number }): string } {
  const keys = columns.map((c, i) => (i === 0 ? '{' : ',') + JSON.stringify(c) + ':');
  return {
    line(row) {
      let s = '';
      for (let i = 0; i < columns.length; i++) {
        const v = row[columns[i]!]!;
        if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`cannot write ${v} to JSON`);
        s += keys[i]! + JSON.stringify(v);
      }
      return s + '}\n';
    },
  };
}
