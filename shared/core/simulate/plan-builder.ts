// The plan builder: analysis config + each metric's contributions → simulation plans (plan.ts).
//
// Grouping: metrics with the same `by` share one partition set and one partition selection, so
// each distinct `by` gives one SimulationPlan (`result.plans`, in order of first appearance in the
// config); `result.metricIndex` says where each config metric's numbers are.
//
// Partitions of a group: if every dimension of `by` has publicValues (or `by` is empty), the
// partitions are public: the cartesian product of the public keys in `by` order, empty cohorts
// included (true value 0), data outside the public keys dropped before bounding (as PipelineDP
// drops non-public partitions); no selection is spent. Otherwise the union of the keys the group's
// metrics have in the data, and a DP selection:
// - shared: the first count-distinct metric whose noise kind matches a threshold selection
//   (laplace/laplace, gaussian/gaussian) releases its noisy unit count and the selection reads that
//   draw; its whole (ε_m, δ_m) goes to that one mechanism (budget.ts); the group's other metrics
//   are released on the partitions it keeps and spend nothing on selection;
// - otherwise one selection for the group on the unit counts of its first metric (the driver),
//   with the selection parts of all the group's metrics pooled (basic composition): laplace or
//   gaussian → threshold with its own noise; optimal → keep probability per partition from the true
//   unit count. The driver's strategy, L0 and pre-threshold are used; differences are noted.
//
// Metrics → plan metrics (ids):
//   count, count-distinct, sum      one base metric `id`
//   mean                            base `id.count` (rows) and `id.sum` (Σ(x − mid), clamp shifted
//                                   by mid = (lo+hi)/2) → derived `id` = sum/max(count,1) + mid
//   conversion                      base `id.from` (units that did `from`) and `id.to` (units that
//                                   also did `to`, a 0/1 per pair) → derived `id` = to/max(from,1)
//   funnel                          base `id.step1` … `id.stepS` (units reaching each step) →
//                                   derived `id.rate2` … (step i / step i−1) and `id` (last / first)
//   ratio                           derived `id` = numerator/max(denominator, 1) of two metrics of
//                                   the group (count, count-distinct or sum); spends no budget (its
//                                   budgetShare is not used: the schema does not count it)
// The parts of a mean, conversion or funnel share their pairs (one CSR, different row values) and
// get one boundingGroup. Every base metric's row values are what it sums (1 per row for counts and
// distinct units), so a bounded sample's value is the sum of its row values whatever the
// aggregate. Derived true values are 0 where the denominator's true value is 0.
//
// Post-processing: counts (count, count-distinct, conversion and funnel parts) are clamped at 0 and
// rounded; a sum is clamped at 0 when its clamp range is non-negative; a mean's two parts are left
// raw (derived metrics are computed from the raw noisy values). Selections count the true distinct
// units of the driver (plan.selection.units); a shared count's bounded value is what the engine
// thresholds.
//
// Bounding: a base metric whose bounds do not bind (every unit within L0 partitions, every pair
// within L∞ rows, every value or pair sum within the clamp) is planned without contributions: the
// engine's exact shortcut; `notes` says which ones.
//
// Production size: `scale: { kind: 'production', factor, peakFactor }` (or the config's
// dataset.sampleRate → factor 1/sampleRate, dataset.productionUnits → productionUnits / sample
// units) resamples each metric's units with replacement to round(factor·peakFactor·units) units
// (`resampleUnits`, seeded and deterministic); peakFactor multiplies the number of active units
// (the traffic of a peak period). plan.scale says which size is simulated.
//
// Budget: budget.ts (basic composition). `rebudgetPlan` recomputes noise and selection for a new
// (ε, δ) from the ε-independent structure, without touching the contributions (for sliders).

import type { AnalysisConfig, CentralMetric as Metric, Dimension } from '../config/schema';
import { isCentralMetric } from '../config/schema';
import type { MetricContributions, PartitionKeys } from '../data/contributions';
import { partitionStats } from '../data/csr';
import { makePartitionSelection } from '../dp/partition-selection';
import type { PartitionSelection } from '../dp/partition-selection';
import type { Sensitivity } from '../dp/sensitivity';
import { DpError, invalid } from '../errors';
import { makeRng } from '../rng';
import type { Seed } from '../rng';
import type { Mechanism, PrivacyBudget, SelectionRole } from './budget';
import { aggregateParts, metricBudget, noiseHalfWidth, noiseSpecFor, noiseVariance, normalHalfWidthFactor, splitSelection } from './budget';
import type { BaseMetricPlan, BoundingSpec, DerivedMetricPlan, MetricPlan, NoiseSpec, PostProcessing, SelectionPlan, SimulationPlan, StatsOptions } from './plan';

export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_RELATIVE_ERROR_THRESHOLDS: readonly number[] = [0.05, 0.1, 0.2];
export const DEFAULT_ERROR_SAMPLES_PER_CELL = 256;

export type ScaleOption =
  | { readonly kind: 'sample' }
  | {
      readonly kind: 'production';
      /** Production units / sample units; default from config.dataset (sampleRate or productionUnits). */
      readonly factor?: number;
      /** Multiplier on active units for a peak period (default 1). */
      readonly peakFactor?: number;
      /** Seed of the resampling (default 0). */
      readonly seed?: Seed;
    };

export interface BuildPlanOptions {
  readonly config: AnalysisConfig;
  /** Contributions of every metric but ratios, by metric id (conversion: one CSR, or [from, to]; funnel: one CSR, or one per step). */
  readonly contributions: Readonly<Record<string, MetricContributions | readonly MetricContributions[]>>;
  /** Confidence level of the stated half-widths (default 0.95). */
  readonly confidence?: number;
  /** x values for "within ±x" (default 0.05, 0.1, 0.2). */
  readonly relativeErrorThresholds?: readonly number[];
  readonly errorSamplesPerCell?: number;
  /** Size to simulate (default: the sample). */
  readonly scale?: ScaleOption;
  /** Units in the whole sample (for dataset.productionUnits); default: the most units of any metric. */
  readonly sampleUnits?: number;
}

