// Contribution profile of one metric: how much each privacy unit contributes, and what each
// candidate bound would cost. It tells a user which L0, L∞ and clamp bounds are sensible before any
// budget is spent (on a sample: choosing bounds from the real data is itself a privacy leak in
// production, which is why the config records a bound's provenance).
//
//   l0                  partitions (cohorts) per unit
//   linf                rows per unit per partition
//   pairValues          per-unit-per-partition sums of the metric's values
//   rowValues           the values of single rows (sum and mean metrics)
//   unitsPerPartition   distinct units per partition (what partition selection sees)
//
// Quantiles are the inverse of the empirical CDF (Hyndman–Fan type 1): the q-quantile is the
// smallest observed x with at least q of the observations <= x, so "99% of units contribute to at
// most quantiles['0.99'] partitions" holds exactly.
//
// Candidate bounds follow PipelineDP's parameter tuning: a geometric grid 1, 2, 4, ... up to the
// first power of two >= the observed maximum (the last candidate drops nothing). For each, the
// expected share of rows and of absolute value that bounding drops under the uniform random
// sampling the simulator applies: a unit in n > L0 partitions keeps each with probability L0/n,
// so (n − L0)/n of its contributions go in expectation; a pair with m > L∞ rows keeps each row
// with probability L∞/m. Clamp candidates C clamp to [−C, C]: "rows" is the share of values
// changed (values, or pair sums for per-partition clamping) and "value" the share of absolute value
// clipped away (of Σ|x| over values, or over pair sums).

import { DpError } from '../errors';
import type { MetricKind } from '../config/schema';
import type { MetricContributions } from './contributions';

export const DEFAULT_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

/** Bins [lower[i], upper[i]) with counts[i] observations each. */
export interface Histogram {
  readonly lower: number[];
  readonly upper: number[];
  readonly counts: number[];
}

export interface Distribution {
  /** Number of observations (units, pairs, partitions or rows). */
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly total: number;
  /** Keyed by the quantile as text: "0.5", "0.9", "0.99". NaN when there are no observations. */
  readonly quantiles: Record<string, number>;
  /** Log2 bins; for values, of |x| with a first bin [0, 2^k) for the smallest ones. */
  readonly histogram: Histogram;
  /** Values only: observations < 0 (the histogram bins |x|). */
  readonly negative?: number;
}

export interface BoundCandidate {
  readonly bound: number;
  /** Expected share (0..1) of rows dropped (L0, L∞) or of values changed (clamp). */
  readonly rows: number;
  /** Expected share (0..1) of the total absolute value dropped or clipped away. */
  readonly value: number;
}

export interface ContributionProfile {
  readonly metricId: string;
  readonly kind: MetricKind;
  /** Contribution rows (CSR rows: data rows for count, sum and mean; one per pair otherwise). */
  readonly rows: number;
  readonly units: number;
  readonly partitions: number;
  /** (unit, partition) pairs. */
  readonly pairs: number;
  /** Sum and sum of absolute values of all row values. */
  readonly totalValue: number;
  readonly totalAbsValue: number;
  readonly l0: Distribution;
  readonly linf: Distribution;
  readonly unitsPerPartition: Distribution;
  readonly pairValues: Distribution;
  /** Sum and mean metrics only. */
  readonly rowValues?: Distribution;
  readonly candidates: {
    readonly l0: BoundCandidate[];
    readonly linf: BoundCandidate[];
    /** Sum and mean metrics only. */
    readonly clampPerValue?: BoundCandidate[];
    readonly clampPerPartition?: BoundCandidate[];
  };
}

export interface ProfileOptions {
  /** In (0, 1]; default 0.5, 0.9, 0.99. */
  readonly quantiles?: readonly number[];
  /** Extra L0 / L∞ bounds to evaluate exactly (e.g. a config's own), besides the powers of two. */
  readonly bounds?: { readonly l0?: readonly number[]; readonly linf?: readonly number[] };
}

