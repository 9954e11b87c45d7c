// `dpw profile`: contribution profile of a data file — how many cohorts each privacy unit touches
// (L0), how many rows it has per cohort (L∞), how many units each cohort has, and what each
// candidate bound would drop.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatSchema } from '../../../core/config/schema';
import type { DataFormat, Filter } from '../../../core/config/schema';
import type { ContributionProfile, Distribution } from '../../../core/data/profile';
import { Engine } from '../../data/engine';
import { DataError } from '../../data/errors';
import { openDataset } from '../../data/ingest';
import type { LoadedDataset } from '../../data/ingest';
import { profileDataset, profileJson } from '../../data/profile';
import type { ProfileRequest } from '../../data/profile';
import { columnClass, literalFor } from '../../data/sql';
import type { Io } from '../args';
import { choiceFlag, parse, UsageError } from '../args';

export const profileHelp = `Usage: dpw profile DATA --unit COL [--by COL,COL] [--value COL] [--where "COL=VALUE"]... [--json]

Contribution profile of a data file (CSV, TSV, .csv.gz, NDJSON, JSON, Parquet, Arrow).
  --unit COL       privacy unit column (a user id; a device id is a weaker unit)
  --by COLS        cohort keys, comma-separated; COL:day or COL:week buckets a timestamp column
  --value COL      numeric column: also profile its values and per-unit-per-cohort sums
  --where EXPR     keep rows where COL=VALUE (also !=, <, <=, >, >=); repeat to AND several
  --format F       file format when the extension does not tell (${DataFormatSchema.options.join(', ')})
  --memory-limit S DuckDB's memory limit (default 300MB); larger work spills to a temp dir
  --json           print {"rows","units","partitions","pairs","l0","linf","units_per_partition",
                   ["value"], "bounds", "warnings"}; quantiles keyed "0.5", "0.9", "0.99"
l0: cohorts per unit; linf: rows per unit per cohort; units_per_partition: distinct units per
cohort. bounds: for candidate bounds 1, 2, 4, ..., the expected share of rows and of |value|
dropped by uniform random sampling to that bound (clamp: the share clipped to [-C, C]).
Exit status: 0 ok, 1 bad data (one line naming the file), 2 bad arguments.`;

const WHERE = /^\s*([^!<>=]+?)\s*(!=|<=|>=|=|<|>)\s*(.*)$/s;

/** "COL=VALUE" (and !=, <, <=, >, >=) as a filter on the raw text value. */
export function parseWhere(expr: string): Filter {
  const m = WHERE.exec(expr);
  if (!m || m[1]!.trim() === '') throw new UsageError(`--where ${JSON.stringify(expr)}: expected COL=VALUE (or !=, <, <=, >, >=)`);
  return { column: m[1]!.trim(), op: m[2] as Filter['op'], value: m[3]! };
}

export function parseBy(raw: string): { column: string; bucket?: 'day' | 'week' }[] {
  const parts = raw.split(',').map((s) => s.trim());
  return parts.map((p) => {
    if (p === '') throw new UsageError(`--by ${JSON.stringify(raw)}: empty column name`);
    const m = /^(.+):(\w+)$/.exec(p);
    if (m) {
      if (m[2] !== 'day' && m[2] !== 'week') throw new UsageError(`--by ${JSON.stringify(raw)}: unknown time bucket ${JSON.stringify(m[2])} in ${JSON.stringify(p)} (use COL:day or COL:week)`);
      return { column: m[1]!, bucket: m[2] };
    }
    return { column: p };
  });
}

/**
 * DuckDB's memory limit for `dpw profile`: with Node's own arrays, 10^7 rows stay within 1 GB of
 * peak RSS (bench:data); larger work spills to a temporary directory.
 */
export const DEFAULT_MEMORY_LIMIT = '300MB';

const SIZE = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;

/** Filter values typed by the loaded column types; a value that cannot be one is a usage error. */
function checkWhere(ds: LoadedDataset, filters: readonly Filter[], raw: readonly string[]): void {
  filters.forEach((f, i) => {
    const col = ds.columns.find((c) => c.name === f.column);
    if (!col) return; // reported by the column check as a missing column of the file
    try {
      literalFor(f.value as string, { name: col.name, type: col.duckdbType, cls: columnClass(col.duckdbType) }, f);
    } catch (e) {
      throw new UsageError(`--where ${JSON.stringify(raw[i])}: ${(e as Error).message.replace(/^filter [^:]*: /, '')}`);
    }
  });
}

