// The privacy budget ledger (issue 7): every release that the analyses drawing on one budget make
// in its period, composed with the budget's accountant, day by day; and the guardrails a reviewer
// sees (over budget, bounds tuned on the sample, a device-level analysis under a user budget).
//
// Events of one release come from the config alone, the way the simulation spends the budget
// (simulate/budget.ts, plan-builder.ts): a metric gets (ε_m, δ_m) = budgetShare·(ε, δ); on private
// partitions a part goes to partition selection, which a group of metrics with the same `by` runs
// once with their selection parts pooled (one (ε, δ) mechanism: counting it as several smaller
// events would let PLD or zCDP compose it below its true cost); a count-distinct metric whose
// noise is the selection's own draw is one (ε_m, δ_m) mechanism; the rest is noise, one event per
// aggregate with the mechanism's real parameters (Laplace scale, Gaussian σ, discrete kinds on
// integer sensitivities; the vector over L0 partitions as one mechanism with the L1 or L2
// sensitivity, as dp_accounting does), so zCDP and PLD can compose it tightly. Where no such event
// is exact (a discrete kind on a non-integer or huge sensitivity, a multi-partition discrete
// Gaussian calibrated by zCDP) the aggregate is counted as a generic (ε, δ) release, which bounds
// every mechanism with that guarantee. Ratios are post-processing; local-DP metrics spend no
// central budget. A group whose metrics have different cadences runs its selection again with any
// metric released on days its most frequent metric is not.
//
// Composition: 'basic' adds the (ε, δ) of the releases. 'zcdp' and 'pld' state ε at the budget's
// δ (or at the δ the (ε, δ) releases already commit plus the budget's δ when those alone exceed
// it). Other valid bounds are computed too and the smallest is reported: the basic sum when its δ
// fits; for zCDP, where ρ = ε²/2 is loose for a large ε, the (ε, δ) releases and the reservations
// added to the zCDP ε of the rest by basic composition. Every number is an upper bound on the true
// ε: the PLD is composed on a pessimistic (connect-the-dots) grid, one day at a time, with
// dp/accounting/pld.ts's own primitives (the accountant recomposes every event per call, which is
// too slow for a 30-day calendar of hundreds of releases).

import type { AnalysisConfig, Cadence, CentralMetric, Metric } from '../config/schema';
import { isCentralMetric } from '../config/schema';
import type { DpEvent } from '../dp/accounting/events';
import { getAccountant } from '../dp/accounting/index';
import { composeEventsPld, composePld, DEFAULT_TAIL_MASS_TRUNCATION, DEFAULT_VALUE_DISCRETIZATION_INTERVAL, pldEpsilonAt } from '../dp/accounting/pld';
import type { Pld } from '../dp/accounting/pld';
import { totalRho } from '../dp/accounting/simple';
import type { Sensitivity } from '../dp/sensitivity';
import { DpError, invalid } from '../errors';
import type { PrivacyBudget } from '../simulate/budget';
import { isPureMechanism } from '../simulate/budget';
import type { NoiseSpec } from '../simulate/plan';
import { releasePlan } from '../export/release-plan';
import type { MetricRelease as PlannedRelease } from '../export/release-plan';
import type { BudgetPeriod, PolicyAccountant, PolicyBudget, Reservation } from './policy';
import { PERIOD_DAYS } from './policy';

export { matchBudget, matchBudgets } from './policy';

// ---------------------------------------------------------------------------------------------
// Releases of one config

/** What one release of a metric spends. */
/** A number for a note: 6 significant digits (shares × ε in floating point print long). */
const n6 = (x: number): string => String(Number(x.toPrecision(6)));

export interface MetricRelease {
  readonly metricId: string;
  readonly label: string;
  readonly cadence: Cadence;
  /**
   * ε of one release under basic composition: the metric's share of config.budget.epsilon (0:
   * spends nothing). In a group whose metrics have different cadences, what its own events spend
   * (its noise, plus the group's selection where it carries it), so every release day adds up.
   */
  readonly epsilon: number;
  /**
   * δ one release uses under basic composition: its selection's δ plus, for a Gaussian kind, its
   * noise's δ (a pure-noise metric on public partitions uses none of its δ share).
   */
  readonly delta: number;
  /** Privacy events of one release; empty for a ratio (post-processing) and a local-DP metric. */
  readonly events: DpEvent[];
  /** How the events were derived, where it is not the plain mechanism. */
  readonly notes: string[];
}

type BaseMetric = Exclude<CentralMetric, { kind: 'ratio' }>;

/** Largest discrete-Laplace sensitivity / discrete-Gaussian support accounted exactly (beyond it: a generic event). */
const MAX_DISCRETE_SENSITIVITY = 4096;
const MAX_DISCRETE_GAUSSIAN_ATOMS = 1 << 20;

/** Most frequent first. */
const CADENCE_RANK: Readonly<Record<Cadence, number>> = { daily: 0, weekly: 1, monthly: 2, 'one-off': 3 };

