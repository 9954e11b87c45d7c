// The Monte-Carlo engine: simulate the whole private release of a plan many times and accumulate
// the error every metric shows, per trial (WORKLOAD.md §5) and per (metric, partition).
//
// A pure function of (plan, seed, trial range): trial t belongs to chunk ⌊t/64⌋, each chunk draws
// from its own stream makeRng(seed, chunk), and chunk accumulators are merged in chunk order, so
// the result has the same bits whatever the number of workers or the way ranges are split. No
// clocks, globals or IO: progress and cancellation are arguments (../shared/GUIDE.md "The core").
//
// One trial, in draw order:
//   1. values: each base metric's plan trueValues when it has no contributions (the exact
//      shortcut: bounds do not bind), else its bounding group's per-trial L0/L∞ sample (bounding.ts;
//      a group whose bounds do not bind is computed once: same values, no draws);
//   2. selection: the shared metric's noise on every partition (the released count and the
//      selection share one draw, WORKLOAD.md §4), or the selection's own noise, or a uniform per
//      partition for a keep probability; pre-threshold applied;
//   3. noise of the other base metrics, in plan order, on the released partitions (or on all with
//      samplers.suppressedCells = 'draw');
//   4. derived metrics from the same noisy draws, then post-processing of base metrics;
//   5. statistics over the released partitions.
// Hot loops run on typed arrays preallocated per run; nothing is allocated per trial.

import { DpError } from '../errors';
import { makeDiscreteGaussianSampler, addDiscreteGaussian, addDiscreteLaplace, addGaussianBoxMuller, addGaussianZiggurat, addLaplaceInverseCdf, addLaplaceZiggurat, zigguratWords } from './noise';
import type { Seed, Xoshiro128 } from '../rng';
import { makeRng } from '../rng';
import type { AccumulatorLayout, SimulationAccumulator } from './accumulator';
import {
  CHUNK_TRIALS,
  createAccumulator,
  H_SUPPRESSION,
  H_SUPPRESSION_SQ,
  H_TRIALS,
  H_TRIALS_EMPTY,
  H_TRIALS_USED,
  makeLayout,
  mergeAccumulator,
  N_CELL_FIELDS,
  N_TRIAL_STATS,
  resetAccumulator,
} from './accumulator';
import type { BoundingMember, PreparedBounding } from './bounding';
import { prepareBounding, sampleBounded } from './bounding';
import type { BaseMetricPlan, NoiseSpec, SimulationPlan } from './plan';
import { selectKth } from './select';

export { CHUNK_TRIALS } from './accumulator';

/** Where a base metric's per-trial values come from (the results name it). */
export type ValueSource =
  /** No contributions in the plan: trueValues are used (bounding not binding, the exact shortcut). */
  | 'true-values'
  /** Contributions given but no bound binds: the clamped sums are computed once (exact, no draws). */
  | 'deterministic-bounding'
  /** L0/L∞ sampling and clamping in every trial. */
  | 'sampled-bounding';

/** The AbortSignal fields the engine reads (the core has no DOM or Node types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export interface SimulationProgress {
  readonly trialsDone: number;
  readonly trialCount: number;
  /** The running total (do not mutate; clone it to keep it). */
  readonly accumulator: SimulationAccumulator;
}

export interface RunTrialsOptions {
  /** First trial; a multiple of CHUNK_TRIALS (default 0). */
  readonly firstTrial?: number;
  readonly trialCount: number;
  /** Called after each chunk. */
  readonly onProgress?: (progress: SimulationProgress) => void;
  /** Checked between chunks; an aborted run throws signal.reason (or an AbortError). */
  readonly signal?: AbortSignalLike;
}

/** The error thrown when a run is cancelled (name 'AbortError', as the DOM's). */
export class SimulationAborted extends Error {
  constructor(message = 'simulation cancelled') {
    super(message);
    this.name = 'AbortError';
  }
}

// Noise kinds, as small integers for the dispatch outside the hot loops.
const N_NONE = 0;
const N_LAPLACE_ZIG = 1;
const N_GAUSS_ZIG = 2;
const N_LAPLACE_ICDF = 3;
const N_GAUSS_BM = 4;
const N_DLAPLACE = 5;
const N_DGAUSS = 6;

// Selection kinds.
const S_PUBLIC = 0;
const S_SHARED = 1;
const S_OWN = 2;
const S_PROBABILITY = 3;

const Q05 = 0.05;
const Q50 = 0.5;
const Q95 = 0.95;

