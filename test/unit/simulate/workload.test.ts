import { describe, expect, it } from 'vitest';
import { runTrials } from '../../../shared/core/simulate/engine';
import { buildWorkloadPlan, makeSplitMix64, WORKLOAD_METRICS, WORKLOAD_THRESHOLD, workloadChecksums, workloadReport, workloadTruth } from '../../../shared/core/simulate/workload';

describe('reference workload (WORKLOAD.md)', () => {
  it('splitmix64 gives the published first outputs for seed 0', () => {
    // Vigna's reference splitmix64.c seeded with 0.
    const g = makeSplitMix64(0n);
    expect([g.next(), g.next(), g.next()]).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
  });

  it('generates the true values with the published checksums and partition sizes', () => {
    const truth = workloadTruth();
    const cs = workloadChecksums(truth);
    expect(cs.users).toBe(402171);
    expect(cs.all.toFixed(6)).toBe('204009923.807158');
    expect(cs.log1p.toFixed(6)).toBe('25765.365414');
    const n = Array.from(truth[0]!).sort((a, b) => a - b);
    expect(n[0]).toBe(20);
    expect(n[n.length - 1]).toBe(271349);
    expect(n.filter((x) => x < WORKLOAD_THRESHOLD).length).toBe(157);
  });

  it('builds a plan of 10 noisy metrics, 2 ratios and a selection sharing the users draw', () => {
    const plan = buildWorkloadPlan();
    expect(plan.metrics.map((m) => m.id)).toEqual(WORKLOAD_METRICS.map((m) => m.name));
    expect(plan.selection).toMatchObject({ kind: 'threshold', sharedMetric: 0, preThreshold: 1 });
    if (plan.selection.kind !== 'threshold') throw new Error('unreachable');
    expect(Math.abs(plan.selection.threshold - WORKLOAD_THRESHOLD)).toBeLessThan(1e-12);
    expect(plan.metrics[10]).toMatchObject({ role: 'derived', numerator: 5, denominator: 0, denominatorFloor: 1 });
    expect(plan.metrics[11]).toMatchObject({ role: 'derived', numerator: 1, denominator: 0, denominatorFloor: 1 });
  });

  it('writes the JSON of WORKLOAD.md §6 with the statistics of every metric', () => {
    const plan = buildWorkloadPlan();
    const acc = runTrials(plan, 1, { trialCount: 200 });
    const truth = workloadTruth();
    const r = workloadReport(acc, 'test', 1, { wallSeconds: 1, cpuSeconds: 1, setupSeconds: 0 }, workloadChecksums(truth));
    expect(Object.keys(r)).toEqual(['impl', 'mode', 'threads', 'trials', 'partitions', 'metrics', 'noise_samples', 'wall_s', 'cpu_s', 'setup_s', 'samples_per_s',
      'data_checksum', 'trials_used', 'trials_empty', 'suppression', 'stat_checksum', 'stats']);
    expect(r.trials).toBe(200);
    expect(r.noise_samples).toBe(1_000_000);
    expect(r.trials_used).toBe(200);
    const stats = r.stats as Record<string, Record<string, { sum: number; sumsq: number }>>;
    expect(Object.keys(stats)).toEqual(WORKLOAD_METRICS.map((m) => m.name));
    expect(Object.keys(stats.events!)).toEqual(['rmse', 'mare', 'p05', 'p50', 'p95']);
    // stat checksum is about 90.35 (WORKLOAD.md §6); mean suppression about 0.311.
    expect(Math.abs((r.stat_checksum as number) - 90.35)).toBeLessThan(0.3);
    expect(Math.abs((r.suppression as { sum: number }).sum / 200 - 0.3113)).toBeLessThan(0.01);
  });

  it('the literal samplers (inverse-CDF Laplace, Box–Muller) run the same plan', () => {
    const plan = buildWorkloadPlan({ samplers: { laplace: 'inverse-cdf', gaussian: 'box-muller', suppressedCells: 'draw' } });
    const acc = runTrials(plan, 1, { trialCount: 200 });
    const r = workloadReport(acc, 'test', 1, { wallSeconds: 1, cpuSeconds: 1, setupSeconds: 0 }, workloadChecksums(workloadTruth()));
    expect(Math.abs((r.stat_checksum as number) - 90.35)).toBeLessThan(0.3);
  });
});
