import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/core/config/index';
import type { AnalysisConfig, AnalysisConfigInput } from '../../../shared/core/config/schema';
import type { MetricContributions } from '../../../shared/core/data/contributions';
import { buildContributions } from '../../../shared/core/data/csr';
import { makePartitionSelection } from '../../../shared/core/dp/partition-selection';
import { analyticGaussianSigma } from '../../../shared/core/dp/mechanisms/gaussian';
import { discreteGaussianSigmaForPrivacy } from '../../../shared/core/dp/mechanisms/discrete-gaussian';
import { aggregateSensitivity } from '../../../shared/core/dp/sensitivity';
import { analyzePlan } from '../../../shared/core/simulate/analytic';
import { aggregateParts, noiseHalfWidth, noiseSpecFor, splitSelection } from '../../../shared/core/simulate/budget';
import type { BaseMetricPlan, DerivedMetricPlan } from '../../../shared/core/simulate/plan';
import type { BuildPlanResult } from '../../../shared/core/simulate/plan-builder';
import { boundsBind, buildPlan, rebudgetPlan, resampleUnits } from '../../../shared/core/simulate/plan-builder';
import { computeContributions } from '../../../shared/node/data/aggregate';
import { openDataset } from '../../../shared/node/data/ingest';
import { REPO_ROOT } from '../../helpers/oracles';

type Kind = Exclude<MetricContributions['kind'], 'ratio'>;
type Row = readonly [unit: number, key: string, value?: number];

/** Contributions of a metric from [unit, partition key, value?] rows (one entry per row). */
function contrib(id: string, kind: Kind, rows: readonly Row[], dimension = 'd', funnelSteps?: number): MetricContributions {
  const keys = [...new Set(rows.map((r) => r[1]))];
  return buildContributions({
    unitIds: Int32Array.from(rows, (r) => r[0]),
    partitionIds: Int32Array.from(rows, (r) => keys.indexOf(r[1])),
    values: Float64Array.from(rows, (r) => r[2] ?? 1),
    unitIdCount: Math.max(...rows.map((r) => r[0])) + 1,
    partitionIdCount: keys.length,
  }, { metricId: id, kind, partitions: { dimensions: [dimension], keys: keys.map((k) => [k]) }, ...(funnelSteps ? { funnelSteps } : {}) });
}

function config(metrics: AnalysisConfigInput['metrics'], dims: AnalysisConfigInput['dimensions'] = [{ name: 'd', column: 'd' }], extra: Partial<AnalysisConfigInput> = {}): AnalysisConfig {
  return parseConfig({
    schemaVersion: 1, name: 't', dataset: { path: 'x.csv' }, privacyUnit: { column: 'u', kind: 'user' },
    dimensions: dims, budget: { epsilon: 1, delta: 1e-6 }, metrics, ...extra,
  });
}