interface NoiseKernel {
  readonly code: number;
  readonly scale: number;
  readonly discreteGaussian: ((rng: Xoshiro128) => number) | null;
}

/** A plan checked and turned into flat arrays; cached per plan object. */
export interface PreparedPlan {
  readonly plan: SimulationPlan;
  readonly partitions: number;
  readonly metrics: number;
  readonly layout: AccumulatorLayout;
  readonly valueSources: readonly (ValueSource | null)[];
  /** truth[j·P + p]. */
  readonly truth: Float64Array;
  /** 1 / max(|truth|, floor). */
  readonly invRel: Float64Array;
  /** max(|truth|, floor): |relative error| > x iff |error| > x·relScale. */
  readonly relScale: Float64Array;
  /** Half-width per cell (NaN: none stated; coverage is then not counted). */
  readonly halfWidth: Float64Array;
  readonly hasHalfWidth: readonly boolean[];
  readonly thresholds: Float64Array;
  readonly samplesPerCell: number;
  readonly perPartition: boolean;
  readonly skipSuppressed: boolean;
  // base metrics, in plan order
  readonly baseMetrics: Int32Array;
  readonly baseNoise: readonly NoiseKernel[];
  readonly clampAtZero: Uint8Array;
  readonly roundRelease: Uint8Array;
  readonly sampledGroups: readonly PreparedBounding[];
  readonly deterministicGroups: readonly PreparedBounding[];
  /** Metric indices whose bounded values are sampled (the accumulator's bounded section order). */
  readonly sampledMetrics: Int32Array;
  // derived metrics
  readonly derivedMetrics: Int32Array;
  readonly derivedNum: Int32Array;
  readonly derivedDen: Int32Array;
  readonly derivedFloor: Float64Array;
  readonly derivedOffset: Float64Array;
  // selection
  readonly selection: number;
  readonly sharedMetric: number;
  readonly threshold: number;
  readonly preShift: number;
  /** 1 where the unit count passes the pre-threshold (and is > 0). */
  readonly eligible: Uint8Array;
  /** Unit count shifted by the pre-threshold (own-noise selection). */
  readonly selectionBase: Float64Array;
  readonly selectionNoise: NoiseKernel;
  readonly keepProbability: Float64Array;
}

function fail(message: string): never {
  throw new DpError('InvalidParameter', message);
}