/** Whether every release day of cadence b is a release day of cadence a (releaseDays). */
function cadenceCovers(a: Cadence, b: Cadence): boolean {
  return a === b || a === 'daily' || b === 'one-off';
}

/** The event of one noisy aggregate (see the module comment); null for no noise. */
function noiseEvent(spec: NoiseSpec, s: Sensitivity, budget: PrivacyBudget, notes: string[], what: string): DpEvent | null {
  switch (spec.kind) {
    case 'none':
      return null;
    case 'laplace':
      return { kind: 'laplace', scale: spec.scale, sensitivity: s.l1 };
    case 'gaussian':
      return { kind: 'gaussian', sigma: spec.sigma, sensitivity: s.l2 };
    case 'discrete-laplace':
      if (Number.isInteger(s.l1) && s.l1 <= MAX_DISCRETE_SENSITIVITY) return { kind: 'discrete-laplace', scale: spec.scale, sensitivity: s.l1 };
      notes.push(`${what}: discrete Laplace with L1 sensitivity ${s.l1} is counted as a generic ε-DP release (ε ${n6(budget.epsilon)})`);
      return { kind: 'epsilon-delta', epsilon: budget.epsilon, delta: 0 };
    case 'discrete-gaussian': {
      const l0 = Math.round(s.l1 / s.perPartition);
      const atoms = 2 * (11.5 * spec.sigma + s.perPartition);
      if (l0 === 1 && Number.isInteger(s.perPartition) && atoms <= MAX_DISCRETE_GAUSSIAN_ATOMS) {
        return { kind: 'discrete-gaussian', sigma: spec.sigma, sensitivity: s.perPartition };
      }
      notes.push(`${what}: discrete Gaussian ${l0 === 1 ? `with sensitivity ${s.perPartition}` : `over ${l0} partitions per unit`} is counted as a generic (ε, δ) release at its calibration (ε ${n6(budget.epsilon)}, δ ${n6(budget.delta)})`);
      return { kind: 'epsilon-delta', epsilon: budget.epsilon, delta: budget.delta };
    }
  }
}

/**
 * The privacy events of ONE release of each metric of a config, from the config alone (see the
 * module comment), in config order. Ratios and local-frequency metrics are listed with no events.
 * Throws DpError when a release cannot run (a Gaussian kind with budget.delta 0).
 */
