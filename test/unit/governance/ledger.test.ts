import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, validateConfig } from '../../../shared/core/config/index';
import type { AnalysisConfig, AnalysisConfigInput } from '../../../shared/core/config/index';
import { getAccountant } from '../../../shared/core/dp/accounting/index';
import { analyticGaussianSigma } from '../../../shared/core/dp/mechanisms/gaussian';
import { DpError } from '../../../shared/core/errors';
import { buildLedger, checkGuardrails, noBudgetGuardrail, releaseDays, releaseEvents, releasesInPeriod } from '../../../shared/core/governance/ledger';
import type { Ledger, LedgerEntryInput } from '../../../shared/core/governance/ledger';
import { matchBudget, parsePolicy } from '../../../shared/core/governance/policy';
import type { PolicyBudget, Reservation } from '../../../shared/core/governance/policy';
import { REPO_ROOT } from '../../helpers/oracles';

type MetricInput = AnalysisConfigInput['metrics'][number];

function sampleConfig(name: string): unknown {
  return JSON.parse(readFileSync(resolve(REPO_ROOT, 'sample-data/configs', name), 'utf8'));
}

const productPilot = (): AnalysisConfig => parseConfig(sampleConfig('product-pilot.json'));

function config(metrics: MetricInput[], opts: { epsilon?: number; delta?: number; unit?: 'user' | 'device'; path?: string } = {}): AnalysisConfig {
  return parseConfig({
    schemaVersion: 2,
    name: 'test',
    dataset: { path: opts.path ?? '../product-events.csv' },
    privacyUnit: { column: opts.unit === 'device' ? 'device_id' : 'user_id', kind: opts.unit ?? 'user' },
    dimensions: [
      { name: 'country', column: 'country' },
      { name: 'platform', column: 'platform', publicValues: ['ios', 'android', 'web'] },
    ],
    budget: { epsilon: opts.epsilon ?? 1, delta: opts.delta ?? 1e-6 },
    metrics,
  });
}

function budget(overrides: Partial<PolicyBudget> = {}): PolicyBudget {
  const p = parsePolicy({ schemaVersion: 1, budgets: [{ id: 'month-users', dataset: 'product-events', unit: 'user', period: 'month', epsilon: 4, delta: 1e-6, ...overrides }] });
  return p.budgets[0]!;
}

function entry(cfg: AnalysisConfig, analysisId = 'pilot', version = 1, status = 'approved'): LedgerEntryInput {
  return { analysisId, version, status, config: cfg };
}

function reservation(overrides: Partial<Reservation> = {}): Reservation {
  return { id: 'follow-ups', budget: 'month-users', label: 'Follow-up questions', epsilon: 0.5, delta: 0, ...overrides };
}

/** Σ over entries and metrics of releases·(ε, δ) per release, plus the reservations: basic composition by hand. */
function basicSum(ledger: Ledger): { epsilon: number; delta: number } {
  let epsilon = 0;
  let delta = 0;
  for (const e of ledger.entries) {
    for (const m of e.metrics) {
      epsilon += m.releases * m.epsilonPerRelease;
      delta += m.releases * m.deltaPerRelease;
    }
  }
  for (const r of ledger.reservations) {
    epsilon += r.epsilon;
    delta += r.delta;
  }
  return { epsilon, delta };
}

function expectCalendar(ledger: Ledger): void {
  expect(ledger.calendar.map((c) => c.day)).toEqual(Array.from({ length: ledger.periodDays }, (_, i) => i + 1));
  for (let i = 1; i < ledger.calendar.length; i++) expect(ledger.calendar[i]!.epsilon).toBeGreaterThanOrEqual(ledger.calendar[i - 1]!.epsilon);
  expect(ledger.calendar[ledger.calendar.length - 1]!.epsilon).toBe(ledger.spent.epsilon);
}

const gaussianDaily = (id: string, share: number): MetricInput => ({
  id, kind: 'count-distinct', cadence: 'daily', by: ['platform'],
  privacy: { budgetShare: share, mechanism: 'gaussian', maxPartitionsContributed: 3, selection: 'public', boundProvenance: 'domain-knowledge' },
});

