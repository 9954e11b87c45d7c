// `npm run bench:sim`: the Monte-Carlo engine's speed. Prints numbers; asserts nothing.
//  1. The reference workload (../shared/bench/WORKLOAD.md) beside the C++ -O3 kernel with
//     ../shared/bench/compare.sh (RUNS=3), for 1 and 2 worker threads: the ratio table and the
//     statistical checks. Without g++ or python3 + numpy + scipy (or with SKIP_COMPARE=1), the
//     engine's own timings only.
//  2. 1,000 trials of a realistic plan: 500 partitions × 12 metrics (9 bounded base metrics over
//     ~50k (unit, partition) pairs, 3 ratios), in-process and with 2 workers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildContributions } from '../../shared/core/data/csr';
import { makeRng } from '../../shared/core/rng';
import { preparePlan, runTrials } from '../../shared/core/simulate/engine';
import type { BaseMetricPlan, MetricPlan, SimulationPlan } from '../../shared/core/simulate/plan';
import { summarize } from '../../shared/core/simulate/stats';
import { workerEntry } from '../../shared/node/workers/entry';
import { SimulationPool } from '../../shared/node/workers/pool';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPARE = resolve(ROOT, '../shared/bench/compare.sh');
const DPW = ['node', resolve(ROOT, 'bin/dpw.mjs'), 'bench', 'workload'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function canCompare(): string | null {
  if (process.env.SKIP_COMPARE) return 'SKIP_COMPARE is set';
  if (!existsSync(COMPARE)) return `${COMPARE} not found`;
  if (spawnSync('g++', ['--version']).status !== 0) return 'g++ not found';
  if (spawnSync('python3', ['-c', 'import numpy, scipy']).status !== 0) return 'python3 with numpy and scipy not found';
  return null;
}

console.log(`DP Workbench Monte-Carlo benchmark — node ${process.version}, ${process.arch}`);
console.log('');

// 1. Reference workload.
const why = canCompare();
if (why === null) {
  for (const w of [1, 2]) {
    console.log(`== compare.sh: dpw-${w}w (${w} worker thread${w > 1 ? 's' : ''}, worker start-up included) vs cpp-1t, RUNS=3`);
    const r = spawnSync('bash', [COMPARE, `dpw-${w}w`, '--', ...DPW, '--workers', String(w)], { env: { ...process.env, RUNS: process.env.RUNS ?? '3' }, encoding: 'utf8' });
    process.stdout.write(r.stdout);
    if (r.status !== 0) process.stdout.write(r.stderr);
    console.log('');
  }
} else {
  console.log(`== compare.sh skipped (${why}); the engine alone, 10,000 trials, median of 3`);
  for (const w of [0, 1, 2]) {
    const walls: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(DPW[0]!, [...DPW.slice(1), '--workers', String(w), '--trials', '10000'], { encoding: 'utf8' });
      const m = /wall ([\d.]+) s/.exec(r.stdout);
      if (m) walls.push(Number(m[1]));
    }
    console.log(`workload, ${w === 0 ? 'in-process' : `${w} worker(s)`}: ${median(walls).toFixed(3)} s wall (${(5e7 / median(walls)).toExponential(3)} noise samples/s)`);
  }
  console.log('');
}

