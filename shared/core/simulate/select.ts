// Order statistics for the Monte-Carlo engine: quickselect on a reused Float64Array buffer and the
// three type-7 quantiles (numpy's default 'linear' method, Hyndman & Fan 1996) that WORKLOAD.md §5
// asks for, found by successive partitioning of one buffer as in the C++ reference kernel
// (../shared/bench/cpp/mc.cpp): the median first, then each tail inside its half.

const INSERTION_CUTOFF = 16;

/**
 * Lomuto partition of a[lo..hi) around the pivot a[hi−1], without a data-dependent branch in the
 * loop (every element is swapped; the index advances by the comparison's 0/1). On random data the
 * branchy version mispredicts about half of the comparisons. Returns the pivot's final index.
 */
function partition(a: Float64Array, lo: number, hi: number): number {
  const last = hi - 1;
  const pivot = a[last]!;
  let i = lo;
  for (let j = lo; j < last; j++) {
    const v = a[j]!;
    a[j] = a[i]!;
    a[i] = v;
    i += (v < pivot) as unknown as number;
  }
  a[last] = a[i]!;
  a[i] = pivot;
  return i;
}

/**
 * Rearranges a[lo..hi) so that a[k] holds the value of rank k (0-based, within the whole array),
 * smaller-or-equal values before it and greater-or-equal after it (Hoare's FIND with a
 * median-of-three pivot; insertion sort for short ranges). NaN must not occur.
 */
export function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > INSERTION_CUTOFF) {
    const mid = lo + ((hi - lo) >> 1);
    const last = hi - 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[last]!;
    // Median of three, moved to the end as the pivot.
    const med = x < y ? (y < z ? mid : x < z ? last : lo) : x < z ? lo : y < z ? last : mid;
    const t = a[med]!;
    a[med] = z;
    a[last] = t;
    const p = partition(a, lo, hi);
    if (k < p) hi = p;
    else if (k > p) lo = p + 1;
    else return;
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= lo && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

function minOf(a: Float64Array, lo: number, hi: number): number {
  let m = a[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i]!;
    m = v < m ? v : m;
  }
  return m;
}

/**
 * Type-7 quantiles q05 <= q50 <= q95 (0 < q05 < q50 < q95 < 1) of a[0..n), n >= 1, written to
 * out[at], out[at+1], out[at+2]: with h = (n−1)q, x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]) on the
 * sorted values. Reorders a[0..n). The upper neighbour needed for the interpolation is the minimum
 * of the part right of the selected rank (inside its half for the lower quantile).
 */
export function quantiles3(a: Float64Array, n: number, q05: number, q50: number, q95: number, out: Float64Array, at: number): void {
  const h1 = (n - 1) * q50;
  const k1 = Math.floor(h1);
  const f1 = h1 - k1;
  selectKth(a, 0, n, k1);
  const v1 = a[k1]!;
  out[at + 1] = f1 > 0 && k1 + 1 < n ? v1 + f1 * (minOf(a, k1 + 1, n) - v1) : v1;

  const h0 = (n - 1) * q05;
  const k0 = Math.floor(h0);
  const f0 = h0 - k0;
  if (k0 < k1) selectKth(a, 0, k1, k0);
  const v0 = a[k0]!;
  // After the median step a[k1] is >= everything left of it, so the rank k0+1 value lies in (k0, k1].
  out[at] = f0 > 0 && k0 + 1 < n ? v0 + f0 * (minOf(a, k0 + 1, k0 < k1 ? k1 + 1 : n) - v0) : v0;

  const h2 = (n - 1) * q95;
  const k2 = Math.floor(h2);
  const f2 = h2 - k2;
  if (k2 > k1) selectKth(a, k1 + 1, n, k2);
  const v2 = a[k2]!;
  out[at + 2] = f2 > 0 && k2 + 1 < n ? v2 + f2 * (minOf(a, k2 + 1, n) - v2) : v2;
}

/** Type-7 quantile q of a[0..n) (n >= 1); reorders a[0..n). */
export function quantile(a: Float64Array, n: number, q: number): number {
  const h = (n - 1) * q;
  const k = Math.floor(h);
  const f = h - k;
  selectKth(a, 0, n, k);
  const v = a[k]!;
  return f > 0 && k + 1 < n ? v + f * (minOf(a, k + 1, n) - v) : v;
}
