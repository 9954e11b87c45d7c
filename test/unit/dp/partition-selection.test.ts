import { describe, expect, it } from 'vitest';
import { gaussianSelectionParameters, laplaceSelectionThreshold, makePartitionSelection, perPartitionDelta } from '../../../shared/core/dp/partition-selection';
import { closeTo, loadOracles } from '../../helpers/oracles';

describe('partition selection', () => {
  it('Laplace thresholding matches every oracle case: threshold and keep probabilities', () => {
    const sec = loadOracles().partition_selection.laplace_thresholding;
    for (const c of sec.cases) {
      const { epsilon, delta, max_partitions_contributed: k } = c.inputs;
      const sel = makePartitionSelection({ strategy: 'laplace', epsilon, delta, maxPartitionsContributed: k });
      expect(closeTo(sel.threshold!, c.expected.threshold, sec.tolerance)).toBe(true);
      expect(closeTo(sel.noiseScale!, c.expected.noise_scale_b, sec.tolerance)).toBe(true);
      expect(closeTo(perPartitionDelta(delta, k), c.expected.delta_adjusted, sec.tolerance)).toBe(true);
      for (const [n, p] of Object.entries(c.expected.keep_probability as Record<string, number>)) {
        expect(closeTo(sel.keepProbability(Number(n)), p, { rel: sec.tolerance.rel, abs: 1e-15 }), `${JSON.stringify(c.inputs)} n=${n}`).toBe(true);
      }
    }
  });
  it('optimal selection matches every oracle case (abs 1e-12)', () => {
    const sec = loadOracles().partition_selection.optimal;
    for (const c of sec.cases) {
      const { epsilon, delta, max_partitions_contributed: k } = c.inputs;
      const sel = makePartitionSelection({ strategy: 'optimal', epsilon, delta, maxPartitionsContributed: k });
      expect(sel.threshold).toBeNull();
      for (const [n, p] of Object.entries(c.expected.keep_probability as Record<string, number>)) {
        expect(Math.abs(sel.keepProbability(Number(n)) - p), `${JSON.stringify(c.inputs)} n=${n}`).toBeLessThanOrEqual(sec.tolerance.abs);
      }
      const n1 = c.expected.smallest_n_with_probability_1;
      expect(sel.keepProbability(n1)).toBe(1);
      expect(sel.keepProbability(n1 - 1)).toBeLessThan(1);
    }
  });
  it('gives the reference orientation values at ε=1, δ=1e-5, L0=1', () => {
    expect(laplaceSelectionThreshold(1, 1e-5, 1)).toBeCloseTo(11.8, 1);
    const g = gaussianSelectionParameters(1, 1e-5, 1);
    expect(g.sigma).toBeCloseTo(3.88, 2);
    expect(g.threshold).toBeCloseTo(18.2, 1);
    const opt = makePartitionSelection({ strategy: 'optimal', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1 });
    expect(opt.keepProbability(11)).toBeLessThan(0.5);
    expect(opt.keepProbability(12)).toBeGreaterThan(0.5);
  });
  it('optimal dominates Laplace thresholding', () => {
    const lap = makePartitionSelection({ strategy: 'laplace', epsilon: 0.5, delta: 1e-8, maxPartitionsContributed: 5 });
    const opt = makePartitionSelection({ strategy: 'optimal', epsilon: 0.5, delta: 1e-8, maxPartitionsContributed: 5 });
    for (let n = 1; n < 400; n += 7) expect(opt.keepProbability(n)).toBeGreaterThanOrEqual(lap.keepProbability(n) - 1e-15);
  });
  it('pre-threshold k never keeps fewer than k units and shifts the rule by k − 1', () => {
    for (const strategy of ['laplace', 'gaussian', 'optimal'] as const) {
      const base = makePartitionSelection({ strategy, epsilon: 1, delta: 1e-5, maxPartitionsContributed: 2 });
      const pre = makePartitionSelection({ strategy, epsilon: 1, delta: 1e-5, maxPartitionsContributed: 2, preThreshold: 10 });
      expect(pre.keepProbability(9)).toBe(0);
      expect(pre.keepProbability(10)).toBe(base.keepProbability(1));
      expect(pre.keepProbability(40)).toBe(base.keepProbability(31));
    }
  });
  it('keeps from a shared noisy count exactly when it exceeds the threshold', () => {
    const sel = makePartitionSelection({ strategy: 'laplace', epsilon: 1, delta: 1e-6, maxPartitionsContributed: 2 });
    expect(sel.threshold).toBeCloseTo(28.63102061592836, 12); // WORKLOAD.md §4
    expect(sel.keepFromNoisyCount(30, 28.7)).toBe(true);
    expect(sel.keepFromNoisyCount(30, 28.6)).toBe(false);
  });
  it('requires delta > 0 and a known strategy', () => {
    expect(() => makePartitionSelection({ strategy: 'laplace', epsilon: 1, delta: 0, maxPartitionsContributed: 1 })).toThrow('delta (0) must be > 0');
    expect(() => makePartitionSelection({ strategy: 'foo' as 'laplace', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1 })).toThrow('strategy ("foo")');
  });
});