const base = (r: BuildPlanResult, id: string, part = ''): BaseMetricPlan => {
  const loc = r.metricIndex[id]!;
  return r.plans[loc.plan]!.plan.metrics[loc.parts[part]!] as BaseMetricPlan;
};
const headline = (r: BuildPlanResult, id: string) => r.plans[r.metricIndex[id]!.plan]!.plan.metrics[r.metricIndex[id]!.metric]!;
const near = (a: number, b: number, tol = 1e-12): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('budget split (basic composition)', () => {
  it('splits a metric between selection and noise by role', () => {
    const t = { epsilon: 0.4, delta: 4e-7 };
    expect(splitSelection(t, 'public', 0.5, 'laplace')).toEqual({ selection: null, noise: t });
    expect(splitSelection(t, 'covered', 0.5, 'gaussian')).toEqual({ selection: null, noise: t });
    expect(splitSelection(t, 'shared', 0.3, 'laplace')).toEqual({ selection: t, noise: t });
    const pure = splitSelection(t, 'private', 0.25, 'laplace');
    expect(pure.selection!.epsilon).toBeCloseTo(0.1, 15);
    expect(pure.selection!.delta).toBe(4e-7); // a pure mechanism needs no δ: all of it to the selection
    expect(pure.noise).toEqual({ epsilon: 0.30000000000000004, delta: 0 });
    const gauss = splitSelection(t, 'private', 0.25, 'gaussian');
    expect(near(gauss.selection!.delta + gauss.noise.delta, 4e-7)).toBe(true);
    expect(near(gauss.selection!.epsilon + gauss.noise.epsilon, 0.4)).toBe(true);
  });

  it('splits the noise part evenly between a metric\'s aggregates', () => {
    const cfg = config([
      { id: 'm', kind: 'mean', column: 'v', by: ['d'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 2, maxContributionsPerPartition: 3, clamp: { low: 0, high: 10 } } },
      { id: 'f', kind: 'funnel', by: ['d'], steps: [[{ column: 'e', value: 'a' }], [{ column: 'e', value: 'b' }], [{ column: 'e', value: 'c' }]], privacy: { budgetShare: 0.3, maxPartitionsContributed: 1 } },
      { id: 'c', kind: 'conversion', by: ['d'], from: [{ column: 'e', value: 'a' }], to: [{ column: 'e', value: 'b' }], privacy: { budgetShare: 0.2, maxPartitionsContributed: 1 } },
    ]);
    const noise = { epsilon: 0.6, delta: 3e-7 };
    const mean = aggregateParts(cfg.metrics[0]!, noise);
    expect(mean.map((p) => [p.key, p.aggregate, p.budget.epsilon])).toEqual([['count', 'count', 0.3], ['sum', 'sum', 0.3]]);
    expect(mean[0]!.sensitivity.l1).toBe(6);
    expect(mean[1]!.sensitivity.l1).toBe(2 * 3 * 5); // L0·L∞·(hi − lo)/2
    const funnel = aggregateParts(cfg.metrics[1]!, noise);
    expect(funnel.map((p) => p.key)).toEqual(['step1', 'step2', 'step3']);
    expect(near(funnel.reduce((a, p) => a + p.budget.epsilon, 0), 0.6)).toBe(true);
    expect(aggregateParts(cfg.metrics[2]!, noise).map((p) => [p.key, p.budget.epsilon])).toEqual([['from', 0.3], ['to', 0.3]]);
  });

  it('turns (ε, δ) and the sensitivity into noise scales as the mechanisms do', () => {
    const s = aggregateSensitivity('count', { maxPartitionsContributed: 3, maxContributionsPerPartition: 2 });
    expect(noiseSpecFor('laplace', s, { epsilon: 0.5, delta: 0 })).toEqual({ kind: 'laplace', scale: 12 });
    expect(noiseSpecFor('discrete-laplace', s, { epsilon: 0.5, delta: 0 })).toEqual({ kind: 'discrete-laplace', scale: 12 });
    const g = noiseSpecFor('gaussian', s, { epsilon: 0.5, delta: 1e-6 });
    expect(g).toEqual({ kind: 'gaussian', sigma: analyticGaussianSigma(0.5, 1e-6, Math.sqrt(3) * 2) });
    const one = aggregateSensitivity('count', { maxPartitionsContributed: 1, maxContributionsPerPartition: 2 });
    expect(noiseSpecFor('discrete-gaussian', one, { epsilon: 0.5, delta: 1e-6 })).toEqual({ kind: 'discrete-gaussian', sigma: discreteGaussianSigmaForPrivacy(0.5, 1e-6, 2) });
    // L0 > 1: zCDP calibration, conservative next to the analytic Gaussian.
    const dg = noiseSpecFor('discrete-gaussian', s, { epsilon: 0.5, delta: 1e-6 });
    expect(dg.kind === 'discrete-gaussian' && dg.sigma > (g.kind === 'gaussian' ? g.sigma : Infinity)).toBe(true);
    expect(() => noiseSpecFor('gaussian', s, { epsilon: 0.5, delta: 0 })).toThrow(/needs a delta/);
  });
});

describe('public partitions', () => {
  const dims = [{ name: 'platform', column: 'platform', publicValues: ['ios', 'android', 'web'] }];
  const cfg = config([{ id: 'events', kind: 'count', by: ['platform'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 2, maxContributionsPerPartition: 5, selection: 'laplace' } }], dims);
  const c = contrib('events', 'count', [[0, 'ios'], [0, 'ios'], [1, 'android'], [2, 'ipad'], [2, 'ios']], 'platform');

  it('are the public keys, empty cohorts included with true value 0, data outside them dropped', () => {
    const r = buildPlan({ config: cfg, contributions: { events: c } });
    expect(r.plans).toHaveLength(1);
    const g = r.plans[0]!;
    expect(g.publicPartitions).toBe(true);
    expect(g.partitions.keys).toEqual([['ios'], ['android'], ['web']]);
    expect(g.plan.selection).toEqual({ kind: 'public' });
    expect(g.selection).toBeNull();
    expect(Array.from(base(r, 'events').trueValues)).toEqual([3, 1, 0]);
    expect(r.notes.some((n) => /1 rows in cohorts outside the public values/.test(n))).toBe(true);
    expect(r.notes.some((n) => /1 of them empty/.test(n))).toBe(true);
    // Its configured selection share returns to the noise.
    expect(r.budgets['events']!.role).toBe('public');
    expect(base(r, 'events').noise).toEqual({ kind: 'laplace', scale: 10 / 0.5 });
  });

  it('match numeric keys whatever their spelling, and build the cartesian product of several dimensions', () => {
    const d2 = [{ name: 'n', column: 'n', publicValues: [1, 2] }, { name: 'b', column: 'b', publicValues: [true, false] }];
    const cfg2 = config([{ id: 'c', kind: 'count-distinct', by: ['n', 'b'], privacy: { budgetShare: 1, maxPartitionsContributed: 1, selection: 'public' } }], d2);
    const c2 = buildContributions({ unitIds: Int32Array.of(0, 1), partitionIds: Int32Array.of(0, 1), unitIdCount: 2, partitionIdCount: 2 },
      { metricId: 'c', kind: 'count-distinct', partitions: { dimensions: ['n', 'b'], keys: [['1.0', 'true'], ['2', 'false']] } });
    const r = buildPlan({ config: cfg2, contributions: { c: c2 } });
    expect(r.plans[0]!.partitions.keys).toEqual([['1', 'true'], ['1', 'false'], ['2', 'true'], ['2', 'false']]);
    expect(Array.from(base(r, 'c').trueValues)).toEqual([1, 0, 0, 1]);
  });
});