describe('release cadence', () => {
  it('counts the releases of each cadence in a period', () => {
    expect(releasesInPeriod('one-off', 30)).toBe(1);
    expect(releasesInPeriod('daily', 30)).toBe(30);
    expect(releasesInPeriod('weekly', 30)).toBe(5);
    expect(releasesInPeriod('monthly', 30)).toBe(1);
    expect(releasesInPeriod('weekly', 91)).toBe(13);
    expect(releasesInPeriod('monthly', 91)).toBe(4);
    expect(releasesInPeriod('weekly', 1)).toBe(1);
  });

  it('places the releases on days of the period', () => {
    expect(releaseDays('weekly', 30)).toEqual([1, 8, 15, 22, 29]);
    expect(releaseDays('monthly', 91)).toEqual([1, 31, 61, 91]);
    expect(releaseDays('one-off', 30)).toEqual([1]);
    expect(releaseDays('daily', 7)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const c of ['one-off', 'daily', 'weekly', 'monthly'] as const) {
      for (const p of [1, 7, 30, 91]) expect(releaseDays(c, p)).toHaveLength(releasesInPeriod(c, p));
    }
  });

  it('rejects a period that is not a whole number of days', () => {
    expect(() => releasesInPeriod('daily', 0)).toThrow(DpError);
    expect(() => releaseDays('weekly', 2.5)).toThrow(/periodDays/);
  });
});