export function releaseEvents(config: AnalysisConfig): MetricRelease[] {
  // Groups, roles, splits and noise come from the one config-only privacy plan (export/release-plan.ts,
  // itself checked against the simulator's plan-builder); this function only turns them into events.
  const plan = releasePlan(config);
  const total: PrivacyBudget = { epsilon: config.budget.epsilon, delta: config.budget.delta };

  interface Draft { epsilon: number; delta: number; events: DpEvent[]; notes: string[] }
  const out = new Map<string, Draft>();
  plan.groups.forEach((group, gi) => {
    const releases = plan.metrics.filter((r): r is PlannedRelease & { metric: BaseMetric } => r.group === gi && r.role !== 'derived' && r.role !== 'local');
    const ms = releases.map((r) => r.metric);
    if (ms.length === 0) return;
    const by = group.by;
    const label = by.length ? `[${by.join(', ')}]` : '(no dimensions)';
    const isPublic = group.publicPartitions;
    const mixed = ms.some((m) => m.cadence !== ms[0]!.cadence);
    const shared = group.selection?.sharedWith !== null && group.selection?.sharedWith !== undefined;
    const driver = group.selection ? ms.find((m) => m.id === group.selection!.driver) : undefined;
    const pool = { epsilon: 0, delta: 0 };
    // Per metric: its (ε_m, δ used), and what its noise alone spends (for mixed cadences).
    const noiseOnly = new Map<string, PrivacyBudget>();
    for (const r of releases) {
      const m = r.metric;
      const mTotal = r.total;
      const events: DpEvent[] = [];
      const notes: string[] = [];
      let delta = 0;
      if (r.role === 'shared') {
        // The released noisy unit count is the selection's draw: one (ε_m, δ_m) mechanism (budget.ts).
        events.push({ kind: 'epsilon-delta', epsilon: mTotal.epsilon, delta: mTotal.delta });
        delta = mTotal.delta;
        notes.push(`partition selection of ${label} reads this metric's released noisy count: one (ε ${n6(mTotal.epsilon)}, δ ${n6(mTotal.delta)}) mechanism`);
      } else {
        const noiseDelta = isPureMechanism(m.privacy.mechanism) ? 0 : r.noise.delta;
        noiseOnly.set(m.id, { epsilon: r.noise.epsilon, delta: noiseDelta });
        delta = noiseDelta;
        if (r.role === 'private' && r.selection) {
          pool.epsilon += r.selection.epsilon;
          pool.delta += r.selection.delta;
          delta += r.selection.delta;
        }
        for (const part of r.parts) {
          const what = part.key ? `${m.id}.${part.key}` : m.id;
          const e = noiseEvent(part.noise, part.sensitivity, part.budget, notes, what);
          if (e) events.push(e);
        }
      }
      out.set(m.id, { epsilon: mTotal.epsilon, delta, events, notes });
    }

    if (!isPublic && shared && driver) {
      // A covered metric released on a day its count is not needs that count (its partitions) again.
      const d = out.get(driver.id)!;
      for (const m of ms) {
        if (m === driver || cadenceCovers(driver.cadence, m.cadence)) continue;
        const r = out.get(m.id)!;
        r.events.unshift(d.events[0]!);
        r.epsilon += d.epsilon;
        r.delta += d.delta;
        r.notes.push(`released ${m.cadence} while ${driver.id}, whose noisy count selects the partitions of ${label}, is released ${driver.cadence}: that count (ε ${n6(d.epsilon)}, δ ${n6(d.delta)}) is counted with this metric too`);
      }
    } else if (!isPublic && driver) {
      // One selection per release of the group, listed with its most frequent metric. With mixed
      // cadences it is counted again with any metric released on days that one is not, and each
      // metric's (ε, δ) becomes what its own events spend: its noise, plus the pool if it carries it.
      const carrier = ms.reduce((a, b) => (CADENCE_RANK[b.cadence] < CADENCE_RANK[a.cadence] ? b : a));
      const event: DpEvent = { kind: 'epsilon-delta', epsilon: pool.epsilon, delta: pool.delta };
      for (const m of ms) {
        const carries = m === carrier || !cadenceCovers(carrier.cadence, m.cadence);
        const r = out.get(m.id)!;
        if (mixed) {
          const own = noiseOnly.get(m.id)!;
          r.epsilon = own.epsilon + (carries ? pool.epsilon : 0);
          r.delta = own.delta + (carries ? pool.delta : 0);
        }
        if (!carries) continue;
        r.events.unshift(event);
        r.notes.push(m === carrier
          ? `partition selection of ${label} (${driver.privacy.selection}) is one mechanism with the selection parts of the group's ${ms.length} metric(s) pooled (ε ${pool.epsilon}, δ ${pool.delta}): listed with ${m.id}`
          : `released ${m.cadence} while ${carrier.id} is released ${carrier.cadence}: the pooled partition selection of ${label} (ε ${pool.epsilon}, δ ${pool.delta}) is counted with this metric too`);
        if (!(pool.delta > 0)) r.notes.push(`selecting the partitions of ${label} needs δ > 0 (budget.delta is ${total.delta}): this release cannot run as configured`);
      }
      if (mixed) out.get(carrier.id)!.notes.push(`the metrics of ${label} have different cadences: each one's (ε, δ) per release is its noise plus, where it carries it, the whole pooled selection`);
    }
  });

  return config.metrics.map((m: Metric): MetricRelease => {
    const base = { metricId: m.id, label: m.label ?? m.id, cadence: m.cadence };
    if (m.kind === 'local-frequency') {
      return { ...base, epsilon: 0, delta: 0, events: [], notes: [`local DP (randomized response on the device, local ε ${m.privacy.localEpsilon}): spends no central budget`] };
    }
    if (m.kind === 'ratio') {
      return { ...base, epsilon: 0, delta: 0, events: [], notes: [`post-processing of ${m.numerator} and ${m.denominator}: spends nothing`] };
    }
    const r = out.get(m.id)!;
    return { ...base, epsilon: r.epsilon, delta: r.delta, events: r.events, notes: r.notes };
  });
}

// ---------------------------------------------------------------------------------------------
// Cadence

function requirePeriodDays(periodDays: number): number {
  if (!Number.isSafeInteger(periodDays) || periodDays < 1) throw invalid('periodDays', periodDays, 'must be an integer >= 1');
  return periodDays;
}

/** Releases of a metric in a period: one-off 1, daily periodDays, weekly ⌈periodDays/7⌉, monthly ⌈periodDays/30⌉. */
export function releasesInPeriod(cadence: Cadence, periodDays: number): number {
  requirePeriodDays(periodDays);
  switch (cadence) {
    case 'one-off':
      return 1;
    case 'daily':
      return periodDays;
    case 'weekly':
      return Math.ceil(periodDays / 7);
    case 'monthly':
      return Math.ceil(periodDays / 30);
    default:
      throw invalid('cadence', cadence, "must be 'one-off', 'daily', 'weekly' or 'monthly'");
  }
}

/** Days of the period (1-based) with a release: daily every day, weekly 1, 8, 15, …, monthly 1, 31, …, one-off day 1. */
export function releaseDays(cadence: Cadence, periodDays: number): number[] {
  const step = cadence === 'daily' ? 1 : cadence === 'weekly' ? 7 : cadence === 'monthly' ? 30 : periodDays;
  const n = releasesInPeriod(cadence, periodDays);
  return Array.from({ length: n }, (_, i) => 1 + i * step);
}

