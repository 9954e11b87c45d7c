import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWire, encodeWire } from '../../../shared/core/transport/wire';

describe('wire codec', () => {
  it('round-trips JSON values with typed arrays of every kind, aligned', () => {
    const value = {
      name: 'x',
      n: [1, null, 'a', { deep: new Float64Array([1.5, -0, NaN, Infinity]) }],
      ints: new Int32Array([1, -2, 3]),
      bytes: new Uint8Array([1, 2, 3, 4, 5]),
      f32: new Float32Array([0.25]),
      u16: new Uint16Array([65535]),
      sub: new Float64Array([9, 8, 7, 6]).subarray(1, 3),
    };
    const back = decodeWire<typeof value>(encodeWire(value));
    expect(back.name).toBe('x');
    expect(back.n[0]).toBe(1);
    const deep = (back.n[3] as { deep: Float64Array }).deep;
    expect(deep).toBeInstanceOf(Float64Array);
    expect(Array.from(deep)).toEqual([1.5, -0, NaN, Infinity]);
    expect(Object.is(deep[1], -0)).toBe(true);
    expect(Array.from(back.ints)).toEqual([1, -2, 3]);
    expect(Array.from(back.bytes)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(back.f32)).toEqual([0.25]);
    expect(Array.from(back.u16)).toEqual([65535]);
    expect(Array.from(back.sub)).toEqual([8, 7]);
    expect(back.ints.byteOffset % 8).toBe(0);
  });

  it('round-trips arbitrary Float64Array and Int32Array contents (property)', () => {
    fc.assert(fc.property(fc.array(fc.double()), fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), fc.string(), (d, i, s) => {
      const back = decodeWire<{ d: Float64Array; i: Int32Array; s: string }>(encodeWire({ d: Float64Array.from(d), i: Int32Array.from(i), s }));
      expect(back.s).toBe(s);
      expect(Array.from(back.d).every((x, k) => Object.is(x, d[k]))).toBe(true);
      expect(Array.from(back.i)).toEqual(i);
    }), { numRuns: 100 });
  });

  it('refuses bytes that are not a wire message, or are cut short', () => {
    expect(() => decodeWire(new TextEncoder().encode('{"a":1}'))).toThrow(/not a DPW1/);
    const good = encodeWire({ a: new Float64Array(100) });
    expect(() => decodeWire(good.subarray(0, good.length - 16))).toThrow(/truncated/);
    expect(() => decodeWire(good.subarray(0, 12))).toThrow(/truncated/);
  });
});
