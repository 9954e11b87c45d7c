import { describe, expect, it } from 'vitest';
import { aggregateSensitivity, meanSensitivities } from '../../../shared/core/dp/sensitivity';

describe('sensitivity from contribution bounds', () => {
  const b = { maxPartitionsContributed: 4, maxContributionsPerPartition: 3, clampLow: -2, clampHigh: 5 };
  it('COUNT: L1 = L0·L∞, L2 = √L0·L∞', () => {
    expect(aggregateSensitivity('count', b)).toEqual({ perPartition: 3, l1: 12, l2: 6 });
  });
  it('COUNT DISTINCT units: per partition 1', () => {
    expect(aggregateSensitivity('count-distinct', b)).toEqual({ perPartition: 1, l1: 4, l2: 2 });
  });
  it('SUM per value: max(|lo|,|hi|)·L∞; per partition: max(|lo|,|hi|)', () => {
    expect(aggregateSensitivity('sum', b).perPartition).toBe(15);
    expect(aggregateSensitivity('sum', { ...b, clampMode: 'per-partition' })).toEqual({ perPartition: 5, l1: 20, l2: 10 });
  });
  it('MEAN: count and normalised sum with (hi−lo)/2 per row', () => {
    const m = meanSensitivities(b);
    expect(m.midpoint).toBe(1.5);
    expect(m.normalizedSum.perPartition).toBe(10.5);
    expect(m.count.l1).toBe(12);
  });
  it('rejects bad bounds naming them', () => {
    expect(() => aggregateSensitivity('count', { ...b, maxPartitionsContributed: 0 })).toThrow('maxPartitionsContributed (0)');
    expect(() => aggregateSensitivity('sum', { ...b, clampLow: 6 })).toThrow('clampLow (6) must be <= clampHigh (5)');
    expect(() => aggregateSensitivity('sum', { maxPartitionsContributed: 1, maxContributionsPerPartition: 1 })).toThrow(/clampLow and clampHigh/);
  });
});
