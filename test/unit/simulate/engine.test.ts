import { describe, expect, it } from 'vitest';
import { buildContributions } from '../../../shared/core/data/csr';
import type { MetricContributions } from '../../../shared/core/data/contributions';
import { clampedSums } from '../../../shared/core/data/clamp';
import { makeRng } from '../../../shared/core/rng';
import {
  accumulatorsIdentical,
  CHUNK_TRIALS,
  H_SUPPRESSION,
  H_TRIALS,
  mergeAccumulator,
  N_TRIAL_STATS,
} from '../../../shared/core/simulate/accumulator';
import type { SimulationAccumulator } from '../../../shared/core/simulate/accumulator';
import { emptyAccumulator, makeChunkRunner, preparePlan, runTrials } from '../../../shared/core/simulate/engine';
import type { BaseMetricPlan, BoundingSpec, MetricPlan, NoiseSpec, SelectionPlan, SimulationPlan } from '../../../shared/core/simulate/plan';
import { summarize } from '../../../shared/core/simulate/stats';

const PRIVACY = { epsilon: 1, delta: 0 };
const NO_POST = { clampAtZero: false, round: false };

function baseMetric(id: string, trueValues: Float64Array, noise: NoiseSpec, extra: Partial<BaseMetricPlan> = {}): BaseMetricPlan {
  return { role: 'base', id, aggregate: 'sum', trueValues, noise, post: NO_POST, privacy: PRIVACY, ...extra };
}

function plan(partitions: number, metrics: MetricPlan[], selection: SelectionPlan = { kind: 'public' }, stats: Partial<SimulationPlan['stats']> = {}): SimulationPlan {
  return {
    partitions,
    metrics,
    selection,
    stats: { relativeErrorThresholds: [0.1, 0.5], confidence: 0.95, errorSamplesPerCell: 0, ...stats },
    scale: { kind: 'sample', units: 0, factor: 1 },
  };
}

/** Contributions with one entry per row: (unit, partition, value). */
function contributions(rows: readonly [number, number, number][], units: number, partitions: number): MetricContributions {
  return buildContributions(
    { unitIds: Int32Array.from(rows.map((r) => r[0])), partitionIds: Int32Array.from(rows.map((r) => r[1])), values: Float64Array.from(rows.map((r) => r[2])), unitIdCount: units, partitionIdCount: partitions },
    { metricId: 'm', kind: 'sum', partitions: { dimensions: ['k'], keys: Array.from({ length: partitions }, (_, i) => [String(i)]) } },
  );
}

/** A plan with every feature: bounding (sampled and deterministic), derived, own-noise selection, per-cell stats and samples. */
function richPlan(): SimulationPlan {
  const rng = makeRng(77);
  const P = 40;
  const rows: [number, number, number][] = [];
  for (let u = 0; u < 300; u++) {
    const parts = 1 + rng.nextBelow(6);
    const seen = new Set<number>();
    for (let i = 0; i < parts; i++) {
      const p = rng.nextBelow(P);
      if (seen.has(p)) continue;
      seen.add(p);
      const r = 1 + rng.nextBelow(5);
      for (let k = 0; k < r; k++) rows.push([u, p, rng.nextDouble() * 20]);
    }
  }
  for (let p = 0; p < P; p++) rows.push([300 + p, p, 1]); // every partition used
  const c = contributions(rows, 300 + P, P);
  const bounding: BoundingSpec = { maxPartitionsContributed: 2, maxContributionsPerPartition: 3, clampLow: 0, clampHigh: 10, clampMode: 'per-value' };
  const units = new Float64Array(c.unitsPerPartition);
  const metrics: MetricPlan[] = [
    baseMetric('sum', c.trueValues, { kind: 'laplace', scale: 8 }, { contributions: c, bounding, privacy: { ...PRIVACY, halfWidth: 8 * Math.log(20) } }),
    baseMetric('count', c.rowsPerPartition, { kind: 'gaussian', sigma: 3 }, { aggregate: 'count', post: { clampAtZero: true, round: true } }),
    baseMetric('dl', c.rowsPerPartition, { kind: 'discrete-laplace', scale: 2 }),
    { role: 'derived', id: 'mean', op: 'ratio', numerator: 0, denominator: 1, denominatorFloor: 1, offset: 0, trueValues: c.trueValues.map((v, p) => v / Math.max(c.rowsPerPartition[p]!, 1)), privacy: PRIVACY },
  ];
  return plan(P, metrics, { kind: 'threshold', threshold: 4, preThreshold: 2, units, noise: { kind: 'laplace', scale: 2 } }, { errorSamplesPerCell: 100 });
}

