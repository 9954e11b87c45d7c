// The simulator's input: per metric, the contributions of each (privacy unit, partition) pair in
// compact typed arrays, plus the exact per-partition values. Produced by the data services
// (DuckDB aggregation in shared/node/data); consumed by contribution bounding and the Monte-Carlo
// engine, which never see DuckDB.
//
// Layout (CSR, pairs sorted by unit then partition):
//   pair p belongs to unit pairUnit[p] and partition pairPartition[p];
//   its rows' values are rowValues[rowOffsets[p] .. rowOffsets[p+1]) (unclamped; 1 per row for
//   counts), so L∞ row sampling and per-value clamping can be simulated exactly.
//   units are 0..unitCount-1; a unit's pairs are unitPairOffsets[u] .. unitPairOffsets[u+1].

import type { MetricKind } from '../config/schema';

export interface PartitionKeys {
  /** Dimension names, in the metric's `by` order. */
  readonly dimensions: readonly string[];
  /** Key values of partition i: keys[i][d] (as strings; null for a missing value). */
  readonly keys: readonly (readonly (string | null)[])[];
}

export interface MetricContributions {
  readonly metricId: string;
  readonly kind: Exclude<MetricKind, 'local-frequency'>;
  readonly unitCount: number;
  readonly partitionCount: number;
  readonly partitions: PartitionKeys;
  readonly pairUnit: Int32Array;
  readonly pairPartition: Int32Array;
  readonly unitPairOffsets: Int32Array;
  readonly rowOffsets: Int32Array;
  /**
   * Row values. count: 1 per row; count-distinct: 1 per pair (one "row"); sum/mean: the column's
   * values; conversion: one row per pair, 1 if the unit converted else 0 (pairs exist for units
   * that did the `from` step); funnel: one row per pair, the number of steps reached (>= 1).
   */
  readonly rowValues: Float64Array;
  /** Exact (unbounded) value per partition: count, distinct units, sum, or mean / rate. */
  readonly trueValues: Float64Array;
  /** Distinct units per partition (what partition selection sees). */
  readonly unitsPerPartition: Int32Array;
  /** Rows per partition. */
  readonly rowsPerPartition: Float64Array;
}
