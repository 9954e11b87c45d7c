import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/core/config/index';
import type { AnalysisConfig } from '../../../shared/core/config/index';
import { DpError } from '../../../shared/core/errors';
import { datasetNames, matchBudget, matchBudgets, parsePolicy, PERIOD_DAYS, validatePolicy } from '../../../shared/core/governance/policy';
import type { BudgetPolicyInput } from '../../../shared/core/governance/policy';

function policy(): BudgetPolicyInput {
  return {
    schemaVersion: 1,
    budgets: [
      { id: 'month-users', label: 'Product events, users, per month', dataset: 'product-events', unit: 'user', period: 'month', epsilon: 4, delta: 1e-6 },
      { id: 'quarter-all', dataset: '*', unit: 'user', period: 'quarter', epsilon: 10, delta: 1e-5, accountant: 'zcdp', warnAt: 0.9 },
    ],
    reservations: [{ id: 'follow-ups', budget: 'month-users', label: 'Follow-up questions', epsilon: 0.5, delta: 0, reason: 'held back for ad-hoc queries' }],
  };
}

function config(path: string, unit: 'user' | 'device'): AnalysisConfig {
  return parseConfig({
    schemaVersion: 2,
    name: 'pilot',
    dataset: { path },
    privacyUnit: { column: unit === 'user' ? 'user_id' : 'device_id', kind: unit },
    budget: { epsilon: 1, delta: 1e-6 },
    metrics: [{ id: 'rows', kind: 'count', privacy: { budgetShare: 1, maxPartitionsContributed: 1 } }],
  });
}

function issuesOf(value: unknown): { path: string; message: string }[] {
  const r = validatePolicy(value);
  if (r.ok) throw new Error('expected the policy to be rejected');
  return r.issues;
}

describe('budget policy validation', () => {
  it('accepts a valid policy and fills the defaults', () => {
    const r = validatePolicy({ schemaVersion: 1, budgets: [{ id: 'b', dataset: 'x', unit: 'device', period: 'week', epsilon: 1, delta: 0 }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.policy.budgets[0]!.accountant).toBe('pld');
    expect(r.policy.budgets[0]!.warnAt).toBe(0.8);
    expect(r.policy.reservations).toEqual([]);
    const full = parsePolicy(policy());
    expect(full.budgets[1]!.accountant).toBe('zcdp');
    expect(full.reservations[0]!.reason).toBe('held back for ad-hoc queries');
  });

  it('names the JSON path of every bad field', () => {
    const p = policy();
    const budgets = p.budgets as Record<string, unknown>[];
    budgets[0]!['epsilon'] = -1;
    budgets[1]!['delta'] = 1;
    budgets[1]!['warnAt'] = 0;
    budgets[0]!['accountant'] = 'rdp';
    budgets[0]!['period'] = 'year';
    const paths = issuesOf(p).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['budgets[0].epsilon', 'budgets[1].delta', 'budgets[1].warnAt', 'budgets[0].accountant', 'budgets[0].period']));
  });

  it('rejects duplicate ids and reservations of unknown budgets', () => {
    const p = policy();
    (p.budgets as { id: string }[])[1]!.id = 'month-users';
    p.reservations = [
      { id: 'r', budget: 'month-users', label: 'a', epsilon: 0.1, delta: 0 },
      { id: 'r', budget: 'year-users', label: 'b', epsilon: 0.1, delta: 0 },
    ];
    const issues = issuesOf(p);
    expect(issues).toContainEqual({ path: 'budgets[1].id', message: 'duplicate budget id "month-users"' });
    expect(issues).toContainEqual({ path: 'reservations[1].id', message: 'duplicate reservation id "r"' });
    const unknown = issues.find((i) => i.path === 'reservations[1].budget');
    expect(unknown?.message).toContain('unknown budget "year-users"');
  });

  it('rejects reservations with a non-positive epsilon and bad ids', () => {
    const p = policy();
    p.reservations = [{ id: '1st', budget: 'month-users', label: 'x', epsilon: 0, delta: -1 }];
    const paths = issuesOf(p).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['reservations[0].id', 'reservations[0].epsilon', 'reservations[0].delta']));
  });

  it('rejects an unknown schemaVersion and unknown fields', () => {
    expect(issuesOf({ ...policy(), schemaVersion: 2 })).toEqual([{ path: 'schemaVersion', message: expect.stringContaining('unknown schemaVersion 2') }]);
    expect(issuesOf({ ...policy(), owner: 'me' })[0]!.path).toBe('(root)');
  });

  it('parsePolicy throws one DpError listing the issues', () => {
    const p = policy();
    (p.budgets as Record<string, unknown>[])[0]!['epsilon'] = 0;
    expect(() => parsePolicy(p)).toThrow(DpError);
    expect(() => parsePolicy(p)).toThrow(/budgets\[0\]\.epsilon: must be > 0/);
  });

  it('counts a month as 30 days and a quarter as 91', () => {
    expect(PERIOD_DAYS).toEqual({ day: 1, week: 7, month: 30, quarter: 91 });
  });
});