function noiseKernel(spec: NoiseSpec, samplers: SimulationPlan['samplers'], where: string): NoiseKernel {
  const positive = (v: number, name: string): number => (v > 0 && Number.isFinite(v) ? v : fail(`${where}: noise ${name} (${v}) must be a finite number > 0`));
  switch (spec.kind) {
    case 'none':
      return { code: N_NONE, scale: 0, discreteGaussian: null };
    case 'laplace':
      return { code: samplers?.laplace === 'inverse-cdf' ? N_LAPLACE_ICDF : N_LAPLACE_ZIG, scale: positive(spec.scale, 'scale'), discreteGaussian: null };
    case 'gaussian':
      return { code: samplers?.gaussian === 'box-muller' ? N_GAUSS_BM : N_GAUSS_ZIG, scale: positive(spec.sigma, 'sigma'), discreteGaussian: null };
    case 'discrete-laplace':
      return { code: N_DLAPLACE, scale: positive(spec.scale, 'scale'), discreteGaussian: null };
    case 'discrete-gaussian':
      return { code: N_DGAUSS, scale: positive(spec.sigma, 'sigma'), discreteGaussian: makeDiscreteGaussianSampler(positive(spec.sigma, 'sigma')) };
    default:
      return fail(`${where}: unknown noise kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

const preparedCache = new WeakMap<SimulationPlan, PreparedPlan>();

/** Checks a plan and flattens it for the hot loops (cached per plan object). */
export function preparePlan(plan: SimulationPlan): PreparedPlan {
  const cached = preparedCache.get(plan);
  if (cached) return cached;
  const prepared = buildPrepared(plan);
  preparedCache.set(plan, prepared);
  return prepared;
}

function buildPrepared(plan: SimulationPlan): PreparedPlan {
  const P = plan.partitions;
  if (!Number.isSafeInteger(P) || P < 1) fail(`partitions (${P}) must be an integer >= 1`);
  const M = plan.metrics.length;
  if (M < 1) fail('a plan needs at least one metric');
  const stats = plan.stats;
  const floor = stats.relativeErrorFloor ?? 1;
  if (!(floor > 0)) fail(`relativeErrorFloor (${floor}) must be > 0`);
  const S = stats.errorSamplesPerCell;
  if (!Number.isSafeInteger(S) || S < 0) fail(`errorSamplesPerCell (${S}) must be an integer >= 0`);
  for (const x of stats.relativeErrorThresholds) if (!(x >= 0 && Number.isFinite(x))) fail(`relative error threshold (${x}) must be a finite number >= 0`);
  const perPartition = stats.perPartition ?? true;

  const truth = new Float64Array(M * P);
  const invRel = new Float64Array(M * P);
  const relScale = new Float64Array(M * P);
  const halfWidth = new Float64Array(M * P).fill(NaN);
  const hasHalfWidth: boolean[] = [];
  const valueSources: (ValueSource | null)[] = [];
  const base: number[] = [];
  const derived: number[] = [];
  plan.metrics.forEach((m, j) => {
    if (m.trueValues.length !== P) fail(`metric ${m.id}: trueValues has ${m.trueValues.length} values, the plan ${P} partitions`);
    truth.set(m.trueValues, j * P);
    const hw = m.role === 'base' ? m.privacy.halfWidth : m.privacy.halfWidths;
    if (hw !== undefined) {
      if (typeof hw === 'number') halfWidth.fill(hw, j * P, (j + 1) * P);
      else if (hw.length === P) halfWidth.set(hw, j * P);
      else fail(`metric ${m.id}: halfWidths has ${hw.length} values, the plan ${P} partitions`);
    }
    hasHalfWidth.push(hw !== undefined);
    (m.role === 'base' ? base : derived).push(j);
  });
  for (let i = 0; i < M * P; i++) {
    const s = Math.max(Math.abs(truth[i]!), floor);
    relScale[i] = s;
    invRel[i] = 1 / s;
  }

  // Base metrics: noise, post-processing, value sources and bounding groups.
  const baseMetrics = Int32Array.from(base);
  const baseNoise: NoiseKernel[] = [];
  const clampAtZero = new Uint8Array(base.length);
  const roundRelease = new Uint8Array(base.length);
  const groups = new Map<string, BoundingMember[]>();
  base.forEach((j, b) => {
    const m = plan.metrics[j] as BaseMetricPlan;
    baseNoise.push(noiseKernel(m.noise, plan.samplers, `metric ${m.id}`));
    clampAtZero[b] = m.post.clampAtZero ? 1 : 0;
    roundRelease[b] = m.post.round ? 1 : 0;
    if (!m.contributions) return;
    const key = m.boundingGroup !== undefined ? `g${m.boundingGroup}` : `m${j}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ metric: j, contributions: m.contributions, spec: m.bounding });
  });
  plan.metrics.forEach((m) => valueSources.push(m.role === 'base' ? 'true-values' : null));
  const sampledGroups: PreparedBounding[] = [];
  const deterministicGroups: PreparedBounding[] = [];
  const sampledMetrics: number[] = [];
  for (const members of groups.values()) {
    const bd = prepareBounding(members, P);
    (bd.kind === 'sampled' ? sampledGroups : deterministicGroups).push(bd);
    for (const mem of members) {
      valueSources[mem.metric] = bd.kind === 'sampled' ? 'sampled-bounding' : 'deterministic-bounding';
      if (bd.kind === 'sampled') sampledMetrics.push(mem.metric);
    }
  }

  // Derived metrics.
  const derivedNum = new Int32Array(derived.length);
  const derivedDen = new Int32Array(derived.length);
  const derivedFloor = new Float64Array(derived.length);
  const derivedOffset = new Float64Array(derived.length);
  derived.forEach((j, d) => {
    const m = plan.metrics[j]!;
    if (m.role !== 'derived') return;
    if (m.op !== 'ratio') fail(`metric ${m.id}: unknown derived op ${JSON.stringify(m.op)}`);
    for (const [name, k] of [['numerator', m.numerator], ['denominator', m.denominator]] as const) {
      if (!Number.isInteger(k) || plan.metrics[k]?.role !== 'base') fail(`metric ${m.id}: ${name} (${k}) must be the index of a base metric`);
    }
    derivedNum[d] = m.numerator;
    derivedDen[d] = m.denominator;
    derivedFloor[d] = m.denominatorFloor;
    derivedOffset[d] = m.offset;
  });

  // Selection.
  const sel = plan.selection;
  let selection = S_PUBLIC;
  let sharedMetric = -1;
  let threshold = 0;
  let preShift = 0;
  const eligible = new Uint8Array(P).fill(1);
  const selectionBase = new Float64Array(P);
  let selectionNoise: NoiseKernel = { code: N_NONE, scale: 0, discreteGaussian: null };
  let keepProbability: Float64Array = new Float64Array(0);
  if (sel.kind === 'threshold') {
    if (!Number.isFinite(sel.threshold)) fail(`selection threshold (${sel.threshold}) must be finite`);
    if (!Number.isInteger(sel.preThreshold) || sel.preThreshold < 1) fail(`preThreshold (${sel.preThreshold}) must be an integer >= 1`);
    if (sel.units.length !== P) fail(`selection units has ${sel.units.length} values, the plan ${P} partitions`);
    threshold = sel.threshold;
    preShift = sel.preThreshold - 1;
    for (let p = 0; p < P; p++) {
      const n = sel.units[p]!;
      eligible[p] = n >= sel.preThreshold && n > 0 ? 1 : 0;
      selectionBase[p] = n - preShift;
    }
    if (sel.sharedMetric !== undefined) {
      if (!Number.isInteger(sel.sharedMetric) || plan.metrics[sel.sharedMetric]?.role !== 'base') fail(`selection sharedMetric (${sel.sharedMetric}) must be the index of a base metric`);
      selection = S_SHARED;
      sharedMetric = sel.sharedMetric;
    } else {
      if (!sel.noise) fail('a threshold selection needs sharedMetric or its own noise');
      selection = S_OWN;
      selectionNoise = noiseKernel(sel.noise, plan.samplers, 'selection');
    }
  } else if (sel.kind === 'probability') {
    if (sel.keepProbability.length !== P) fail(`keepProbability has ${sel.keepProbability.length} values, the plan ${P} partitions`);
    selection = S_PROBABILITY;
    keepProbability = sel.keepProbability;
  } else if (sel.kind !== 'public') {
    fail(`unknown selection kind ${JSON.stringify((sel as { kind: unknown }).kind)}`);
  }

  const layout = makeLayout({
    metrics: M,
    partitions: P,
    thresholds: stats.relativeErrorThresholds.length,
    samplesPerCell: S,
    perPartition,
    boundedMetrics: sampledMetrics,
  });
  return {
    plan,
    partitions: P,
    metrics: M,
    layout,
    valueSources,
    truth,
    invRel,
    relScale,
    halfWidth,
    hasHalfWidth,
    thresholds: Float64Array.from(stats.relativeErrorThresholds),
    samplesPerCell: S,
    perPartition,
    skipSuppressed: (plan.samplers?.suppressedCells ?? 'skip') === 'skip',
    baseMetrics,
    baseNoise,
    clampAtZero,
    roundRelease,
    sampledGroups,
    deterministicGroups,
    sampledMetrics: Int32Array.from(sampledMetrics),
    derivedMetrics: Int32Array.from(derived),
    derivedNum,
    derivedDen,
    derivedFloor,
    derivedOffset,
    selection,
    sharedMetric,
    threshold,
    preShift,
    eligible,
    selectionBase,
    selectionNoise,
    keepProbability,
  };
}

