import { describe, expect, it } from 'vitest';
import { makeRng } from '../../../shared/core/rng';
import { addGaussianZiggurat, addLaplaceInverseCdf, addLaplaceZiggurat, EXP_R, NORMAL_R, zigguratTables, zigguratWords } from '../../../shared/core/simulate/noise';
import { laplaceFromUniform } from '../../../shared/core/dp/mechanisms/laplace';

describe('bulk random words', () => {
  it('fillUint32 and fillOpen01 give exactly what as many single calls give, and continue the stream', () => {
    const a = makeRng(3, 1);
    const b = makeRng(3, 1);
    const words = new Uint32Array(1000);
    a.fillUint32(words, 10, 900);
    for (let i = 10; i < 900; i++) expect(words[i]).toBe(b.nextUint32());
    expect(words[0]).toBe(0);
    const u = new Float64Array(300);
    a.fillOpen01(u);
    for (let i = 0; i < 300; i++) expect(u[i]).toBe(b.nextDouble());
    expect(a.nextUint32()).toBe(b.nextUint32());
  });
});

describe('ziggurat tables (Marsaglia & Tsang 2000, 256 layers)', () => {
  for (const [kind, f, r] of [['exponential', (x: number) => Math.exp(-x), EXP_R], ['normal', (x: number) => Math.exp(-0.5 * x * x), NORMAL_R]] as const) {
    it(`${kind}: every layer has the base strip's area and the top layer closes at x = 0`, () => {
      const { x, f: fx } = zigguratTables(kind);
      const v = x[0]! * f(r);
      expect(x[1]).toBe(r);
      for (let i = 1; i < 255; i++) expect(x[i]! * (fx[i + 1]! - fx[i]!)).toBeCloseTo(v, 14);
      // The last layer's area, computed from the recursion, matches v to rounding.
      expect(x[255]! * (1 - fx[255]!)).toBeCloseTo(v, 9);
      for (let i = 1; i < 256; i++) expect(x[i + 1]!).toBeLessThan(x[i]!);
    });
  }
});

describe('noise kernels', () => {
  it('add one draw per listed partition and leave the others alone', () => {
    const n = 7;
    const ids = Int32Array.of(0, 2, 4);
    const base = new Float64Array(2 * n).fill(100);
    const out = new Float64Array(2 * n).fill(-1);
    addLaplaceZiggurat(makeRng(1), new Uint32Array(zigguratWords(3)), ids, 3, base, out, n, 2);
    expect(Array.from(out.subarray(0, n))).toEqual(Array(n).fill(-1));
    for (const p of [1, 3, 5, 6]) expect(out[n + p]).toBe(-1);
    for (const p of [0, 2, 4]) expect(out[n + p]).not.toBe(100);
    addGaussianZiggurat(makeRng(1), new Uint32Array(zigguratWords(3)), ids, 3, base, out, 0, 2);
    for (const p of [0, 2, 4]) expect(Number.isFinite(out[p]!)).toBe(true);
  });

  it('inverse-CDF Laplace is exactly WORKLOAD.md §3: b·ln(2u) or −b·ln(2 − 2u) of the stream’s doubles', () => {
    const ids = Int32Array.of(0, 1, 2, 3, 4);
    const out = new Float64Array(5);
    addLaplaceInverseCdf(makeRng(4), new Float64Array(5), ids, 5, new Float64Array(5), out, 0, 3);
    const r = makeRng(4);
    for (let i = 0; i < 5; i++) expect(out[i]).toBe(laplaceFromUniform(r.nextDouble(), 3));
  });
});