export interface MetricLocation {
  /** Index into result.plans. */
  readonly plan: number;
  /** Index into that plan's metrics of the metric's headline value. */
  readonly metric: number;
  /** Every plan metric of this config metric by part: '' (headline), 'count', 'sum', 'from', 'to', 'step1', 'rate2', … */
  readonly parts: Readonly<Record<string, number>>;
}

export interface AggregateBudget {
  readonly key: string;
  readonly aggregate: BaseMetricPlan['aggregate'];
  readonly sensitivity: Sensitivity;
  readonly epsilon: number;
  readonly delta: number;
  readonly noise: NoiseSpec;
  readonly noiseStd: number;
  /** Half-width of the noise at the plan's confidence level. */
  readonly halfWidth: number;
}

export interface MetricBudgetReport {
  readonly metricId: string;
  /** (ε_m, δ_m) of the metric (basic composition); for a ratio, its numerator's plus its denominator's. */
  readonly total: PrivacyBudget;
  readonly role: SelectionRole | 'derived';
  /** What the metric spends on partition selection (null: public, covered or ratio; for 'shared' the same mechanism as its noise). */
  readonly selection: PrivacyBudget | null;
  /** What the metric spends on noise (for 'shared' the same mechanism as its selection: count it once). */
  readonly noise: PrivacyBudget;
  readonly aggregates: readonly AggregateBudget[];
}

export interface GroupSelection {
  readonly strategy: 'laplace' | 'gaussian' | 'optimal';
  /** The metric whose unit counts are selected on. */
  readonly driver: string;
  /** Set when the selection reads this count-distinct metric's released noisy value. */
  readonly sharedWith?: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly maxPartitionsContributed: number;
  readonly preThreshold: number;
  readonly threshold: number | null;
  readonly noiseScale: number | null;
}

export interface PlanGroup {
  readonly by: readonly string[];
  readonly partitions: PartitionKeys;
  readonly publicPartitions: boolean;
  readonly metricIds: readonly string[];
  readonly selection: GroupSelection | null;
  readonly plan: SimulationPlan;
}

export interface BuildPlanResult {
  readonly plans: readonly PlanGroup[];
  readonly metricIndex: Readonly<Record<string, MetricLocation>>;
  readonly budgets: Readonly<Record<string, MetricBudgetReport>>;
  readonly notes: readonly string[];
  /** The ε-independent part of the plans (see rebudgetPlan). */
  readonly structure: PlanStructure;
}

// ---------------------------------------------------------------------------------------------
// Contributions: resampling, remapping, parts

/**
 * Production-size resampling: draws round(factor·unitCount) units with replacement (uniformly,
 * seeded: the same inputs give the same result) and copies each drawn unit's pairs and rows. The
 * partitions are unchanged; the true values and counts are recomputed. `funnelSteps` is needed for
 * a funnel (default: the most steps any pair reached).
 */
export function resampleUnits(contributions: MetricContributions, factor: number, seed: Seed, opts: { funnelSteps?: number } = {}): MetricContributions {
  const c = contributions;
  if (!(factor > 0 && Number.isFinite(factor))) throw invalid('factor', factor, 'must be a finite number > 0');
  const U = c.unitCount;
  const newU = U === 0 ? 0 : Math.max(1, Math.round(factor * U));
  const rng = makeRng(seed);
  const drawn = new Int32Array(newU);
  let pairs = 0;
  let rows = 0;
  for (let j = 0; j < newU; j++) {
    const u = rng.nextBelow(U);
    drawn[j] = u;
    const a = c.unitPairOffsets[u]!;
    const b = c.unitPairOffsets[u + 1]!;
    pairs += b - a;
    rows += c.rowOffsets[b]! - c.rowOffsets[a]!;
  }
  if (rows > 0x7fffffff) throw new DpError('NotSupported', `resampling to ${newU} units gives ${rows} rows, more than the Int32 offsets of the CSR layout`);
  const pairUnit = new Int32Array(pairs);
  const pairPartition = new Int32Array(pairs);
  const unitPairOffsets = new Int32Array(newU + 1);
  const rowOffsets = new Int32Array(pairs + 1);
  const rowValues = new Float64Array(rows);
  let p = 0;
  let r = 0;
  for (let j = 0; j < newU; j++) {
    const u = drawn[j]!;
    for (let src = c.unitPairOffsets[u]!; src < c.unitPairOffsets[u + 1]!; src++) {
      pairUnit[p] = j;
      pairPartition[p] = c.pairPartition[src]!;
      const a = c.rowOffsets[src]!;
      const b = c.rowOffsets[src + 1]!;
      rowValues.set(c.rowValues.subarray(a, b), r);
      r += b - a;
      rowOffsets[++p] = r;
    }
    unitPairOffsets[j + 1] = p;
  }
  const steps = c.kind === 'funnel' ? opts.funnelSteps ?? Math.max(2, ...maxValue(c.rowValues)) : undefined;
  const stats = partitionStats(c.kind as Exclude<MetricContributions['kind'], 'ratio'>, pairPartition, rowOffsets, rowValues, c.partitionCount, steps);
  return { ...c, unitCount: newU, pairUnit, pairPartition, unitPairOffsets, rowOffsets, rowValues, ...stats };
}

function maxValue(a: Float64Array): number[] {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return Number.isFinite(m) ? [m] : [];
}

/**
 * The same contributions over another partition set: partition i goes to map[i] (−1: dropped,
 * with its pairs and rows). Units left without pairs are dropped and the rest renumbered in order;
 * each unit's pairs are re-sorted by their new partition.
 */