// ---------------------------------------------------------------------------------------------
// Ledger

export interface LedgerEntryInput {
  readonly analysisId: string;
  readonly version: number;
  readonly status: string;
  readonly config: AnalysisConfig;
}

export interface LedgerMetric {
  readonly metricId: string;
  readonly label: string;
  readonly cadence: Cadence;
  /** Releases in the budget's period. */
  readonly releases: number;
  readonly epsilonPerRelease: number;
  readonly deltaPerRelease: number;
}

export interface LedgerEntry {
  readonly analysisId: string;
  readonly version: number;
  readonly status: string;
  readonly metrics: readonly LedgerMetric[];
}

export interface Ledger {
  readonly budgetId: string;
  readonly label: string;
  readonly period: BudgetPeriod;
  readonly periodDays: number;
  readonly unit: PolicyBudget['unit'];
  readonly accountant: PolicyAccountant;
  readonly warnAt: number;
  readonly limit: PrivacyBudget;
  /**
   * The composed guarantee of the period: ε at δ = spent.delta. Basic: the sums. zCDP and PLD: ε at
   * the budget's δ (at deltaCommitted + the budget's δ when the (ε, δ) releases alone exceed it).
   */
  readonly spent: PrivacyBudget;
  /** limit − spent, at least 0 (for zCDP and PLD ε is stated at the whole δ, so δ has none left). */
  readonly remaining: PrivacyBudget;
  /** spent.epsilon / limit.epsilon. */
  readonly usedShare: number;
  readonly status: 'ok' | 'warning' | 'over';
  /** δ that (ε, δ) releases commit outright (selections, shared counts, generic events, reservations); basic: all of spent.delta. */
  readonly deltaCommitted: number;
  readonly entries: readonly LedgerEntry[];
  readonly reservations: readonly Reservation[];
  /** Cumulative ε (at spent.delta) of every release up to each day plus the reservations, days 1..periodDays; ends at spent.epsilon. */
  readonly calendar: readonly { day: number; epsilon: number }[];
  readonly notes: readonly string[];
}

export interface BuildLedgerInput {
  readonly budget: PolicyBudget;
  /** Approved versions and, optionally, the draft under review: every entry's releases compose. */
  readonly entries: readonly LedgerEntryInput[];
  /** Reservations of the policy; those of other budgets are ignored. */
  readonly reservations: readonly Reservation[];
}

/** Relative slack below which a total is not "over" (float rounding of sums of shares). */
const OVER_TOLERANCE = 1e-9;
const CADENCES: readonly Cadence[] = ['one-off', 'daily', 'weekly', 'monthly'];

interface CadenceLoad {
  /** The reservations (day 1, once) rather than a cadence. */
  readonly reservation: boolean;
  /** Events of one release of every metric with this cadence (or of every reservation). */
  readonly events: DpEvent[];
  /** Basic (ε, δ) of one such release. */
  epsilon: number;
  delta: number;
  /** ε and δ of its generic (ε, δ) events (selections, shared counts, fallbacks, reservations). */
  genericEpsilon: number;
  committed: number;
  readonly days: readonly number[];
}

/**
 * Composes every release in the budget's period of every entry (each config's metrics at their
 * cadence) plus the reservations, with the budget's accountant (see the module comment), and the
 * cumulative ε day by day.
 */