describe('exact shortcut', () => {
  const privacy = { budgetShare: 0.5, maxPartitionsContributed: 2, maxContributionsPerPartition: 3, selection: 'public' as const };
  const dims = [{ name: 'd', column: 'd', publicValues: ['a', 'b', 'c'] }];
  const plan = (rows: readonly Row[], extra: object = {}, kind: 'count' | 'sum' | 'count-distinct' = 'count'): BuildPlanResult =>
    buildPlan({ config: config([{ id: 'm', kind, by: ['d'], ...(kind === 'sum' ? { column: 'v' } : {}), privacy: { ...privacy, ...extra } } as AnalysisConfigInput['metrics'][number]], dims), contributions: { m: contrib('m', kind, rows) } });

  it('is chosen exactly when no bound binds', () => {
    const ok: Row[] = [[0, 'a'], [0, 'a'], [0, 'b'], [1, 'c']];
    expect(base(plan(ok), 'm').contributions).toBeUndefined();
    expect(plan(ok).notes.some((n) => /^m: bounds not binding/.test(n))).toBe(true);
    // L0: a unit in 3 partitions.
    expect(base(plan([...ok, [0, 'c']]), 'm').contributions).toBeDefined();
    // L∞: a pair with 4 rows.
    expect(base(plan([...ok, [1, 'c'], [1, 'c'], [1, 'c']]), 'm').contributions).toBeDefined();
    // Distinct units ignore L∞.
    expect(base(plan([...ok, [1, 'c'], [1, 'c'], [1, 'c']], {}, 'count-distinct'), 'm').contributions).toBeUndefined();
  });

  it('looks at the clamp per value or per pair sum', () => {
    const rows: Row[] = [[0, 'a', 4], [0, 'a', 5], [1, 'b', 2]];
    expect(base(plan(rows, { clamp: { low: 0, high: 5 } }, 'sum'), 'm').contributions).toBeUndefined();
    expect(base(plan(rows, { clamp: { low: 0, high: 4.5 } }, 'sum'), 'm').contributions).toBeDefined();
    expect(base(plan(rows, { clamp: { low: 0, high: 5, mode: 'per-partition' } }, 'sum'), 'm').contributions).toBeDefined();
    expect(base(plan(rows, { clamp: { low: 0, high: 9, mode: 'per-partition' } }, 'sum'), 'm').contributions).toBeUndefined();
    expect(base(plan(rows, { clamp: { low: 2, high: 9, mode: 'per-partition' } }, 'sum'), 'm').contributions).toBeUndefined();
    expect(base(plan(rows, { clamp: { low: 3, high: 9, mode: 'per-partition' } }, 'sum'), 'm').contributions).toBeDefined();
    expect(base(plan(rows, { clamp: { low: 3, high: 9 } }, 'sum'), 'm').contributions).toBeDefined();
  });
});