function foldChunks(p: SimulationPlan, seed: number, first: number, count: number, order: number[][]): SimulationAccumulator {
  // `order` lists chunk ranges as different workers would get them; results are merged in chunk order.
  const byChunk = new Map<number, SimulationAccumulator>();
  for (const range of order) {
    const runner = makeChunkRunner(p, seed); // a fresh runner per "worker"
    for (const c of range) byChunk.set(c, runner.runChunk(c, first + count));
  }
  const total = emptyAccumulator(p, first);
  for (let c = first / CHUNK_TRIALS; byChunk.has(c); c++) mergeAccumulator(total, byChunk.get(c)!);
  return total;
}

describe('runTrials: determinism', () => {
  it('gives bit-identical accumulators however the chunks are split among workers', () => {
    const p = richPlan();
    const N = 5 * CHUNK_TRIALS + 17;
    const whole = runTrials(p, 9, { trialCount: N });
    expect(whole.trialCount).toBe(N);
    const oneWorker = foldChunks(p, 9, 0, N, [[0, 1, 2, 3, 4, 5]]);
    const twoWorkers = foldChunks(p, 9, 0, N, [[3, 4, 5], [0, 1, 2]]);
    const interleaved = foldChunks(p, 9, 0, N, [[5, 1], [2, 0], [4, 3]]);
    expect(accumulatorsIdentical(whole, oneWorker)).toBe(true);
    expect(accumulatorsIdentical(whole, twoWorkers)).toBe(true);
    expect(accumulatorsIdentical(whole, interleaved)).toBe(true);
  });

  it('a range starting later equals the merge of its chunks, and depends on the seed', () => {
    const p = richPlan();
    const part = runTrials(p, 9, { firstTrial: 2 * CHUNK_TRIALS, trialCount: 2 * CHUNK_TRIALS });
    expect(accumulatorsIdentical(part, foldChunks(p, 9, 2 * CHUNK_TRIALS, 2 * CHUNK_TRIALS, [[3], [2]]))).toBe(true);
    expect(accumulatorsIdentical(part, runTrials(p, 10, { firstTrial: 2 * CHUNK_TRIALS, trialCount: 2 * CHUNK_TRIALS }))).toBe(false);
  });

  it('rejects a first trial that is not chunk-aligned, and merges only in trial order', () => {
    const p = richPlan();
    expect(() => runTrials(p, 1, { firstTrial: 10, trialCount: 5 })).toThrow(/multiple of 64/);
    const a = runTrials(p, 1, { trialCount: 64 });
    const c = runTrials(p, 1, { firstTrial: 128, trialCount: 64 });
    expect(() => mergeAccumulator(a, c)).toThrow(/trial order/);
  });

  it('reports progress per chunk and stops between chunks when the signal is aborted', () => {
    const p = richPlan();
    const seen: number[] = [];
    const signal = { aborted: false, reason: new Error('stop') as unknown };
    expect(() =>
      runTrials(p, 1, {
        trialCount: 10 * CHUNK_TRIALS,
        signal,
        onProgress: (pr) => {
          seen.push(pr.trialsDone);
          if (pr.trialsDone >= 3 * CHUNK_TRIALS) signal.aborted = true;
        },
      }),
    ).toThrow('stop');
    expect(seen).toEqual([64, 128, 192]);
    const full: number[] = [];
    runTrials(p, 1, { trialCount: 130, onProgress: (pr) => full.push(pr.trialsDone) });
    expect(full).toEqual([64, 128, 130]);
  });
});

