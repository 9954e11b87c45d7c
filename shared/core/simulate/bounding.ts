// Contribution bounding inside a Monte-Carlo trial: each privacy unit keeps min(L0, n_u) of its
// partitions, chosen uniformly; each kept pair keeps min(L∞, m) of its rows, chosen uniformly;
// then values are clamped per value or per pair sum and summed per partition (PipelineDP's
// sampling-based bounding; ../shared/DP-REFERENCE.md "Contribution bounding").
//
// A bounding group is one or more base metrics computed from the same (unit, partition) pairs and
// rows (a mean's count and sum, a conversion's two counts: plan.ts `boundingGroup`); a trial draws
// one L0/L∞ sample for the group and every member sums its own row values over it.
//
// Cost proportional to what is random, not to the data:
// - a unit with n_u <= L0 keeps all its pairs and a pair with m <= L∞ all its rows: neither
//   draws anything and their clamped values are the same in every trial, so they are summed once
//   (`fixed`) and a trial starts from a copy;
// - a unit over L0 that keeps at least half its pairs has its fixed-valued pairs in `fixed` too,
//   and a trial subtracts the n_u − L0 pairs it drops; a unit that keeps fewer adds the L0 it keeps;
//   a pair over L∞ likewise sums the rows it keeps or subtracts the ones it drops from its total.
// Rows of a pair are put in a canonical order (by value, all members' values as the key) before
// anything is drawn, so results do not depend on the order in which the data layer returned the
// rows of a (unit, partition) pair (SQL gives no order within a group).
// Sampling k of n without replacement uses Floyd's algorithm (Bentley & Floyd 1987, "A sample of
// brilliance": k draws, no O(n) initialisation); bounded integers come from bulk 32-bit words by
// Lemire's exact multiply-and-reject (Lemire 2019, "Fast random integer generation in an
// interval"). Every choice is uniform and exact; only the arithmetic order differs from a naive
// sum (deterministically).

import type { MetricContributions } from '../data/contributions';
import { DpError } from '../errors';
import type { Xoshiro128 } from '../rng';
import type { BoundingSpec } from './plan';

export interface BoundingMember {
  /** Index of the base metric in plan.metrics (its values go to out[metric·P ..]). */
  readonly metric: number;
  readonly contributions: MetricContributions;
  readonly spec: BoundingSpec | undefined;
}

export interface PreparedBounding {
  /** 'deterministic': no bound binds, values = fixed in every trial; 'sampled': per-trial sampling. */
  readonly kind: 'deterministic' | 'sampled';
  readonly partitions: number;
  readonly metrics: Int32Array;
  /** Per member, per partition: the part of the bounded sum known before sampling (see above). */
  readonly fixed: Float64Array;
  /** Units over L0 that keep fewer than half their pairs: the kept ones are drawn and added. */
  readonly keepUnits: Int32Array;
  /** Units over L0 that keep at least half: the dropped ones are drawn and subtracted. */
  readonly dropUnits: Int32Array;
  /** Row-sampled pairs of each drop unit: dropUnitPairs[dropUnitStart[i] .. dropUnitStart[i+1]). */
  readonly dropUnitStart: Int32Array;
  readonly dropUnitPairs: Int32Array;
  /** Pairs of units within L0 that have more than L∞ rows (always kept, rows sampled). */
  readonly rowSampledPairs: Int32Array;
  /** Per member, per pair: the clamped value when all its rows are kept; NaN where rows are sampled. */
  readonly pairValue: Float64Array;
  /**
   * Per member, per pair with more than L∞ rows: the sum over all its rows of the clamped values
   * (per-value clamp) or of the raw values (per-partition clamp), for pairs that drop few rows.
   */
  readonly pairTotal: Float64Array;
  readonly pairs: number;
  readonly l0: number;
  readonly linf: number;
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly perValue: Uint8Array;
  readonly rowValues: readonly Float64Array[];
  readonly pairPartition: Int32Array;
  readonly unitPairOffsets: Int32Array;
  readonly rowOffsets: Int32Array;
  /** Units over L0 and pairs over L∞ (for reports). */
  readonly sampledUnitCount: number;
  readonly sampledPairCount: number;
  // Scratch.
  readonly chosenPairs: Int32Array;
  readonly chosenRows: Int32Array;
  readonly dropped: Uint8Array;
  readonly words: WordStream;
  /** Views of `fixed` per member (made once: subarray allocates). */
  readonly fixedViews: readonly Float64Array[];
}

function positiveBound(name: string, v: number | undefined): number {
  if (v === undefined) return Infinity;
  if (!(v >= 1) || (Number.isFinite(v) && !Number.isInteger(v))) throw new DpError('InvalidParameter', `${name} (${v}) must be an integer >= 1`);
  return v;
}