describe('metric kinds', () => {
  const dims = [{ name: 'd', column: 'd', publicValues: ['a', 'b'] }];
  const privacy = { budgetShare: 0.2, maxPartitionsContributed: 1, maxContributionsPerPartition: 2, selection: 'public' as const };

  it('mean = noisy normalised sum / noisy count + midpoint', () => {
    const cfg = config([{ id: 'avg', kind: 'mean', column: 'v', by: ['d'], privacy: { ...privacy, clamp: { low: 0, high: 10 } } }], dims);
    const c = contrib('avg', 'mean', [[0, 'a', 2], [0, 'a', 12], [1, 'a', 4], [2, 'b', 7], [0, 'b', 1]]);
    const r = buildPlan({ config: cfg, contributions: { avg: c } });
    const cnt = base(r, 'avg', 'count');
    const sum = base(r, 'avg', 'sum');
    const mean = headline(r, 'avg') as DerivedMetricPlan;
    expect(Array.from(cnt.trueValues)).toEqual([3, 2]);
    expect(Array.from(sum.trueValues)).toEqual([2 + 12 + 4 - 15, 7 + 1 - 10]);
    expect(sum.bounding).toMatchObject({ clampLow: -5, clampHigh: 5 });
    expect(mean.offset).toBe(5);
    expect(mean.numerator).toBe(r.metricIndex['avg']!.parts['sum']);
    expect(mean.denominator).toBe(r.metricIndex['avg']!.parts['count']);
    expect(Array.from(mean.trueValues)).toEqual([6, 4]);
    expect(cnt.boundingGroup).toBeDefined();
    expect(cnt.boundingGroup).toBe(sum.boundingGroup);
    // Noise: ε_m = 0.2 split in halves; count L1 = 2, normalised sum L1 = 2·5.
    expect(cnt.noise).toEqual({ kind: 'laplace', scale: 2 / 0.1 });
    expect(sum.noise).toEqual({ kind: 'laplace', scale: 10 / 0.1 });
    expect(mean.privacy.epsilon).toBeCloseTo(0.2, 15);
    expect(mean.privacy.halfWidths).toHaveLength(2);
  });

  it('conversion and funnel: distinct-unit counts and their rates', () => {
    const cfg = config([
      { id: 'conv', kind: 'conversion', by: ['d'], from: [{ column: 'e', value: 'x' }], to: [{ column: 'e', value: 'y' }], privacy },
      { id: 'fun', kind: 'funnel', by: ['d'], steps: [[{ column: 'e', value: 'x' }], [{ column: 'e', value: 'y' }], [{ column: 'e', value: 'z' }]], privacy: { ...privacy, mechanism: 'discrete-laplace' } },
    ], dims);
    const conv = contrib('conv', 'conversion', [[0, 'a', 1], [1, 'a', 0], [2, 'a', 1], [3, 'b', 0]]);
    const fun = contrib('fun', 'funnel', [[0, 'a', 3], [1, 'a', 1], [2, 'a', 2], [3, 'b', 2]], 'd', 3);
    const r = buildPlan({ config: cfg, contributions: { conv, fun } });
    expect(Array.from(base(r, 'conv', 'from').trueValues)).toEqual([3, 1]);
    expect(Array.from(base(r, 'conv', 'to').trueValues)).toEqual([2, 0]);
    expect(Array.from(headline(r, 'conv').trueValues)).toEqual([2 / 3, 0]);
    expect([1, 2, 3].map((s) => Array.from(base(r, 'fun', `step${s}`).trueValues))).toEqual([[3, 1], [2, 1], [1, 0]]);
    const rate3 = r.plans[0]!.plan.metrics[r.metricIndex['fun']!.parts['rate3']!] as DerivedMetricPlan;
    expect(Array.from(rate3.trueValues)).toEqual([0.5, 0]);
    expect(Array.from(headline(r, 'fun').trueValues)).toEqual([1 / 3, 0]);
    expect(base(r, 'fun', 'step2').noise).toEqual({ kind: 'discrete-laplace', scale: 1 / (0.2 / 3) });
    expect(base(r, 'conv', 'to').aggregate).toBe('sum');
    // One CSR: the parts share their pairs.
    expect(base(r, 'fun', 'step1').boundingGroup).toBe(base(r, 'fun', 'step3').boundingGroup);
  });

  it('ratio: post-processing of two metrics of the group', () => {
    const cfg = config([
      { id: 'rev', kind: 'sum', column: 'v', by: ['d'], privacy: { ...privacy, clamp: { low: 0, high: 100 } } },
      { id: 'users', kind: 'count-distinct', by: ['d'], privacy },
      { id: 'arpu', kind: 'ratio', numerator: 'rev', denominator: 'users', by: ['d'], privacy },
    ], dims);
    const r = buildPlan({ config: cfg, contributions: { rev: contrib('rev', 'sum', [[0, 'a', 30], [1, 'b', 50]]), users: contrib('users', 'count-distinct', [[0, 'a'], [1, 'b'], [2, 'b']]) } });
    const arpu = headline(r, 'arpu') as DerivedMetricPlan;
    expect(arpu.numerator).toBe(r.metricIndex['rev']!.metric);
    expect(arpu.denominator).toBe(r.metricIndex['users']!.metric);
    expect(Array.from(arpu.trueValues)).toEqual([30, 25]);
    expect(arpu.privacy.epsilon).toBeCloseTo(0.4, 15);
    expect(r.budgets['arpu']!.noise.epsilon).toBe(0);
  });
});

