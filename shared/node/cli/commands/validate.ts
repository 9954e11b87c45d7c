// `dpw validate CONFIG`: reads an analysis config, migrates older schema versions and validates it
// with the same core function the app uses (validateConfig), naming every problem by its JSON path.
// A file that is not JSON (truncated, edited by hand) is reported with the line and column where
// parsing stopped.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { migrateConfig, SCHEMA_VERSION, validateConfig } from '../../../core/config/index';
import type { ConfigIssue } from '../../../core/config/index';
import { canonicalJson } from '../../../core/export/canonical';
import type { Io } from '../args';
import { parse, UsageError } from '../args';

export const validateHelp = `Usage: dpw validate CONFIG [--json]

Checks an analysis config: JSON syntax, the schema (schemaVersion ${SCHEMA_VERSION}; older versions are migrated
first) and the cross-field rules (known dimensions, metric references, budget shares).
  --no-data-check   do not check that the sample file named by dataset.path exists
  --json   print {"file","valid","name","schemaVersion","migratedFrom","migrations","configHash"}
           or {"file","valid":false,"error"?,"issues":[{"path","message"}]}
Exit status: 0 valid, 1 invalid or unreadable (every issue listed with its JSON path), 2 bad arguments.`;

export interface JsonSyntaxError {
  readonly message: string;
  /** 0-based character offset where parsing stopped. */
  readonly position: number;
  /** 1-based. */
  readonly line: number;
  readonly column: number;
}

/** Where JSON.parse stopped, from its message (`at position N`, or the end of the text). */
export function jsonSyntaxError(text: string, err: Error): JsonSyntaxError {
  const raw = err.message.split('\n')[0] ?? err.message;
  const m = /at position (\d+)/.exec(raw);
  const position = m ? Math.min(Number(m[1]), text.length) : text.length;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const message = raw.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*in JSON at position \d+/, '');
  return { message, position, line, column: position - lineStart + 1 };
}

/** sha256 of the canonical JSON of a validated config, as `sha256:<hex>` (what exports carry). */
export function configHash(config: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex')}`;
}

type Outcome =
  | { valid: true; name: string; schemaVersion: number; migratedFrom: number | null; migrations: readonly string[]; configHash: string }
  | { valid: false; error?: { kind: 'read' | 'json'; message: string; position?: number; line?: number; column?: number }; issues: readonly ConfigIssue[] };

function check(file: string, dataCheck = true): Outcome {
  let text: string;
  try {
    if (statSync(file).isDirectory()) return { valid: false, error: { kind: 'read', message: 'is a directory, not a config file' }, issues: [] };
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { valid: false, error: { kind: 'read', message: code === 'ENOENT' ? 'config file not found' : `cannot read the file (${code ?? (e as Error).message})` }, issues: [] };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const s = jsonSyntaxError(text, e as Error);
    return { valid: false, error: { kind: 'json', message: `not valid JSON at line ${s.line}, column ${s.column} (position ${s.position}): ${s.message}`, position: s.position, line: s.line, column: s.column }, issues: [] };
  }
  const r = validateConfig(json);
  if (!r.ok) return { valid: false, issues: r.issues };
  if (dataCheck) {
    // The sample the config names must be there (relative paths are relative to the config file).
    const data = resolve(dirname(resolve(file)), r.config.dataset.path);
    let problem: string | null = null;
    try {
      if (!statSync(data).isFile()) problem = `${data} is not a file`;
    } catch {
      problem = `the sample file ${data} does not exist (dataset.path is relative to the config's folder; --no-data-check skips this check)`;
    }
    if (problem) return { valid: false, issues: [{ path: 'dataset.path', message: problem }] };
  }
  const migration = migrateConfig(json);
  return {
    valid: true, name: r.config.name, schemaVersion: r.config.schemaVersion,
    migratedFrom: migration.steps.length > 0 ? migration.from : null, migrations: migration.steps, configHash: configHash(r.config),
  };
}

export function runValidate(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'no-data-check': { type: 'boolean' } });
  if (values.help) {
    io.out(validateHelp);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('CONFIG is required (dpw validate CONFIG)');
  if (positionals.length > 1) throw new UsageError(`one CONFIG only, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  const file = positionals[0]!;
  const o = check(file, values['no-data-check'] !== true);
  if (values.json) {
    io.out(JSON.stringify({ file, ...o }, null, 2));
    return o.valid ? 0 : 1;
  }
  if (o.valid) {
    io.out(`valid: ${o.name}, schemaVersion ${o.schemaVersion}${o.migratedFrom !== null ? ` (migrated from v${o.migratedFrom})` : ''}`);
    return 0;
  }
  if (o.error) io.err(`${file}: ${o.error.message}`);
  else {
    io.err(`${file}: invalid analysis config (${o.issues.length} ${o.issues.length === 1 ? 'issue' : 'issues'}):`);
    for (const i of o.issues) io.err(`  ${i.path}: ${i.message}`);
  }
  return 1;
}