describe('privacy events of one release', () => {
  it('gives a Laplace metric on public partitions one Laplace event with all of its ε', () => {
    const [r] = releaseEvents(config([{ id: 'rows', kind: 'count', by: ['platform'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 2, maxContributionsPerPartition: 3 } }]));
    expect(r!.epsilon).toBeCloseTo(0.5, 15);
    expect(r!.delta).toBe(0);
    // L1 = L0·L∞ = 6, b = L1/ε.
    expect(r!.events).toEqual([{ kind: 'laplace', scale: 12, sensitivity: 6 }]);
  });

  it('gives a Gaussian metric its analytic σ and L2 sensitivity', () => {
    const [r] = releaseEvents(config([gaussianDaily('users', 0.5)]));
    expect(r!.delta).toBeCloseTo(5e-7, 20);
    expect(r!.events).toHaveLength(1);
    const e = r!.events[0]! as { kind: string; sigma: number; sensitivity: number };
    expect(e.kind).toBe('gaussian');
    expect(e.sensitivity).toBeCloseTo(Math.sqrt(3), 12);
    expect(e.sigma).toBeCloseTo(analyticGaussianSigma(0.5, 5e-7, Math.sqrt(3)), 9);
  });

  it('pools the partition selection of a group into one (ε, δ) event listed once', () => {
    const releases = releaseEvents(config([
      { id: 'rows', kind: 'count', by: ['country'], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1, selection: 'optimal' } },
      { id: 'revenue', kind: 'sum', column: 'revenue', by: ['country'], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1, clamp: { low: 0, high: 10 }, selection: 'optimal' } },
    ]));
    const [rows, revenue] = releases;
    const selections = releases.flatMap((r) => r.events.filter((e) => e.kind === 'epsilon-delta'));
    expect(selections).toHaveLength(1);
    const sel = rows!.events[0]! as { kind: string; epsilon: number; delta: number };
    expect(sel.kind).toBe('epsilon-delta');
    expect(sel.epsilon).toBeCloseTo(0.4, 12);
    // Pure noise: each metric's whole δ share goes to the selection.
    expect(sel.delta).toBeCloseTo(8e-7, 18);
    expect(revenue!.events).toEqual([{ kind: 'laplace', scale: 10 / 0.2, sensitivity: 10 }]);
    expect(rows!.delta + revenue!.delta).toBeCloseTo(8e-7, 18);
  });

  it('counts a count-distinct metric whose noisy count drives the selection as one (ε_m, δ_m) mechanism', () => {
    const [users, revenue] = releaseEvents(config([
      { id: 'users', kind: 'count-distinct', by: ['country'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1 } },
      { id: 'revenue', kind: 'sum', column: 'revenue', by: ['country'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1, clamp: { low: 0, high: 10 } } },
    ]));
    expect(users!.events).toEqual([{ kind: 'epsilon-delta', epsilon: 0.5, delta: 5e-7 }]);
    // Covered: released on the kept partitions, no selection of its own; all of ε_m to noise.
    expect(revenue!.events).toEqual([{ kind: 'laplace', scale: 20, sensitivity: 10 }]);
    expect(revenue!.delta).toBe(0);
  });

  it('counts the pooled selection again for a group member released on days the others are not', () => {
    const metric = (id: string, cadence: 'daily' | 'weekly' | 'monthly'): MetricInput => ({ id, kind: 'count', cadence, by: ['country'], privacy: { budgetShare: 0.3, maxPartitionsContributed: 1, selection: 'optimal' } });
    const selections = (cadences: ('daily' | 'weekly' | 'monthly')[]): number[] =>
      releaseEvents(config(cadences.map((c, i) => metric(`m${i}`, c)))).map((r) => r.events.filter((e) => e.kind === 'epsilon-delta').length);
    expect(selections(['weekly', 'daily'])).toEqual([0, 1]);
    expect(selections(['weekly', 'monthly'])).toEqual([1, 1]);
    expect(selections(['monthly', 'monthly', 'daily'])).toEqual([0, 0, 1]);
  });

  it('keeps basic (ε, δ) consistent with the events, per group, and per metric when cadences differ', () => {
    const pureEpsilon = (events: readonly { kind: string; epsilon?: number; scale?: number; sensitivity?: number }[]): number =>
      events.reduce((s, e) => s + (e.kind === 'epsilon-delta' ? e.epsilon! : e.sensitivity! / e.scale!), 0);
    const metric = (id: string, cadence: 'daily' | 'weekly' | 'monthly', share: number): MetricInput => ({ id, kind: 'count', cadence, by: ['country'], privacy: { budgetShare: share, maxPartitionsContributed: 1, selection: 'optimal', selectionShare: 0.3 } });
    const same = releaseEvents(config([metric('a', 'weekly', 0.5), metric('b', 'weekly', 0.3)]));
    expect(same.map((r) => r.epsilon)).toEqual([0.5, 0.3]);
    expect(pureEpsilon(same.flatMap((r) => r.events))).toBeCloseTo(0.8, 12);
    const mixed = releaseEvents(config([metric('a', 'weekly', 0.5), metric('b', 'monthly', 0.3), metric('c', 'weekly', 0.2)]));
    for (const r of mixed) expect(r.epsilon).toBeCloseTo(pureEpsilon(r.events), 12);
    // a carries the pooled selection (0.3 of 1), b again (its days are not a's), c only its noise.
    expect(mixed.map((r) => r.epsilon)).toEqual([expect.closeTo(0.35 + 0.3, 12), expect.closeTo(0.21 + 0.3, 12), expect.closeTo(0.14, 12)]);
  });

  it('lists ratios and local-DP metrics with no events', () => {
    const releases = releaseEvents(productPilot());
    const ratio = releases.find((r) => r.metricId === 'revenue_per_user_by_country')!;
    const local = releases.find((r) => r.metricId === 'platform_share_local')!;
    expect(ratio.events).toEqual([]);
    expect(ratio.epsilon).toBe(0);
    expect(local.events).toEqual([]);
    expect(local.notes.join(' ')).toContain('spends no central budget');
    // Every other metric spends its share of the config's ε.
    const spent = releases.reduce((s, r) => s + r.epsilon, 0);
    expect(spent).toBeCloseTo(0.9 * 2, 12);
  });

  it('names the analysis when a release cannot run (Gaussian noise with δ = 0)', () => {
    const cfg = config([gaussianDaily('users', 0.5)], { delta: 0 });
    expect(() => releaseEvents(cfg)).toThrow(DpError);
    expect(() => buildLedger({ budget: budget(), entries: [entry(cfg, 'pilot', 3)], reservations: [] })).toThrow(/pilot v3: .*needs a delta/);
  });
});