describe('private partitions and selection', () => {
  const dims = [{ name: 'country', column: 'country' }];

  it('shares the noisy count of a count-distinct metric with the threshold (one draw, all of its budget)', () => {
    const cfg = config([
      { id: 'users', kind: 'count-distinct', by: ['country'], privacy: { budgetShare: 0.3, maxPartitionsContributed: 2, preThreshold: 3, selection: 'laplace', selectionShare: 0.4 } },
      { id: 'rev', kind: 'sum', column: 'v', by: ['country'], privacy: { budgetShare: 0.2, maxPartitionsContributed: 1, clamp: { low: 0, high: 10 }, selection: 'laplace' } },
    ], dims);
    const users = contrib('users', 'count-distinct', [[0, 'fr'], [1, 'fr'], [2, 'de'], [2, 'fr']], 'country');
    const rev = contrib('rev', 'sum', [[0, 'fr', 3], [1, 'it', 4]], 'country');
    const r = buildPlan({ config: cfg, contributions: { users, rev } });
    const g = r.plans[0]!;
    expect(g.partitions.keys).toEqual([['fr'], ['de'], ['it']]);
    const sel = makePartitionSelection({ strategy: 'laplace', epsilon: 0.3, delta: 0.3e-6, maxPartitionsContributed: 2, preThreshold: 3 });
    expect(g.plan.selection).toMatchObject({ kind: 'threshold', threshold: sel.threshold, preThreshold: 3, sharedMetric: r.metricIndex['users']!.metric });
    expect(g.plan.selection.kind === 'threshold' && Array.from(g.plan.selection.units)).toEqual([3, 1, 0]);
    expect(base(r, 'users').noise).toEqual({ kind: 'laplace', scale: sel.noiseScale });
    expect(base(r, 'users').noise).toEqual({ kind: 'laplace', scale: 2 / 0.3 });
    expect(r.budgets['users']!.role).toBe('shared');
    expect(r.budgets['rev']!.role).toBe('covered');
    expect(base(r, 'rev').noise).toEqual({ kind: 'laplace', scale: 10 / 0.2 });
    expect(Array.from(base(r, 'rev').trueValues)).toEqual([3, 0, 4]);
  });

  it('pools the selection shares of the group into one threshold with its own noise', () => {
    const privacy = { budgetShare: 0.25, maxPartitionsContributed: 1, maxContributionsPerPartition: 2, selection: 'gaussian' as const, selectionShare: 0.5, preThreshold: 2 };
    const cfg = config([
      { id: 'ev', kind: 'count', by: ['country'], privacy },
      { id: 'rev', kind: 'sum', column: 'v', by: ['country'], privacy: { ...privacy, mechanism: 'gaussian', clamp: { low: 0, high: 10 } } },
    ], dims);
    const ev = contrib('ev', 'count', [[0, 'fr'], [1, 'fr'], [2, 'de']], 'country');
    const rev = contrib('rev', 'sum', [[0, 'fr', 1]], 'country');
    const r = buildPlan({ config: cfg, contributions: { ev, rev } });
    const g = r.plans[0]!;
    // ev (Laplace: all of δ_m to selection) + rev (Gaussian: half of δ_m).
    const eps = 0.125 + 0.125;
    const delta = 0.25e-6 + 0.125e-6;
    expect(g.selection!.epsilon).toBeCloseTo(eps, 15);
    expect(g.selection!.delta).toBeCloseTo(delta, 20);
    const sel = makePartitionSelection({ strategy: 'gaussian', epsilon: g.selection!.epsilon, delta: g.selection!.delta, maxPartitionsContributed: 1, preThreshold: 2 });
    expect(g.plan.selection).toMatchObject({ kind: 'threshold', threshold: sel.threshold, noise: { kind: 'gaussian', sigma: sel.noiseScale } });
    expect(r.budgets['rev']!.noise.delta).toBeCloseTo(0.125e-6, 20);
    expect(base(r, 'rev').noise).toEqual({ kind: 'gaussian', sigma: analyticGaussianSigma(0.125, 0.125e-6, 10 * 2) });
  });

  it('optimal selection: keep probability per partition from its true unit count', () => {
    const cfg = config([{ id: 'ev', kind: 'count', by: ['country'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1, selection: 'optimal', selectionShare: 0.5 } }], dims);
    const rows: Row[] = [];
    for (let u = 0; u < 30; u++) rows.push([u, u < 25 ? 'fr' : 'de']);
    const r = buildPlan({ config: cfg, contributions: { ev: contrib('ev', 'count', rows, 'country') } });
    const sel = makePartitionSelection({ strategy: 'optimal', epsilon: 0.25, delta: 0.5e-6, maxPartitionsContributed: 1 });
    const s = r.plans[0]!.plan.selection;
    expect(s.kind).toBe('probability');
    expect(s.kind === 'probability' && Array.from(s.keepProbability)).toEqual([sel.keepProbability(25), sel.keepProbability(5)]);
  });

  it("rejects selection 'public' on a dimension without public values", () => {
    const cfg = config([{ id: 'ev', kind: 'count', by: ['country'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1, selection: 'public' } }], dims);
    expect(() => buildPlan({ config: cfg, contributions: { ev: contrib('ev', 'count', [[0, 'fr']], 'country') } })).toThrow(/needs publicValues.*country/);
  });

  it('builds one plan per grouping and rebudgets without rebuilding', () => {
    const cfg = config([
      { id: 'a', kind: 'count', by: ['country'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1 } },
      { id: 'b', kind: 'count', by: [], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1 } },
    ], dims);
    const b = buildContributions({ unitIds: Int32Array.of(0, 1), partitionIds: Int32Array.of(0, 0), unitIdCount: 2, partitionIdCount: 1 },
      { metricId: 'b', kind: 'count', partitions: { dimensions: [], keys: [[]] } });
    const r = buildPlan({ config: cfg, contributions: { a: contrib('a', 'count', [[0, 'fr'], [1, 'fr']], 'country'), b } });
    expect(r.plans.map((g) => g.by)).toEqual([['country'], []]);
    expect(r.plans[1]!.publicPartitions).toBe(true);
    expect(r.metricIndex['b']).toEqual({ plan: 1, metric: 0, parts: { '': 0 } });
    const r2 = rebudgetPlan(r, { epsilon: 2 });
    expect(base(r2, 'b').noise).toEqual({ kind: 'laplace', scale: 1 });
    expect(base(r, 'b').noise).toEqual({ kind: 'laplace', scale: 2 });
    expect(base(r2, 'a').trueValues).toBe(base(r, 'a').trueValues);
  });
});