function clampTo(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function pairSum(values: Float64Array, a: number, b: number, low: number, high: number, perValue: boolean): number {
  let s = 0;
  if (perValue) {
    for (let k = a; k < b; k++) s += clampTo(values[k]!, low, high);
    return s;
  }
  for (let k = a; k < b; k++) s += values[k]!;
  return clampTo(s, low, high);
}

/**
 * The members' row values with each pair's rows sorted by (value of member 0, of member 1, ...):
 * the same permutation for every member, so a row keeps its values across members. Copies only
 * when some pair is out of order.
 */
function canonicalRows(values: readonly Float64Array[], rowOffsets: Int32Array, nPairs: number): Float64Array[] {
  const nv = values.length;
  const v0 = values[0]!;
  // Row x before row y: compare member 0's values, then the next members' on ties.
  const less = (x: number, y: number): boolean => {
    const d = v0[x]! - v0[y]!;
    if (d !== 0 || nv === 1) return d < 0;
    for (let i = 1; i < nv; i++) {
      const e = values[i]![x]! - values[i]![y]!;
      if (e !== 0) return e < 0;
    }
    return false;
  };
  let order: Int32Array | null = null;
  for (let p = 0; p < nPairs; p++) {
    const a = rowOffsets[p]!;
    const b = rowOffsets[p + 1]!;
    let sorted = true;
    for (let r = a + 1; r < b; r++) {
      if (less(r, r - 1)) {
        sorted = false;
        break;
      }
    }
    if (sorted) continue;
    if (!order) {
      order = new Int32Array(rowOffsets[nPairs]!);
      for (let r = 0; r < order.length; r++) order[r] = r;
    }
    if (b - a > 32) {
      order.subarray(a, b).sort((x, y) => (less(x, y) ? -1 : less(y, x) ? 1 : x - y));
      continue;
    }
    // Insertion sort of the pair's row indices (most pairs have few rows; stable).
    for (let r = a + 1; r < b; r++) {
      const x = order[r]!;
      let k = r - 1;
      while (k >= a && less(x, order[k]!)) {
        order[k + 1] = order[k]!;
        k--;
      }
      order[k + 1] = x;
    }
  }
  if (!order) return [...values];
  const perm = order;
  return values.map((v) => {
    const out = new Float64Array(v.length);
    for (let r = 0; r < v.length; r++) out[r] = v[perm[r]!]!;
    return out;
  });
}

/** Prepares one bounding group; the members' contributions must share pairs and rows. */
export function prepareBounding(members: readonly BoundingMember[], partitions: number): PreparedBounding {
  const first = members[0];
  if (!first) throw new DpError('InvalidParameter', 'a bounding group needs at least one metric');
  const c0 = first.contributions;
  const nPairs = c0.pairPartition.length;
  for (const m of members) {
    const c = m.contributions;
    if (c.partitionCount !== partitions) throw new DpError('InvalidParameter', `contributions of ${c.metricId} have ${c.partitionCount} partitions, the plan ${partitions}`);
    if (c.pairPartition.length !== nPairs || c.unitCount !== c0.unitCount || c.rowValues.length !== c0.rowValues.length) {
      throw new DpError('InvalidParameter', `metrics ${c0.metricId} and ${c.metricId} share a bounding group but not their pairs and rows`);
    }
  }
  const l0 = positiveBound('maxPartitionsContributed', first.spec?.maxPartitionsContributed);
  const linf = positiveBound('maxContributionsPerPartition', first.spec?.maxContributionsPerPartition);
  const nm = members.length;
  const low = new Float64Array(nm);
  const high = new Float64Array(nm);
  const perValue = new Uint8Array(nm);
  members.forEach((m, i) => {
    low[i] = m.spec?.clampLow ?? -Infinity;
    high[i] = m.spec?.clampHigh ?? Infinity;
    if (!(low[i]! <= high[i]!)) throw new DpError('InvalidParameter', `clamp low (${low[i]}) must be <= high (${high[i]}) for ${m.contributions.metricId}`);
    perValue[i] = (m.spec?.clampMode ?? 'per-value') === 'per-value' ? 1 : 0;
  });
  const rowOffsets = c0.rowOffsets;
  const rowValues = canonicalRows(members.map((m) => m.contributions.rowValues), rowOffsets, nPairs);
  const pairValue = new Float64Array(nm * nPairs);
  const pairTotal = new Float64Array(nm * nPairs);
  let maxPairs = 0;
  let maxRows = 0;
  let sampledPairCount = 0;
  for (let p = 0; p < nPairs; p++) {
    const a = rowOffsets[p]!;
    const b = rowOffsets[p + 1]!;
    maxRows = Math.max(maxRows, b - a);
    if (b - a > linf) sampledPairCount++;
    for (let i = 0; i < nm; i++) {
      const values = rowValues[i]!;
      if (b - a <= linf) pairValue[i * nPairs + p] = pairSum(values, a, b, low[i]!, high[i]!, perValue[i] === 1);
      else {
        pairValue[i * nPairs + p] = NaN;
        pairTotal[i * nPairs + p] = perValue[i] === 1 ? pairSum(values, a, b, low[i]!, high[i]!, true) : pairSum(values, a, b, -Infinity, Infinity, true);
      }
    }
  }
  const fixed = new Float64Array(nm * partitions);
  const addFixed = (p: number): void => {
    const q = c0.pairPartition[p]!;
    for (let i = 0; i < nm; i++) fixed[i * partitions + q]! += pairValue[i * nPairs + p]!;
  };
  const keepUnits: number[] = [];
  const dropUnits: number[] = [];
  const dropUnitStart: number[] = [0];
  const dropUnitPairs: number[] = [];
  const rowSampledPairs: number[] = [];
  for (let u = 0; u < c0.unitCount; u++) {
    const f = c0.unitPairOffsets[u]!;
    const l = c0.unitPairOffsets[u + 1]!;
    const n = l - f;
    maxPairs = Math.max(maxPairs, n);
    if (n > l0 && l0 < n - l0) {
      keepUnits.push(u);
      continue;
    }
    for (let p = f; p < l; p++) {
      if (rowOffsets[p + 1]! - rowOffsets[p]! > linf) (n > l0 ? dropUnitPairs : rowSampledPairs).push(p);
      else addFixed(p);
    }
    if (n > l0) {
      dropUnits.push(u);
      dropUnitStart.push(dropUnitPairs.length);
    }
  }
  const sampled = keepUnits.length + dropUnits.length + rowSampledPairs.length > 0;
  return {
    kind: sampled ? 'sampled' : 'deterministic',
    partitions,
    metrics: Int32Array.from(members.map((m) => m.metric)),
    fixed,
    keepUnits: Int32Array.from(keepUnits),
    dropUnits: Int32Array.from(dropUnits),
    dropUnitStart: Int32Array.from(dropUnitStart),
    dropUnitPairs: Int32Array.from(dropUnitPairs),
    rowSampledPairs: Int32Array.from(rowSampledPairs),
    pairValue,
    pairTotal,
    pairs: nPairs,
    l0,
    linf,
    low,
    high,
    perValue,
    rowValues,
    pairPartition: c0.pairPartition,
    unitPairOffsets: c0.unitPairOffsets,
    rowOffsets,
    sampledUnitCount: keepUnits.length + dropUnits.length,
    sampledPairCount,
    chosenPairs: new Int32Array(Math.max(1, Math.ceil(maxPairs / 2))),
    chosenRows: new Int32Array(Math.max(1, Math.ceil(maxRows / 2))),
    dropped: new Uint8Array(Math.max(1, maxPairs)),
    words: new WordStream(),
    fixedViews: members.map((_, i) => fixed.subarray(i * partitions, (i + 1) * partitions)),
  };
}

const TWO_32 = 4294967296;
const TWO_M32 = 1 / TWO_32;
const TWO_53 = 9007199254740992;

/** Uniform integers below n from bulk 32-bit words (refilled 1,024 at a time from the generator). */
export class WordStream {
  private readonly buf = new Uint32Array(1024);
  private pos = 1024;
  private rng: Xoshiro128 | null = null;

  /** Starts drawing from rng; words left from before are discarded. */
  reset(rng: Xoshiro128): void {
    this.rng = rng;
    this.pos = this.buf.length;
  }

  next(): number {
    if (this.pos === this.buf.length) {
      this.rng!.fillUint32(this.buf);
      this.pos = 0;
    }
    return this.buf[this.pos++]!;
  }

  /** Uniform integer in [0, n), 1 <= n <= 2^53, exactly (Lemire's rejection for n < 2^21). */
  below(n: number): number {
    if (n < 2097152) {
      let m = this.next() * n; // < 2^53: exact
      let hi = Math.floor(m * TWO_M32);
      let lo = m - hi * TWO_32;
      if (lo < n) {
        const t = (TWO_32 - n) % n;
        while (lo < t) {
          m = this.next() * n;
          hi = Math.floor(m * TWO_M32);
          lo = m - hi * TWO_32;
        }
      }
      return hi;
    }
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const r = this.next() * 2097152 + (this.next() >>> 11);
      if (r < limit) return r % n;
    }
  }
}