describe('budget ledger', () => {
  it('adds up ε and δ exactly under the basic accountant', () => {
    const ledger = buildLedger({ budget: budget({ accountant: 'basic', epsilon: 20, delta: 1e-5 }), entries: [entry(productPilot())], reservations: [reservation()] });
    const sum = basicSum(ledger);
    // product-pilot: weekly, 5 releases in 30 days, 0.9 of ε 2 each.
    expect(sum.epsilon).toBeCloseTo(5 * 1.8 + 0.5, 12);
    expect(ledger.spent.epsilon).toBeCloseTo(sum.epsilon, 12);
    expect(ledger.spent.delta).toBeCloseTo(sum.delta, 20);
    expect(ledger.usedShare).toBeCloseTo(9.5 / 20, 12);
    expect(ledger.remaining.epsilon).toBeCloseTo(10.5, 12);
    expect(ledger.entries[0]!.metrics.every((m) => m.releases === 5)).toBe(true);
    expectCalendar(ledger);
    // Steps on the weekly release days only.
    expect(ledger.calendar[0]!.epsilon).toBeCloseTo(1.8 + 0.5, 12);
    expect(ledger.calendar[6]!.epsilon).toBe(ledger.calendar[0]!.epsilon);
    expect(ledger.calendar[7]!.epsilon).toBeCloseTo(2 * 1.8 + 0.5, 12);
  });

  it('counts 30 releases of a daily metric in a 30-day month', () => {
    const cfg = config([{ id: 'rows', kind: 'count', cadence: 'daily', by: ['platform'], privacy: { budgetShare: 0.1, maxPartitionsContributed: 1, boundProvenance: 'domain-knowledge' } }]);
    const ledger = buildLedger({ budget: budget({ accountant: 'basic' }), entries: [entry(cfg)], reservations: [] });
    expect(ledger.entries[0]!.metrics[0]!.releases).toBe(30);
    expect(ledger.spent.epsilon).toBeCloseTo(3, 12);
    ledger.calendar.forEach((c) => expect(c.epsilon).toBeCloseTo(0.1 * c.day, 12));
    const week = buildLedger({ budget: budget({ accountant: 'basic', period: 'week' }), entries: [entry(cfg)], reservations: [] });
    expect(week.periodDays).toBe(7);
    expect(week.spent.epsilon).toBeCloseTo(0.7, 12);
  });

  it('composes many Gaussian releases below basic composition and above the largest single release (PLD, zCDP)', () => {
    const cfg = config([gaussianDaily('users', 0.5), gaussianDaily('sessions', 0.3), { id: 'rows', kind: 'count', cadence: 'weekly', by: ['platform'], privacy: { budgetShare: 0.2, maxPartitionsContributed: 1, boundProvenance: 'domain-knowledge' } }], { epsilon: 0.5, delta: 1e-8 });
    const entries = [entry(cfg)];
    const reservations = [reservation({ epsilon: 0.2, delta: 1e-7 })];
    const basic = buildLedger({ budget: budget({ accountant: 'basic', epsilon: 10, delta: 1e-5 }), entries, reservations });
    expect(basic.spent.delta).toBeLessThan(1e-5);
    for (const name of ['pld', 'zcdp'] as const) {
      const ledger = buildLedger({ budget: budget({ accountant: name, epsilon: 10, delta: 1e-5 }), entries, reservations });
      expect(ledger.spent.delta).toBe(1e-5);
      expect(ledger.spent.epsilon).toBeLessThan(basic.spent.epsilon);
      const acc = getAccountant(name);
      const largest = Math.max(...releaseEvents(cfg).map((r) => acc.epsilonAt(r.events, 1e-5)), acc.epsilonAt([{ kind: 'epsilon-delta', epsilon: 0.2, delta: 1e-7 }], 1e-5));
      expect(ledger.spent.epsilon).toBeGreaterThanOrEqual(largest);
      expectCalendar(ledger);
    }
  });

  it('composes Gaussian-only ledgers exactly with the PLD accountant', () => {
    const cfg = config([gaussianDaily('users', 0.6), gaussianDaily('sessions', 0.4)], { epsilon: 0.5, delta: 1e-8 });
    const ledger = buildLedger({ budget: budget({ accountant: 'pld', epsilon: 10, delta: 1e-5 }), entries: [entry(cfg)], reservations: [] });
    const events = releaseEvents(cfg).flatMap((r) => r.events);
    expect(ledger.spent.epsilon).toBe(getAccountant('pld').epsilonAt([{ kind: 'composed', events, count: 30 }], 1e-5));
    expect(ledger.notes.join('\n')).toContain('composed exactly');
    expectCalendar(ledger);
  });

  it('matches the PLD accountant on the bundled weekly pilot, never below it', () => {
    const cfg = productPilot();
    const ledger = buildLedger({ budget: budget({ accountant: 'pld', epsilon: 10, delta: 1e-5 }), entries: [entry(cfg)], reservations: [reservation()] });
    const events = releaseEvents(cfg).flatMap((r) => r.events);
    const direct = getAccountant('pld').epsilonAt([{ kind: 'composed', events, count: 5 }, { kind: 'epsilon-delta', epsilon: 0.5, delta: 0 }], 1e-5);
    expect(ledger.spent.epsilon).toBeGreaterThanOrEqual(direct);
    expect(ledger.spent.epsilon).toBeLessThan(direct * 1.001);
    expect(ledger.spent.epsilon).toBeLessThan(basicSum(ledger).epsilon);
    expectCalendar(ledger);
    // ε grows only on the weekly release days.
    const steps = ledger.calendar.filter((c, i) => i === 0 || c.epsilon > ledger.calendar[i - 1]!.epsilon).map((c) => c.day);
    expect(steps).toEqual([1, 8, 15, 22, 29]);
  });

  it('composes every entry: approved versions and the draft under review', () => {
    const cfg = config([{ id: 'rows', kind: 'count', cadence: 'weekly', privacy: { budgetShare: 1, maxPartitionsContributed: 1, boundProvenance: 'domain-knowledge' } }], { epsilon: 0.3 });
    const one = buildLedger({ budget: budget({ accountant: 'basic' }), entries: [entry(cfg)], reservations: [] });
    const three = buildLedger({ budget: budget({ accountant: 'basic' }), entries: [entry(cfg, 'a', 1), entry(cfg, 'a', 2), entry(cfg, 'b', 1, 'draft')], reservations: [] });
    expect(three.spent.epsilon).toBeCloseTo(3 * one.spent.epsilon, 12);
    expect(three.entries.map((e) => `${e.analysisId} v${e.version} ${e.status}`)).toEqual(['a v1 approved', 'a v2 approved', 'b v1 draft']);
  });

  it('counts reservations of this budget, from day 1, and ignores those of other budgets', () => {
    const cfg = productPilot();
    for (const accountant of ['basic', 'zcdp', 'pld'] as const) {
      const b = budget({ accountant, epsilon: 20, delta: 1e-5 });
      const without = buildLedger({ budget: b, entries: [entry(cfg)], reservations: [] });
      const withR = buildLedger({ budget: b, entries: [entry(cfg)], reservations: [reservation({ epsilon: 1 }), reservation({ id: 'other', budget: 'quarter-users', epsilon: 5 })] });
      expect(withR.reservations.map((r) => r.id)).toEqual(['follow-ups']);
      expect(withR.notes.join('\n')).toContain('1 reservation(s) of other budgets ignored');
      expect(withR.spent.epsilon).toBeGreaterThan(without.spent.epsilon);
      expect(withR.calendar[0]!.epsilon).toBeGreaterThan(without.calendar[0]!.epsilon);
      if (accountant === 'basic') expect(withR.spent.epsilon - without.spent.epsilon).toBeCloseTo(1, 12);
      else expect(withR.spent.epsilon - without.spent.epsilon).toBeLessThanOrEqual(1 + 1e-9);
    }
  });

  it('reads v1 configs: every metric is released once', () => {
    const raw = sampleConfig('product-device.json') as { schemaVersion: number };
    expect(raw.schemaVersion).toBe(1);
    const r = validateConfig(raw);
    if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
    const cfg = r.config;
    expect(cfg.metrics.every((m) => m.cadence === 'one-off')).toBe(true);
    const ledger = buildLedger({ budget: budget({ accountant: 'basic', unit: 'device' }), entries: [entry(cfg, 'device-pilot')], reservations: [] });
    expect(ledger.entries[0]!.metrics.every((m) => m.releases === 1)).toBe(true);
    const shares = cfg.metrics.reduce((s, m) => s + (m.kind === 'ratio' || m.kind === 'local-frequency' ? 0 : m.privacy.budgetShare), 0);
    expect(ledger.spent.epsilon).toBeCloseTo(shares * cfg.budget.epsilon, 12);
    expectCalendar(ledger);
  });

  it('stays sound and consistent for 20 analyses of 10 daily metrics under PLD', () => {
    const mechanisms = ['laplace', 'gaussian', 'discrete-laplace', 'discrete-gaussian'] as const;
    const entries = Array.from({ length: 20 }, (_, i) => entry(config(Array.from({ length: 10 }, (_, j): MetricInput => {
      const privacy = { budgetShare: 0.1, mechanism: mechanisms[(i + j) % 4]!, maxPartitionsContributed: 1 + (j % 3), maxContributionsPerPartition: 1 + (j % 2), boundProvenance: 'domain-knowledge' as const };
      if (j % 3 === 0) return { id: `m${j}`, kind: 'count', cadence: 'daily', by: ['country'], privacy };
      if (j % 3 === 1) return { id: `m${j}`, kind: 'sum', column: 'revenue', cadence: 'daily', by: ['platform'], privacy: { ...privacy, clamp: { low: 0, high: 10 + j } } };
      return { id: `m${j}`, kind: 'count-distinct', cadence: 'daily', by: ['country', 'platform'], privacy };
    }), { epsilon: 0.05 + 0.01 * i, delta: 1e-8 }), `a${i}`));
    const ledger = buildLedger({ budget: budget({ accountant: 'pld', epsilon: 10, delta: 1e-5 }), entries, reservations: [reservation()] });
    expect(ledger.entries).toHaveLength(20);
    expect(ledger.entries.every((e) => e.metrics.length === 10 && e.metrics.every((m) => m.releases === 30))).toBe(true);
    expectCalendar(ledger);
    expect(ledger.spent.epsilon).toBeLessThan(basicSum(ledger).epsilon);
    const zcdp = buildLedger({ budget: budget({ accountant: 'zcdp', epsilon: 10, delta: 1e-5 }), entries, reservations: [reservation()] });
    expect(ledger.spent.epsilon).toBeLessThan(zcdp.spent.epsilon);
  });
});

