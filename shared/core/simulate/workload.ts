// The reference Monte-Carlo workload of ../shared/bench/WORKLOAD.md as a SimulationPlan, and its
// JSON report (§6). The true values come from splitmix64 with seed 20240601 exactly as §2 writes
// them (BigInt arithmetic mod 2^64, IEEE doubles in the order given); the engine runs the plan
// through its ordinary code path (runTrials), nothing here is a separate kernel.

import { laplaceSelectionThreshold } from '../dp/partition-selection';
import type { SimulationAccumulator } from './accumulator';
import { H_SUPPRESSION, H_SUPPRESSION_SQ, H_TRIALS, H_TRIALS_EMPTY, H_TRIALS_USED, N_TRIAL_STATS, TRIAL_STATS } from './accumulator';
import type { BaseMetricPlan, DerivedMetricPlan, NoiseSpec, SamplerOptions, SimulationPlan } from './plan';

export const WORKLOAD_PARTITIONS = 500;
export const WORKLOAD_DATA_SEED = 20240601n;
/** Noise draws per trial in the spec's throughput figure (P × 10 noisy metrics). */
export const WORKLOAD_NOISE_PER_TRIAL = 5000;
/** k = 2 partitions per user, ε = 1, δ = 1e-6 (WORKLOAD.md §4). */
export const WORKLOAD_SELECTION = { k: 2, epsilon: 1, delta: 1e-6 } as const;
/** The threshold the reference kernels hard-code; laplaceSelectionThreshold gives it to 1e-12. */
export const WORKLOAD_THRESHOLD = 28.63102061592836;

/** (name, noise) in metric order; the names are py/workload.py's (the JSON keys). */
export const WORKLOAD_METRICS: readonly { readonly name: string; readonly noise: NoiseSpec | null }[] = [
  { name: 'users', noise: { kind: 'laplace', scale: 2 } },
  { name: 'events', noise: { kind: 'laplace', scale: 40 } },
  { name: 'sessions', noise: { kind: 'laplace', scale: 10 } },
  { name: 'conversions', noise: { kind: 'laplace', scale: 2 } },
  { name: 'purchases', noise: { kind: 'laplace', scale: 6 } },
  { name: 'revenue', noise: { kind: 'laplace', scale: 200 } },
  { name: 'time_spent_s', noise: { kind: 'gaussian', sigma: 6000 } },
  { name: 'page_views', noise: { kind: 'gaussian', sigma: 100 } },
  { name: 'active_days', noise: { kind: 'gaussian', sigma: 14 } },
  { name: 'errors', noise: { kind: 'laplace', scale: 4 } },
  { name: 'revenue_per_user', noise: null },
  { name: 'events_per_user', noise: null },
];

const MASK64 = (1n << 64n) - 1n;

/** splitmix64 (Steele, Lea & Flood 2014) with uniform() = (next >> 11)·2^-53, WORKLOAD.md §2. */
export function makeSplitMix64(seed: bigint): { next(): bigint; uniform(): number } {
  let s = seed & MASK64;
  const next = (): bigint => {
    s = (s + 0x9e3779b97f4a7c15n) & MASK64;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  };
  return { next, uniform: () => Number(next() >> 11n) * 2 ** -53 };
}

/** The 12 × 500 true values, metric-major: truth[j][p] (WORKLOAD.md §2). */
export function workloadTruth(): Float64Array[] {
  const P = WORKLOAD_PARTITIONS;
  const t = Array.from({ length: 12 }, () => new Float64Array(P));
  const g = makeSplitMix64(WORKLOAD_DATA_SEED);
  const fl = Math.floor;
  for (let p = 0; p < P; p++) {
    const u: number[] = [];
    for (let i = 0; i < 8; i++) u.push(g.uniform());
    const [u0, u1, u2, u3, u4, u5, u6, u7] = u as [number, number, number, number, number, number, number, number];
    const n = Math.min(fl(20 * Math.pow(1 - u0, -1 / 1.1)), 5_000_000);
    const payer = 0.01 + 0.14 * u4;
    t[0]![p] = n;
    t[1]![p] = fl(n * (2 + 18 * u1) + 0.5);
    t[2]![p] = fl(n * (1 + 4 * u2) + 0.5);
    t[3]![p] = fl(n * (0.02 + 0.2 * u3) + 0.5);
    t[4]![p] = fl(n * payer * 1.5 + 0.5);
    t[5]![p] = n * payer * (10 + 90 * u5);
    t[6]![p] = n * (60 + 540 * u6);
    t[7]![p] = fl(n * (3 + 27 * u7) + 0.5);
    t[8]![p] = fl(n * (1 + 5 * u6) + 0.5);
    t[9]![p] = fl(n * 0.05 * (1 + 3 * u3) + 0.5);
    t[10]![p] = t[5]![p]! / t[0]![p]!;
    t[11]![p] = t[1]![p]! / t[0]![p]!;
  }
  return t;
}

