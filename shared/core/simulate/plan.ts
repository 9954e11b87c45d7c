// The simulation plan: everything the Monte-Carlo engine needs, as plain data and typed arrays
// (no config parsing, no DuckDB). A plan is built from an analysis config plus the metrics'
// contributions (plan-builder), or written directly (the reference workload of
// ../shared/bench/WORKLOAD.md). The engine is a pure function of (plan, seed, trial range).

import type { MetricContributions } from '../data/contributions';

/** Noise added to one base metric's per-partition value. Scales already include sensitivity. */
export type NoiseSpec =
  | { readonly kind: 'laplace'; readonly scale: number }
  | { readonly kind: 'gaussian'; readonly sigma: number }
  | { readonly kind: 'discrete-laplace'; readonly scale: number }
  | { readonly kind: 'discrete-gaussian'; readonly sigma: number }
  | { readonly kind: 'none' };

/** Contribution bounding applied per trial (random sampling down to L0 and L∞, then clamping). */
export interface BoundingSpec {
  readonly maxPartitionsContributed: number;
  readonly maxContributionsPerPartition: number;
  readonly clampLow?: number;
  readonly clampHigh?: number;
  readonly clampMode: 'per-value' | 'per-partition';
}

/**
 * Privacy metadata that goes with every number a metric shows. `epsilon`/`delta` are required;
 * the rest is filled by the plan builder (plan-builder.ts) and optional for hand-written plans.
 */
export interface PrivacyMetadata {
  readonly epsilon: number;
  readonly delta: number;
  /** Confidence level of the half-widths below (e.g. 0.95). */
  readonly confidence?: number;
  /** Base metrics: half-width of the noise alone at `confidence` (the same for every partition). */
  readonly halfWidth?: number;
  /**
   * Derived metrics: per-partition half-width at `confidence` by the delta method (first-order,
   * evaluated at the true values: an approximation; Monte-Carlo coverage is authoritative).
   */
  readonly halfWidths?: Float64Array;
}

export interface PostProcessing {
  /** Release max(0, x) (counts and non-negative sums). */
  readonly clampAtZero: boolean;
  /** Round to an integer (counts). */
  readonly round: boolean;
}

/** A metric released with its own noise draw per partition. */
export interface BaseMetricPlan {
  readonly role: 'base';
  readonly id: string;
  /** What one pair contributes after bounding: rows (count), 1 (distinct units), values (sum). */
  readonly aggregate: 'count' | 'count-distinct' | 'sum';
  /** Exact unbounded per-partition value (length = plan.partitions). */
  readonly trueValues: Float64Array;
  /**
   * Pairs to re-bound in every trial. Absent: the plan states that bounding is not binding (every
   * unit within L0 and L∞ and clamp), so the engine uses trueValues — the exact shortcut the
   * results must name.
   */
  readonly contributions?: MetricContributions;
  readonly bounding?: BoundingSpec;
  readonly noise: NoiseSpec;
  readonly post: PostProcessing;
  /** ε, δ and confidence that go with every number this metric shows (privacy metadata). */
  readonly privacy: PrivacyMetadata;
  /**
   * Base metrics with the same boundingGroup are parts of one metric computed from the same
   * (unit, partition) pairs (a mean's count and normalised sum, a conversion's two counts, a
   * funnel's steps: their contributions share pairUnit/pairPartition/rowOffsets). A real pipeline
   * bounds them once, so a trial should use one L0/L∞ sample for the whole group; the analytic
   * model includes the covariance this creates in derived metrics. Absent: bounded on its own.
   */
  readonly boundingGroup?: number;
}

/** A metric computed from two noisy base metrics of the same trial (ratio, mean, conversion rate). */
export interface DerivedMetricPlan {
  readonly role: 'derived';
  readonly id: string;
  readonly op: 'ratio';
  /** Indices into plan.metrics (base metrics). */
  readonly numerator: number;
  readonly denominator: number;
  /** The denominator is floored at this value before dividing (WORKLOAD: max(noisy users, 1)). */
  readonly denominatorFloor: number;
  /** Added to the ratio after dividing (the midpoint of a normalised-sum mean); usually 0. */
  readonly offset: number;
  readonly trueValues: Float64Array;
  readonly privacy: PrivacyMetadata;
}

export type MetricPlan = BaseMetricPlan | DerivedMetricPlan;

/** Which partitions a trial releases. */
export type SelectionPlan =
  | { readonly kind: 'public' }
  | {
      readonly kind: 'threshold';
      /** Kept iff the noisy unit count > threshold (after the pre-threshold shift). */
      readonly threshold: number;
      readonly preThreshold: number;
      /** True distinct units per partition (of the bounded data). */
      readonly units: Float64Array;
      /** Reuse this base metric's noisy value as the noisy unit count (one shared draw), or draw own noise. */
      readonly sharedMetric?: number;
      readonly noise?: NoiseSpec;
    }
  | {
      readonly kind: 'probability';
      /** Keep probability of each partition (optimal rule, precomputed from the unit counts). */
      readonly keepProbability: Float64Array;
    };

export interface StatsOptions {
  /** x values for P(|relative error| > x) and the share of cohorts within ±x. */
  readonly relativeErrorThresholds: readonly number[];
  /** Confidence level of the stated intervals (coverage is measured against it). */
  readonly confidence: number;
  /** Keep up to this many error samples per (metric, partition) for error quantiles. */
  readonly errorSamplesPerCell: number;
  /**
   * Relative error is |error| / max(|true|, floor); default 1, the mare of WORKLOAD.md §5. A plan
   * of rates or means sets a smaller floor. (Added for the engine, #5.)
   */
  readonly relativeErrorFloor?: number;
  /**
   * Accumulate the per-(metric, partition) statistics (release probability aside, which is always
   * kept). Default true. The per-trial statistics of WORKLOAD.md §5 are always accumulated; the
   * reference workload only reports those and turns this off. (Added for the engine, #5.)
   */
  readonly perPartition?: boolean;
}

/**
 * Which algorithm draws continuous noise (added for the engine, #5). The defaults are the
 * ziggurat methods; the literal methods of WORKLOAD.md §3 give the same distributions, slower.
 * See shared/core/simulate/noise.ts for the equivalence.
 */
export interface SamplerOptions {
  readonly laplace?: 'ziggurat' | 'inverse-cdf';
  readonly gaussian?: 'ziggurat' | 'box-muller';
  /**
   * Noise of the cells a trial's selection suppressed: 'skip' (default; nothing observes it, so
   * the statistics have the same distribution) or 'draw' (as the reference kernels of WORKLOAD.md
   * do, for like-for-like timing). The selection's own or shared draw is always made.
   */
  readonly suppressedCells?: 'skip' | 'draw';
}

export interface SimulationPlan {
  readonly partitions: number;
  readonly metrics: readonly MetricPlan[];
  readonly selection: SelectionPlan;
  readonly stats: StatsOptions;
  /**
   * Which size is simulated (sample, or production by resampling units) and its unit count.
   * factor = simulated units / sample units (it includes peakFactor, the traffic multiplier of a
   * peak period, when one is given).
   */
  readonly scale: {
    readonly kind: 'sample' | 'production';
    readonly units: number;
    readonly factor: number;
    readonly peakFactor?: number;
  };
  /** Continuous-noise algorithms (default: ziggurat for both). */
  readonly samplers?: SamplerOptions;
}