// 2. A realistic plan.
function realisticPlan(): SimulationPlan {
  const rng = makeRng(2025);
  const P = 500;
  const units = 12_000;
  const unitIds: number[] = [];
  const partitionIds: number[] = [];
  const rowCounts: number[] = [];
  // Partition popularity is heavy-tailed; units touch 1..12 partitions (geometric, mean ~4) with
  // 1..30 rows each (geometric, mean ~3).
  const weight = Float64Array.from({ length: P }, (_, p) => 1 / (p + 10));
  const cum = new Float64Array(P);
  weight.reduce((a, w, p) => (cum[p] = a + w), 0);
  const total = cum[P - 1]!;
  const pick = (): number => {
    const x = rng.nextDouble() * total;
    let lo = 0;
    let hi = P - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (let u = 0; u < units; u++) {
    let k = 1;
    while (k < 12 && rng.nextDouble() < 0.75) k++;
    const parts = new Set<number>();
    while (parts.size < k) parts.add(pick());
    for (const p of [...parts].sort((a, b) => a - b)) {
      let r = 1;
      while (r < 30 && rng.nextDouble() < 0.66) r++;
      unitIds.push(u);
      partitionIds.push(p);
      rowCounts.push(r);
    }
  }
  for (let p = 0; p < P; p++) {
    unitIds.push(units + p); // every partition has a unit
    partitionIds.push(p);
    rowCounts.push(1);
  }
  const keys = { dimensions: ['segment'], keys: Array.from({ length: P }, (_, i) => [`s${i}`]) };
  const base = buildContributions(
    { unitIds: Int32Array.from(unitIds), partitionIds: Int32Array.from(partitionIds), rowCounts: Int32Array.from(rowCounts), unitIdCount: units + P, partitionIdCount: P },
    { metricId: 'events', kind: 'count', partitions: keys },
  );
  // The other metrics read the same pairs and rows with other row values (one event table):
  // events (1 per row), three means as a count and a
  // sum sharing one L0/L∞ sample (a bounding group, as the plan builder makes them) and a ratio
  // each, and purchases. Bounds at about the 90th (L0 = 8) and 98th (L∞ = 10) percentiles, as a
  // tuned config has them.
  const vr = makeRng(7);
  const withValues = (id: string, rowValues: Float64Array): typeof base => {
    const trueValues = new Float64Array(P);
    for (let q = 0; q < base.pairPartition.length; q++) for (let i = base.rowOffsets[q]!; i < base.rowOffsets[q + 1]!; i++) trueValues[base.pairPartition[q]!]! += rowValues[i]!;
    return { ...base, metricId: id, rowValues, trueValues };
  };
  // Distinct users: the same pairs with one row each (contributions.ts: count-distinct).
  const nPairs = base.pairPartition.length;
  const users = { ...base, metricId: 'users', rowOffsets: Int32Array.from({ length: nPairs + 1 }, (_, i) => i), rowValues: new Float64Array(nPairs).fill(1), trueValues: Float64Array.from(base.unitsPerPartition) };
  const ones = new Float64Array(base.rowValues.length).fill(1);
  const values = (scale: number): Float64Array => Float64Array.from({ length: base.rowValues.length }, () => Math.round(-Math.log(vr.nextDouble()) * scale));
  const post = { clampAtZero: true, round: false };
  const privacy = { epsilon: 1, delta: 1e-6, halfWidth: 10 };
  const L0 = 8;
  const LINF = 10;
  const metric = (id: string, c: typeof base, aggregate: BaseMetricPlan['aggregate'], noise: BaseMetricPlan['noise'], clampHigh: number, group?: number): BaseMetricPlan => ({
    role: 'base', id, aggregate, trueValues: c.trueValues, contributions: c, noise, post, privacy,
    bounding: { maxPartitionsContributed: L0, maxContributionsPerPartition: LINF, clampLow: 0, clampHigh, clampMode: 'per-value' },
    ...(group !== undefined ? { boundingGroup: group } : {}),
  });
  const metrics: MetricPlan[] = [
    metric('users', users, 'count-distinct', { kind: 'laplace', scale: L0 }, 1),
    metric('events', withValues('events', ones), 'count', { kind: 'laplace', scale: L0 * LINF }, 1),
  ];
  for (let i = 0; i < 3; i++) {
    const count = metric(`mean${i}.count`, withValues(`mean${i}.count`, ones), 'count', { kind: 'laplace', scale: 2 * L0 * LINF }, 1, i);
    const sum = metric(`mean${i}.sum`, withValues(`mean${i}.sum`, values(10 * (i + 1))), 'sum', { kind: 'gaussian', sigma: 40 * (i + 1) * Math.sqrt(L0) * LINF }, 50 * (i + 1), i);
    metrics.push(count, sum);
  }
  metrics.push(metric('purchases', withValues('purchases', values(3)), 'sum', { kind: 'laplace', scale: 2 * L0 * LINF }, 20));
  for (let i = 0; i < 3; i++) {
    const num = 3 + 2 * i;
    const den = 2 + 2 * i;
    metrics.push({ role: 'derived', id: `mean${i}`, op: 'ratio', numerator: num, denominator: den, denominatorFloor: 1, offset: 0, trueValues: metrics[num]!.trueValues.map((v, p) => v / Math.max(metrics[den]!.trueValues[p]!, 1)), privacy: { epsilon: 2, delta: 1e-6 } });
  }
  return {
    partitions: P,
    metrics,
    selection: { kind: 'threshold', threshold: 20, preThreshold: 2, units: Float64Array.from(base.unitsPerPartition), sharedMetric: 0 },
    stats: { relativeErrorThresholds: [0.05, 0.1, 0.2], confidence: 0.95, errorSamplesPerCell: 100 },
    scale: { kind: 'sample', units, factor: 1 },
  };
}

const tBuild = performance.now();
const plan = realisticPlan();
const prepared = preparePlan(plan);
const buildMs = performance.now() - tBuild;
const first = plan.metrics[1] as BaseMetricPlan;
const pairs = first.contributions!.pairPartition.length;
const rows = first.contributions!.rowValues.length;
const g0 = prepared.sampledGroups.reduce((a, g) => (g.sampledPairCount > a.sampledPairCount ? g : a));
console.log(`== realistic plan: 500 partitions x 12 metrics (users, events, 3 means as count + sum bounding groups, purchases, 3 ratios; L0 8, L∞ 10, clamps), one event table of ${pairs} (unit, partition) pairs and ${rows} rows: ${prepared.sampledGroups.length} bounding groups, each trial resampling ${g0.sampledUnitCount} units over L0 and up to ${g0.sampledPairCount} pairs over L∞ per group; selection shares the users count; per-partition statistics and 100 error samples per cell on`);
console.log(`plan built and prepared in ${buildMs.toFixed(0)} ms`);
const TRIALS = 1000;
const inProc: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  runTrials(plan, i, { trialCount: TRIALS });
  inProc.push(performance.now() - t0);
}
console.log(`1,000 trials in-process: ${median(inProc).toFixed(0)} ms median of 3 (${inProc.map((x) => x.toFixed(0)).join(', ')})`);
await workerEntry();
const cold: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const pool = new SimulationPool(2);
  const acc = await pool.run(plan, i, { trialCount: TRIALS });
  cold.push(performance.now() - t0);
  await pool.close();
  if (i === 0) {
    const r = summarize(acc, plan);
    console.log(`  (suppression ${r.suppressionRate.mean.toFixed(3)}; events rmse ${r.metrics[1]!.perTrial.rmse.mean.toFixed(1)}; users coverage of the noise-only interval ${r.metrics[0]!.coverage?.toFixed(3)}: L0 sampling bias)`);
  }
}
console.log(`1,000 trials with 2 new workers (start-up, plan transfer and preparation included): ${median(cold).toFixed(0)} ms median of 3 (${cold.map((x) => x.toFixed(0)).join(', ')})`);
const pool = new SimulationPool(2);
await pool.run(plan, 99, { trialCount: 128 }); // start the workers and send the plan once, as the app keeps its pool
const warm: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await pool.run(plan, i, { trialCount: TRIALS });
  warm.push(performance.now() - t0);
}
await pool.close();
console.log(`1,000 trials on a running pool of 2 workers holding the plan: ${median(warm).toFixed(0)} ms median of 3 (${warm.map((x) => x.toFixed(0)).join(', ')})`);