/** Floyd's algorithm: a uniformly random k-subset of [0, n) (k <= n) into out[0..k). */
function floydSample(words: WordStream, n: number, k: number, out: Int32Array): void {
  let cnt = 0;
  for (let j = n - k; j < n; j++) {
    let t = words.below(j + 1);
    for (let i = 0; i < cnt; i++) {
      if (out[i] === t) {
        t = j;
        break;
      }
    }
    out[cnt++] = t;
  }
}

/** Adds every member's clamped sum over L∞ of pair p's rows, chosen uniformly without replacement. */
function addSampledRows(bd: PreparedBounding, p: number, out: Float64Array): void {
  const a = bd.rowOffsets[p]!;
  const m = bd.rowOffsets[p + 1]! - a;
  const linf = bd.linf;
  const chosen = bd.chosenRows;
  const keepChosen = linf <= m - linf; // else draw the rows to drop
  const k = keepChosen ? linf : m - linf;
  floydSample(bd.words, m, k, chosen);
  const P = bd.partitions;
  const q = bd.pairPartition[p]!;
  const nPairs = bd.pairs;
  for (let g = 0; g < bd.metrics.length; g++) {
    const values = bd.rowValues[g]!;
    const lo = bd.low[g]!;
    const hi = bd.high[g]!;
    const perValue = bd.perValue[g] === 1;
    let s = 0;
    if (perValue) for (let i = 0; i < k; i++) s += clampTo(values[a + chosen[i]!]!, lo, hi);
    else for (let i = 0; i < k; i++) s += values[a + chosen[i]!]!;
    if (!keepChosen) s = bd.pairTotal[g * nPairs + p]! - s;
    out[bd.metrics[g]! * P + q]! += perValue ? s : clampTo(s, lo, hi);
  }
}