/** Preallocated per-run buffers (nothing is allocated per trial). */
interface Scratch {
  readonly values: Float64Array;
  readonly noisy: Float64Array;
  readonly words: Uint32Array;
  readonly uni: Float64Array;
  readonly all: Int32Array;
  readonly kept: Int32Array;
  readonly buf: Float64Array;
  readonly br0: Float64Array;
  readonly br1: Float64Array;
  readonly br2: Float64Array;
  /** Per metric and quantile: the last value found and the bracket's relative half-width. */
  readonly center: Float64Array;
  readonly width: Float64Array;
  readonly q: Float64Array;
  readonly stat: Float64Array;
  readonly selNoisy: Float64Array;
}

function makeScratch(pp: PreparedPlan): Scratch {
  const P = pp.partitions;
  const M = pp.metrics;
  const values = new Float64Array(M * P);
  for (let b = 0; b < pp.baseMetrics.length; b++) {
    const j = pp.baseMetrics[b]!;
    values.set(pp.truth.subarray(j * P, (j + 1) * P), j * P);
  }
  for (const g of pp.deterministicGroups) for (let k = 0; k < g.metrics.length; k++) values.set(g.fixed.subarray(k * P, (k + 1) * P), g.metrics[k]! * P);
  const all = new Int32Array(P);
  for (let p = 0; p < P; p++) all[p] = p;
  return {
    values,
    noisy: new Float64Array(M * P),
    words: new Uint32Array(zigguratWords(P) + 4),
    uni: new Float64Array(2 * P + 2),
    all,
    kept: new Int32Array(P),
    buf: new Float64Array(P),
    br0: new Float64Array(P),
    br1: new Float64Array(P),
    br2: new Float64Array(P),
    center: new Float64Array(3 * M).fill(NaN),
    width: new Float64Array(3 * M).fill(0.25),
    q: new Float64Array(3),
    stat: new Float64Array(N_TRIAL_STATS),
    selNoisy: new Float64Array(P),
  };
}