/** A time bucket needs a timestamp (or date) column. */
function checkBy(ds: LoadedDataset, by: readonly { column: string; bucket?: 'day' | 'week' }[], raw: string): void {
  for (const k of by) {
    const col = ds.columns.find((c) => c.name === k.column);
    if (!col || !k.bucket) continue;
    const cls = columnClass(col.duckdbType);
    if (cls !== 'timestamp' && cls !== 'date') {
      throw new UsageError(`--by ${JSON.stringify(raw)}: ${JSON.stringify(k.column)} is a ${col.type} column; :${k.bucket} needs a timestamp column`);
    }
  }
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}

function line(name: string, d: Distribution): string {
  const q = Object.entries(d.quantiles).map(([k, v]) => `p${Number(k) * 100}=${fmt(v)}`).join(' ');
  return `  ${name.padEnd(22)} min ${fmt(d.min)}  ${q}  max ${fmt(d.max)}  mean ${fmt(d.mean)}`;
}

function printText(io: Io, file: string, req: ProfileRequest, p: ContributionProfile, warnings: readonly string[]): void {
  const by = (req.by ?? []).map((k) => (k.bucket ? `${k.column}:${k.bucket}` : k.column)).join(', ') || '(none: one overall cohort)';
  io.out(`${file}: ${p.rows} rows, ${p.units} units (${req.unit}), ${p.partitions} cohorts (${by}), ${p.pairs} unit-cohort pairs`);
  io.out(line('cohorts per unit (L0)', p.l0));
  io.out(line('rows per unit-cohort', p.linf));
  io.out(line('units per cohort', p.unitsPerPartition));
  if (p.rowValues) {
    io.out(line(`${req.value} per row`, p.rowValues));
    io.out(line(`${req.value} per unit-cohort`, p.pairValues));
  }
  const table = (title: string, c: readonly { bound: number; rows: number; value: number }[]): void => {
    io.out(`  ${title}: ${c.map((x) => `${fmt(x.bound)}→${(x.rows * 100).toFixed(1)}%/${(x.value * 100).toFixed(1)}%`).join('  ')}`);
  };
  io.out('expected share dropped (rows/value) per candidate bound:');
  table('L0', p.candidates.l0);
  table('L∞', p.candidates.linf);
  if (p.candidates.clampPerValue) table('clamp per value', p.candidates.clampPerValue);
  if (p.candidates.clampPerPartition) table('clamp per unit-cohort', p.candidates.clampPerPartition);
  for (const w of warnings) io.out(`warning: ${w}`);
}

export async function runProfile(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    unit: { type: 'string' }, by: { type: 'string' }, value: { type: 'string' }, where: { type: 'string', multiple: true },
    format: { type: 'string' }, 'memory-limit': { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(profileHelp);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('DATA is required (the data file to profile)');
  if (positionals.length > 1) throw new UsageError(`one DATA file only, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  const file = positionals[0]!;
  const unit = values.unit as string | undefined;
  if (unit === undefined) throw new UsageError('--unit is required (the privacy unit column, e.g. user_id)');
  if (unit.trim() === '') throw new UsageError(`--unit ${JSON.stringify(unit)}: empty column name`);
  const by = values.by !== undefined ? parseBy(values.by as string) : [];
  const value = values.value as string | undefined;
  if (value !== undefined && value.trim() === '') throw new UsageError(`--value ${JSON.stringify(value)}: empty column name`);
  const rawWhere = (values.where as unknown as string[] | undefined) ?? [];
  const where = rawWhere.map(parseWhere);
  const format = choiceFlag(values, 'format', DataFormatSchema.options) as DataFormat | undefined;
  const memoryLimit = (values['memory-limit'] as string | undefined) ?? DEFAULT_MEMORY_LIMIT;
  if (!SIZE.test(memoryLimit)) throw new UsageError(`--memory-limit ${JSON.stringify(memoryLimit)}: expected a size such as 300MB or 2GB`);
  const req: ProfileRequest = { unit, by, ...(value !== undefined ? { value } : {}), where };

  const spill = mkdtempSync(join(tmpdir(), 'dpw-profile-'));
  let engine: Engine | undefined;
  try {
    engine = await Engine.create({ memoryLimit, tempDirectory: spill });
    // Load only the columns the profile reads (a projection: ~30% faster on wide CSVs).
    const needed = [unit, ...by.map((b) => b.column), ...(value !== undefined ? [value] : []), ...where.map((w) => w.column)];
    const ds = await openDataset(file, { engine, columns: needed, ...(format ? { format } : {}) });
    checkWhere(ds, where, rawWhere);
    if (values.by !== undefined) checkBy(ds, by, values.by as string);
    const result = await profileDataset(ds, req);
    const warnings = result.warnings.map((w) => w.message);
    if (values.json) io.out(JSON.stringify(profileJson(result.profile, result.warnings)));
    else printText(io, file, req, result.profile, warnings);
    return 0;
  } catch (e) {
    if (e instanceof DataError) {
      io.err(`dpw profile: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    engine?.close();
    rmSync(spill, { recursive: true, force: true });
  }
}
