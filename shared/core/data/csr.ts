// Builds the simulator's CSR contributions (see contributions.ts) from entries as the data services
// read them from DuckDB: one per data row, per run of equal values of a pair (with its row count),
// or per pre-aggregated (unit, partition) pair. Ids may be sparse: units and partitions that no
// entry uses are dropped and the rest renumbered densely, keeping their order, so unit and
// partition numbers are a stable function of the sorted keys.
//
// Entries that come ordered by (unit, partition), as from an ORDER BY, are laid out in one pass;
// others are first sorted by two stable counting-sort passes (partition, then unit): O(n + units +
// partitions) time, no comparisons.

import { DpError } from '../errors';
import type { MetricKind } from '../config/schema';
import type { MetricContributions, PartitionKeys } from './contributions';

export interface UnsortedEntries {
  /** Unit id of each entry, in [0, unitIdCount). */
  readonly unitIds: Int32Array;
  /** Partition id of each entry, in [0, partitionIdCount). */
  readonly partitionIds: Int32Array;
  /** Value of each of the entry's rows; 1 when absent. */
  readonly values?: Float64Array;
  /** Rows the entry stands for (all of value `values[i]`); 1 when absent. */
  readonly rowCounts?: Int32Array;
  readonly unitIdCount: number;
  readonly partitionIdCount: number;
}

export interface BuildOptions {
  readonly metricId: string;
  readonly kind: Exclude<MetricKind, 'ratio' | 'local-frequency'>;
  /** Keys of every partition id (length partitionIdCount); unused ones are dropped. */
  readonly partitions: PartitionKeys;
  /** Funnel only: number of steps (true value = units reaching the last step). */
  readonly funnelSteps?: number;
}

/** Remaps ids used by at least one entry to 0..k-1 in id order; unused ids map to -1. */
function denseRemap(ids: Int32Array, count: number): { map: Int32Array; used: number } {
  const map = new Int32Array(count).fill(-1);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= count) throw new DpError('InvalidParameter', `id ${id} is outside [0, ${count})`);
    map[id] = 0;
  }
  let used = 0;
  for (let i = 0; i < count; i++) if (map[i] === 0) map[i] = used++;
  return { map, used };
}

/** Stable counting sort of 0..n-1 by key[order[i]]: returns the new order. */
function countingSortBy(keys: Int32Array, range: number, order: Int32Array | null, n: number): Int32Array {
  const start = new Int32Array(range + 1);
  for (let i = 0; i < n; i++) start[keys[i]! + 1]!++;
  for (let k = 0; k < range; k++) start[k + 1]! += start[k]!;
  const out = new Int32Array(n);
  if (order === null) {
    for (let i = 0; i < n; i++) out[start[keys[i]!]!++] = i;
  } else {
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      out[start[keys[i]!]!++] = i;
    }
  }
  return out;
}

/** Kahan–Neumaier running sums per slot: accurate per-partition sums whatever the row order. */
class CompensatedSums {
  readonly sum: Float64Array;
  private readonly comp: Float64Array;
  constructor(n: number) {
    this.sum = new Float64Array(n);
    this.comp = new Float64Array(n);
  }
  add(i: number, x: number): void {
    const s = this.sum[i]!;
    const t = s + x;
    this.comp[i]! += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    this.sum[i] = t;
  }
  result(): Float64Array {
    for (let i = 0; i < this.sum.length; i++) this.sum[i]! += this.comp[i]!;
    return this.sum;
  }
}

function isSorted(u: Int32Array, p: Int32Array): boolean {
  for (let i = 1; i < u.length; i++) {
    const du = u[i]! - u[i - 1]!;
    if (du < 0 || (du === 0 && p[i]! < p[i - 1]!)) return false;
  }
  return true;
}

function gather<T extends Int32Array | Float64Array>(a: T, order: Int32Array): T {
  const out = new (a.constructor as { new (n: number): T })(order.length);
  for (let j = 0; j < order.length; j++) out[j] = a[order[j]!]!;
  return out;
}

/**
 * The CSR contributions and exact per-partition values of one metric. Entries already sorted by
 * (unit, partition) — as an ORDER BY gives them — skip the sort. The arrays of `input` are
 * adopted, not copied (rowValues may be input.values): the caller hands them over.
 */