export function buildLedger(input: BuildLedgerInput): Ledger {
  const { budget } = input;
  const periodDays = PERIOD_DAYS[budget.period];
  if (periodDays === undefined) throw invalid('budget.period', budget.period, "must be 'day', 'week', 'month' or 'quarter'");
  const notes: string[] = [];
  const limit: PrivacyBudget = { epsilon: budget.epsilon, delta: budget.delta };

  const reservations = input.reservations.filter((r) => r.budget === budget.id);
  const ignored = input.reservations.length - reservations.length;
  if (ignored > 0) notes.push(`${ignored} reservation(s) of other budgets ignored`);

  const newLoad = (days: readonly number[], reservation = false): CadenceLoad => ({ reservation, events: [], epsilon: 0, delta: 0, genericEpsilon: 0, committed: 0, days });
  const loads = new Map<Cadence, CadenceLoad>(CADENCES.map((c) => [c, newLoad(releaseDays(c, periodDays))]));
  // Each reservation is one (ε, δ) event, held from day 1.
  const held = newLoad([1], true);
  for (const r of reservations) {
    held.events.push({ kind: 'epsilon-delta', epsilon: r.epsilon, delta: r.delta });
    held.epsilon += r.epsilon;
    held.delta += r.delta;
    held.genericEpsilon += r.epsilon;
    held.committed += r.delta;
  }

  const entries: LedgerEntry[] = input.entries.map((entry) => {
    const who = `${entry.analysisId} v${entry.version}`;
    let releases: MetricRelease[];
    try {
      releases = releaseEvents(entry.config);
    } catch (err) {
      if (err instanceof DpError) throw new DpError(err.code, `${who}: ${err.message}`);
      throw err;
    }
    const metrics = releases.map((r): LedgerMetric => {
      const load = loads.get(r.cadence)!;
      load.events.push(...r.events);
      load.epsilon += r.epsilon;
      load.delta += r.delta;
      for (const e of r.events) {
        if (e.kind !== 'epsilon-delta') continue;
        load.genericEpsilon += e.epsilon;
        load.committed += e.delta ?? 0;
      }
      for (const n of r.notes) notes.push(`${who}, ${r.metricId}: ${n}`);
      return { metricId: r.metricId, label: r.label, cadence: r.cadence, releases: releasesInPeriod(r.cadence, periodDays), epsilonPerRelease: r.epsilon, deltaPerRelease: r.delta };
    });
    return { analysisId: entry.analysisId, version: entry.version, status: entry.status, metrics };
  });

  // Releases of each cadence up to each day.
  const active = [...CADENCES.map((c) => loads.get(c)!), held].filter((l) => l.events.length > 0 || l.epsilon > 0);
  const countsAt = (day: number): number[] => active.map((l) => l.days.filter((d) => d <= day).length);
  const basicAt = (counts: readonly number[]): PrivacyBudget => ({
    epsilon: counts.reduce((s, k, i) => s + k * active[i]!.epsilon, 0),
    delta: counts.reduce((s, k, i) => s + k * active[i]!.delta, 0),
  });
  const eventsAt = (counts: readonly number[]): DpEvent[] => counts.flatMap((k, i) => (k > 0 && active[i]!.events.length > 0 ? [{ kind: 'composed' as const, events: active[i]!.events, count: k }] : []));
  const full = countsAt(periodDays);
  const committed = full.reduce((s, k, i) => s + k * active[i]!.committed, 0);
  const basicFull = basicAt(full);

  // δ at which ε is stated.
  let deltaAt: number;
  if (budget.accountant === 'basic') {
    deltaAt = basicFull.delta;
  } else if (committed <= limit.delta * (1 + OVER_TOLERANCE)) {
    deltaAt = limit.delta;
  } else {
    deltaAt = committed + limit.delta;
    notes.push(`the (ε, δ) releases alone commit δ ${fmt(committed)}, more than the budget's δ ${fmt(limit.delta)}: ε is stated at δ ${fmt(deltaAt)}`);
  }
  const deltaEval = Math.min(deltaAt, 1 - 1e-12);

  // ε of the accountant for each day's releases (days without a new release repeat the last one).
  const dayCounts = Array.from({ length: periodDays }, (_, i) => countsAt(i + 1));
  const changed = dayCounts.map((c, i) => i === 0 || c.some((k, j) => k !== dayCounts[i - 1]![j]));
  let raw: number[];
  switch (budget.accountant) {
    case 'basic': {
      const acc = getAccountant('basic');
      raw = perDay(dayCounts, changed, (counts) => {
        const b = basicAt(counts);
        // Every event carries its δ: at δ = Σδ the basic accountant returns Σε.
        return b.delta < 1 ? acc.epsilonAt(counts.flatMap((k, i) => (k > 0 && active[i]!.epsilon > 0 ? [{ kind: 'epsilon-delta' as const, epsilon: active[i]!.epsilon, delta: active[i]!.delta, count: k }] : [])), b.delta) : Infinity;
      });
      notes.push('basic accountant: the (ε, δ) of every release add up');
      break;
    }
    case 'zcdp': {
      const acc = getAccountant('zcdp');
      // A large pure or (ε, δ) release is costly as ρ = ε²/2. Also valid, by basic composition: the
      // generic (ε, δ) releases (selections, shared counts, reservations) added to the zCDP ε of the
      // rest at the δ they leave; and the reservations added to the best ε of the releases.
      const best = (counts: readonly number[], delta: number, withHeld: boolean): number => {
        const use = (i: number): boolean => counts[i]! > 0 && (withHeld || !active[i]!.reservation);
        const all = acc.epsilonAt(counts.flatMap((k, i) => (use(i) ? [{ kind: 'composed' as const, events: active[i]!.events, count: k }] : [])), delta);
        let gEps = 0;
        let gDelta = 0;
        counts.forEach((k, i) => {
          if (!use(i)) return;
          gEps += k * active[i]!.genericEpsilon;
          gDelta += k * active[i]!.committed;
        });
        const rest = deltaRest(delta, gDelta);
        if (gEps === 0 || rest < 0) return all;
        const mechanisms = counts.flatMap((k, i) => (use(i) ? [{ kind: 'composed' as const, events: active[i]!.events.filter((e) => e.kind !== 'epsilon-delta'), count: k }] : []));
        return Math.min(all, acc.epsilonAt(mechanisms, rest) + gEps);
      };
      raw = perDay(dayCounts, changed, (counts) => {
        const withAll = best(counts, deltaEval, true);
        if (held.epsilon === 0) return withAll;
        const rest = deltaRest(deltaEval, held.delta);
        return rest < 0 ? withAll : Math.min(withAll, best(counts, rest, false) + held.epsilon);
      });
      notes.push(`zcdp accountant: ρ of every release adds up (pure ε-DP as ε²/2, (ε, δ) releases carry their δ), converted at δ ${fmt(deltaEval)} (Canonne, Kamath, Steinke 2020); where it is smaller, (ε, δ) releases (selections, reservations) are added to the zCDP ε of the rest by basic composition`);
      break;
    }
    case 'pld': {
      const pld = pldCalendar(active, dayCounts, changed, deltaEval, eventsAt(full));
      raw = pld.epsilons;
      notes.push(pld.note);
      break;
    }
    default:
      throw invalid('budget.accountant', budget.accountant, "must be 'basic', 'zcdp' or 'pld'");
  }

  // The basic sum is a valid bound too when its δ fits: keep the smaller; then make the calendar
  // non-decreasing (a larger upper bound is still an upper bound).
  let basicUsed = false;
  let running = 0;
  const calendar = raw.map((e, i) => {
    let eps = e;
    if (budget.accountant !== 'basic') {
      const b = basicAt(dayCounts[i]!);
      if (b.delta <= deltaEval && b.epsilon < eps) {
        eps = b.epsilon;
        if (i === periodDays - 1) basicUsed = true;
      }
    }
    running = Math.max(running, eps);
    return { day: i + 1, epsilon: running };
  });
  if (basicUsed) {
    notes.push(`basic composition (ε ${fmt(basicFull.epsilon)} at δ ${fmt(basicFull.delta)}) is tighter than the ${budget.accountant} accountant for these releases: the smaller valid bound is reported`);
  }

  const spent: PrivacyBudget = { epsilon: calendar[periodDays - 1]!.epsilon, delta: deltaAt };
  const usedShare = spent.epsilon / limit.epsilon;
  const over = spent.epsilon > limit.epsilon * (1 + OVER_TOLERANCE) || spent.delta > limit.delta * (1 + OVER_TOLERANCE);
  return {
    budgetId: budget.id,
    label: budget.label ?? budget.id,
    period: budget.period,
    periodDays,
    unit: budget.unit,
    accountant: budget.accountant,
    warnAt: budget.warnAt,
    limit,
    spent,
    remaining: { epsilon: Math.max(0, limit.epsilon - spent.epsilon), delta: Math.max(0, limit.delta - spent.delta) },
    usedShare,
    status: over ? 'over' : usedShare >= budget.warnAt ? 'warning' : 'ok',
    deltaCommitted: budget.accountant === 'basic' ? basicFull.delta : committed,
    entries,
    reservations,
    calendar,
    notes,
  };
}