function remapContributions(c: MetricContributions, map: Int32Array, partitions: PartitionKeys, funnelSteps?: number): MetricContributions {
  const P = partitions.keys.length;
  let identity = P === c.partitionCount;
  for (let i = 0; identity && i < map.length; i++) identity = map[i] === i;
  if (identity) return c.partitions === partitions ? c : { ...c, partitions };
  let pairs = 0;
  let rows = 0;
  let units = 0;
  for (let u = 0; u < c.unitCount; u++) {
    let any = false;
    for (let p = c.unitPairOffsets[u]!; p < c.unitPairOffsets[u + 1]!; p++) {
      if (map[c.pairPartition[p]!]! < 0) continue;
      pairs++;
      rows += c.rowOffsets[p + 1]! - c.rowOffsets[p]!;
      any = true;
    }
    if (any) units++;
  }
  const pairUnit = new Int32Array(pairs);
  const pairPartition = new Int32Array(pairs);
  const unitPairOffsets = new Int32Array(units + 1);
  const rowOffsets = new Int32Array(pairs + 1);
  const rowValues = new Float64Array(rows);
  const scratch: number[] = [];
  let np = 0;
  let nr = 0;
  let nu = 0;
  for (let u = 0; u < c.unitCount; u++) {
    scratch.length = 0;
    for (let p = c.unitPairOffsets[u]!; p < c.unitPairOffsets[u + 1]!; p++) if (map[c.pairPartition[p]!]! >= 0) scratch.push(p);
    if (scratch.length === 0) continue;
    scratch.sort((x, y) => map[c.pairPartition[x]!]! - map[c.pairPartition[y]!]!);
    for (const p of scratch) {
      pairUnit[np] = nu;
      pairPartition[np] = map[c.pairPartition[p]!]!;
      const a = c.rowOffsets[p]!;
      const b = c.rowOffsets[p + 1]!;
      rowValues.set(c.rowValues.subarray(a, b), nr);
      nr += b - a;
      rowOffsets[++np] = nr;
    }
    unitPairOffsets[++nu] = np;
  }
  const stats = partitionStats(c.kind as Exclude<MetricContributions['kind'], 'ratio'>, pairPartition, rowOffsets, rowValues, P, funnelSteps);
  return { ...c, unitCount: units, partitionCount: P, partitions, pairUnit, pairPartition, unitPairOffsets, rowOffsets, rowValues, ...stats };
}

/**
 * A part of a metric over the same pairs: new kind (what its true values mean) and row values. Count
 * and distinct-unit parts get rows of 1 (a count-distinct CSR has one row per pair), so summing
 * the row values of a bounded sample gives the same numbers as counting its rows.
 */
function derivePart(c: MetricContributions, metricId: string, kind: 'count' | 'count-distinct' | 'sum', values?: Float64Array): MetricContributions {
  const rowValues = values ?? (kind === 'sum' ? c.rowValues : onesLike(c.rowValues));
  const stats = partitionStats(kind, c.pairPartition, c.rowOffsets, rowValues, c.partitionCount);
  return { ...c, metricId, kind, rowValues, ...stats };
}

function onesLike(a: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) if (a[i] !== 1) return new Float64Array(a.length).fill(1);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Structure (independent of ε)

interface PartStructure {
  readonly key: string;
  readonly id: string;
  readonly aggregate: BaseMetricPlan['aggregate'];
  readonly trueValues: Float64Array;
  readonly contributions: MetricContributions;
  readonly bounding: BoundingSpec;
  /** Whether the bounds bind (false: exact shortcut). */
  readonly binding: boolean;
  readonly boundingGroup?: number;
}

interface MetricStructure {
  readonly metric: Metric;
  readonly parts: readonly PartStructure[];
  /** True distinct units per partition (of the first part): what a selection driven by this metric counts. */
  readonly units: Float64Array;
}

interface GroupStructure {
  readonly by: readonly string[];
  readonly partitions: PartitionKeys;
  readonly publicPartitions: boolean;
  readonly metrics: readonly MetricStructure[];
  readonly ratios: readonly Extract<Metric, { kind: 'ratio' }>[];
  readonly scale: SimulationPlan['scale'];
}

export interface PlanStructure {
  readonly config: AnalysisConfig;
  readonly groups: readonly GroupStructure[];
  readonly stats: StatsOptions;
  readonly notes: readonly string[];
}

const SEP = '\u0001';
const keyString = (k: readonly (string | null)[]): string => k.map((v) => (v === null ? '\u0000' : v)).join(SEP);
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const normComponent = (v: string | null): string => (v === null ? '\u0000' : NUMERIC.test(v) ? String(Number(v)) : v);
const normKeyString = (k: readonly (string | null)[]): string => k.map(normComponent).join(SEP);

function cartesian(lists: readonly (readonly string[])[]): string[][] {
  let out: string[][] = [[]];
  for (const l of lists) out = out.flatMap((prefix) => l.map((v) => [...prefix, v]));
  return out;
}

function contributionsOf(opts: BuildPlanOptions, m: Metric): MetricContributions[] {
  const c = opts.contributions[m.id];
  if (!c) throw new DpError('InvalidParameter', `no contributions for metric ${JSON.stringify(m.id)} (${m.kind})`);
  const list = Array.isArray(c) ? [...(c as readonly MetricContributions[])] : [c as MetricContributions];
  const expected = m.kind === 'conversion' ? [1, 2] : m.kind === 'funnel' ? [1, m.steps.length] : [1];
  if (!expected.includes(list.length)) {
    throw new DpError('InvalidParameter', `metric ${m.id}: ${list.length} contributions given, expected ${expected.join(' or ')}`);
  }
  const by = m.by.join(SEP);
  for (const x of list) {
    if (x.partitions.dimensions.join(SEP) !== by) {
      throw new DpError('InvalidParameter', `metric ${m.id}: contributions are grouped by [${x.partitions.dimensions.join(', ')}], the metric by [${m.by.join(', ')}]`);
    }
  }
  return list;
}

function maxPairsPerUnit(c: MetricContributions): number {
  let m = 0;
  for (let u = 0; u < c.unitCount; u++) m = Math.max(m, c.unitPairOffsets[u + 1]! - c.unitPairOffsets[u]!);
  return m;
}