/** out[o + p] = base[o + p] + noise for p in ids[0..n). */
function addNoise(k: NoiseKernel, rng: Xoshiro128, sc: Scratch, ids: Int32Array, n: number, base: Float64Array, out: Float64Array, o: number): void {
  switch (k.code) {
    case N_LAPLACE_ZIG:
      addLaplaceZiggurat(rng, sc.words, ids, n, base, out, o, k.scale);
      return;
    case N_GAUSS_ZIG:
      addGaussianZiggurat(rng, sc.words, ids, n, base, out, o, k.scale);
      return;
    case N_LAPLACE_ICDF:
      addLaplaceInverseCdf(rng, sc.uni, ids, n, base, out, o, k.scale);
      return;
    case N_GAUSS_BM:
      addGaussianBoxMuller(rng, sc.uni, ids, n, base, out, o, k.scale);
      return;
    case N_DLAPLACE:
      addDiscreteLaplace(rng, sc.uni, ids, n, base, out, o, k.scale);
      return;
    case N_DGAUSS:
      addDiscreteGaussian(rng, k.discreteGaussian!, ids, n, base, out, o);
      return;
    default:
      for (let i = 0; i < n; i++) out[o + ids[i]!] = base[o + ids[i]!]!;
  }
}

/** Selection of one trial: fills sc.kept and returns how many partitions are released. */
function selectPartitions(pp: PreparedPlan, rng: Xoshiro128, sc: Scratch): number {
  const P = pp.partitions;
  const kept = sc.kept;
  const elig = pp.eligible;
  let m = 0;
  switch (pp.selection) {
    case S_PUBLIC:
      kept.set(sc.all);
      return P;
    case S_SHARED: {
      const j = pp.sharedMetric;
      const b = pp.baseMetrics.indexOf(j);
      addNoise(pp.baseNoise[b]!, rng, sc, sc.all, P, sc.values, sc.noisy, j * P);
      const noisy = sc.noisy;
      const o = j * P;
      const t = pp.threshold + pp.preShift;
      for (let p = 0; p < P; p++) {
        kept[m] = p;
        // Branch-free compaction: the index advances by the keep decision (0 or 1).
        m += elig[p]! & ((noisy[o + p]! > t) as unknown as number);
      }
      return m;
    }
    case S_OWN: {
      const sn = sc.selNoisy;
      addNoise(pp.selectionNoise, rng, sc, sc.all, P, pp.selectionBase, sn, 0);
      const t = pp.threshold;
      for (let p = 0; p < P; p++) {
        kept[m] = p;
        m += elig[p]! & ((sn[p]! > t) as unknown as number);
      }
      return m;
    }
    default: {
      const u = sc.uni;
      rng.fillOpen01(u, 0, P);
      const kp = pp.keepProbability;
      for (let p = 0; p < P; p++) {
        kept[m] = p;
        m += (u[p]! < kp[p]!) as unknown as number;
      }
      return m;
    }
  }
}

/**
 * Per-trial statistics of one metric over the m released partitions (WORKLOAD.md §5) into sc.stat:
 * rmse, mare, and the type-7 p05/p50/p95 of |error|.
 *
 * The quantiles use brackets: the loop that computes the errors also collects, for each quantile,
 * the values inside [c(1−r), c(1+r)] around c, a moving average of its past values, and counts
 * the values below. When the wanted ranks fall inside the brackets (about 98% of trials), only
 * those few values are searched; otherwise the whole buffer is, for the quantile that missed. Either
 * way the result is the exact order statistic, so the path taken never changes a bit of the output.
 * The relative half-width r adapts: ×0.995 on a hit, ×1.25 on a miss (about 2% misses).
 */