/** δ − used, with a float-rounding shortfall counted as 0 (negative: nothing left). */
function deltaRest(delta: number, used: number): number {
  const rest = delta - used;
  return rest < 0 && -rest <= 1e-12 * Math.max(delta, used) ? 0 : rest;
}

/** f of each day's release counts, evaluated only on days where something new is released. */
function perDay(dayCounts: readonly number[][], changed: readonly boolean[], f: (counts: readonly number[]) => number): number[] {
  const out: number[] = [];
  dayCounts.forEach((c, i) => out.push(changed[i] ? f(c) : out[i - 1]!));
  return out;
}

/** Bins of the loss grid per ε of the expected result (the grid spacing is ε/GRID_BINS, at least 1e-4). */
const GRID_BINS = 4096;

/**
 * PLD ε of each day: when every release is Gaussian, the PLD accountant itself (exact, Gaussian
 * DP). Otherwise the PLD of one release of each cadence is built once on a connect-the-dots grid
 * and the days are composed in order, C_d = C_{d−1} ⊗ (the releases of day d): the same pessimistic
 * grid PLDs the accountant composes, without recomposing every event each day. The grid spacing
 * is scaled to the expected ε (zCDP estimate) so the support stays small; it is still an upper
 * bound, only less tight (about 1e-4 relative).
 */