// ---------------------------------------------------------------------------------------------
// Integer distributions (counts >= 0), with per-observation weights for the bound candidates.

interface IntGroups {
  /** Distinct values, ascending, with their multiplicity and summed weights. */
  readonly values: number[];
  readonly counts: number[];
  readonly w1: number[];
  readonly w2: number[];
  readonly n: number;
}

const DENSE_LIMIT = 1 << 22;

function groupInts(n: number, value: (i: number) => number, w1?: (i: number) => number, w2?: (i: number) => number): IntGroups {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, value(i));
  const values: number[] = [];
  const counts: number[] = [];
  const W1: number[] = [];
  const W2: number[] = [];
  if (max <= DENSE_LIMIT) {
    const c = new Float64Array(max + 1);
    const a = w1 ? new Float64Array(max + 1) : null;
    const b = w2 ? new Float64Array(max + 1) : null;
    for (let i = 0; i < n; i++) {
      const v = value(i);
      c[v]!++;
      if (a) a[v]! += w1!(i);
      if (b) b[v]! += w2!(i);
    }
    for (let v = 0; v <= max; v++) {
      if (c[v] === 0) continue;
      values.push(v);
      counts.push(c[v]!);
      W1.push(a ? a[v]! : 0);
      W2.push(b ? b[v]! : 0);
    }
  } else {
    const m = new Map<number, [number, number, number]>();
    for (let i = 0; i < n; i++) {
      const v = value(i);
      const e = m.get(v);
      if (e) {
        e[0]++;
        e[1] += w1 ? w1(i) : 0;
        e[2] += w2 ? w2(i) : 0;
      } else m.set(v, [1, w1 ? w1(i) : 0, w2 ? w2(i) : 0]);
    }
    for (const v of [...m.keys()].sort((x, y) => x - y)) {
      const e = m.get(v)!;
      values.push(v);
      counts.push(e[0]);
      W1.push(e[1]);
      W2.push(e[2]);
    }
  }
  return { values, counts, w1: W1, w2: W2, n };
}

function log2Floor(x: number): number {
  return Math.floor(Math.log2(x) + 1e-12);
}

function intDistribution(g: IntGroups, qs: readonly number[]): Distribution {
  const quantiles: Record<string, number> = {};
  let total = 0;
  for (let k = 0; k < g.values.length; k++) total += g.values[k]! * g.counts[k]!;
  for (const q of qs) {
    const rank = Math.max(1, Math.ceil(q * g.n - 1e-9));
    let cum = 0;
    let x = NaN;
    for (let k = 0; k < g.values.length; k++) {
      cum += g.counts[k]!;
      if (cum >= rank) {
        x = g.values[k]!;
        break;
      }
    }
    quantiles[String(q)] = x;
  }
  const lower: number[] = [];
  const upper: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < g.values.length; k++) {
    const v = g.values[k]!;
    const lo = v < 1 ? 0 : v >= 2 ** 31 ? 2 ** log2Floor(v) : 2 ** (31 - Math.clz32(v));
    const hi = v < 1 ? 1 : lo * 2;
    if (lower.length > 0 && lower[lower.length - 1] === lo) counts[counts.length - 1]! += g.counts[k]!;
    else {
      lower.push(lo);
      upper.push(hi);
      counts.push(g.counts[k]!);
    }
  }
  return {
    count: g.n,
    min: g.n ? g.values[0]! : NaN,
    max: g.n ? g.values[g.values.length - 1]! : NaN,
    mean: g.n ? total / g.n : NaN,
    total,
    quantiles,
    histogram: { lower, upper, counts },
  };
}

/** Powers of two 1, 2, 4, ... up to the first >= max (at least [1]). */
export function geometricGrid(max: number): number[] {
  const out = [1];
  while (out[out.length - 1]! < max) out.push(out[out.length - 1]! * 2);
  return out;
}

