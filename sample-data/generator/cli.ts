// `npm run sample-data -- --shape product|saas --rows N [--out FILE] [--format csv|parquet|ndjson] [--seed S]`
// Generates a sample file and prints its size and speed; `--committed` remakes the committed files.

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Seed } from '../../shared/core/rng';
import { COMMITTED_FILES, DEFAULT_SEED } from './committed';
import { SHAPE_NAMES } from './shapes';
import type { ShapeName } from './shapes';
import { FORMATS, formatFromPath, writeSample } from './write';
import type { SampleFormat, WriteSampleResult } from './write';

/** The sample-data/ folder. */
export const SAMPLE_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const HELP = `sample-data: seeded generator of the workbench's sample datasets

Usage:
  npm run sample-data -- --shape product|saas --rows N [--out FILE] [--format csv|parquet|ndjson] [--seed S] [--json]
  npm run sample-data -- --committed [--dir DIR]

  --shape      product: product events of a shopping app (unit user_id, or device_id)
               saas: B2B SaaS feature usage (unit workspace_id, or user_id)
  --rows       exact row count: 50000, 50k, 1M, 10M, 1e6
  --out        output file (default sample-data/generated/<shape>-<rows>.<format>)
  --format     csv, ndjson or parquet (default: from the --out extension, else csv)
  --seed       non-negative integer or any string (default ${DEFAULT_SEED}); same seed, same bytes
  --json       print the result (sizes, timings, summary) as JSON
  --committed  regenerate the committed sample files (${COMMITTED_FILES.map((f) => f.file).join(', ')})
               into --dir (default sample-data/)

The rows for N are a prefix of the rows for any larger N with the same seed.`;

export class UsageError extends Error {}

export interface CliArgs {
  readonly mode: 'help' | 'one' | 'committed';
  readonly shape?: ShapeName;
  readonly rows?: number;
  readonly out?: string;
  readonly format?: SampleFormat;
  readonly seed: Seed;
  readonly json: boolean;
  readonly dir?: string;
}

/** Parses "50000", "50k", "1M", "10m", "1e6", "1_000_000" into a positive safe integer. */
export function parseRowCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.replace(/_/g, ''));
  const n = m ? Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--rows ${JSON.stringify(text)}: expected a positive whole number such as 50000, 50k, 1M or 1e6`);
  return n;
}

function rowsLabel(n: number): string {
  if (n % 1_000_000 === 0) return `${n / 1_000_000}m`;
  if (n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const flags = new Map<string, string | true>();
  const booleans = new Set(['--json', '--committed', '--help', '-h']);
  const known = new Set(['--shape', '--rows', '--out', '--format', '--seed', '--dir', ...booleans]);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (!known.has(a)) throw new UsageError(`unknown argument ${JSON.stringify(argv[i])} (see --help)`);
    if (booleans.has(a)) {
      flags.set(a, true);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${a} needs a value`);
    }
    flags.set(a, value);
  }
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const seedText = str('--seed');
  const seed: Seed = seedText === undefined ? DEFAULT_SEED : /^\d+$/.test(seedText) && Number.isSafeInteger(Number(seedText)) ? Number(seedText) : seedText;
  if (seedText === '') throw new UsageError('--seed "": expected a non-negative integer or a non-empty string');
  const json = flags.has('--json');
  if (flags.has('--help') || flags.has('-h')) return { mode: 'help', seed, json };
  if (flags.has('--committed')) {
    for (const k of ['--shape', '--rows', '--out', '--format', '--seed']) if (flags.has(k)) throw new UsageError(`${k} cannot be used with --committed (its files have fixed arguments)`);
    const dir = str('--dir');
    return dir === undefined ? { mode: 'committed', seed, json } : { mode: 'committed', seed, json, dir };
  }
  if (flags.has('--dir')) throw new UsageError('--dir only goes with --committed (use --out for one file)');
  const shapeText = str('--shape');
  if (shapeText === undefined) throw new UsageError(`--shape is required (${SHAPE_NAMES.join(' or ')})`);
  if (!(SHAPE_NAMES as string[]).includes(shapeText)) throw new UsageError(`--shape ${JSON.stringify(shapeText)}: expected ${SHAPE_NAMES.join(' or ')}`);
  const shape = shapeText as ShapeName;
  const rowsText = str('--rows');
  if (rowsText === undefined) throw new UsageError('--rows is required (for example 1M)');
  const rows = parseRowCount(rowsText);
  const formatText = str('--format');
  if (formatText !== undefined && !(FORMATS as readonly string[]).includes(formatText)) throw new UsageError(`--format ${JSON.stringify(formatText)}: expected ${FORMATS.join(', ')}`);
  let format = formatText as SampleFormat | undefined;
  let out = str('--out');
  if (out !== undefined) {
    const fromExt = formatFromPath(out);
    if (format === undefined) {
      if (fromExt === undefined) throw new UsageError(`--out ${JSON.stringify(out)}: end it with .csv, .ndjson or .parquet, or pass --format`);
      format = fromExt;
    } else if (fromExt !== undefined && fromExt !== format) {
      throw new UsageError(`--out ${JSON.stringify(out)} does not match --format ${format}`);
    }
  }
  format ??= 'csv';
  out ??= join(SAMPLE_DATA_DIR, 'generated', `${shape}-${rowsLabel(rows)}${seedText === undefined ? '' : `-seed-${String(seed).replace(/[^A-Za-z0-9_.-]/g, '_')}`}.${format}`);
  return { mode: 'one', shape, rows, out, format, seed, json };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

export function describeResult(r: WriteSampleResult, cwd: string): string {
  const total = r.generateSeconds + r.convertSeconds;
  const rate = Math.round(r.rows / r.generateSeconds).toLocaleString('en-US');
  const conv = r.format === 'parquet' ? ` + ${r.convertSeconds.toFixed(2)} s CSV → Parquet (${Math.round(r.rows / total).toLocaleString('en-US')} rows/s overall)` : '';
  return `${r.summary.shape}: ${r.rows.toLocaleString('en-US')} rows → ${relative(cwd, r.out) || r.out} (${mb(r.bytes)}) in ${r.generateSeconds.toFixed(2)} s, ${rate} rows/s${conv}`;
}

export async function runCli(argv: readonly string[], out: (s: string) => void, err: (s: string) => void, cwd: string): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`sample-data: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (args.mode === 'help') {
    out(HELP);
    return 0;
  }
  try {
    const jobs = args.mode === 'committed'
      ? COMMITTED_FILES.map((f) => ({ shape: f.shape, rows: f.rows, seed: f.seed, format: f.format, out: join(resolve(cwd, args.dir ?? SAMPLE_DATA_DIR), f.file) }))
      : [{ shape: args.shape!, rows: args.rows!, seed: args.seed, format: args.format!, out: resolve(cwd, args.out!) }];
    const results: WriteSampleResult[] = [];
    for (const job of jobs) {
      const r = await writeSample(job);
      results.push(r);
      if (!args.json) out(describeResult(r, cwd));
    }
    if (args.json) out(JSON.stringify(args.mode === 'one' ? results[0] : results, null, 2));
    return 0;
  } catch (e) {
    err(`sample-data: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2), (s) => console.log(s), (s) => console.error(s), process.cwd());
}