export function buildContributions(input: UnsortedEntries, opts: BuildOptions): MetricContributions {
  const n = input.unitIds.length;
  if (input.partitionIds.length !== n || (input.values && input.values.length !== n) || (input.rowCounts && input.rowCounts.length !== n)) {
    throw new DpError('InvalidParameter', 'entry arrays must all have the same length');
  }
  if (opts.partitions.keys.length !== input.partitionIdCount) {
    throw new DpError('InvalidParameter', `partition keys (${opts.partitions.keys.length}) must match partitionIdCount (${input.partitionIdCount})`);
  }
  const units = denseRemap(input.unitIds, input.unitIdCount);
  const parts = denseRemap(input.partitionIds, input.partitionIdCount);
  const U = units.used;
  const P = parts.used;
  let uid = input.unitIds;
  let pid = input.partitionIds;
  if (U !== input.unitIdCount) uid = uid.map((x) => units.map[x]!);
  if (P !== input.partitionIdCount) pid = pid.map((x) => parts.map[x]!);
  let values = input.values;
  let counts = input.rowCounts;
  if (!isSorted(uid, pid)) {
    const order = countingSortBy(uid, U, countingSortBy(pid, P, null, n), n);
    uid = gather(uid, order);
    pid = gather(pid, order);
    if (values) values = gather(values, order);
    if (counts) counts = gather(counts, order);
  }

  // Pass 1: count pairs and rows.
  let pairCount = 0;
  for (let j = 0; j < n; j++) if (j === 0 || uid[j] !== uid[j - 1] || pid[j] !== pid[j - 1]) pairCount++;
  let rowCount = n;
  if (counts) {
    rowCount = 0;
    for (let j = 0; j < n; j++) rowCount += counts[j]!;
  }
  if (rowCount > 0x7fffffff) throw new DpError('NotSupported', `${rowCount} contribution rows exceed the Int32 offsets of the CSR layout`);

  // Pass 2: fill.
  const pairUnit = new Int32Array(pairCount);
  const pairPartition = new Int32Array(pairCount);
  const unitPairOffsets = new Int32Array(U + 1);
  const rowOffsets = new Int32Array(pairCount + 1);
  let p = -1;
  for (let j = 0; j < n; j++) {
    if (j === 0 || uid[j] !== uid[j - 1] || pid[j] !== pid[j - 1]) {
      p++;
      pairUnit[p] = uid[j]!;
      pairPartition[p] = pid[j]!;
      unitPairOffsets[uid[j]! + 1]!++;
    }
    rowOffsets[p + 1]! += counts ? counts[j]! : 1;
  }
  for (let q = 0; q < pairCount; q++) rowOffsets[q + 1]! += rowOffsets[q]!;
  for (let u = 0; u < U; u++) unitPairOffsets[u + 1]! += unitPairOffsets[u]!;
  let rowValues: Float64Array;
  if (!counts) rowValues = values ? values : new Float64Array(n).fill(1);
  else {
    rowValues = new Float64Array(rowCount);
    if (!values) rowValues.fill(1);
    else {
      let r = 0;
      for (let j = 0; j < n; j++) {
        const c = counts[j]!;
        const v = values[j]!;
        if (c > 32) rowValues.fill(v, r, r + c);
        else for (let k = r; k < r + c; k++) rowValues[k] = v;
        r += c;
      }
    }
  }

  const keys: (readonly (string | null)[])[] = [];
  for (let id = 0; id < input.partitionIdCount; id++) if (parts.map[id]! >= 0) keys.push(opts.partitions.keys[id]!);

  const partitions: PartitionKeys = { dimensions: opts.partitions.dimensions, keys };
  const stats = partitionStats(opts.kind, pairPartition, rowOffsets, rowValues, P, opts.funnelSteps);
  return {
    metricId: opts.metricId,
    kind: opts.kind,
    unitCount: U,
    partitionCount: P,
    partitions,
    pairUnit,
    pairPartition,
    unitPairOffsets,
    rowOffsets,
    rowValues,
    ...stats,
  };
}

/**
 * Exact per-partition values from CSR arrays: count (rows), count-distinct (units), sum, mean
 * (sum / rows), conversion (converted units / units that did `from`), funnel (units reaching the
 * last step; `funnelStepCounts` gives every step).
 */
export function partitionStats(
  kind: Exclude<MetricKind, 'ratio' | 'local-frequency'>,
  pairPartition: Int32Array,
  rowOffsets: Int32Array,
  rowValues: Float64Array,
  partitionCount: number,
  funnelSteps?: number,
): { trueValues: Float64Array; unitsPerPartition: Int32Array; rowsPerPartition: Float64Array } {
  const unitsPerPartition = new Int32Array(partitionCount);
  const rowsPerPartition = new Float64Array(partitionCount);
  const sums = new CompensatedSums(partitionCount);
  const steps = funnelSteps ?? 0;
  if (kind === 'funnel' && !(steps >= 2)) throw new DpError('InvalidParameter', `funnelSteps (${funnelSteps}) must be >= 2 for a funnel`);
  for (let p = 0; p < pairPartition.length; p++) {
    const q = pairPartition[p]!;
    unitsPerPartition[q]!++;
    const a = rowOffsets[p]!;
    const b = rowOffsets[p + 1]!;
    rowsPerPartition[q]! += b - a;
    if (kind === 'funnel') {
      if (rowValues[a]! >= steps) sums.add(q, 1);
    } else if (kind === 'sum' || kind === 'mean' || kind === 'conversion') {
      // A pair's few rows summed directly, pairs into the partition with compensation.
      let s = 0;
      for (let k = a; k < b; k++) s += rowValues[k]!;
      sums.add(q, s);
    }
  }
  let trueValues: Float64Array;
  switch (kind) {
    case 'count':
      trueValues = Float64Array.from(rowsPerPartition);
      break;
    case 'count-distinct':
      trueValues = Float64Array.from(unitsPerPartition);
      break;
    case 'sum':
    case 'funnel':
      trueValues = sums.result();
      break;
    case 'mean':
      trueValues = sums.result().map((s, q) => s / rowsPerPartition[q]!);
      break;
    case 'conversion':
      trueValues = sums.result().map((s, q) => s / unitsPerPartition[q]!);
      break;
  }
  return { trueValues, unitsPerPartition, rowsPerPartition };
}

/** Funnel: units reaching each step per partition, out[step - 1][partition] for steps 1..steps. */
export function funnelStepCounts(c: MetricContributions, steps: number): Float64Array[] {
  const out = Array.from({ length: steps }, () => new Float64Array(c.partitionCount));
  for (let p = 0; p < c.pairPartition.length; p++) {
    const reached = Math.min(steps, c.rowValues[c.rowOffsets[p]!]!);
    for (let s = 0; s < reached; s++) out[s]![c.pairPartition[p]!]! += 1;
  }
  return out;
}