describe('matching a config to its budget', () => {
  const p = parsePolicy(policy());

  it('matches the dataset file name with or without its extension, before a wildcard budget', () => {
    expect(matchBudget(p, config('../product-events.csv', 'user'))?.id).toBe('month-users');
    expect(matchBudget(p, config('C:\\data\\product-events.csv.gz', 'user'))?.id).toBe('month-users');
    expect(matchBudgets(p, config('/data/product-events.parquet', 'user')).map((b) => b.id)).toEqual(['month-users', 'quarter-all']);
    const byFile = parsePolicy({ schemaVersion: 1, budgets: [{ id: 'b', dataset: 'product-events.csv', unit: 'user', period: 'month', epsilon: 1, delta: 0 }] });
    expect(matchBudget(byFile, config('sample/product-events.csv', 'user'))?.id).toBe('b');
    expect(matchBudget(byFile, config('sample/product-events.parquet', 'user'))).toBeNull();
  });

  it('falls back to a wildcard budget, and to none without one', () => {
    expect(matchBudget(p, config('saas-usage.csv', 'user'))?.id).toBe('quarter-all');
    const named = parsePolicy({ ...policy(), budgets: [policy().budgets[0]!] });
    expect(matchBudget(named, config('saas-usage.csv', 'user'))).toBeNull();
  });

  it('matches the privacy unit; a device config falls back to a user budget (which the guardrails reject)', () => {
    const both = parsePolicy({
      schemaVersion: 1,
      budgets: [
        { id: 'users', dataset: 'product-events', unit: 'user', period: 'month', epsilon: 4, delta: 1e-6 },
        { id: 'devices', dataset: 'product-events', unit: 'device', period: 'month', epsilon: 4, delta: 1e-6 },
      ],
    });
    expect(matchBudget(both, config('product-events.csv', 'device'))?.id).toBe('devices');
    expect(matchBudget(both, config('product-events.csv', 'user'))?.id).toBe('users');
    expect(matchBudget(p, config('product-events.csv', 'device'))?.id).toBe('month-users');
    const devicesOnly = parsePolicy({ schemaVersion: 1, budgets: [{ id: 'devices', dataset: '*', unit: 'device', period: 'month', epsilon: 4, delta: 1e-6 }] });
    expect(matchBudget(devicesOnly, config('product-events.csv', 'user'))).toBeNull();
  });

  it('splits a dataset path into its file name and its name without the data extension', () => {
    expect(datasetNames('../product-events.csv')).toEqual({ file: 'product-events.csv', name: 'product-events' });
    expect(datasetNames('a/b/events.v2.csv.gz')).toEqual({ file: 'events.v2.csv.gz', name: 'events.v2' });
    expect(datasetNames('events')).toEqual({ file: 'events', name: 'events' });
  });
});
