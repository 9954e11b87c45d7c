// Pure parts of the renderer's model: share re-balancing with lock/hold, the selection's release
// curve, the weighted median.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makePartitionSelection } from '../../../shared/core/dp/partition-selection';
import type { GroupSelection } from '../../../shared/core/simulate/plan-builder';
import { weightedMedian } from '../../../renderer/model/preview';
import { keepProbabilityOf } from '../../../renderer/model/release-curve';
import { MIN_SHARE, rebalanceShares } from '../../../renderer/model/shares';

const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);

describe('rebalanceShares', () => {
  it('keeps the total and moves the unlocked others in proportion', () => {
    const { shares, applied } = rebalanceShares({ a: 0.3, b: 0.2, c: 0.4 }, new Set(), 'a', 0.5);
    expect(applied).toBe(0.5);
    expect(sum(shares)).toBeCloseTo(0.9, 12);
    // b and c shared the remaining 0.4 about 1:2.
    expect(shares['c']! / shares['b']!).toBeCloseTo(2, 1);
  });

  it('never moves a held (locked) share, and caps the moved one so the others keep MIN_SHARE', () => {
    const { shares, applied } = rebalanceShares({ a: 0.3, b: 0.2, c: 0.4 }, new Set(['c']), 'a', 0.9);
    expect(shares['c']).toBe(0.4);
    expect(shares['b']).toBeCloseTo(MIN_SHARE, 12);
    expect(applied).toBeCloseTo(0.9 - 0.4 - MIN_SHARE, 12);
    expect(sum(shares)).toBeCloseTo(0.9, 12);
  });

  it('changes the total, up to 1, when every other share is held', () => {
    const { shares } = rebalanceShares({ a: 0.3, b: 0.2 }, new Set(['b']), 'a', 0.95);
    expect(shares['a']).toBeCloseTo(0.8, 12);
    expect(shares['b']).toBe(0.2);
  });

  it('keeps every share >= MIN_SHARE and the total unchanged for any move (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.double({ min: 0.01, max: 0.12, noNaN: true }), { minLength: 2, maxLength: 8 }), // a valid config: shares add up to <= 1
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      (raw, target, lockBits) => {
        const shares = Object.fromEntries(raw.map((v, i) => [`m${i}`, v]));
        const locked = new Set(raw.map((_, i) => `m${i}`).filter((_, i) => i > 0 && lockBits[i]));
        const before = sum(shares);
        const r = rebalanceShares(shares, locked, 'm0', target).shares;
        for (const v of Object.values(r)) expect(v).toBeGreaterThanOrEqual(MIN_SHARE - 1e-12);
        for (const k of locked) expect(r[k]).toBe(shares[k]);
        if (raw.some((_, i) => i > 0 && !locked.has(`m${i}`))) expect(sum(r)).toBeCloseTo(Math.min(1, before), 9);
        else expect(sum(r)).toBeLessThanOrEqual(1 + 1e-12);
      },
    ), { numRuns: 300 });
  });
});

describe('keepProbabilityOf', () => {
  const base = { driver: 'm', epsilon: 0.5, delta: 1e-6, maxPartitionsContributed: 2, preThreshold: 3 };
  it('is the core PartitionSelection for an own selection', () => {
    for (const strategy of ['laplace', 'gaussian', 'optimal'] as const) {
      const ps = makePartitionSelection({ strategy, epsilon: 0.5, delta: 1e-6, maxPartitionsContributed: 2, preThreshold: 3 });
      const keep = keepProbabilityOf({ ...base, strategy, threshold: ps.threshold, noiseScale: ps.noiseScale });
      for (const n of [0, 1, 2, 3, 5, 20, 60, 200]) expect(keep(n)).toBeCloseTo(ps.keepProbability(n), 12);
    }
  });

  it('thresholds n − (k − 1) + noise at the shared count\'s threshold (same curve as an own selection with that threshold)', () => {
    const ps = makePartitionSelection({ strategy: 'laplace', epsilon: 0.5, delta: 1e-6, maxPartitionsContributed: 2, preThreshold: 3 });
    const shared: GroupSelection = { ...base, strategy: 'laplace', sharedWith: 'm', threshold: ps.threshold, noiseScale: ps.noiseScale };
    const keep = keepProbabilityOf(shared);
    for (const n of [0, 2, 3, 10, 40, 80, 400]) expect(keep(n)).toBeCloseTo(ps.keepProbability(n), 12);
    const g = makePartitionSelection({ strategy: 'gaussian', epsilon: 0.5, delta: 1e-6, maxPartitionsContributed: 2, preThreshold: 3 });
    const keepG = keepProbabilityOf({ ...shared, strategy: 'gaussian', threshold: g.threshold, noiseScale: g.noiseScale });
    for (const n of [3, 10, 40, 80]) expect(keepG(n)).toBeCloseTo(g.keepProbability(n), 10);
  });
});

describe('weightedMedian', () => {
  it('is the ordinary median with equal weights and ignores zero weights and non-finite values', () => {
    expect(weightedMedian([3, 1, 2], [1, 1, 1])).toBe(2);
    expect(weightedMedian([4, 1, 3, 2], [1, 1, 1, 1])).toBe(2.5);
    expect(weightedMedian([1, 100, NaN], [1, 0, 5])).toBe(1);
    expect(weightedMedian([1, 2], [0, 0])).toBeNull();
    expect(weightedMedian([1, 2, 3], [0.1, 0.1, 5])).toBe(3);
  });
});

describe('paretoChart axis', () => {
  it('uses a log error axis when errors span more than a factor 20, linear otherwise', async () => {
    const { paretoChart } = await import('../../../renderer/charts/specs');
    const wide = paretoChart([{ epsilon: 0.1, error: 3000, label: 'a', pareto: true }, { epsilon: 8, error: 40, label: 'b', pareto: true }]);
    expect((wide.layout.yaxis as { type?: string }).type).toBe('log');
    const narrow = paretoChart([{ epsilon: 0.1, error: 60, label: 'a', pareto: true }, { epsilon: 8, error: 40, label: 'b', pareto: true }]);
    expect((narrow.layout.yaxis as { type?: string }).type).not.toBe('log');
  });
});