describe('runTrials: hand-computed expectations', () => {
  it('one partition with Laplace noise: mean error ≈ 0 and mean squared error ≈ 2b² (5 standard errors)', () => {
    const b = 3;
    const N = 20_000;
    const p = plan(1, [baseMetric('x', Float64Array.of(100), { kind: 'laplace', scale: b })]);
    const r = summarize(runTrials(p, 5, { trialCount: N }), p).metrics[0]!;
    const cell = r.partitions![0]!;
    // Var(e) = 2b², Var(e²) = E e⁴ − (E e²)² = 24b⁴ − 4b⁴ = 20b⁴.
    expect(Math.abs(cell.bias)).toBeLessThan(5 * Math.sqrt((2 * b * b) / N));
    expect(Math.abs(cell.rmse ** 2 - 2 * b * b)).toBeLessThan(5 * Math.sqrt((20 * b ** 4) / N));
    expect(cell.releaseProbability).toBe(1);
    expect(r.valueSource).toBe('true-values'); // the exact shortcut is named
  });

  it('keeps each partition at its keep probability (binomial, 5 standard errors)', () => {
    const keep = Float64Array.of(0, 0.1, 0.5, 0.9, 1);
    const N = 10_000;
    const p = plan(5, [baseMetric('x', Float64Array.of(1, 2, 3, 4, 5), { kind: 'none' })], { kind: 'probability', keepProbability: keep });
    const cells = summarize(runTrials(p, 6, { trialCount: N }), p).metrics[0]!.partitions!;
    keep.forEach((k, i) => expect(Math.abs(cells[i]!.releaseProbability - k)).toBeLessThanOrEqual(5 * Math.sqrt((k * (1 - k)) / N) + 1e-12));
  });

  it('a threshold selection sharing a Laplace count keeps with P(n + Lap(b) > T)', () => {
    const n = Float64Array.of(5, 10, 12, 20);
    const T = 11;
    const b = 2;
    const N = 10_000;
    const p = plan(4, [baseMetric('units', n, { kind: 'laplace', scale: b }, { aggregate: 'count-distinct' })], { kind: 'threshold', threshold: T, preThreshold: 1, units: n, sharedMetric: 0 });
    const cells = summarize(runTrials(p, 7, { trialCount: N }), p).metrics[0]!.partitions!;
    n.forEach((v, i) => {
      const x = T - v;
      const k = x >= 0 ? 0.5 * Math.exp(-x / b) : 1 - 0.5 * Math.exp(x / b);
      expect(Math.abs(cells[i]!.releaseProbability - k)).toBeLessThanOrEqual(5 * Math.sqrt((k * (1 - k)) / N) + 1e-12);
    });
  });

  it('a pre-threshold drops partitions with fewer units whatever the noise', () => {
    const n = Float64Array.of(3, 4, 100);
    const p = plan(3, [baseMetric('units', n, { kind: 'none' })], { kind: 'threshold', threshold: -1e9, preThreshold: 4, units: n, noise: { kind: 'laplace', scale: 1 } });
    const cells = summarize(runTrials(p, 7, { trialCount: 200 }), p).metrics[0]!.partitions!;
    expect(cells.map((c) => c.releaseProbability)).toEqual([0, 1, 1]);
  });

  it('bounding: a unit with 4 partitions and L0 = 2 keeps exactly 2 in every trial, each with probability 1/2', () => {
    const rows: [number, number, number][] = [[0, 0, 1], [0, 1, 1], [0, 2, 1], [0, 3, 1]];
    const c = contributions(rows, 1, 4);
    const N = 10_000;
    const bounding: BoundingSpec = { maxPartitionsContributed: 2, maxContributionsPerPartition: 10, clampMode: 'per-value' };
    const p = plan(4, [baseMetric('c', c.trueValues, { kind: 'none' }, { aggregate: 'count', contributions: c, bounding })], { kind: 'public' }, { errorSamplesPerCell: 200 });
    const acc = runTrials(p, 8, { trialCount: N });
    const res = summarize(acc, p).metrics[0]!;
    expect(res.valueSource).toBe('sampled-bounding');
    // Each cell's error is bounded − 1 ∈ {0, −1}; per trial the four errors sum to −2.
    for (let t = 0; t < 200; t++) {
      let sum = 0;
      for (let q = 0; q < 4; q++) sum += acc.samples[q * 200 + t]!;
      expect(sum).toBe(-2);
    }
    for (const cell of res.partitions!) {
      expect(Math.abs(cell.boundedMean! - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / N));
      expect(cell.boundedVariance!).toBeCloseTo(0.25, 1);
    }
  });

  it('bounding: L∞ keeps min(L∞, rows) rows; clipping bias of a per-value clamp is the clamped-sum difference', () => {
    // No bound binds but the clamp: values are deterministic, bias = clampedSums − true exactly.
    const rows: [number, number, number][] = [[0, 0, 5], [0, 0, 50], [1, 0, -3], [1, 1, 7], [2, 1, 12], [2, 1, 30]];
    const c = contributions(rows, 3, 2);
    const bounding: BoundingSpec = { maxPartitionsContributed: 5, maxContributionsPerPartition: 5, clampLow: 0, clampHigh: 10, clampMode: 'per-value' };
    const p = plan(2, [baseMetric('s', c.trueValues, { kind: 'none' }, { contributions: c, bounding })]);
    const r = summarize(runTrials(p, 1, { trialCount: 64 }), p).metrics[0]!;
    const expected = clampedSums(c, 0, 10, 'per-value');
    expect(r.valueSource).toBe('deterministic-bounding');
    r.partitions!.forEach((cell, q) => {
      expect(cell.bias).toBeCloseTo(expected[q]! - c.trueValues[q]!, 12);
      expect(cell.boundedMean).toBe(expected[q]);
    });
    // L∞ = 1 on partition 0's pair of unit 0 (rows 5 and 50): each row kept half the time.
    const p1 = plan(2, [baseMetric('s', c.trueValues, { kind: 'none' }, { contributions: c, bounding: { ...bounding, maxContributionsPerPartition: 1 } })]);
    const N = 10_000;
    const cell0 = summarize(runTrials(p1, 2, { trialCount: N }), p1).metrics[0]!.partitions![0]!;
    // unit 0 adds clamp(5)=5 or clamp(50)=10 with probability 1/2; unit 1 adds clamp(−3) = 0.
    expect(Math.abs(cell0.boundedMean! - 7.5)).toBeLessThan(5 * Math.sqrt(6.25 / N));
  });

  it('per-partition clamping clamps each unit’s partition sum', () => {
    const rows: [number, number, number][] = [[0, 0, 6], [0, 0, 6], [1, 0, 2]];
    const c = contributions(rows, 2, 1);
    const p = plan(1, [baseMetric('s', c.trueValues, { kind: 'none' }, { contributions: c, bounding: { maxPartitionsContributed: 1, maxContributionsPerPartition: 9, clampLow: 0, clampHigh: 10, clampMode: 'per-partition' } })]);
    const cell = summarize(runTrials(p, 1, { trialCount: 64 }), p).metrics[0]!.partitions![0]!;
    expect(cell.boundedMean).toBe(12); // min(12, 10) + 2
  });

  it('a bounding group draws one L0 sample for all its members', () => {
    const rows: [number, number, number][] = [[0, 0, 1], [0, 1, 1], [0, 2, 1], [0, 3, 1]];
    const c = contributions(rows, 1, 4);
    const c2 = { ...c, rowValues: Float64Array.of(10, 20, 30, 40), trueValues: Float64Array.of(10, 20, 30, 40) };
    const bounding: BoundingSpec = { maxPartitionsContributed: 1, maxContributionsPerPartition: 1, clampMode: 'per-value' };
    const p = plan(
      4,
      [
        baseMetric('count', c.trueValues, { kind: 'none' }, { contributions: c, bounding, boundingGroup: 0 }),
        baseMetric('sum', c2.trueValues, { kind: 'none' }, { contributions: c2, bounding, boundingGroup: 0 }),
      ],
      { kind: 'public' },
      { errorSamplesPerCell: 64 },
    );
    const acc = runTrials(p, 3, { trialCount: 64 });
    for (let t = 0; t < 64; t++) {
      for (let q = 0; q < 4; q++) {
        const countKept = acc.samples[q * 64 + t]! === 0; // error 0 iff the pair was kept
        const sumKept = acc.samples[(4 + q) * 64 + t]! === 0;
        expect(sumKept).toBe(countKept);
      }
    }
  });

  it('derived ratios use the same noisy draws and the denominator floor', () => {
    const p = plan(2, [
      baseMetric('num', Float64Array.of(10, 10), { kind: 'none' }),
      baseMetric('den', Float64Array.of(4, 0), { kind: 'none' }),
      { role: 'derived', id: 'r', op: 'ratio', numerator: 0, denominator: 1, denominatorFloor: 1, offset: 0.5, trueValues: Float64Array.of(3, 10.5), privacy: PRIVACY },
    ]);
    const r = summarize(runTrials(p, 1, { trialCount: 3 }), p).metrics[2]!;
    expect(r.partitions!.map((c) => c.bias)).toEqual([0, 0]); // 10/4 + 0.5 = 3, 10/max(0,1) + 0.5 = 10.5
  });

  it('post-processing clamps at 0 and rounds the released value', () => {
    const p = plan(1, [baseMetric('c', Float64Array.of(0.4), { kind: 'gaussian', sigma: 5 }, { post: { clampAtZero: true, round: true } })], { kind: 'public' }, { errorSamplesPerCell: 500 });
    const acc = runTrials(p, 4, { trialCount: 500 });
    for (let t = 0; t < 500; t++) {
      const released = acc.samples[t]! + 0.4;
      expect(released).toBeGreaterThanOrEqual(0);
      expect(Math.abs(released - Math.round(released))).toBeLessThan(1e-12);
    }
  });
});

