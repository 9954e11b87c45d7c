import { describe, expect, it } from 'vitest';
import { erf, erfc, erfcx, log1mExp, logAddExp, normalCdf, normalLogCdf, normalQuantile } from '../../../shared/core/math/special';
import { closeTo, loadOracles } from '../../helpers/oracles';

// Reference values: CPython math.erfc / math.erf (correctly rounded to ~1 ulp).
const ERFC: [number, number][] = [
  [0.1, 0.8875370839817152], [0.3, 0.6713732405408726], [0.46875, 0.507386526782062], [0.5, 0.4795001221869535],
  [1, 0.15729920705028513], [2, 0.004677734981047265], [3.5, 7.430983723414128e-7], [4, 1.541725790028002e-8],
  [5, 1.5374597944280351e-12], [8, 1.1224297172982928e-29], [12, 1.3562611692059042e-64], [26, 5.663192408856143e-296],
];

describe('special functions', () => {
  it('erfc matches reference values to 1e-14 relative across all of Cody\'s intervals', () => {
    for (const [x, v] of ERFC) expect(closeTo(erfc(x), v, { rel: 1e-14 }), `erfc(${x}) = ${erfc(x)}`).toBe(true);
  });
  it('erfc(-x) = 2 - erfc(x) and erf is odd', () => {
    for (const [x] of ERFC) {
      expect(erfc(-x)).toBeCloseTo(2 - erfc(x), 15);
      expect(erf(-x)).toBe(-erf(x));
    }
  });
  it('erfcx(x) = exp(x^2) erfc(x) and stays finite far in the tail', () => {
    expect(closeTo(erfcx(2), Math.exp(4) * 0.004677734981047265, { rel: 1e-14 })).toBe(true);
    expect(closeTo(erfcx(1e4), 1 / (Math.sqrt(Math.PI) * 1e4), { rel: 1e-8 })).toBe(true);
  });
  it('normal log-CDF is accurate where the CDF underflows', () => {
    // ln Φ(z) ~ -z²/2 - ln(-z) - ln √(2π) for z → -∞
    const z = -60;
    const asym = -z * z / 2 - Math.log(-z) - 0.5 * Math.log(2 * Math.PI) + Math.log1p(-1 / (z * z));
    expect(Math.abs(normalLogCdf(z) - asym)).toBeLessThan(1e-5);
    expect(normalLogCdf(-3)).toBeCloseTo(Math.log(normalCdf(-3)), 14);
  });
  it('normal quantile inverts the CDF over the whole range (to the conditioning limit 1e-14·(1+z²))', () => {
    for (const p of [1e-300, 1e-100, 1e-20, 1e-9, 0.001, 0.02, 0.3, 0.5, 0.7, 0.975, 0.999999]) {
      const z = normalQuantile(p);
      expect(closeTo(normalCdf(z), p, { rel: 1e-14 * (1 + z * z) }), `p=${p}`).toBe(true);
    }
  });
  it('Gaussian confidence half-widths match every oracle case (rel 1e-12)', () => {
    const sec = loadOracles().gaussian_mechanism.confidence_interval;
    for (const c of sec.cases) {
      const got = -c.inputs.sigma * normalQuantile(c.inputs.alpha / 2);
      expect(closeTo(got, c.expected.ci_half_width, sec.tolerance), JSON.stringify(c.inputs)).toBe(true);
    }
  });
  it('log helpers are stable', () => {
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(log1mExp(-1e-20)).toBeCloseTo(Math.log(1e-20), 10);
    expect(log1mExp(-50)).toBeCloseTo(-Math.exp(-50), 30);
  });
});