/** Whether contribution bounding changes anything for these contributions (see the module comment). */
export function boundsBind(c: MetricContributions, aggregate: BaseMetricPlan['aggregate'], b: BoundingSpec): boolean {
  if (maxPairsPerUnit(c) > b.maxPartitionsContributed) return true;
  if (aggregate === 'count-distinct') return false;
  const lo = b.clampLow ?? -Infinity;
  const hi = b.clampHigh ?? Infinity;
  const perPartition = b.clampMode === 'per-partition';
  for (let p = 0; p < c.pairUnit.length; p++) {
    const a = c.rowOffsets[p]!;
    const e = c.rowOffsets[p + 1]!;
    if (e - a > b.maxContributionsPerPartition) return true;
    if (aggregate !== 'sum') continue;
    let s = 0;
    for (let k = a; k < e; k++) {
      const x = c.rowValues[k]!;
      if (!perPartition && (x < lo || x > hi)) return true;
      s += x;
    }
    if (perPartition && (s < lo || s > hi)) return true;
  }
  return false;
}

function resolveScale(opts: BuildPlanOptions, notes: string[]): { kind: 'sample' | 'production'; factor: number; peak: number; seed: Seed } {
  const s = opts.scale;
  if (!s || s.kind === 'sample') return { kind: 'sample', factor: 1, peak: 1, seed: 0 };
  if (s.kind !== 'production') throw invalid('scale.kind', (s as { kind: unknown }).kind, "must be 'sample' or 'production'");
  const peak = s.peakFactor ?? 1;
  if (!(peak > 0 && Number.isFinite(peak))) throw invalid('scale.peakFactor', peak, 'must be a finite number > 0');
  let factor = s.factor;
  const ds = opts.config.dataset;
  if (factor === undefined) {
    if (ds.sampleRate !== undefined) {
      factor = 1 / ds.sampleRate;
      notes.push(`production size: factor ${factor} from dataset.sampleRate ${ds.sampleRate}`);
    } else if (ds.productionUnits !== undefined) {
      let units = opts.sampleUnits;
      if (units === undefined) {
        units = 0;
        for (const m of opts.config.metrics.filter(isCentralMetric)) if (m.kind !== 'ratio') for (const c of contributionsOf(opts, m)) units = Math.max(units, c.unitCount);
        notes.push(`production size: the sample's unit count is taken as ${units}, the most units of any metric (pass sampleUnits to set it)`);
      }
      if (!(units > 0)) throw new DpError('InvalidParameter', 'production size from dataset.productionUnits needs a sample with units');
      factor = ds.productionUnits / units;
      notes.push(`production size: factor ${factor} = dataset.productionUnits ${ds.productionUnits} / ${units} sample units`);
    } else {
      throw new DpError('InvalidParameter', 'a production-size plan needs scale.factor, dataset.sampleRate or dataset.productionUnits');
    }
  }
  if (!(factor > 0 && Number.isFinite(factor))) throw invalid('scale.factor', factor, 'must be a finite number > 0');
  if (factor < 1) notes.push(`production size: factor ${factor} < 1 simulates fewer units than the sample`);
  return { kind: 'production', factor, peak, seed: s.seed ?? 0 };
}

function boundingFor(m: Metric, aggregate: BaseMetricPlan['aggregate'], shift = 0, indicator = false): BoundingSpec {
  const p = m.privacy;
  const base = { maxPartitionsContributed: p.maxPartitionsContributed, clampMode: 'per-value' as const };
  if (aggregate === 'count-distinct') return { ...base, maxContributionsPerPartition: 1 };
  if (indicator) return { ...base, maxContributionsPerPartition: 1, clampLow: 0, clampHigh: 1 };
  if (aggregate === 'count') return { ...base, maxContributionsPerPartition: p.maxContributionsPerPartition };
  const clamp = p.clamp!;
  return {
    maxPartitionsContributed: p.maxPartitionsContributed,
    maxContributionsPerPartition: p.maxContributionsPerPartition,
    clampLow: clamp.low - shift,
    clampHigh: clamp.high - shift,
    clampMode: m.kind === 'mean' ? 'per-value' : clamp.mode,
  };
}