describe('runTrials: per-trial statistics', () => {
  it('rmse, mare and the bracketed type-7 p05/p50/p95 of every trial equal a direct computation', () => {
    const P = 300;
    const rng = makeRng(5);
    const t1 = Float64Array.from({ length: P }, () => Math.floor(rng.nextDouble() * 1000));
    const t2 = Float64Array.from({ length: P }, () => rng.nextDouble() * 5);
    const units = Float64Array.from({ length: P }, () => 1 + rng.nextBelow(60));
    const p = plan(
      P,
      [baseMetric('a', t1, { kind: 'laplace', scale: 10 }), baseMetric('b', t2, { kind: 'gaussian', sigma: 2 }, { post: { clampAtZero: true, round: false } })],
      { kind: 'threshold', threshold: 20, preThreshold: 1, units, noise: { kind: 'laplace', scale: 4 } },
      { errorSamplesPerCell: 64, perPartition: true },
    );
    const type7 = (xs: number[], q: number): number => {
      const s = [...xs].sort((x, y) => x - y);
      const h = (s.length - 1) * q;
      const lo = Math.floor(h);
      return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
    };
    const full = runTrials(p, 3, { trialCount: 64 });
    let prev: Float64Array = new Float64Array(full.sums.length);
    for (let t = 0; t < 64; t++) {
      const acc = runTrials(p, 3, { trialCount: t + 1 });
      for (let j = 0; j < 2; j++) {
        const e: number[] = [];
        const truth = j === 0 ? t1 : t2;
        for (let q = 0; q < P; q++) {
          const x = full.samples[(j * P + q) * 64 + t]!;
          if (!Number.isNaN(x)) e.push(Math.abs(x));
        }
        const m = e.length;
        const want = [
          Math.sqrt(e.reduce((a, x) => a + x * x, 0) / m),
          sumRel(full, j, t, truth, P) / m,
          type7(e, 0.05),
          type7(e, 0.5),
          type7(e, 0.95),
        ];
        for (let s = 0; s < N_TRIAL_STATS; s++) {
          const o = full.layout.trialStats + (j * N_TRIAL_STATS + s) * 2;
          const got = acc.sums[o]! - prev[o]!;
          expect(Math.abs(got - want[s]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want[s]!)));
        }
      }
      prev = acc.sums;
    }
  });

  it('the suppression rate is the share of partitions not released', () => {
    const p = plan(4, [baseMetric('x', Float64Array.of(1, 2, 3, 4), { kind: 'none' })], { kind: 'probability', keepProbability: Float64Array.of(1, 1, 0, 0) });
    const acc = runTrials(p, 1, { trialCount: 10 });
    expect(acc.sums[H_SUPPRESSION]! / acc.sums[H_TRIALS]!).toBe(0.5);
  });
});