/** Expected drops for each candidate b (powers of two and `extra`): observations with value n > b keep b/n of their weight. */
function samplingCandidates(g: IntGroups, totalRows: number, totalAbs: number, extra: readonly number[] = []): BoundCandidate[] {
  const max = g.values.length ? g.values[g.values.length - 1]! : 0;
  const bounds = [...new Set([...geometricGrid(max), ...extra.filter((b) => Number.isFinite(b) && b >= 1)])].sort((a, b) => a - b);
  return bounds.map((b) => {
    let rows = 0;
    let value = 0;
    for (let k = g.values.length - 1; k >= 0 && g.values[k]! > b; k--) {
      const keep = b / g.values[k]!;
      rows += g.w1[k]! * (1 - keep);
      value += g.w2[k]! * (1 - keep);
    }
    return { bound: b, rows: totalRows > 0 ? rows / totalRows : 0, value: totalAbs > 0 ? value / totalAbs : 0 };
  });
}

// ---------------------------------------------------------------------------------------------
// Real-valued distributions, from the IEEE-754 bits of each value (two passes, no sorting, no
// copy of the data):
//   log2 bins of |x|: the exponent field; a value sits exactly on its bin's lower edge when its
//     mantissa is zero. Exact clamp candidates follow from per-bin counts and sums.
//   quantiles: an order-preserving 16-bit prefix of the bits (sign, exponent, 4 mantissa bits)
//     gives 65 536 ordered buckets; the bucket of each wanted rank is found from the counts, and
//     the rank is selected among that bucket's values only (none at all when the bucket holds one
//     distinct value, as the many zeros of a revenue column do).

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;
/** Exponent bins: field 1..2046 (normal numbers); field 0 (zero, subnormals) is the "zero" bin. */
const EXP_BINS = 2047;
const BIAS = 1023;

interface ValueScan {
  readonly n: number;
  readonly min: number;
  readonly max: number;
  readonly total: number;
  readonly negative: number;
  /** Index = exponent field (1..2046): |x| in [2^(f−1023), 2^(f−1022)). Index 0: zero and subnormals. */
  readonly expCount: Float64Array;
  readonly expSum: Float64Array;
  readonly expAtLower: Float64Array;
  readonly maxAbs: number;
  readonly quantiles: Map<number, number>;
}

/** Order-preserving bucket of a double: top 16 bits of its sign-flipped bit pattern. */
function bucketOf(hi: number): number {
  return (hi & 0x80000000 ? ~hi : hi | 0x80000000) >>> 16;
}

function scanValues(x: Float64Array, ranks: readonly number[]): ValueScan {
  const n = x.length;
  const bits = new Uint32Array(x.buffer, x.byteOffset, n * 2);
  const expCount = new Float64Array(EXP_BINS);
  const expSum = new Float64Array(EXP_BINS);
  const expAtLower = new Float64Array(EXP_BINS);
  const bCount = new Float64Array(65536);
  const bMin = new Float64Array(65536).fill(Infinity);
  const bMax = new Float64Array(65536).fill(-Infinity);
  let min = Infinity;
  let max = -Infinity;
  let total = 0;
  let negative = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const hi = bits[2 * i + HI]!;
    if (v < min) min = v;
    if (v > max) max = v;
    total += v;
    if (v < 0) negative++;
    const e = (hi >>> 20) & 0x7ff;
    const a = v < 0 ? -v : v;
    expCount[e]!++;
    expSum[e]! += a;
    if (e !== 0 && (hi & 0xfffff) === 0 && bits[2 * i + LO] === 0) expAtLower[e]!++;
    const b = bucketOf(hi);
    bCount[b]!++;
    if (v < bMin[b]!) bMin[b] = v;
    if (v > bMax[b]!) bMax[b] = v;
  }
  // -0 and +0 land in different buckets but are equal: harmless for ranks.
  const quantiles = new Map<number, number>();
  if (n > 0) {
    const want = [...new Set(ranks)].sort((a, b) => a - b);
    let cum = 0;
    let w = 0;
    const pending: { rank: number; bucket: number; before: number }[] = [];
    for (let b = 0; b < 65536 && w < want.length; b++) {
      const c = bCount[b]!;
      while (w < want.length && want[w]! < cum + c) {
        if (bMin[b] === bMax[b]) quantiles.set(want[w]!, bMin[b]!);
        else pending.push({ rank: want[w]!, bucket: b, before: cum });
        w++;
      }
      cum += c;
    }
    for (const buckets of groupBy(pending)) {
      const b = buckets[0]!.bucket;
      const vals = new Float64Array(bCount[b]!);
      let k = 0;
      for (let i = 0; i < n; i++) if (bucketOf(bits[2 * i + HI]!) === b) vals[k++] = x[i]!;
      let lo = 0;
      for (const p of buckets) {
        const r = p.rank - p.before;
        select(vals, r, lo, vals.length - 1);
        quantiles.set(p.rank, vals[r]!);
        lo = r;
      }
    }
  }
  const maxAbs = Math.max(Math.abs(min), Math.abs(max));
  return { n, min, max, total, negative, expCount, expSum, expAtLower, maxAbs: n ? maxAbs : 0, quantiles };
}