/** The ε-independent part of buildPlan: groups, partitions, remapped contributions and their parts. */
export function buildPlanStructure(opts: BuildPlanOptions): PlanStructure {
  const { config } = opts;
  const notes: string[] = [];
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  if (!(confidence > 0 && confidence < 1)) throw invalid('confidence', confidence, 'must be in (0, 1)');
  const thresholds = [...(opts.relativeErrorThresholds ?? DEFAULT_RELATIVE_ERROR_THRESHOLDS)];
  for (const x of thresholds) if (!(x > 0 && Number.isFinite(x))) throw invalid('relativeErrorThresholds', x, 'must be finite numbers > 0');
  const errorSamplesPerCell = opts.errorSamplesPerCell ?? DEFAULT_ERROR_SAMPLES_PER_CELL;
  if (!Number.isInteger(errorSamplesPerCell) || errorSamplesPerCell < 0) throw invalid('errorSamplesPerCell', errorSamplesPerCell, 'must be an integer >= 0');
  const stats: StatsOptions = { relativeErrorThresholds: thresholds, confidence, errorSamplesPerCell };

  const scale = resolveScale(opts, notes);
  const dims = new Map<string, Dimension>(config.dimensions.map((d) => [d.name, d]));
  // Local-DP metrics (local-frequency) are not part of the central plan: simulate/local.ts.
  const centralMetrics = config.metrics.filter(isCentralMetric);
  const byId = new Map(centralMetrics.map((m) => [m.id, m]));

  // Contributions at the simulated size.
  const sized = new Map<string, MetricContributions[]>();
  const total = scale.factor * scale.peak;
  for (const m of centralMetrics) {
    if (m.kind === 'ratio') continue;
    const list = contributionsOf(opts, m);
    const steps = m.kind === 'funnel' ? m.steps.length : undefined;
    sized.set(m.id, scale.kind === 'production'
      ? list.map((c, i) => resampleUnits(c, total, `${String(scale.seed)}:${m.id}:${i}`, steps !== undefined && c.kind === 'funnel' ? { funnelSteps: steps } : {}))
      : list);
  }
  if (scale.kind === 'production') {
    notes.push(`production size: units resampled with replacement to ${total}× the sample (factor ${scale.factor}${scale.peak !== 1 ? `, peak factor ${scale.peak}` : ''}), independently per metric (seed ${String(scale.seed)})`);
  }

  // Groups by `by`, in order of first appearance.
  const order: string[] = [];
  const members = new Map<string, Metric[]>();
  for (const m of centralMetrics) {
    const k = m.by.join(SEP);
    if (!members.has(k)) {
      members.set(k, []);
      order.push(k);
    }
    members.get(k)!.push(m);
  }

  let boundingGroupId = 0;
  const groups: GroupStructure[] = [];
  for (const k of order) {
    const ms = members.get(k)!;
    const by = ms[0]!.by;
    const dimList = by.map((n) => {
      const d = dims.get(n);
      if (!d) throw new DpError('InvalidParameter', `unknown dimension ${JSON.stringify(n)}`);
      return d;
    });
    const isPublic = dimList.every((d) => d.publicValues !== undefined && d.publicValues.length > 0);
    const base = ms.filter((m): m is Exclude<Metric, { kind: 'ratio' }> => m.kind !== 'ratio');
    const ratios = ms.filter((m): m is Extract<Metric, { kind: 'ratio' }> => m.kind === 'ratio');
    for (const r of ratios) {
      for (const side of [r.numerator, r.denominator]) {
        const ref = byId.get(side);
        if (!ref) throw new DpError('InvalidParameter', `ratio ${r.id}: unknown metric ${JSON.stringify(side)}`);
        if (ref.kind !== 'count' && ref.kind !== 'count-distinct' && ref.kind !== 'sum') {
          throw new DpError('NotSupported', `ratio ${r.id}: ${side} is a ${ref.kind}; a ratio's parts must be count, count-distinct or sum metrics`);
        }
        if (ref.by.join(SEP) !== k) throw new DpError('InvalidParameter', `ratio ${r.id}: ${side} groups by [${ref.by.join(', ')}], not [${by.join(', ')}]`);
      }
    }

    // Partition keys.
    let keys: (readonly (string | null)[])[];
    const index = new Map<string, number>();
    if (isPublic) {
      keys = cartesian(dimList.map((d) => d.publicValues!.map((v) => String(v))));
      keys.forEach((key, i) => index.set(normKeyString(key), i));
    } else {
      keys = [];
      for (const m of base) {
        for (const c of sized.get(m.id)!) {
          for (const key of c.partitions.keys) {
            const s = keyString(key);
            if (!index.has(s)) {
              index.set(s, keys.length);
              keys.push(key);
            }
          }
        }
      }
    }
    const partitions: PartitionKeys = { dimensions: [...by], keys };
    const label = by.length ? `[${by.join(', ')}]` : '(no dimensions)';
    let emptyPublic = 0;

    const metrics: MetricStructure[] = [];
    const seenInData = new Uint8Array(keys.length);
    for (const m of base) {
      const steps = m.kind === 'funnel' ? m.steps.length : undefined;
      const remapped = sized.get(m.id)!.map((c) => {
        const map = new Int32Array(c.partitionCount);
        let dropped = 0;
        c.partitions.keys.forEach((key, i) => {
          const j = index.get(isPublic ? normKeyString(key) : keyString(key));
          map[i] = j ?? -1;
          if (j === undefined) dropped += c.rowsPerPartition[i]!;
          else if (c.unitsPerPartition[i]! > 0) seenInData[j] = 1;
        });
        if (dropped > 0) notes.push(`metric ${m.id}: ${dropped} rows in cohorts outside the public values of ${label} are dropped before bounding`);
        return remapContributions(c, map, partitions, c.kind === 'funnel' ? steps : undefined);
      });
      const parts: PartStructure[] = [];
      const single = remapped.length === 1 ? remapped[0]! : undefined;
      const group = (m.kind === 'mean' || ((m.kind === 'conversion' || m.kind === 'funnel') && single)) ? boundingGroupId++ : undefined;
      const add = (key: string, aggregate: BaseMetricPlan['aggregate'], c: MetricContributions, bounding: BoundingSpec, trueValues: Float64Array): void => {
        parts.push({
          key, id: key ? `${m.id}.${key}` : m.id, aggregate, trueValues, contributions: c, bounding,
          binding: boundsBind(c, aggregate, bounding), ...(group !== undefined ? { boundingGroup: group } : {}),
        });
      };
      switch (m.kind) {
        case 'count': {
          const c = derivePart(single!, m.id, 'count');
          add('', 'count', c, boundingFor(m, 'count'), c.trueValues);
          break;
        }
        case 'count-distinct': {
          const c = derivePart(single!, m.id, 'count-distinct');
          add('', 'count-distinct', c, boundingFor(m, 'count-distinct'), c.trueValues);
          break;
        }
        case 'sum': {
          const c = derivePart(single!, m.id, 'sum');
          add('', 'sum', c, boundingFor(m, 'sum'), c.trueValues);
          break;
        }
        case 'mean': {
          const clamp = m.privacy.clamp!;
          if (clamp.mode === 'per-partition') notes.push(`metric ${m.id}: a mean clamps each value (per-value), whatever clamp.mode says`);
          const mid = (clamp.low + clamp.high) / 2;
          const c = single!;
          const count = derivePart(c, `${m.id}.count`, 'count');
          const shifted = new Float64Array(c.rowValues.length);
          for (let i = 0; i < shifted.length; i++) shifted[i] = c.rowValues[i]! - mid;
          const nsum = derivePart(c, `${m.id}.sum`, 'sum', shifted);
          add('count', 'count', count, boundingFor(m, 'count'), count.trueValues);
          add('sum', 'sum', nsum, boundingFor(m, 'sum', mid), nsum.trueValues);
          break;
        }
        case 'conversion': {
          if (single) {
            const from = derivePart(single, `${m.id}.from`, 'count-distinct');
            const to = derivePart(single, `${m.id}.to`, 'sum');
            add('from', 'count-distinct', from, boundingFor(m, 'count-distinct'), from.trueValues);
            add('to', 'sum', to, boundingFor(m, 'sum', 0, true), to.trueValues);
          } else {
            notes.push(`metric ${m.id}: conversion given as two separate contributions: the two counts are bounded independently`);
            const from = derivePart(remapped[0]!, `${m.id}.from`, 'count-distinct');
            const to = derivePart(remapped[1]!, `${m.id}.to`, 'count-distinct');
            add('from', 'count-distinct', from, boundingFor(m, 'count-distinct'), from.trueValues);
            add('to', 'count-distinct', to, boundingFor(m, 'count-distinct'), to.trueValues);
          }
          break;
        }
        case 'funnel': {
          const S = m.steps.length;
          if (single) {
            for (let s = 1; s <= S; s++) {
              if (s === 1) {
                const c = derivePart(single, `${m.id}.step1`, 'count-distinct');
                add('step1', 'count-distinct', c, boundingFor(m, 'count-distinct'), c.trueValues);
              } else {
                const ind = new Float64Array(single.rowValues.length);
                for (let i = 0; i < ind.length; i++) ind[i] = single.rowValues[i]! >= s ? 1 : 0;
                const c = derivePart(single, `${m.id}.step${s}`, 'sum', ind);
                add(`step${s}`, 'sum', c, boundingFor(m, 'sum', 0, true), c.trueValues);
              }
            }
          } else {
            notes.push(`metric ${m.id}: funnel given as one contributions per step: the steps are bounded independently`);
            remapped.forEach((rc, i) => {
              const c = derivePart(rc, `${m.id}.step${i + 1}`, 'count-distinct');
              add(`step${i + 1}`, 'count-distinct', c, boundingFor(m, 'count-distinct'), c.trueValues);
            });
          }
          break;
        }
      }
      for (const p of parts) {
        if (!p.binding) notes.push(`${p.id}: bounds not binding (every unit within L0 ${p.bounding.maxPartitionsContributed}, pairs within L∞ and values within the clamp): exact shortcut, no per-trial bounding`);
      }
      metrics.push({ metric: m, parts, units: Float64Array.from(parts[0]!.contributions.unitsPerPartition) });
    }
    if (isPublic) {
      for (let i = 0; i < keys.length; i++) if (!seenInData[i]) emptyPublic++;
      notes.push(`${label}: ${keys.length} public partitions${emptyPublic ? `, ${emptyPublic} of them empty in the data (released with true value 0)` : ''}; no partition selection`);
    }
    let units = 0;
    for (const ms2 of metrics) for (const p of ms2.parts) units = Math.max(units, p.contributions.unitCount);
    groups.push({
      by: [...by], partitions, publicPartitions: isPublic, metrics, ratios,
      scale: scale.kind === 'sample' ? { kind: 'sample', units, factor: 1 } : { kind: 'production', units, factor: total, peakFactor: scale.peak },
    });
  }
  if (groups.length > 1) notes.push(`${groups.length} plans, one per grouping (by): ${groups.map((g) => `[${g.by.join(', ')}]`).join(', ')}`);
  return { config, groups, stats, notes };
}

