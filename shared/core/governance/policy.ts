// A workspace's budget policy (one JSON file): the privacy budgets that analyses of a dataset draw
// on per period, and the parts of them held back (reservations). Validated with zod; problems are
// reported with their JSON path, as for the analysis config (config/index.ts). Issue 7.

import { z } from 'zod';
import { formatPath } from '../config/index';
import type { AnalysisConfig } from '../config/schema';
import { DpError } from '../errors';

/** The version of the policy file this workbench reads and writes. */
export const POLICY_SCHEMA_VERSION = 1 as const;

export const BudgetPeriodSchema = z.enum(['day', 'week', 'month', 'quarter']);
export type BudgetPeriod = z.infer<typeof BudgetPeriodSchema>;

/** Days of each period; a month is counted as 30 days and a quarter as 91 (13 weeks). */
export const PERIOD_DAYS: Readonly<Record<BudgetPeriod, number>> = Object.freeze({ day: 1, week: 7, month: 30, quarter: 91 });

/** Accountants a policy may compose its ledger with. */
export const PolicyAccountantSchema = z.enum(['basic', 'zcdp', 'pld']);
export type PolicyAccountant = z.infer<typeof PolicyAccountantSchema>;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const probability = finite.refine((v) => v >= 0 && v < 1, 'must be in [0, 1)');
// Same rule as the config's identifiers (config/schema.ts).
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must start with a letter or _ and use letters, digits, _ . -');

export const PolicyBudgetSchema = z.object({
  id: identifier,
  label: z.string().optional(),
  /**
   * The dataset the budget covers: matched against the config's dataset.path, by its file name
   * with or without the extension ("product-events" or "product-events.csv"); '*' covers every
   * dataset.
   */
  dataset: z.string().min(1),
  /** Privacy unit the budget protects. */
  unit: z.enum(['user', 'device']),
  period: BudgetPeriodSchema,
  epsilon: positive,
  delta: probability,
  accountant: PolicyAccountantSchema.default('pld'),
  /** Share of ε at which the ledger warns, in (0, 1]. */
  warnAt: finite.refine((v) => v > 0 && v <= 1, 'must be in (0, 1]').default(0.8),
}).strict();
export type PolicyBudget = z.infer<typeof PolicyBudgetSchema>;

export const ReservationSchema = z.object({
  id: identifier,
  /** Id of the budget the reservation is taken from. */
  budget: identifier,
  label: z.string().min(1),
  epsilon: positive,
  delta: probability,
  reason: z.string().optional(),
}).strict();
export type Reservation = z.infer<typeof ReservationSchema>;

export const BudgetPolicySchema = z.object({
  schemaVersion: z.literal(POLICY_SCHEMA_VERSION),
  budgets: z.array(PolicyBudgetSchema),
  reservations: z.array(ReservationSchema).default([]),
}).strict().superRefine((p, ctx) => {
  const budgets = new Set<string>();
  p.budgets.forEach((b, i) => {
    if (budgets.has(b.id)) ctx.addIssue({ code: 'custom', path: ['budgets', i, 'id'], message: `duplicate budget id ${JSON.stringify(b.id)}` });
    budgets.add(b.id);
  });
  const reservations = new Set<string>();
  p.reservations.forEach((r, i) => {
    if (reservations.has(r.id)) ctx.addIssue({ code: 'custom', path: ['reservations', i, 'id'], message: `duplicate reservation id ${JSON.stringify(r.id)}` });
    reservations.add(r.id);
    if (!budgets.has(r.budget)) {
      ctx.addIssue({ code: 'custom', path: ['reservations', i, 'budget'], message: `unknown budget ${JSON.stringify(r.budget)} (known: ${[...budgets].join(', ') || 'none'})` });
    }
  });
});
export type BudgetPolicy = z.infer<typeof BudgetPolicySchema>;
export type BudgetPolicyInput = z.input<typeof BudgetPolicySchema>;

export interface PolicyIssue {
  /** JSON path such as budgets[1].epsilon */
  readonly path: string;
  readonly message: string;
}

export type PolicyResult = { ok: true; policy: BudgetPolicy } | { ok: false; issues: PolicyIssue[] };

/** Validates a parsed JSON value as a budget policy, with defaults applied. */
export function validatePolicy(value: unknown): PolicyResult {
  if (typeof value === 'object' && value !== null && 'schemaVersion' in value) {
    const v = (value as { schemaVersion: unknown }).schemaVersion;
    if (v !== POLICY_SCHEMA_VERSION) {
      return { ok: false, issues: [{ path: 'schemaVersion', message: `unknown schemaVersion ${JSON.stringify(v)}: this workbench reads budget policy version ${POLICY_SCHEMA_VERSION}` }] };
    }
  }
  const r = BudgetPolicySchema.safeParse(value);
  if (r.success) return { ok: true, policy: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
}

/** Like validatePolicy but throws one DpError listing every issue. */
export function parsePolicy(value: unknown): BudgetPolicy {
  const r = validatePolicy(value);
  if (r.ok) return r.policy;
  throw new DpError('InvalidParameter', `invalid budget policy: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
}

const DATA_EXTENSIONS = ['.csv.gz', '.tsv.gz', '.csv', '.tsv', '.ndjson', '.jsonl', '.json', '.parquet', '.arrow', '.feather'];

/** File name of a dataset path (either separator), and the same without its data extension. */
export function datasetNames(path: string): { file: string; name: string } {
  const file = path.split(/[\\/]/).filter((s) => s.length > 0).pop() ?? path;
  const lower = file.toLowerCase();
  const ext = DATA_EXTENSIONS.find((e) => lower.endsWith(e) && lower.length > e.length);
  if (ext) return { file, name: file.slice(0, file.length - ext.length) };
  const dot = file.lastIndexOf('.');
  return { file, name: dot > 0 ? file.slice(0, dot) : file };
}

function coversDataset(b: PolicyBudget, path: string): boolean {
  if (b.dataset === '*') return true;
  const { file, name } = datasetNames(path);
  return b.dataset === name || b.dataset === file;
}

/**
 * Every budget that covers a config, best first: the dataset matches (a named dataset before '*'),
 * and the unit is the config's privacy unit. A device-level config with no device budget is also
 * matched by a user budget of its dataset, so that the ledger shows it and the guardrails flag it
 * ('device-unit'): a device-level guarantee does not protect a user with several devices.
 */
export function matchBudgets(policy: BudgetPolicy, config: Pick<AnalysisConfig, 'dataset' | 'privacyUnit'>): PolicyBudget[] {
  const covering = policy.budgets.filter((b) => coversDataset(b, config.dataset.path));
  const named = (b: PolicyBudget): number => (b.dataset === '*' ? 1 : 0);
  const ordered = [...covering].sort((a, b) => named(a) - named(b));
  const same = ordered.filter((b) => b.unit === config.privacyUnit.kind);
  if (same.length > 0) return same;
  if (config.privacyUnit.kind === 'device') return ordered.filter((b) => b.unit === 'user');
  return [];
}

/** The budget that covers a config (see matchBudgets), or null: the caller reports 'no-budget'. */
export function matchBudget(policy: BudgetPolicy, config: Pick<AnalysisConfig, 'dataset' | 'privacyUnit'>): PolicyBudget | null {
  return matchBudgets(policy, config)[0] ?? null;
}