/** Adds (sign 1) or subtracts (sign −1) a pair whose rows are all kept. */
function addFixedPair(bd: PreparedBounding, p: number, out: Float64Array, sign: number): void {
  const P = bd.partitions;
  const q = bd.pairPartition[p]!;
  const nPairs = bd.pairs;
  const pv = bd.pairValue;
  for (let g = 0; g < bd.metrics.length; g++) out[bd.metrics[g]! * P + q]! += sign * pv[g * nPairs + p]!;
}

/**
 * One trial's bounded per-partition values of every member into out[metric·P .. + P). Draws, in
 * order: the row samples of the always-kept pairs over L∞, then each keep unit's pair sample (and
 * its kept pairs' row samples), then each drop unit's dropped pairs (and its kept pairs' rows).
 */
export function sampleBounded(bd: PreparedBounding, rng: Xoshiro128, out: Float64Array): void {
  const P = bd.partitions;
  const nm = bd.metrics.length;
  for (let g = 0; g < nm; g++) out.set(bd.fixedViews[g]!, bd.metrics[g]! * P);
  if (bd.kind === 'deterministic') return;
  const words = bd.words;
  words.reset(rng);
  const rs = bd.rowSampledPairs;
  for (let i = 0; i < rs.length; i++) addSampledRows(bd, rs[i]!, out);
  const chosen = bd.chosenPairs;
  const pv = bd.pairValue;
  const l0 = bd.l0;
  const offsets = bd.unitPairOffsets;
  const keep = bd.keepUnits;
  for (let i = 0; i < keep.length; i++) {
    const u = keep[i]!;
    const first = offsets[u]!;
    floydSample(words, offsets[u + 1]! - first, l0, chosen);
    for (let k = 0; k < l0; k++) {
      const p = first + chosen[k]!;
      if (pv[p]! === pv[p]!) addFixedPair(bd, p, out, 1);
      else addSampledRows(bd, p, out);
    }
  }
  const drop = bd.dropUnits;
  const dropped = bd.dropped;
  const start = bd.dropUnitStart;
  const rsPairs = bd.dropUnitPairs;
  for (let i = 0; i < drop.length; i++) {
    const u = drop[i]!;
    const first = offsets[u]!;
    const d = offsets[u + 1]! - first - l0;
    floydSample(words, d + l0, d, chosen);
    for (let k = 0; k < d; k++) {
      const local = chosen[k]!;
      dropped[local] = 1;
      const p = first + local;
      if (pv[p]! === pv[p]!) addFixedPair(bd, p, out, -1); // fixed holds it: take it out
    }
    for (let k = start[i]!; k < start[i + 1]!; k++) {
      const p = rsPairs[k]!;
      if (dropped[p - first] === 0) addSampledRows(bd, p, out);
    }
    for (let k = 0; k < d; k++) dropped[chosen[k]!] = 0;
  }
}
