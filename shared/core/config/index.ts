// Parsing and validation of the analysis config: every problem is reported with its JSON path.

import { DpError } from '../errors';
import { migrateConfig, OLDEST_SCHEMA_VERSION } from './migrations';
import { AnalysisConfigSchema, SCHEMA_VERSION } from './schema';
import type { AnalysisConfig } from './schema';

export * from './schema';
export { migrateConfig, OLDEST_SCHEMA_VERSION } from './migrations';

export interface ConfigIssue {
  /** JSON path such as metrics[2].privacy.clamp.low */
  readonly path: string;
  readonly message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

export type ConfigResult = { ok: true; config: AnalysisConfig } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates a parsed JSON value as an analysis config, with defaults applied. Older schema
 * versions are migrated first (migrations.ts); the result is always SCHEMA_VERSION.
 */
export function validateConfig(value: unknown): ConfigResult {
  if (typeof value === 'object' && value !== null && 'schemaVersion' in value) {
    const v = (value as { schemaVersion: unknown }).schemaVersion;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < OLDEST_SCHEMA_VERSION || v > SCHEMA_VERSION) {
      return { ok: false, issues: [{ path: 'schemaVersion', message: `unknown schemaVersion ${JSON.stringify(v)}: this workbench reads versions ${OLDEST_SCHEMA_VERSION} to ${SCHEMA_VERSION}` }] };
    }
  }
  const r = AnalysisConfigSchema.safeParse(migrateConfig(value).value);
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
}

/** Like validateConfig but throws one DpError listing every issue. */
export function parseConfig(value: unknown): AnalysisConfig {
  const r = validateConfig(value);
  if (r.ok) return r.config;
  throw new DpError('InvalidParameter', `invalid analysis config: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
}