describe('production size', () => {
  const c = contrib('m', 'sum', [[0, 'a', 1], [0, 'a', 2], [0, 'b', 3], [1, 'a', 4], [2, 'b', 5], [3, 'c', 6], [4, 'c', 7]]);

  it('resampleUnits is deterministic and scales the unit count by the factor', () => {
    const a = resampleUnits(c, 3, 42);
    const b = resampleUnits(c, 3, 42);
    expect(a.unitCount).toBe(15);
    expect(Array.from(a.pairUnit)).toEqual(Array.from(b.pairUnit));
    expect(Array.from(a.rowValues)).toEqual(Array.from(b.rowValues));
    expect(Array.from(a.trueValues)).toEqual(Array.from(b.trueValues));
    const other = resampleUnits(c, 3, 43);
    expect(Array.from(other.rowValues)).not.toEqual(Array.from(a.rowValues));
    expect(resampleUnits(c, 2.5, 1).unitCount).toBe(Math.round(2.5 * 5));
    // Every resampled unit is a copy of a sample unit: per-unit pair counts come from the sample's.
    for (let u = 0; u < a.unitCount; u++) expect([1, 2]).toContain(a.unitPairOffsets[u + 1]! - a.unitPairOffsets[u]!);
    expect(a.partitionCount).toBe(3);
    expect(a.trueValues.reduce((x, y) => x + y, 0)).toBe(a.rowValues.reduce((x, y) => x + y, 0));
    // Large factor: the total is close to factor × the sample's.
    const big = resampleUnits(c, 2000, 7);
    const ratio = big.trueValues.reduce((x, y) => x + y, 0) / (2000 * c.trueValues.reduce((x, y) => x + y, 0));
    expect(Math.abs(ratio - 1)).toBeLessThan(0.05);
  });

  it('a production plan simulates factor × peakFactor as many units and says so', () => {
    const cfg = config([{ id: 'm', kind: 'sum', column: 'v', by: ['d'], privacy: { budgetShare: 1, maxPartitionsContributed: 2, clamp: { low: 0, high: 10 }, selection: 'laplace' } }],
      [{ name: 'd', column: 'd' }], { dataset: { path: 'x.csv', sampleRate: 0.25 } });
    const sample = buildPlan({ config: cfg, contributions: { m: c } });
    expect(sample.plans[0]!.plan.scale).toEqual({ kind: 'sample', units: 5, factor: 1 });
    const prod = buildPlan({ config: cfg, contributions: { m: c }, scale: { kind: 'production', peakFactor: 2, seed: 9 } });
    expect(prod.plans[0]!.plan.scale).toEqual({ kind: 'production', units: 40, factor: 8, peakFactor: 2 });
    const again = buildPlan({ config: cfg, contributions: { m: c }, scale: { kind: 'production', peakFactor: 2, seed: 9 } });
    expect(Array.from(base(prod, 'm').trueValues)).toEqual(Array.from(base(again, 'm').trueValues));
    const explicit = buildPlan({ config: cfg, contributions: { m: c }, scale: { kind: 'production', factor: 3 } });
    expect(explicit.plans[0]!.plan.scale).toMatchObject({ kind: 'production', factor: 3, units: 15 });
    const noInfo = config([{ id: 'm', kind: 'count', by: ['d'], privacy: { budgetShare: 1, maxPartitionsContributed: 2 } }]);
    expect(() => buildPlan({ config: noInfo, contributions: { m: c }, scale: { kind: 'production' } })).toThrow(/sampleRate/);
  });
});