function metricStats(pp: PreparedPlan, sc: Scratch, rel: Float64Array, o: number, m: number, j: number): void {
  const tr = pp.truth;
  const inv = pp.invRel;
  const kept = sc.kept;
  const buf = sc.buf;
  const br0 = sc.br0;
  const br1 = sc.br1;
  const br2 = sc.br2;
  const center = sc.center;
  const width = sc.width;
  const c0 = center[3 * j]!;
  const c1 = center[3 * j + 1]!;
  const c2 = center[3 * j + 2]!;
  const lo0 = c0 - c0 * width[3 * j]!;
  const hi0 = c0 + c0 * width[3 * j]!;
  const lo1 = c1 - c1 * width[3 * j + 1]!;
  const hi1 = c1 + c1 * width[3 * j + 1]!;
  const lo2 = c2 - c2 * width[3 * j + 2]!;
  const hi2 = c2 + c2 * width[3 * j + 2]!;
  let sse = 0;
  let sre = 0;
  let n0 = 0;
  let n1 = 0;
  let n2 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let k = 0; k < m; k++) {
    const q = o + kept[k]!;
    const ae = Math.abs(rel[q]! - tr[q]!);
    sse += ae * ae;
    sre += ae * inv[q]!;
    // Comparisons used as 0/1 (no branches): store unconditionally, advance when inside.
    br0[n0] = ae;
    n0 += ((ae >= lo0) as unknown as number) & ((ae <= hi0) as unknown as number);
    b0 += (ae < lo0) as unknown as number;
    br1[n1] = ae;
    n1 += ((ae >= lo1) as unknown as number) & ((ae <= hi1) as unknown as number);
    b1 += (ae < lo1) as unknown as number;
    br2[n2] = ae;
    n2 += ((ae >= lo2) as unknown as number) & ((ae <= hi2) as unknown as number);
    b2 += (ae < lo2) as unknown as number;
  }
  const stat = sc.stat;
  stat[0] = Math.sqrt(sse / m);
  stat[1] = sre / m;

  const h0 = (m - 1) * Q05;
  const h1 = (m - 1) * Q50;
  const h2 = (m - 1) * Q95;
  const k0 = Math.floor(h0);
  const k1 = Math.floor(h1);
  const k2 = Math.floor(h2);
  const f0 = h0 - k0;
  const f1 = h1 - k1;
  const f2 = h2 - k2;
  // Ranks needed: k and, when interpolating, k + 1.
  const e0 = f0 > 0 && k0 + 1 < m ? 1 : 0;
  const e1 = f1 > 0 && k1 + 1 < m ? 1 : 0;
  const e2 = f2 > 0 && k2 + 1 < m ? 1 : 0;
  const hit0 = b0 <= k0 && k0 + e0 < b0 + n0;
  const hit1 = b1 <= k1 && k1 + e1 < b1 + n1;
  const hit2 = b2 <= k2 && k2 + e2 < b2 + n2;
  if (!(hit0 && hit1 && hit2)) {
    // A bracket missed: search the whole buffer for that quantile (selectKth on all m values).
    for (let k = 0; k < m; k++) {
      const q = o + kept[k]!;
      buf[k] = Math.abs(rel[q]! - tr[q]!);
    }
  }
  stat[2] = hit0 ? bracketQuantile(br0, n0, k0 - b0, f0, e0) : bracketQuantile(buf, m, k0, f0, e0);
  stat[3] = hit1 ? bracketQuantile(br1, n1, k1 - b1, f1, e1) : bracketQuantile(buf, m, k1, f1, e1);
  stat[4] = hit2 ? bracketQuantile(br2, n2, k2 - b2, f2, e2) : bracketQuantile(buf, m, k2, f2, e2);
  // Centre on a moving average of the past values: it varies less than the last value alone, so
  // the brackets can be narrower for the same miss rate.
  for (let i = 0; i < 3; i++) {
    const c = center[3 * j + i]!;
    const v = stat[2 + i]!;
    center[3 * j + i] = c === c ? c + 0.2 * (v - c) : v;
  }
  width[3 * j] = hit0 ? width[3 * j]! * 0.995 : width[3 * j]! * 1.25;
  width[3 * j + 1] = hit1 ? width[3 * j + 1]! * 0.995 : width[3 * j + 1]! * 1.25;
  width[3 * j + 2] = hit2 ? width[3 * j + 2]! * 0.995 : width[3 * j + 2]! * 1.25;
}

/** The type-7 value at local rank k of a[0..n) (with the rank k+1 neighbour when e = 1). */
function bracketQuantile(a: Float64Array, n: number, k: number, f: number, e: number): number {
  selectKth(a, 0, n, k);
  const v = a[k]!;
  if (e === 0) return v;
  let next = a[k + 1]!;
  for (let i = k + 2; i < n; i++) {
    const x = a[i]!;
    next = x < next ? x : next;
  }
  return v + f * (next - v);
}