describe('guardrails', () => {
  const pilot = (): { analysisId: string; version: number; config: AnalysisConfig } => ({ analysisId: 'pilot', version: 1, config: productPilot() });

  it('reports an over-budget ledger as an error that carries both numbers', () => {
    const ledger = buildLedger({ budget: budget({ accountant: 'basic', epsilon: 4, delta: 1e-5 }), entries: [entry(productPilot())], reservations: [reservation()] });
    expect(ledger.status).toBe('over');
    const report = checkGuardrails(ledger, []);
    expect(report.ok).toBe(false);
    const over = report.errors.find((e) => e.code === 'over-budget')!;
    expect(over.message).toContain('ε 9.5 of 4 spent per month (238%)');
    expect(over.message).toContain('over by 5.5');
    expect(over.message).toContain('basic accountant');
    expect(ledger.remaining.epsilon).toBe(0);

    const pld = buildLedger({ budget: budget({ accountant: 'pld', epsilon: 2, delta: 1e-6 }), entries: [entry(productPilot())], reservations: [] });
    const msg = checkGuardrails(pld, []).errors.find((e) => e.code === 'over-budget')!.message;
    expect(msg).toMatch(/^ledger for budget month-users: ε \d+(\.\d+)? of 2 spent per month \(\d+%\), over by \d+(\.\d+)? \(pld accountant, δ 1e-6\)$/);
  });

  it('warns from 80% of the budget (or the budget\'s warnAt)', () => {
    const build = (b: Partial<PolicyBudget>): Ledger => buildLedger({ budget: budget({ accountant: 'basic', delta: 1e-5, ...b }), entries: [entry(productPilot())], reservations: [] });
    const near = build({ epsilon: 10 });
    expect(near.status).toBe('warning');
    const report = checkGuardrails(near, []);
    expect(report.ok).toBe(true);
    expect(report.warnings.map((w) => w.code)).toEqual(['near-budget']);
    expect(report.warnings[0]!.message).toContain('ε 9 of 10 spent per month (90%)');
    expect(report.warnings[0]!.message).toContain('80%');
    const far = build({ epsilon: 20 });
    expect(far.status).toBe('ok');
    expect(checkGuardrails(far, []).warnings).toEqual([]);
    expect(checkGuardrails(build({ epsilon: 20, warnAt: 0.4 }), []).warnings.map((w) => w.code)).toEqual(['near-budget']);
  });

  it('reports δ over the budget: the basic sum, or what (ε, δ) releases commit under PLD', () => {
    const basic = buildLedger({ budget: budget({ accountant: 'basic', epsilon: 20, delta: 1e-6 }), entries: [entry(productPilot())], reservations: [] });
    const e = checkGuardrails(basic, []).errors;
    expect(e.map((x) => x.code)).toEqual(['delta-over-budget']);
    expect(e[0]!.message).toContain('δ 1.75e-6 of 1e-6 spent per month (175%)');

    const pld = buildLedger({ budget: budget({ accountant: 'pld', epsilon: 20, delta: 1e-6 }), entries: [entry(productPilot())], reservations: [reservation({ delta: 2e-6 })] });
    expect(pld.status).toBe('over');
    expect(pld.spent.delta).toBeGreaterThan(1e-6);
    expect(Number.isFinite(pld.spent.epsilon)).toBe(true);
    const d = checkGuardrails(pld, []).errors.find((x) => x.code === 'delta-over-budget')!;
    expect(d.message).toContain('of 1e-6 per month');
    expect(d.message).toContain('pld accountant');
  });

  it('flags bounds tuned on the sample, naming the metric', () => {
    const ledger = buildLedger({ budget: budget({ epsilon: 20, delta: 1e-5 }), entries: [entry(productPilot())], reservations: [] });
    const tuned = checkGuardrails(ledger, [pilot()]).warnings.filter((w) => w.code === 'tuned-on-sample');
    expect(tuned.map((w) => w.metricId).sort()).toEqual(['daily_active_users', 'events_by_day']);
    expect(tuned[0]!.analysisId).toBe('pilot');
    expect(tuned.find((w) => w.metricId === 'events_by_day')!.message).toContain('bounds of events_by_day (L0 7, L∞ 50) were tuned on this sample');
  });

  it('warns about bounds without provenance that can bind (or that bind, when told)', () => {
    const cfg = config([
      { id: 'revenue', kind: 'sum', column: 'revenue', by: ['platform'], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1, clamp: { low: 0, high: 10 } } },
      { id: 'users', kind: 'count-distinct', privacy: { budgetShare: 0.4, maxPartitionsContributed: 1 } },
      { id: 'rows', kind: 'count', privacy: { budgetShare: 0.2, maxPartitionsContributed: 1, boundProvenance: 'public-data' } },
    ]);
    const ledger = buildLedger({ budget: budget({ epsilon: 20 }), entries: [entry(cfg)], reservations: [] });
    const report = checkGuardrails(ledger, [{ analysisId: 'a', version: 2, config: cfg }]);
    expect(report.warnings.map((w) => [w.code, w.metricId])).toEqual([['no-provenance', 'revenue']]);
    expect(report.warnings[0]!.message).toContain('a v2: bounds of revenue (L0 1, L∞ 1, clamp [0, 10])');
    expect(checkGuardrails(ledger, [{ analysisId: 'a', version: 2, config: cfg, bindingMetricIds: [] }]).warnings).toEqual([]);
  });

  it('rejects a device-level analysis under a user budget, not under a device budget', () => {
    const device = parseConfig(sampleConfig('product-device.json'));
    const policy = parsePolicy({ schemaVersion: 1, budgets: [{ id: 'month-users', dataset: 'product-events', unit: 'user', period: 'month', epsilon: 20, delta: 1e-5 }] });
    const b = matchBudget(policy, device)!;
    expect(b.id).toBe('month-users');
    const ledger = buildLedger({ budget: b, entries: [entry(device, 'devices')], reservations: [] });
    const report = checkGuardrails(ledger, [{ analysisId: 'devices', version: 1, config: device }]);
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.code)).toEqual(['device-unit']);
    expect(report.errors[0]!.message).toContain('protects devices');

    const deviceLedger = buildLedger({ budget: budget({ unit: 'device', epsilon: 20, delta: 1e-5 }), entries: [entry(device, 'devices')], reservations: [] });
    expect(checkGuardrails(deviceLedger, [{ analysisId: 'devices', version: 1, config: device }]).errors).toEqual([]);
  });

  it('builds the no-budget error for a config no budget covers', () => {
    const g = noBudgetGuardrail('saas', parseConfig(sampleConfig('saas-pilot.json')), [budget()]);
    expect(g.code).toBe('no-budget');
    expect(g.message).toContain('saas-usage.csv');
    expect(g.message).toContain('month-users (product-events, user)');
  });
});