export interface WorkloadChecksums {
  readonly users: number;
  readonly all: number;
  readonly log1p: number;
}

/** users = Σ users, all = Σ of the 6,000 cells (row-major p then j, numpy's order), log1p = Σ log1p. */
export function workloadChecksums(truth: readonly Float64Array[]): WorkloadChecksums {
  const P = WORKLOAD_PARTITIONS;
  let users = 0;
  let all = 0;
  let log1p = 0;
  for (let p = 0; p < P; p++) users += truth[0]![p]!;
  for (let p = 0; p < P; p++) for (let j = 0; j < truth.length; j++) all += truth[j]![p]!;
  for (let j = 0; j < truth.length; j++) for (let p = 0; p < P; p++) log1p += Math.log1p(truth[j]![p]!);
  return { users, all, log1p };
}

export interface WorkloadPlanOptions {
  readonly samplers?: SamplerOptions;
  /** Also accumulate the per-(metric, partition) statistics (not part of WORKLOAD.md's output). */
  readonly perPartition?: boolean;
}

/**
 * WORKLOAD.md §2–4 as a plan: 10 noisy base metrics (no contributions: the true values are the
 * released aggregates, no bounding), 2 ratios noisy m5 / max(noisy m0, 1) and noisy m1 / max(noisy
 * m0, 1), and Laplace thresholding that reads the noisy `users` (one shared draw): kept iff
 * noisy users > T. No post-processing.
 */
export function buildWorkloadPlan(opts: WorkloadPlanOptions = {}): SimulationPlan {
  const truth = workloadTruth();
  const { k, epsilon, delta } = WORKLOAD_SELECTION;
  const threshold = laplaceSelectionThreshold(epsilon, delta, k);
  const metrics: (BaseMetricPlan | DerivedMetricPlan)[] = WORKLOAD_METRICS.map((m, j) => {
    const privacy = { epsilon: 1, delta: m.noise?.kind === 'gaussian' ? 1e-6 : 0 };
    if (m.noise === null) {
      return { role: 'derived', id: m.name, op: 'ratio', numerator: j === 10 ? 5 : 1, denominator: 0, denominatorFloor: 1, offset: 0, trueValues: truth[j]!, privacy };
    }
    return { role: 'base', id: m.name, aggregate: j === 0 ? 'count-distinct' : 'sum', trueValues: truth[j]!, noise: m.noise, post: { clampAtZero: false, round: false }, privacy };
  });
  return {
    partitions: WORKLOAD_PARTITIONS,
    metrics,
    selection: { kind: 'threshold', threshold, preThreshold: 1, units: truth[0]!, sharedMetric: 0 },
    stats: { relativeErrorThresholds: [], confidence: 0.95, errorSamplesPerCell: 0, relativeErrorFloor: 1, perPartition: opts.perPartition ?? false },
    scale: { kind: 'sample', units: truth[0]!.reduce((a, b) => a + b, 0), factor: 1 },
    ...(opts.samplers ? { samplers: opts.samplers } : {}),
  };
}

export interface WorkloadTiming {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly setupSeconds: number;
}

/** The JSON of WORKLOAD.md §6 (mode "workload") from an accumulator of the workload plan. */
export function workloadReport(acc: SimulationAccumulator, impl: string, threads: number, timing: WorkloadTiming, checksums: WorkloadChecksums): Record<string, unknown> {
  const s = acc.sums;
  const L = acc.layout;
  const trials = s[H_TRIALS]!;
  const used = s[H_TRIALS_USED]!;
  const noiseSamples = trials * WORKLOAD_NOISE_PER_TRIAL;
  const stats: Record<string, Record<string, { sum: number; sumsq: number }>> = {};
  let checksum = 0;
  WORKLOAD_METRICS.forEach((m, j) => {
    const row: Record<string, { sum: number; sumsq: number }> = {};
    TRIAL_STATS.forEach((name, k) => {
      const o = L.trialStats + (j * N_TRIAL_STATS + k) * 2;
      row[name] = { sum: s[o]!, sumsq: s[o + 1]! };
      checksum += Math.log(s[o]! / used);
    });
    stats[m.name] = row;
  });
  checksum += s[H_SUPPRESSION]! / trials;
  return {
    impl,
    mode: 'workload',
    threads,
    trials,
    partitions: L.partitions,
    metrics: L.metrics,
    noise_samples: noiseSamples,
    wall_s: timing.wallSeconds,
    cpu_s: timing.cpuSeconds,
    setup_s: timing.setupSeconds,
    samples_per_s: noiseSamples / timing.wallSeconds,
    data_checksum: { users: checksums.users, all: checksums.all, log1p: checksums.log1p },
    trials_used: used,
    trials_empty: s[H_TRIALS_EMPTY]!,
    suppression: { sum: s[H_SUPPRESSION]!, sumsq: s[H_SUPPRESSION_SQ]!, n: trials },
    stat_checksum: checksum,
    stats,
  };
}
