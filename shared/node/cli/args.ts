// Argument parsing for `dpw`: node's parseArgs in strict mode, with errors that name the flag
// and its value on one line (exit 2), as pipelines read them.

import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export function parse(argv: string[], options: OptionSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  // parseArgs would read "--epsilon -1" as a flag followed by an option "-1"; join such values so
  // the validator can name them ("--epsilon "-1": must be > 0").
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const spec = a.startsWith('--') ? options[a.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-[0-9.]/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const { values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    const msg = (err as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}`);
    const missing = /Option '([^']+)' argument missing/.exec(msg);
    if (missing) throw new UsageError(`${missing[1]!.split(' ')[0]} needs a value`);
    throw new UsageError(msg.split('\n')[0] ?? msg);
  }
}

/** A number flag: finite, and > 0 / >= 0 / in (0,1) as asked. */
export function numberFlag(values: Record<string, unknown>, name: string, rule: 'positive' | 'nonneg' | 'open-unit' | 'any', fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const s = String(raw).trim();
  const v = s === '' ? NaN : Number(s);
  const bad = (what: string): never => {
    throw new UsageError(`--${name} ${JSON.stringify(String(raw))}: ${what}`);
  };
  if (!Number.isFinite(v)) bad('must be a finite number');
  if (rule === 'positive' && !(v > 0)) bad('must be > 0');
  if (rule === 'nonneg' && !(v >= 0)) bad('must be >= 0');
  if (rule === 'open-unit' && !(v > 0 && v < 1)) bad('must be in the open interval (0, 1)');
  return v;
}

export function requireFlag<T>(value: T | undefined, name: string, why = 'is required'): T {
  if (value === undefined) throw new UsageError(`--${name} ${why}`);
  return value;
}

export function integerFlag(values: Record<string, unknown>, name: string, min: number, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(String(raw).trim());
  if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`--${name} ${JSON.stringify(String(raw))}: must be an integer >= ${min}`);
  return v;
}

export function choiceFlag<T extends string>(values: Record<string, unknown>, name: string, choices: readonly T[], fallback?: T): T | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!choices.includes(raw as T)) throw new UsageError(`--${name} ${JSON.stringify(String(raw))}: must be one of ${choices.join(', ')}`);
  return raw as T;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}