function pldCalendar(active: readonly CadenceLoad[], dayCounts: readonly number[][], changed: readonly boolean[], delta: number, allEvents: readonly DpEvent[]): { epsilons: number[]; note: string } {
  const allGaussian = active.every((l) => l.events.every((e) => e.kind === 'gaussian'));
  if (allGaussian) {
    const acc = getAccountant('pld');
    const epsilons = perDay(dayCounts, changed, (counts) => acc.epsilonAt(counts.flatMap((k, i) => (k > 0 && active[i]!.events.length > 0 ? [{ kind: 'composed' as const, events: active[i]!.events, count: k }] : [])), delta));
    return { epsilons, note: `pld accountant: every release is Gaussian, composed exactly (Gaussian DP), ε at δ ${fmt(delta)}` };
  }
  const { rho } = totalRho(allEvents);
  const estimate = rho + 2 * Math.sqrt(rho * Math.log(1 / Math.max(delta, 1e-12)));
  let interval = Math.max(DEFAULT_VALUE_DISCRETIZATION_INTERVAL, estimate / GRID_BINS);
  for (let attempt = 0; attempt < 12; attempt++) {
    try {
      return { epsilons: composeDays(active, dayCounts, changed, delta, interval), note: `pld accountant: releases composed day by day on a pessimistic privacy-loss grid of ${fmt(interval)} nats (connect-the-dots, as dp_accounting), ε at δ ${fmt(delta)}` };
    } catch (err) {
      // composePld throws an internal plain Error subclass when a support outgrows its array
      // limit; a coarser grid is still pessimistic. Anything else is a real failure.
      if (!(err instanceof Error) || err instanceof DpError || err instanceof TypeError || err instanceof ReferenceError) throw err;
      interval *= 2;
    }
  }
  throw new DpError('NumericalFailure', 'the privacy loss distribution of this ledger has too wide a support to compute');
}