// ---------------------------------------------------------------------------------------------
// Budget, noise and selection (depends on ε)

const COUNT_POST: PostProcessing = { clampAtZero: true, round: true };
const RAW_POST: PostProcessing = { clampAtZero: false, round: false };

function shareable(m: Metric): boolean {
  const s = m.privacy.selection;
  return m.kind === 'count-distinct' && (s === 'laplace' || s === 'gaussian') && m.privacy.mechanism === s;
}

function wrapSelection(what: string, f: () => PartitionSelection): PartitionSelection {
  try {
    return f();
  } catch (e) {
    if (e instanceof DpError) throw new DpError(e.code, `${what}: ${e.message}`);
    throw e;
  }
}

/** Noise, selection and privacy metadata for a structure under the config's budget: the plans. */
export function finishPlans(structure: PlanStructure, budgetOverride?: Partial<PrivacyBudget>): BuildPlanResult {
  const config = structure.config;
  const total: PrivacyBudget = { epsilon: budgetOverride?.epsilon ?? config.budget.epsilon, delta: budgetOverride?.delta ?? config.budget.delta };
  if (!(total.epsilon > 0 && Number.isFinite(total.epsilon))) throw invalid('epsilon', total.epsilon, 'must be a finite number > 0');
  if (!(total.delta >= 0 && total.delta < 1)) throw invalid('delta', total.delta, 'must be in [0, 1)');
  const notes: string[] = [...structure.notes];
  notes.push(`budget: (ε ${total.epsilon}, δ ${total.delta}) split between metrics by basic composition (shares of ε and δ add up); the config's ${config.budget.accountant} accountant would certify a smaller total for the same noise (privacy ledger, later issue)`);
  const { confidence } = structure.stats;
  const z = normalHalfWidthFactor(confidence);
  const budgets: Record<string, MetricBudgetReport> = {};
  const metricIndex: Record<string, MetricLocation> = {};
  const plans: PlanGroup[] = [];

  structure.groups.forEach((g, gi) => {
    const label = g.by.length ? `[${g.by.join(', ')}]` : '(no dimensions)';
    // Selection roles.
    const roles = new Map<string, SelectionRole>();
    let driver: MetricStructure | undefined;
    let sharedDriver = false;
    if (g.publicPartitions) {
      for (const ms of g.metrics) {
        roles.set(ms.metric.id, 'public');
        if (ms.metric.privacy.selection !== 'public') notes.push(`metric ${ms.metric.id}: every dimension of ${label} has public values, so its partitions are public and its selection share goes to noise`);
      }
    } else {
      const missing = g.by.filter((n) => !config.dimensions.find((d) => d.name === n)?.publicValues?.length);
      for (const ms of g.metrics) {
        if (ms.metric.privacy.selection === 'public') {
          throw new DpError('InvalidParameter', `metric ${ms.metric.id}: selection 'public' needs publicValues for every dimension of by (missing: ${missing.join(', ')})`);
        }
      }
      driver = g.metrics.find((ms) => shareable(ms.metric));
      sharedDriver = driver !== undefined;
      driver ??= g.metrics[0];
      for (const ms of g.metrics) roles.set(ms.metric.id, sharedDriver ? (ms === driver ? 'shared' : 'covered') : 'private');
      if (driver) {
        const d = driver.metric.privacy;
        for (const ms of g.metrics) {
          const p = ms.metric.privacy;
          if (ms === driver) continue;
          if (!sharedDriver && p.selection !== d.selection) notes.push(`metric ${ms.metric.id}: selection ${p.selection} differs from ${driver.metric.id}'s; the group ${label} uses ${d.selection}`);
          if (p.preThreshold !== d.preThreshold) notes.push(`metric ${ms.metric.id}: pre-threshold ${p.preThreshold} differs from ${driver.metric.id}'s; the group ${label} uses ${d.preThreshold}`);
        }
        notes.push(sharedDriver
          ? `${label}: partition selection reads the released noisy count of ${driver.metric.id} (${d.selection} thresholding, one draw, all of its budget); the group's other metrics spend nothing on selection`
          : `${label}: one ${d.selection} partition selection on the unit counts of ${driver.metric.id}, with the selection shares of the group's ${g.metrics.length} metric(s) pooled`);
      }
    }

    const metrics: MetricPlan[] = [];
    const headline = new Map<string, number>();
    const selBudget = { epsilon: 0, delta: 0 };
    let sharedIndex: number | undefined;
    for (const ms of g.metrics) {
      const m = ms.metric;
      const role = roles.get(m.id)!;
      const mTotal = metricBudget(total, m);
      const split = splitSelection(mTotal, role, m.privacy.selectionShare, m.privacy.mechanism as Mechanism);
      if (role === 'private' && split.selection) {
        selBudget.epsilon += split.selection.epsilon;
        selBudget.delta += split.selection.delta;
      }
      if (split.noise.delta > 0 && (role === 'public' || role === 'covered') && (m.privacy.mechanism === 'laplace' || m.privacy.mechanism === 'discrete-laplace')) {
        notes.push(`metric ${m.id}: its δ share (${split.noise.delta}) is not spent (pure ${m.privacy.mechanism} noise, no selection of its own)`);
      }
      const aggParts = aggregateParts(m, split.noise);
      const reports: AggregateBudget[] = [];
      const parts: Record<string, number> = {};
      aggParts.forEach((ap, i) => {
        const ps = ms.parts[i]!;
        let noise: NoiseSpec;
        let sel: PartitionSelection | undefined;
        if (role === 'shared') {
          const p = m.privacy;
          sel = wrapSelection(`metric ${m.id}`, () => makePartitionSelection({
            strategy: p.selection as 'laplace' | 'gaussian', epsilon: mTotal.epsilon, delta: mTotal.delta,
            maxPartitionsContributed: p.maxPartitionsContributed, preThreshold: p.preThreshold,
          }));
          noise = sel.strategy === 'laplace' ? { kind: 'laplace', scale: sel.noiseScale! } : { kind: 'gaussian', sigma: sel.noiseScale! };
        } else {
          noise = noiseSpecFor(m.privacy.mechanism as Mechanism, ap.sensitivity, ap.budget, notes, ps.id);
        }
        const halfWidth = noiseHalfWidth(noise, confidence);
        const privacy = aggParts.length === 1 ? mTotal : ap.budget;
        const plan: BaseMetricPlan = {
          role: 'base', id: ps.id, aggregate: ps.aggregate, trueValues: ps.trueValues,
          ...(ps.binding ? { contributions: ps.contributions } : {}),
          bounding: ps.bounding, noise,
          post: m.kind === 'mean' ? RAW_POST : ps.aggregate === 'sum' && m.kind === 'sum' ? { clampAtZero: (m.privacy.clamp?.low ?? -1) >= 0, round: false } : COUNT_POST,
          privacy: { epsilon: privacy.epsilon, delta: privacy.delta, confidence, halfWidth },
          ...(ps.boundingGroup !== undefined ? { boundingGroup: ps.boundingGroup } : {}),
        };
        parts[ps.key] = metrics.length;
        if (role === 'shared') sharedIndex = metrics.length;
        metrics.push(plan);
        reports.push({ key: ap.key, aggregate: ap.aggregate, sensitivity: ap.sensitivity, epsilon: ap.budget.epsilon, delta: ap.budget.delta, noise, noiseStd: Math.sqrt(noiseVariance(noise)), halfWidth });
      });
      // Derived metrics of the metric.
      const derived = (id: string, num: number, den: number, offset: number, trueValues: Float64Array): number => {
        const a = metrics[num] as BaseMetricPlan;
        const b = metrics[den] as BaseMetricPlan;
        const nvA = noiseVariance(a.noise);
        const nvB = noiseVariance(b.noise);
        const halfWidths = new Float64Array(g.partitions.keys.length);
        for (let q = 0; q < halfWidths.length; q++) {
          const d = Math.max(b.trueValues[q]!, 1);
          const n = a.trueValues[q]!;
          halfWidths[q] = z * Math.sqrt(nvA / (d * d) + (n * n * nvB) / (d * d * d * d));
        }
        const plan: DerivedMetricPlan = {
          role: 'derived', id, op: 'ratio', numerator: num, denominator: den, denominatorFloor: 1, offset, trueValues,
          privacy: { epsilon: mTotal.epsilon, delta: mTotal.delta, confidence, halfWidths },
        };
        metrics.push(plan);
        return metrics.length - 1;
      };
      const ratioOf = (n: Float64Array, d: Float64Array, offset: number): Float64Array => n.map((x, q) => (d[q]! !== 0 ? x / d[q]! + offset : 0));
      let head: number;
      switch (m.kind) {
        case 'mean': {
          const mid = (m.privacy.clamp!.low + m.privacy.clamp!.high) / 2;
          const cnt = metrics[parts['count']!] as BaseMetricPlan;
          const sum = metrics[parts['sum']!] as BaseMetricPlan;
          head = derived(m.id, parts['sum']!, parts['count']!, mid, ratioOf(sum.trueValues, cnt.trueValues, mid));
          break;
        }
        case 'conversion': {
          const from = metrics[parts['from']!] as BaseMetricPlan;
          const to = metrics[parts['to']!] as BaseMetricPlan;
          head = derived(m.id, parts['to']!, parts['from']!, 0, ratioOf(to.trueValues, from.trueValues, 0));
          break;
        }
        case 'funnel': {
          const S = m.steps.length;
          const step = (s: number): number => parts[`step${s}`]!;
          for (let s = 2; s <= S; s++) {
            const a = metrics[step(s)] as BaseMetricPlan;
            const b = metrics[step(s - 1)] as BaseMetricPlan;
            parts[`rate${s}`] = derived(`${m.id}.rate${s}`, step(s), step(s - 1), 0, ratioOf(a.trueValues, b.trueValues, 0));
          }
          const last = metrics[step(S)] as BaseMetricPlan;
          const first = metrics[step(1)] as BaseMetricPlan;
          head = derived(m.id, step(S), step(1), 0, ratioOf(last.trueValues, first.trueValues, 0));
          break;
        }
        default:
          head = parts['']!;
      }
      parts[''] = head;
      headline.set(m.id, head);
      metricIndex[m.id] = { plan: gi, metric: head, parts };
      budgets[m.id] = { metricId: m.id, total: mTotal, role, selection: split.selection, noise: split.noise, aggregates: reports };
    }
    // Ratios of two metrics of the group.
    for (const r of g.ratios) {
      const num = headline.get(r.numerator)!;
      const den = headline.get(r.denominator)!;
      const a = metrics[num] as BaseMetricPlan;
      const b = metrics[den] as BaseMetricPlan;
      const bn = budgets[r.numerator]!.total;
      const bd = budgets[r.denominator]!.total;
      const privacy = { epsilon: bn.epsilon + bd.epsilon, delta: bn.delta + bd.delta };
      const nvA = noiseVariance(a.noise);
      const nvB = noiseVariance(b.noise);
      const halfWidths = new Float64Array(g.partitions.keys.length);
      const trueValues = new Float64Array(halfWidths.length);
      for (let q = 0; q < halfWidths.length; q++) {
        const d = Math.max(b.trueValues[q]!, 1);
        const n = a.trueValues[q]!;
        halfWidths[q] = z * Math.sqrt(nvA / (d * d) + (n * n * nvB) / (d * d * d * d));
        trueValues[q] = b.trueValues[q]! !== 0 ? n / b.trueValues[q]! : 0;
      }
      metrics.push({
        role: 'derived', id: r.id, op: 'ratio', numerator: num, denominator: den, denominatorFloor: 1, offset: 0, trueValues,
        privacy: { ...privacy, confidence, halfWidths },
      });
      metricIndex[r.id] = { plan: gi, metric: metrics.length - 1, parts: { '': metrics.length - 1 } };
      budgets[r.id] = { metricId: r.id, total: privacy, role: 'derived', selection: null, noise: { epsilon: 0, delta: 0 }, aggregates: [] };
      notes.push(`ratio ${r.id}: post-processing of ${r.numerator} and ${r.denominator} (privacy ε ${privacy.epsilon}, δ ${privacy.delta}); its budgetShare ${r.privacy.budgetShare} is not spent`);
    }

    // Selection.
    let selection: SelectionPlan = { kind: 'public' };
    let groupSelection: GroupSelection | null = null;
    if (!g.publicPartitions && driver) {
      const p = driver.metric.privacy;
      const units = driver.units;
      if (sharedDriver) {
        const mTotal = metricBudget(total, driver.metric);
        const sel = wrapSelection(`metric ${driver.metric.id}`, () => makePartitionSelection({
          strategy: p.selection as 'laplace' | 'gaussian', epsilon: mTotal.epsilon, delta: mTotal.delta,
          maxPartitionsContributed: p.maxPartitionsContributed, preThreshold: p.preThreshold,
        }));
        selection = { kind: 'threshold', threshold: sel.threshold!, preThreshold: sel.preThreshold, units, sharedMetric: sharedIndex! };
        groupSelection = {
          strategy: sel.strategy, driver: driver.metric.id, sharedWith: driver.metric.id, epsilon: mTotal.epsilon, delta: mTotal.delta,
          maxPartitionsContributed: sel.maxPartitionsContributed, preThreshold: sel.preThreshold, threshold: sel.threshold, noiseScale: sel.noiseScale,
        };
      } else {
        const strategy = p.selection as 'laplace' | 'gaussian' | 'optimal';
        const sel = wrapSelection(`partition selection of ${label}`, () => makePartitionSelection({
          strategy, epsilon: selBudget.epsilon, delta: selBudget.delta, maxPartitionsContributed: p.maxPartitionsContributed, preThreshold: p.preThreshold,
        }));
        if (strategy === 'optimal') {
          selection = { kind: 'probability', keepProbability: units.map((n) => sel.keepProbability(n)) };
        } else {
          const noise: NoiseSpec = strategy === 'laplace' ? { kind: 'laplace', scale: sel.noiseScale! } : { kind: 'gaussian', sigma: sel.noiseScale! };
          selection = { kind: 'threshold', threshold: sel.threshold!, preThreshold: sel.preThreshold, units, noise };
        }
        groupSelection = {
          strategy, driver: driver.metric.id, epsilon: selBudget.epsilon, delta: selBudget.delta,
          maxPartitionsContributed: sel.maxPartitionsContributed, preThreshold: sel.preThreshold, threshold: sel.threshold, noiseScale: sel.noiseScale,
        };
      }
    }
    const plan: SimulationPlan = { partitions: g.partitions.keys.length, metrics, selection, stats: structure.stats, scale: g.scale };
    plans.push({ by: g.by, partitions: g.partitions, publicPartitions: g.publicPartitions, metricIds: [...g.metrics.map((x) => x.metric.id), ...g.ratios.map((r) => r.id)], selection: groupSelection, plan });
  });
  return { plans, metricIndex, budgets, notes, structure };
}

/** Turns an analysis config and its metrics' contributions into simulation plans, one per `by` (see the module comment). */
export function buildPlan(opts: BuildPlanOptions): BuildPlanResult {
  return finishPlans(buildPlanStructure(opts));
}

/** The same plans under another total (ε, δ): noise and selection recomputed, contributions reused. */
export function rebudgetPlan(result: BuildPlanResult, budget: Partial<PrivacyBudget>): BuildPlanResult {
  return finishPlans(result.structure, budget);
}