function groupBy(pending: { rank: number; bucket: number; before: number }[]): { rank: number; bucket: number; before: number }[][] {
  const out: { rank: number; bucket: number; before: number }[][] = [];
  for (const p of pending) {
    const last = out[out.length - 1];
    if (last && last[0]!.bucket === p.bucket) last.push(p);
    else out.push([p]);
  }
  return out;
}

/** Hoare-style quickselect: puts the k-th smallest of a[lo..hi] at a[k], smaller ones before it. */
function select(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

const rankOf = (q: number, n: number): number => Math.max(1, Math.ceil(q * n - 1e-9)) - 1;

function valueDistribution(s: ValueScan, qs: readonly number[]): Distribution {
  const { n } = s;
  const quantiles: Record<string, number> = {};
  for (const q of qs) quantiles[String(q)] = n > 0 ? s.quantiles.get(rankOf(q, n))! : NaN;
  const lower: number[] = [];
  const upper: number[] = [];
  const counts: number[] = [];
  let first = 1;
  while (first < EXP_BINS && s.expCount[first] === 0) first++;
  if (s.expCount[0]! > 0 || first === EXP_BINS) {
    lower.push(0);
    upper.push(first < EXP_BINS ? 2 ** (first - BIAS) : 1);
    counts.push(s.expCount[0]!);
  }
  let last = EXP_BINS - 1;
  while (last >= first && s.expCount[last] === 0) last--;
  for (let e = first; e <= last; e++) {
    lower.push(2 ** (e - BIAS));
    upper.push(2 ** (e - BIAS + 1));
    counts.push(s.expCount[e]!);
  }
  return {
    count: n,
    min: n ? s.min : NaN,
    max: n ? s.max : NaN,
    mean: n ? s.total / n : NaN,
    total: s.total,
    quantiles,
    histogram: { lower, upper, counts },
    negative: s.negative,
  };
}

/** Clamp candidates C (powers of two up to the first >= max |x|): values changed and |x| − C clipped. */
function clampCandidates(s: ValueScan): BoundCandidate[] {
  if (s.n === 0) return [];
  const top = s.maxAbs > 0 ? Math.ceil(Math.log2(s.maxAbs) - 1e-12) : 0;
  const from = Math.min(0, top - 10);
  let totalAbs = 0;
  for (let e = 0; e < EXP_BINS; e++) totalAbs += s.expSum[e]!;
  // Suffix sums over exponent bins.
  const sufCount = new Float64Array(EXP_BINS + 1);
  const sufSum = new Float64Array(EXP_BINS + 1);
  for (let e = EXP_BINS - 1; e >= 0; e--) {
    sufCount[e] = sufCount[e + 1]! + s.expCount[e]!;
    sufSum[e] = sufSum[e + 1]! + s.expSum[e]!;
  }
  const out: BoundCandidate[] = [];
  for (let k = from; k <= top; k++) {
    const C = 2 ** k;
    // Values >= C are those in exponent bins >= k; exactly C ones are unchanged.
    const f = Math.min(EXP_BINS, Math.max(1, k + BIAS));
    const changed = sufCount[f]! - (f < EXP_BINS && f === k + BIAS ? s.expAtLower[f]! : 0);
    const clipped = sufSum[f]! - C * sufCount[f]!;
    out.push({ bound: C, rows: changed / s.n, value: totalAbs > 0 ? Math.max(0, clipped) / totalAbs : 0 });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function checkQuantiles(qs: readonly number[]): void {
  for (const q of qs) if (!(q > 0 && q <= 1)) throw new DpError('InvalidParameter', `quantile (${q}) must be in (0, 1]`);
}

/** The contribution profile of one metric's contributions. */
export function profileContributions(c: MetricContributions, opts: ProfileOptions = {}): ContributionProfile {
  const qs = opts.quantiles ?? DEFAULT_QUANTILES;
  checkQuantiles(qs);
  const pairs = c.pairPartition.length;
  const rows = c.rowOffsets[pairs] ?? 0;
  const pairSums = new Float64Array(pairs);
  const pairAbs = new Float64Array(pairs);
  let totalValue = 0;
  let totalAbsValue = 0;
  for (let p = 0; p < pairs; p++) {
    let s = 0;
    let a = 0;
    for (let k = c.rowOffsets[p]!, end = c.rowOffsets[p + 1]!; k < end; k++) {
      const v = c.rowValues[k]!;
      s += v;
      a += Math.abs(v);
    }
    pairSums[p] = s;
    pairAbs[p] = a;
    totalValue += s;
    totalAbsValue += a;
  }
  const unitRows = (u: number): number => c.rowOffsets[c.unitPairOffsets[u + 1]!]! - c.rowOffsets[c.unitPairOffsets[u]!]!;
  const unitAbs = new Float64Array(c.unitCount);
  for (let u = 0; u < c.unitCount; u++) {
    let a = 0;
    for (let p = c.unitPairOffsets[u]!; p < c.unitPairOffsets[u + 1]!; p++) a += pairAbs[p]!;
    unitAbs[u] = a;
  }
  const l0g = groupInts(c.unitCount, (u) => c.unitPairOffsets[u + 1]! - c.unitPairOffsets[u]!, unitRows, (u) => unitAbs[u]!);
  const linfg = groupInts(pairs, (p) => c.rowOffsets[p + 1]! - c.rowOffsets[p]!, (p) => c.rowOffsets[p + 1]! - c.rowOffsets[p]!, (p) => pairAbs[p]!);
  const uppg = groupInts(c.partitionCount, (q) => c.unitsPerPartition[q]!);
  const valued = c.kind === 'sum' || c.kind === 'mean';
  const pairScan = scanValues(pairSums, qs.map((q) => rankOf(q, pairs)));
  const rowScan = valued ? scanValues(c.rowValues, qs.map((q) => rankOf(q, rows))) : null;
  return {
    metricId: c.metricId,
    kind: c.kind,
    rows,
    units: c.unitCount,
    partitions: c.partitionCount,
    pairs,
    totalValue,
    totalAbsValue,
    l0: intDistribution(l0g, qs),
    linf: intDistribution(linfg, qs),
    unitsPerPartition: intDistribution(uppg, qs),
    pairValues: valueDistribution(pairScan, qs),
    ...(rowScan ? { rowValues: valueDistribution(rowScan, qs) } : {}),
    candidates: {
      l0: samplingCandidates(l0g, rows, totalAbsValue, opts.bounds?.l0),
      linf: samplingCandidates(linfg, rows, totalAbsValue, opts.bounds?.linf),
      ...(rowScan ? {
        clampPerValue: clampCandidates(rowScan),
        clampPerPartition: clampCandidates(pairScan),
      } : {}),
    },
  };
}
