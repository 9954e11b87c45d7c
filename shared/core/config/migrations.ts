// Migrations of the analysis config between schema versions: every version this workbench ever
// wrote is read by migrating it step by step to SCHEMA_VERSION. Pure; the input is not modified.
//
//   v1 → v2: metrics gain `cadence` (how often they are released, for the budget ledger); a v1
//            config described one release, so every metric becomes 'one-off'.

import { SCHEMA_VERSION } from './schema';

export interface MigrationResult {
  readonly value: unknown;
  /** The version read (before migrating). */
  readonly from: number | null;
  /** One line per step applied, e.g. "v1 → v2: metrics released one-off". */
  readonly steps: readonly string[];
}

type Step = (config: Record<string, unknown>) => Record<string, unknown>;

const STEPS: Readonly<Record<number, { to: number; what: string; run: Step }>> = {
  1: {
    to: 2,
    what: 'v1 → v2: every metric gets cadence "one-off" (a v1 config described one release)',
    run: (c) => ({
      ...c,
      schemaVersion: 2,
      metrics: Array.isArray(c['metrics'])
        ? (c['metrics'] as unknown[]).map((m) => (m !== null && typeof m === 'object' && !('cadence' in m) ? { ...(m as object), cadence: 'one-off' } : m))
        : c['metrics'],
    }),
  },
};

/** The oldest version this workbench can read. */
export const OLDEST_SCHEMA_VERSION = 1;

/**
 * Migrates a parsed config to SCHEMA_VERSION. Values that are not objects, have no
 * schemaVersion, or a version newer than SCHEMA_VERSION are returned unchanged (validation then
 * names the problem); an unknown older version throws.
 */
export function migrateConfig(value: unknown): MigrationResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { value, from: null, steps: [] };
  const from = (value as { schemaVersion?: unknown }).schemaVersion;
  if (typeof from !== 'number' || !Number.isInteger(from) || from >= SCHEMA_VERSION || from < OLDEST_SCHEMA_VERSION) {
    return { value, from: typeof from === 'number' ? from : null, steps: [] };
  }
  let current = value as Record<string, unknown>;
  let version = from;
  const steps: string[] = [];
  while (version < SCHEMA_VERSION) {
    const step = STEPS[version];
    if (!step) throw new Error(`no migration from schemaVersion ${version}`);
    current = step.run(current);
    steps.push(step.what);
    version = step.to;
  }
  return { value: current, from, steps };
}