// ---------------------------------------------------------------------------------------------
// The bundled sample configs on their data (DuckDB aggregation, shared/node/data/aggregate.ts)

const CONFIGS = ['product-pilot', 'product-device', 'saas-pilot'];
const built = new Map<string, { config: AnalysisConfig; contributions: Record<string, MetricContributions>; result: BuildPlanResult }>();

beforeAll(async () => {
  for (const name of CONFIGS) {
    const path = resolve(REPO_ROOT, 'sample-data/configs', `${name}.json`);
    const cfg = parseConfig(JSON.parse(readFileSync(path, 'utf8')));
    const ds = await openDataset(resolve(dirname(path), cfg.dataset.path), {
      ...(cfg.dataset.format ? { format: cfg.dataset.format } : {}),
      ...(cfg.dataset.columns ? { columnTypes: cfg.dataset.columns } : {}),
    });
    try {
      const contributions: Record<string, MetricContributions> = {};
      for (const m of cfg.metrics) {
        if (m.kind === 'ratio' || m.kind === 'local-frequency') continue;
        contributions[m.id] = await ds.engine.withConnection((conn) => computeContributions(conn, ds.table, cfg, m));
      }
      built.set(name, { config: cfg, contributions, result: buildPlan({ config: cfg, contributions }) });
    } finally {
      ds.engine.close();
    }
  }
}, 120_000);

afterAll(() => built.clear());