/** Per-(metric, partition) sums of one metric over the released partitions. */
function cellStats(pp: PreparedPlan, sc: Scratch, sums: Float64Array, rel: Float64Array, o: number, m: number): void {
  const L = pp.layout;
  const MP = L.metrics * L.partitions;
  const base = L.cells + o;
  const tr = pp.truth;
  const hw = pp.halfWidth;
  const rs = pp.relScale;
  const kept = sc.kept;
  const fE = base;
  const fE2 = base + MP;
  const fAbs = base + 2 * MP;
  const fCov = base + 3 * MP;
  for (let k = 0; k < m; k++) {
    const p = kept[k]!;
    const q = o + p;
    const e = rel[q]! - tr[q]!;
    const ae = Math.abs(e);
    sums[fE + p]! += e;
    sums[fE2 + p]! += e * e;
    sums[fAbs + p]! += ae;
    sums[fCov + p]! += (ae <= hw[q]!) as unknown as number;
  }
  const th = pp.thresholds;
  for (let x = 0; x < th.length; x++) {
    const f = base + (N_CELL_FIELDS + x) * MP;
    const t = th[x]!;
    for (let k = 0; k < m; k++) {
      const p = kept[k]!;
      const q = o + p;
      sums[f + p]! += (Math.abs(rel[q]! - tr[q]!) > t * rs[q]!) as unknown as number;
    }
  }
}

/** Runs trials [t0, t1) of chunk `chunk` (t0 may be inside the chunk only if earlier trials were run on the same rng). */
function runTrialRange(pp: PreparedPlan, sc: Scratch, rng: Xoshiro128, t0: number, t1: number, acc: SimulationAccumulator): void {
  const P = pp.partitions;
  const M = pp.metrics;
  const L = pp.layout;
  const sums = acc.sums;
  const values = sc.values;
  const noisy = sc.noisy;
  const kept = sc.kept;
  const stat = sc.stat;
  const S = pp.samplesPerCell;
  const nb = pp.baseMetrics.length;
  for (let t = t0; t < t1; t++) {
    // 1. bounded values
    for (let g = 0; g < pp.sampledGroups.length; g++) sampleBounded(pp.sampledGroups[g]!, rng, values);
    // 2. selection
    const m = selectPartitions(pp, rng, sc);
    // 3. noise of the other base metrics
    const ids = pp.skipSuppressed ? kept : sc.all;
    const n = pp.skipSuppressed ? m : P;
    for (let b = 0; b < nb; b++) {
      const j = pp.baseMetrics[b]!;
      if (j === pp.sharedMetric) continue;
      addNoise(pp.baseNoise[b]!, rng, sc, ids, n, values, noisy, j * P);
    }
    // 4. derived metrics from the raw noisy values, then post-processing of base metrics
    for (let d = 0; d < pp.derivedMetrics.length; d++) {
      const od = pp.derivedMetrics[d]! * P;
      const on = pp.derivedNum[d]! * P;
      const oq = pp.derivedDen[d]! * P;
      const fl = pp.derivedFloor[d]!;
      const off = pp.derivedOffset[d]!;
      for (let k = 0; k < m; k++) {
        const p = kept[k]!;
        const den = noisy[oq + p]!;
        noisy[od + p] = noisy[on + p]! / (den > fl ? den : fl) + off;
      }
    }
    for (let b = 0; b < nb; b++) {
      const cz = pp.clampAtZero[b] === 1;
      const rd = pp.roundRelease[b] === 1;
      if (!cz && !rd) continue;
      const o = pp.baseMetrics[b]! * P;
      for (let k = 0; k < m; k++) {
        const q = o + kept[k]!;
        let x = noisy[q]!;
        if (cz && x < 0) x = 0;
        if (rd) x = Math.round(x);
        noisy[q] = x;
      }
    }
    // 5. statistics
    const supp = (P - m) / P;
    sums[H_TRIALS]! += 1;
    sums[H_SUPPRESSION]! += supp;
    sums[H_SUPPRESSION_SQ]! += supp * supp;
    for (let k = 0; k < m; k++) sums[L.kept + kept[k]!]! += 1;
    for (let i = 0; i < pp.sampledMetrics.length; i++) {
      const o = pp.sampledMetrics[i]! * P;
      const sb = L.bounded + 2 * i * P;
      for (let p = 0; p < P; p++) {
        const v = values[o + p]!;
        sums[sb + p]! += v;
        sums[sb + P + p]! += v * v;
      }
    }
    if (m === 0) {
      sums[H_TRIALS_EMPTY]! += 1;
      continue;
    }
    sums[H_TRIALS_USED]! += 1;
    for (let j = 0; j < M; j++) {
      const o = j * P;
      metricStats(pp, sc, noisy, o, m, j);
      const ts = L.trialStats + j * N_TRIAL_STATS * 2;
      for (let s = 0; s < N_TRIAL_STATS; s++) {
        const v = stat[s]!;
        sums[ts + 2 * s]! += v;
        sums[ts + 2 * s + 1]! += v * v;
      }
      if (pp.perPartition) cellStats(pp, sc, sums, noisy, o, m);
      if (t < S && acc.samples.length > 0) {
        for (let k = 0; k < m; k++) {
          const p = kept[k]!;
          acc.samples[(o + p) * S + t] = noisy[o + p]! - pp.truth[o + p]!;
        }
      }
    }
  }
  acc.trialCount += t1 - t0;
}

