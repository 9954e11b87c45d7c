import { describe, expect, it } from 'vitest';
import { makeRng } from '../../../shared/core/rng';
import { quantile, quantiles3, selectKth } from '../../../shared/core/simulate/select';

/** numpy's default 'linear' (type 7) percentile on a sorted copy: the definition of WORKLOAD.md §5. */
function type7(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
}

describe('quickselect and type-7 quantiles', () => {
  it('selectKth puts the rank-k value at k with smaller values before and larger after', () => {
    const rng = makeRng(11);
    for (const n of [1, 2, 3, 16, 17, 40, 345]) {
      const a = Float64Array.from({ length: n }, () => Math.floor(rng.nextDouble() * 10)); // many ties
      const sorted = Float64Array.from(a).sort();
      for (const k of [0, n >> 1, n - 1]) {
        const b = a.slice();
        selectKth(b, 0, n, k);
        expect(b[k]).toBe(sorted[k]);
        for (let i = 0; i < k; i++) expect(b[i]!).toBeLessThanOrEqual(b[k]!);
        for (let i = k + 1; i < n; i++) expect(b[i]!).toBeGreaterThanOrEqual(b[k]!);
      }
    }
  });

  it('quantiles3 equals the sorted type-7 p05, p50 and p95 for every size from 1 to 60 and for 344', () => {
    const rng = makeRng(12);
    const out = new Float64Array(3);
    for (const n of [...Array.from({ length: 60 }, (_, i) => i + 1), 344, 500]) {
      for (let rep = 0; rep < 5; rep++) {
        const a = Float64Array.from({ length: n }, () => -Math.log(rng.nextDouble()) * (rep === 4 ? 0 : 40));
        quantiles3(a.slice(), n, 0.05, 0.5, 0.95, out, 0);
        expect([out[0], out[1], out[2]]).toEqual([type7(a, 0.05), type7(a, 0.5), type7(a, 0.95)]);
      }
    }
  });

  it('quantile gives any type-7 quantile, ties and repeated values included', () => {
    const a = Float64Array.of(3, 1, 2, 2, 2, 9, 0);
    for (const q of [0, 0.1, 0.25, 0.5, 0.75, 0.99, 1]) expect(quantile(a.slice(), a.length, q)).toBe(type7(a, q));
  });
});