function sumRel(acc: SimulationAccumulator, j: number, t: number, truth: Float64Array, P: number): number {
  let s = 0;
  for (let q = 0; q < P; q++) {
    const x = acc.samples[(j * P + q) * 64 + t]!;
    if (!Number.isNaN(x)) s += Math.abs(x) / Math.max(Math.abs(truth[q]!), 1);
  }
  return s;
}

describe('summarize', () => {
  it('gives per-partition results, shares within ±x and value lost to suppression', () => {
    const p = richPlan();
    const acc = runTrials(p, 2, { trialCount: 256 });
    const res = summarize(acc, p);
    expect(res.trials).toBe(256);
    expect(res.metrics.map((m) => m.valueSource)).toEqual(['sampled-bounding', 'true-values', 'true-values', null]);
    const sum = res.metrics[0]!;
    expect(sum.partitions).toHaveLength(40);
    for (const c of sum.partitions!) {
      expect(c.releaseProbability).toBeGreaterThanOrEqual(0);
      expect(c.releaseProbability).toBeLessThanOrEqual(1);
      if (c.releaseProbability > 0) {
        expect(c.rmse ** 2).toBeGreaterThanOrEqual(c.bias ** 2 - 1e-9);
        expect(c.exceedProbability[0]!).toBeGreaterThanOrEqual(c.exceedProbability[1]!);
        expect(c.coverage).not.toBeNull();
        expect(c.errorQuantiles!.p05).toBeLessThanOrEqual(c.errorQuantiles!.p95);
      }
    }
    expect(sum.withinShare![0]!.share).toBeLessThanOrEqual(sum.withinShare![1]!.share);
    expect(sum.valueLostToSuppression).toBeGreaterThan(0);
    expect(res.metrics[1]!.coverage).toBeNull(); // no half-width stated
    expect(preparePlan(p).layout.boundedMetrics).toEqual([0]);
  });
});

