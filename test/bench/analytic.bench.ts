// `npm run bench:analytic`: time of re-evaluating the analytic error model for 500 partitions ×
// 12 metrics after an ε change (the UI recomputes it as a slider moves; budget 50 ms).
import { performance } from 'node:perf_hooks';
import type { AnalysisConfig, AnalysisConfigInput } from '../../shared/core/config/schema';
import { parseConfig } from '../../shared/core/config/index';
import type { MetricContributions } from '../../shared/core/data/contributions';
import { buildContributions } from '../../shared/core/data/csr';
import { evaluateAnalytic, prepareAnalyticPlan } from '../../shared/core/simulate/analytic';
import { buildPlanStructure, finishPlans } from '../../shared/core/simulate/plan-builder';

type Kind = Exclude<MetricContributions['kind'], 'ratio'>;
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

// 12 metrics over 500 partitions: 6 counts, 3 sums, 1 mean (3 plan metrics), 1 conversion (3).
const P = 500;
const units = 4000;
const entries: [number, number, number][] = [];
let seed = 12345;
const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let u = 0; u < units; u++) {
  const parts = 1 + Math.floor(rand() * 4);
  for (let j = 0; j < parts; j++) {
    const q = j === 0 && u < P ? u : Math.floor(P * rand() ** 2);
    const n = 1 + Math.floor(rand() * 6);
    for (let k = 0; k < n; k++) entries.push([u, q, Math.round(rand() * 100)]);
  }
}
const keys = Array.from({ length: P }, (_, i) => [`c${i}`]);
const make = (kind: Kind): MetricContributions => buildContributions({
  unitIds: Int32Array.from(entries, (e) => e[0]), partitionIds: Int32Array.from(entries, (e) => e[1]),
  values: Float64Array.from(entries, (e) => (kind === 'conversion' ? e[2] % 2 : e[2])), unitIdCount: units, partitionIdCount: P,
}, { metricId: kind, kind, partitions: { dimensions: ['c'], keys } });
const privacy = { budgetShare: 0.08, maxPartitionsContributed: 2, maxContributionsPerPartition: 3, selection: 'laplace' as const };
const metrics: AnalysisConfigInput['metrics'] = [];
const contributions: Record<string, MetricContributions> = {};
for (let i = 0; i < 6; i++) {
  metrics.push({ id: `count${i}`, kind: i === 0 ? 'count-distinct' : 'count', by: ['c'], privacy });
  contributions[`count${i}`] = make(i === 0 ? 'count-distinct' : 'count');
}
for (let i = 0; i < 3; i++) {
  metrics.push({ id: `sum${i}`, kind: 'sum', column: 'v', by: ['c'], privacy: { ...privacy, mechanism: 'gaussian', clamp: { low: 0, high: 60 } } });
  contributions[`sum${i}`] = make('sum');
}
metrics.push({ id: 'mean', kind: 'mean', column: 'v', by: ['c'], privacy: { ...privacy, clamp: { low: 0, high: 60 } } });
contributions['mean'] = make('mean');
metrics.push({ id: 'conv', kind: 'conversion', by: ['c'], from: [{ column: 'e', value: 'a' }], to: [{ column: 'e', value: 'b' }], privacy });
contributions['conv'] = make('conversion');
const config: AnalysisConfig = parseConfig({
  schemaVersion: 1, name: 'speed', dataset: { path: 'x.csv' }, privacyUnit: { column: 'u', kind: 'user' },
  dimensions: [{ name: 'c', column: 'c' }], budget: { epsilon: 1, delta: 1e-6 }, metrics,
});
const structure = buildPlanStructure({ config, contributions });
const first = finishPlans(structure);
const p0 = first.plans[0]!.plan;
check(p0.partitions === P, 'partitions');
check(p0.metrics.length === 15, 'plan metrics');
const t0 = performance.now();
const prepared = prepareAnalyticPlan(p0);
const tPrepare = performance.now() - t0;
const run = (eps: number): number => {
  const s = performance.now();
  const plan2 = finishPlans(structure, { epsilon: eps }).plans[0]!.plan;
  const res = evaluateAnalytic(prepared, plan2);
  const t = performance.now() - s;
  check(res.metrics.length === 15, 'result metrics');
  return t;
};
const cold = run(0.5);
for (let i = 0; i < 10; i++) run(0.6 + i / 10);
const times = Array.from({ length: 100 }, (_, i) => run(0.25 + i / 25)).sort((a, b) => a - b);
console.log(`analytic model, ${P} partitions × 12 metrics (${p0.metrics.length} plan metrics, ${entries.length} rows): prepare ${tPrepare.toFixed(1)} ms once; `
  + `new ε (finishPlans + evaluateAnalytic): first ${cold.toFixed(2)} ms, then median ${times[50]!.toFixed(2)} ms, p95 ${times[95]!.toFixed(2)} ms, max ${times[99]!.toFixed(2)} ms (budget 50 ms)`);
