// Seeded statistical tests of the continuous samplers and of partition-selection sampling.
// Fixed seeds make each test deterministic; SIGNIFICANCE is the level at which the test would
// reject a correct sampler by chance.
import { describe, expect, it } from 'vitest';
import { makeRng } from '../../shared/core/rng';
import { makeLaplace } from '../../shared/core/dp/mechanisms/laplace';
import { makeGaussian } from '../../shared/core/dp/mechanisms/gaussian';
import { makePartitionSelection } from '../../shared/core/dp/partition-selection';
import { normalCdf } from '../../shared/core/math/special';
import { chiSquareSf, ksOneSample, SIGNIFICANCE } from '../helpers/stats';

const N = 50_000; // samples per KS test
const TRIALS_PER_N = 4_000; // keep/drop draws per partition size

function draw(n: number, f: () => number): Float64Array {
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = f();
  return xs;
}

describe('continuous samplers (Kolmogorov–Smirnov, significance 1e-3)', () => {
  it('Laplace samples follow Lap(b)', () => {
    const m = makeLaplace({ epsilon: 0.5, sensitivity: 2 });
    const rng = makeRng(101);
    const b = m.scale;
    const cdf = (x: number) => (x < 0 ? 0.5 * Math.exp(x / b) : 1 - 0.5 * Math.exp(-x / b));
    const res = ksOneSample(draw(N, () => m.sample(rng)), cdf);
    expect(res.pValue).toBeGreaterThan(SIGNIFICANCE);
  });
  it('Gaussian samples follow N(0, sigma^2)', () => {
    const m = makeGaussian({ epsilon: 1, delta: 1e-6, sensitivity: 3 });
    const rng = makeRng(202);
    const res = ksOneSample(draw(N, () => m.sample(rng)), (x) => normalCdf(x / m.scale));
    expect(res.pValue).toBeGreaterThan(SIGNIFICANCE);
  });
  it('detects a wrong scale (the test has power)', () => {
    const m = makeLaplace({ epsilon: 0.5, sensitivity: 2 });
    const rng = makeRng(303);
    const b = m.scale * 1.05;
    const cdf = (x: number) => (x < 0 ? 0.5 * Math.exp(x / b) : 1 - 0.5 * Math.exp(-x / b));
    expect(ksOneSample(draw(N, () => m.sample(rng)), cdf).pValue).toBeLessThan(SIGNIFICANCE);
  });
});

describe('partition-selection sampling matches keep probabilities (chi-square, significance 1e-3)', () => {
  for (const strategy of ['laplace', 'gaussian', 'optimal'] as const) {
    it(`${strategy}: kept counts per partition size agree with keepProbability`, () => {
      const sel = makePartitionSelection({ strategy, epsilon: 1, delta: 1e-5, maxPartitionsContributed: 2, preThreshold: 3 });
      const rng = makeRng(404, ['laplace', 'gaussian', 'optimal'].indexOf(strategy));
      let stat = 0;
      let df = 0;
      for (const n of [2, 10, 20, 25, 30, 35, 40, 60]) {
        const p = sel.keepProbability(n);
        let kept = 0;
        for (let t = 0; t < TRIALS_PER_N; t++) if (sel.sampleKeep(rng, n)) kept++;
        if (p === 0 || p === 1) {
          expect(kept).toBe(p * TRIALS_PER_N);
          continue;
        }
        const e = p * TRIALS_PER_N;
        if (e < 5 || TRIALS_PER_N - e < 5) continue;
        stat += (kept - e) ** 2 / e + (TRIALS_PER_N - kept - (TRIALS_PER_N - e)) ** 2 / (TRIALS_PER_N - e);
        df += 1;
      }
      expect(df).toBeGreaterThan(0);
      expect(chiSquareSf(stat, df)).toBeGreaterThan(SIGNIFICANCE);
    });
  }
});