describe('runTrials: input order', () => {
  it('does not depend on the order of the rows within a pair (SQL returns them in any order)', () => {
    const rows: [number, number, number][] = [];
    for (let u = 0; u < 30; u++) for (let r = 0; r < 12; r++) rows.push([u, u % 3, (u * 7 + r * 13) % 17]);
    const c = contributions(rows, 30, 3);
    // The same contributions with each pair's rows reversed.
    const reversed = new Float64Array(c.rowValues.length);
    for (let p = 0; p < c.pairPartition.length; p++) {
      const a = c.rowOffsets[p]!;
      const b = c.rowOffsets[p + 1]!;
      for (let r = a; r < b; r++) reversed[r] = c.rowValues[b - 1 - (r - a)]!;
    }
    const bounding: BoundingSpec = { maxPartitionsContributed: 1, maxContributionsPerPartition: 4, clampLow: 0, clampHigh: 12, clampMode: 'per-partition' };
    const mk = (cc: MetricContributions) => plan(3, [baseMetric('s', cc.trueValues, { kind: 'laplace', scale: 1 }, { contributions: cc, bounding })], { kind: 'public' }, { errorSamplesPerCell: 10 });
    const a = runTrials(mk(c), 4, { trialCount: 100 });
    const b = runTrials(mk({ ...c, rowValues: reversed }), 4, { trialCount: 100 });
    expect(accumulatorsIdentical(a, b)).toBe(true);
  });
});