describe.each(CONFIGS)('sample config %s', (name) => {
  it('places every metric in a plan, with privacy metadata and the noise half-width', () => {
    const { config: cfg, result: r } = built.get(name)!;
    for (const m of cfg.metrics) {
      if (m.kind === 'local-frequency') continue; // not planned: simulate/local.ts
      const loc = r.metricIndex[m.id];
      expect(loc, m.id).toBeDefined();
      const pm = headline(r, m.id);
      expect(pm.id).toBe(m.id);
      expect(r.plans[loc!.plan]!.by).toEqual(m.by);
    }
    for (const g of r.plans) {
      expect(g.plan.partitions).toBe(g.partitions.keys.length);
      for (const pm of g.plan.metrics) {
        expect(pm.trueValues).toHaveLength(g.plan.partitions);
        expect(pm.privacy.epsilon).toBeGreaterThan(0);
        expect(pm.privacy.confidence).toBe(0.95);
        if (pm.role === 'base') expect(pm.privacy.halfWidth).toBe(noiseHalfWidth(pm.noise, 0.95));
        else expect(pm.privacy.halfWidths).toHaveLength(g.plan.partitions);
      }
      // Public groups list every public key (empty cohorts included).
      if (g.publicPartitions) {
        const sizes = g.by.map((d) => cfg.dimensions.find((x) => x.name === d)!.publicValues!.length);
        expect(g.plan.partitions).toBe(sizes.reduce((a, b) => a * b, 1));
      }
    }
  });

  it('spends exactly the metrics\' shares of the budget (basic composition)', () => {
    const { config: cfg, result: r } = built.get(name)!;
    let eps = 0;
    let delta = 0;
    let shares = 0;
    for (const m of cfg.metrics) {
      if (m.kind === 'ratio' || m.kind === 'local-frequency') continue;
      shares += m.privacy.budgetShare;
      const b = r.budgets[m.id]!;
      const noiseEps = b.aggregates.reduce((a, x) => a + x.epsilon, 0);
      const noiseDelta = b.aggregates.reduce((a, x) => a + x.delta, 0);
      const spentEps = b.role === 'shared' ? b.total.epsilon : noiseEps + (b.selection?.epsilon ?? 0);
      const spentDelta = b.role === 'shared' ? b.total.delta : noiseDelta + (b.selection?.delta ?? 0);
      expect(near(spentEps, b.total.epsilon), m.id).toBe(true);
      expect(near(spentDelta, b.total.delta, 1e-9), m.id).toBe(true);
      expect(near(b.total.epsilon, m.privacy.budgetShare * cfg.budget.epsilon)).toBe(true);
      eps += spentEps;
      delta += spentDelta;
    }
    expect(near(eps, shares * cfg.budget.epsilon)).toBe(true);
    expect(eps).toBeLessThanOrEqual(cfg.budget.epsilon * (1 + 1e-12));
    expect(delta).toBeLessThanOrEqual(cfg.budget.delta * (1 + 1e-12));
    // A group's selection spends the pooled selection parts (or the shared metric's budget).
    for (const g of r.plans) {
      if (!g.selection) continue;
      const pooled = g.metricIds.map((id) => r.budgets[id]!).filter((b) => b.role === 'private').reduce((a, b) => a + b.selection!.epsilon, 0);
      expect(near(g.selection.epsilon, g.selection.sharedWith ? r.budgets[g.selection.sharedWith]!.total.epsilon : pooled)).toBe(true);
    }
  });

  it('omits the contributions exactly when no bound binds', () => {
    const { result: r } = built.get(name)!;
    for (const [gi, g] of r.structure.groups.entries()) {
      for (const ms of g.metrics) {
        for (const p of ms.parts) {
          const pm = r.plans[gi]!.plan.metrics.find((x) => x.id === p.id) as BaseMetricPlan;
          const binds = boundsBind(p.contributions, p.aggregate, p.bounding);
          expect(pm.contributions === undefined, p.id).toBe(!binds);
          expect(r.notes.some((n) => n.startsWith(`${p.id}: bounds not binding`))).toBe(!binds);
        }
      }
    }
  });

  it('gives the analytic model plans it can evaluate', () => {
    const { result: r } = built.get(name)!;
    for (const g of r.plans) {
      const a = analyzePlan(g.plan);
      for (const m of a.metrics) {
        const d = m.summary.decomposition;
        for (const x of [d.clipping, d.bounding, d.noise, d.suppression]) expect(x).toBeGreaterThanOrEqual(0);
        if (m.role === 'base') for (const x of m.rmse) expect(Number.isFinite(x)).toBe(true);
      }
    }
  });
});

describe('sample config specifics', () => {
  it('product-pilot: the country selection reads the released active-user count', () => {
    const { result: r } = built.get('product-pilot')!;
    const g = r.plans[r.metricIndex['active_users_by_country']!.plan]!;
    expect(g.by).toEqual(['country']);
    const sel = makePartitionSelection({ strategy: 'laplace', epsilon: 0.3, delta: 1.5e-7, maxPartitionsContributed: 1, preThreshold: 5 });
    expect(g.plan.selection).toMatchObject({ kind: 'threshold', threshold: sel.threshold, preThreshold: 5, sharedMetric: r.metricIndex['active_users_by_country']!.metric });
    expect(base(r, 'active_users_by_country').noise).toEqual({ kind: 'laplace', scale: 1 / 0.3 });
    expect(r.budgets['revenue_by_country']!.role).toBe('covered');
    expect(headline(r, 'revenue_per_user_by_country').role).toBe('derived');
    expect(r.plans.find((x) => x.by[0] === 'day')!.plan.partitions).toBe(28);
  });

  it('product-device: optimal selection on purchases by country with the pooled selection budget', () => {
    const { result: r, contributions } = built.get('product-device')!;
    const g = r.plans[r.metricIndex['purchases_by_country']!.plan]!;
    // ε_m = 0.4, selectionShare 0.4; Laplace noise is pure, so all of δ_m = 0.4e-6 goes to the selection.
    const sel = makePartitionSelection({ strategy: 'optimal', epsilon: 0.16, delta: 0.4e-6, maxPartitionsContributed: 1, preThreshold: 3 });
    expect(g.selection!.epsilon).toBeCloseTo(0.16, 15);
    const s = g.plan.selection;
    expect(s.kind).toBe('probability');
    const units = contributions['purchases_by_country']!.unitsPerPartition;
    if (s.kind === 'probability') for (let q = 0; q < units.length; q++) expect(closeToRel(s.keepProbability[q]!, sel.keepProbability(units[q]!))).toBe(true);
  });
});

function closeToRel(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(b), 1e-300) + 1e-15;
}