function abortError(signal: AbortSignalLike): unknown {
  return signal.reason ?? new SimulationAborted();
}

function checkRange(firstTrial: number, trialCount: number): void {
  if (!Number.isSafeInteger(firstTrial) || firstTrial < 0 || firstTrial % CHUNK_TRIALS !== 0) {
    fail(`firstTrial (${firstTrial}) must be a non-negative multiple of ${CHUNK_TRIALS} (chunk-aligned ranges keep runs bit-identical)`);
  }
  if (!Number.isSafeInteger(trialCount) || trialCount < 0) fail(`trialCount (${trialCount}) must be an integer >= 0`);
}

/** A reusable runner of whole chunks for one plan and seed (the worker handler keeps one). */
export interface ChunkRunner {
  readonly prepared: PreparedPlan;
  /** Trials [chunk·64, min(chunk·64 + 64, end)) into a fresh accumulator of that range. */
  runChunk(chunk: number, end: number): SimulationAccumulator;
}

export function makeChunkRunner(plan: SimulationPlan, seed: Seed): ChunkRunner {
  const pp = preparePlan(plan);
  const sc = makeScratch(pp);
  return {
    prepared: pp,
    runChunk(chunk: number, end: number): SimulationAccumulator {
      const t0 = chunk * CHUNK_TRIALS;
      const t1 = Math.min(t0 + CHUNK_TRIALS, end);
      const acc = createAccumulator(pp.layout, t0);
      if (t1 > t0) runTrialRange(pp, sc, makeRng(seed, chunk), t0, t1, acc);
      return acc;
    },
  };
}

/** An empty accumulator for the plan, starting at firstTrial (the identity of merging). */
export function emptyAccumulator(plan: SimulationPlan, firstTrial = 0): SimulationAccumulator {
  return createAccumulator(preparePlan(plan).layout, firstTrial);
}

/**
 * Simulates trials [firstTrial, firstTrial + trialCount) of the plan. The result is the in-order
 * merge of the chunks' accumulators, so it equals, bit for bit, merging the chunk results of
 * any split of the same range (worker pool).
 */
export function runTrials(plan: SimulationPlan, seed: Seed, opts: RunTrialsOptions): SimulationAccumulator {
  const firstTrial = opts.firstTrial ?? 0;
  const trialCount = opts.trialCount;
  checkRange(firstTrial, trialCount);
  const pp = preparePlan(plan);
  const sc = makeScratch(pp);
  const end = firstTrial + trialCount;
  const total = createAccumulator(pp.layout, firstTrial);
  // One chunk accumulator reused for chunks past the error-sample window; fresh ones before it.
  let reusable: SimulationAccumulator | null = null;
  for (let t0 = firstTrial; t0 < end; t0 += CHUNK_TRIALS) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const t1 = Math.min(t0 + CHUNK_TRIALS, end);
    let chunkAcc: SimulationAccumulator;
    if (t0 < pp.samplesPerCell) chunkAcc = createAccumulator(pp.layout, t0);
    else chunkAcc = reusable ? resetAccumulator(reusable, t0) : (reusable = createAccumulator(pp.layout, t0));
    runTrialRange(pp, sc, makeRng(seed, t0 / CHUNK_TRIALS), t0, t1, chunkAcc);
    mergeAccumulator(total, chunkAcc);
    opts.onProgress?.({ trialsDone: t1 - firstTrial, trialCount, accumulator: total });
  }
  return total;
}