function composeDays(active: readonly CadenceLoad[], dayCounts: readonly number[][], changed: readonly boolean[], delta: number, interval: number): number[] {
  // Tail mass truncated (pessimistic: it goes to +∞, i.e. to δ): in all at most a 1e-6 share of the
  // target δ (or dp_accounting's 1e-15), half for the pieces and half for the days; short supports.
  const truncation = Math.max(DEFAULT_TAIL_MASS_TRUNCATION, 1e-6 * delta);
  const build = (d: number): Pld[] => active.map((l) => composeEventsPld(l.events, { valueDiscretizationInterval: d, tailMassTruncation: truncation / (2 * active.length) }));
  let pieces = build(interval);
  // composeEventsPld coarsens its grid when a support is too wide: bring every piece to one grid.
  const widest = Math.max(...pieces.map((p) => p.interval));
  if (pieces.some((p) => p.interval !== widest)) pieces = build(widest);
  const tail = truncation / (2 * dayCounts.length);
  const increments = new Map<string, Pld | null>();
  let cumulative: Pld | null = null;
  const out: number[] = [];
  for (let i = 0; i < dayCounts.length; i++) {
    const counts = dayCounts[i]!;
    if (!changed[i]) {
      out.push(out[i - 1]!);
      continue;
    }
    // Releases of this day: counts[j] − (the day before) copies of cadence j.
    const fresh = counts.map((k, j) => k - (i === 0 ? 0 : dayCounts[i - 1]![j]!));
    const key = fresh.join(',');
    let inc = increments.get(key);
    if (inc === undefined) {
      inc = null;
      for (let j = 0; j < fresh.length; j++) {
        for (let r = 0; r < fresh[j]!; r++) inc = inc ? composePld(inc, pieces[j]!, tail) : pieces[j]!;
      }
      increments.set(key, inc);
    }
    if (inc) cumulative = cumulative ? composePld(cumulative, inc, tail) : inc;
    out.push(cumulative ? pldEpsilonAt(cumulative, delta) : 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Guardrails

export type GuardrailCode = 'over-budget' | 'delta-over-budget' | 'near-budget' | 'tuned-on-sample' | 'no-provenance' | 'device-unit' | 'no-budget';

export interface Guardrail {
  readonly code: GuardrailCode;
  readonly message: string;
  readonly analysisId?: string;
  readonly metricId?: string;
}

export interface GuardrailReport {
  /** No errors (warnings allowed). */
  readonly ok: boolean;
  readonly errors: Guardrail[];
  readonly warnings: Guardrail[];
}

export interface GuardrailConfig {
  readonly analysisId: string;
  readonly version: number;
  readonly config: AnalysisConfig;
  /** Metrics whose bounds bind on the data (from a simulation); absent: every metric whose bounds can bind. */
  readonly bindingMetricIds?: readonly string[];
}

/** A number for a message: 3 significant digits, small ones in exponent form (1e-6), ∞. */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-3) {
    const [m, e] = x.toExponential(2).split('e');
    return `${String(Number(m))}e${String(Number(e))}`;
  }
  return String(Number(x.toPrecision(3)));
}

function pct(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : '∞%';
}

/**
 * Whether a metric's contribution bounds can change its result: counts, sums and means always
 * (L∞, clamp); distinct-unit metrics only through L0, so not when ungrouped (one partition).
 */
function boundsCanBind(m: BaseMetric): boolean {
  if (m.kind === 'count' || m.kind === 'sum' || m.kind === 'mean') return true;
  return m.by.length > 0;
}

function describeBounds(m: BaseMetric): string {
  const p = m.privacy;
  const parts = [`L0 ${p.maxPartitionsContributed}`];
  if (m.kind === 'count' || m.kind === 'sum' || m.kind === 'mean') parts.push(`L∞ ${p.maxContributionsPerPartition}`);
  if (p.clamp) parts.push(`clamp [${p.clamp.low}, ${p.clamp.high}]`);
  return parts.join(', ');
}

/**
 * The guardrails of a ledger and of the configs under review: errors (over budget in ε or δ, a
 * device-level analysis under a user budget) block approval; warnings (near the budget, bounds
 * tuned on the sample, binding bounds without provenance) are for the reviewer.
 */
export function checkGuardrails(ledger: Ledger, configs: readonly GuardrailConfig[]): GuardrailReport {
  const errors: Guardrail[] = [];
  const warnings: Guardrail[] = [];
  const where = `ledger for budget ${ledger.budgetId}`;
  const how = `${ledger.accountant} accountant, δ ${fmt(ledger.spent.delta)}`;
  const { spent, limit } = ledger;
  if (spent.epsilon > limit.epsilon * (1 + OVER_TOLERANCE)) {
    errors.push({
      code: 'over-budget',
      message: `${where}: ε ${fmt(spent.epsilon)} of ${fmt(limit.epsilon)} spent per ${ledger.period} (${pct(ledger.usedShare)}), over by ${fmt(spent.epsilon - limit.epsilon)} (${how})`,
    });
  } else if (ledger.usedShare >= ledger.warnAt) {
    warnings.push({
      code: 'near-budget',
      message: `${where}: ε ${fmt(spent.epsilon)} of ${fmt(limit.epsilon)} spent per ${ledger.period} (${pct(ledger.usedShare)}), at or above the warning level of ${pct(ledger.warnAt)}; ${fmt(Math.max(0, limit.epsilon - spent.epsilon))} left (${how})`,
    });
  }
  if (spent.delta > limit.delta * (1 + OVER_TOLERANCE)) {
    const committed = ledger.deltaCommitted;
    const share = limit.delta > 0 ? committed / limit.delta : Infinity;
    errors.push({
      code: 'delta-over-budget',
      message: ledger.accountant === 'basic'
        ? `${where}: δ ${fmt(committed)} of ${fmt(limit.delta)} spent per ${ledger.period} (${pct(share)}), over by ${fmt(committed - limit.delta)} (basic accountant)`
        : `${where}: partition selections, generic (ε, δ) releases and reservations commit δ ${fmt(committed)} of ${fmt(limit.delta)} per ${ledger.period} (${pct(share)}), over by ${fmt(committed - limit.delta)} (${ledger.accountant} accountant)`,
    });
  }

  for (const c of configs) {
    const who = `${c.analysisId} v${c.version}`;
    if (c.config.privacyUnit.kind === 'device' && ledger.unit === 'user') {
      errors.push({
        code: 'device-unit',
        analysisId: c.analysisId,
        message: `${who} protects devices (privacy unit ${c.config.privacyUnit.column}) but budget ${ledger.budgetId} protects users: a user with several devices is protected only per device, so the user-level ε is not bounded by the ledger; use a user-level privacy unit`,
      });
    }
    const binding = c.bindingMetricIds ? new Set(c.bindingMetricIds) : null;
    for (const m of c.config.metrics) {
      if (!isCentralMetric(m) || m.kind === 'ratio') continue;
      const provenance = m.privacy.boundProvenance;
      if (provenance === 'tuned-on-sample') {
        warnings.push({
          code: 'tuned-on-sample',
          analysisId: c.analysisId,
          metricId: m.id,
          message: `${who}: bounds of ${m.id} (${describeBounds(m)}) were tuned on this sample: production will release the same data, so the bound itself leaks; choose bounds from domain knowledge, public data or a DP estimate`,
        });
      } else if (provenance === undefined && (binding ? binding.has(m.id) : boundsCanBind(m))) {
        warnings.push({
          code: 'no-provenance',
          analysisId: c.analysisId,
          metricId: m.id,
          message: `${who}: bounds of ${m.id} (${describeBounds(m)}) ${binding ? 'bind on the data' : 'can bind'} but have no provenance: record where they come from (domain knowledge, public data or a DP estimate)`,
        });
      }
    }
  }
  return { ok: errors.length === 0, errors, warnings };
}

/** The 'no-budget' error for a config that no budget of the policy covers (matchBudget returned null). */
export function noBudgetGuardrail(analysisId: string, config: Pick<AnalysisConfig, 'dataset' | 'privacyUnit'>, budgets: readonly PolicyBudget[]): Guardrail {
  const known = budgets.map((b) => `${b.id} (${b.dataset}, ${b.unit})`).join(', ') || 'none';
  return {
    code: 'no-budget',
    analysisId,
    message: `${analysisId}: no budget of the policy covers dataset ${JSON.stringify(config.dataset.path)} with privacy unit ${config.privacyUnit.kind} (budgets: ${known})`,
  };
}
