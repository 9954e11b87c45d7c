// Monte-Carlo simulation of a local-DP frequency metric (config kind 'local-frequency'): every
// unit reports its category through k-ary randomized response (dp/mechanisms/randomized-response)
// and the analyst debiases the report counts into frequency estimates f̂_v = (c_v/n − q)/(p − q),
// the unbiased estimator of Wang, Blocki, Li, Jha 2017, §4. Pure: a function of (input, seed).
//
// Per trial every unit responds once, in unit order: with probability p it reports its category,
// otherwise one of the k−1 others uniformly (the same draws as RandomizedResponse.respond, inlined
// so the inner loop allocates nothing and skips per-call validation). Trials run in fixed chunks
// of LOCAL_CHUNK_TRIALS; chunk c draws from makeRng(seed, 1_000_000 + c), so results depend on the
// seed only (not on how the trials are scheduled).
//
// Results per category v (true frequency f_v = n_v/n over the n reporting units):
// - bias, RMSE, Monte-Carlo std of f̂_v, and type-7 quantiles (p05/p50/p95) of the signed error;
// - P(|f̂_v − f_v| / f_v > x) for each x (null where f_v = 0; relative to |true|, no floor);
// - coverage of the stated (confidence) interval f̂_v ± z·√Var(n, clamp(f̂_v, 0, 1)), the
//   normal-approximation interval a user can compute from the release (plug-in variance);
// - beside them the analytic values: bias 0, std √estimatorVariance(n, f_v), the half-width at
//   f_v and P(|N(0, σ²)| > x·f_v).
// No exact shortcut is used: every response is drawn.

import { DpError, invalid, requireInteger, requirePositive } from '../errors';
import { normalQuantile, normalSf } from '../math/special';
import { makeRandomizedResponse } from '../dp/mechanisms/randomized-response';
import { makeRng } from '../rng';
import type { Seed } from '../rng';
import type { AbortSignalLike } from './engine';
import { SimulationAborted } from './engine';
import { quantile } from './select';

/** Trials per seeded stream. */
export const LOCAL_CHUNK_TRIALS = 64;
/** Offset of the local streams' path (makeRng(seed, LOCAL_STREAM_BASE + chunk)). */
export const LOCAL_STREAM_BASE = 1_000_000;

export interface LocalFrequencyOptions {
  /** Category index in [0, k) of each reporting unit. */
  readonly unitCategories: Int32Array;
  /** Number of categories, >= 2. */
  readonly k: number;
  /** Local ε of each unit's one response. */
  readonly epsilon: number;
  readonly trials: number;
  readonly seed: Seed;
  /** x values for P(|relative error| > x) (default 0.05, 0.1, 0.2). */
  readonly thresholds?: readonly number[];
  /** Confidence of the stated interval (default 0.95). */
  readonly confidence?: number;
  /** Checked between chunks; an aborted run throws signal.reason (or SimulationAborted). */
  readonly signal?: AbortSignalLike;
  readonly onProgress?: (p: { readonly trialsDone: number; readonly trialCount: number }) => void;
}

export interface LocalExceed {
  readonly x: number;
  /** Monte-Carlo P(|relative error| > x); null where the true frequency is 0. */
  readonly mc: number | null;
  readonly analytic: number | null;
}

export interface LocalCategoryResult {
  readonly index: number;
  readonly trueCount: number;
  readonly trueFrequency: number;
  readonly meanEstimate: number;
  readonly bias: number;
  /** Standard error of the Monte-Carlo bias (MC std / √trials). */
  readonly biasSe: number;
  readonly rmse: number;
  /** Monte-Carlo standard deviation of f̂_v (n − 1 denominator). */
  readonly mcStd: number;
  /** √estimatorVariance(n, f_v). */
  readonly analyticStd: number;
  readonly errorQuantiles: { readonly p05: number; readonly p50: number; readonly p95: number };
  readonly exceedProbability: readonly LocalExceed[];
  /** Share of trials whose stated interval holds the true frequency. */
  readonly coverage: number;
  /** Half-width of the interval at the true frequency (analytic). */
  readonly halfWidth: number;
}

export interface LocalFrequencyResult {
  readonly mechanism: 'randomized-response';
  readonly epsilon: number;
  readonly k: number;
  readonly p: number;
  readonly q: number;
  readonly units: number;
  readonly trials: number;
  readonly chunkTrials: number;
  readonly confidence: number;
  readonly thresholds: readonly number[];
  readonly categories: readonly LocalCategoryResult[];
  readonly summary: {
    /** √(mean over categories of the MSE), Monte-Carlo and analytic. */
    readonly rmse: { readonly mc: number; readonly analytic: number };
    /** Mean coverage over categories. */
    readonly coverage: number;
    /** Share of (trial, category) pairs with true frequency > 0 whose |relative error| <= x. */
    readonly withinShare: readonly { readonly x: number; readonly mc: number | null; readonly analytic: number | null }[];
  };
}

/** Simulates k-ary randomized response with debiasing (see the module comment). */
export function simulateLocalFrequency(opts: LocalFrequencyOptions): LocalFrequencyResult {
  const cats = opts.unitCategories;
  if (!(cats instanceof Int32Array)) throw invalid('unitCategories', cats, 'must be an Int32Array');
  const k = requireInteger('k', opts.k, 2);
  const trials = requireInteger('trials', opts.trials, 1);
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw invalid('confidence', confidence, 'must be in (0, 1)');
  const thresholds = [...(opts.thresholds ?? [0.05, 0.1, 0.2])];
  for (const x of thresholds) requirePositive('thresholds', x);
  const rr = makeRandomizedResponse({ epsilon: opts.epsilon, categories: k });
  const n = cats.length;
  if (n === 0) throw new DpError('InvalidParameter', 'a local-frequency simulation needs at least one reporting unit');
  const trueCounts = new Float64Array(k);
  for (let u = 0; u < n; u++) {
    const v = cats[u]!;
    if (!(v >= 0 && v < k)) throw invalid(`unitCategories[${u}]`, v, `must be in [0, ${k})`);
    trueCounts[v]! += 1;
  }
  const f = trueCounts.map((c) => c / n);
  const { p, q } = rr;
  const gap = -Math.expm1(-rr.epsilon) * p; // p − q without cancellation, as estimateFrequencies
  const invN = 1 / n;
  // Var[f̂_v] = a + b·f_v (randomizedResponseVariance).
  const a = (q * (1 - q)) / (n * gap * gap);
  const b = ((k - 2) * q) / (n * gap);
  const z = -normalQuantile((1 - confidence) / 2);
  const T = thresholds.length;

  const counts = new Int32Array(k);
  const errors = new Float64Array(k * trials);
  const sum = new Float64Array(k);
  const sumSq = new Float64Array(k);
  const covered = new Float64Array(k);
  const exceed = new Float64Array(k * T);
  const km1 = k - 1;
  const chunks = Math.ceil(trials / LOCAL_CHUNK_TRIALS);
  for (let c = 0; c < chunks; c++) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new SimulationAborted();
    const rng = makeRng(opts.seed, LOCAL_STREAM_BASE + c);
    const end = Math.min(trials, (c + 1) * LOCAL_CHUNK_TRIALS);
    for (let t = c * LOCAL_CHUNK_TRIALS; t < end; t++) {
      counts.fill(0);
      for (let u = 0; u < n; u++) {
        const v = cats[u]!;
        if (rng.nextDouble() < p) counts[v]!++;
        else {
          const o = rng.nextBelow(km1);
          counts[o >= v ? o + 1 : o]!++;
        }
      }
      for (let v = 0; v < k; v++) {
        const est = (counts[v]! * invN - q) / gap;
        const fv = f[v]!;
        const e = est - fv;
        errors[v * trials + t] = e;
        sum[v]! += e;
        sumSq[v]! += e * e;
        const fc = est < 0 ? 0 : est > 1 ? 1 : est;
        const hw = z * Math.sqrt(a + b * fc);
        if (Math.abs(e) <= hw) covered[v]! += 1;
        if (fv > 0) {
          const rel = Math.abs(e) / fv;
          for (let i = 0; i < T; i++) if (rel > thresholds[i]!) exceed[v * T + i]! += 1;
        }
      }
    }
    opts.onProgress?.({ trialsDone: end, trialCount: trials });
  }

  const categories: LocalCategoryResult[] = [];
  let mseMc = 0;
  let mseAn = 0;
  let coverage = 0;
  const withinMc = thresholds.map(() => 0);
  const withinAn = thresholds.map(() => 0);
  let positive = 0;
  for (let v = 0; v < k; v++) {
    const fv = f[v]!;
    const bias = sum[v]! / trials;
    const mse = sumSq[v]! / trials;
    const variance = trials > 1 ? Math.max(0, (sumSq[v]! - trials * bias * bias) / (trials - 1)) : 0;
    const anVar = a + b * fv;
    const anStd = Math.sqrt(anVar);
    const errs = errors.subarray(v * trials, (v + 1) * trials);
    const q50 = quantile(errs, trials, 0.5);
    const q05 = quantile(errs, trials, 0.05);
    const q95 = quantile(errs, trials, 0.95);
    const ex = thresholds.map((x, i) => ({
      x,
      mc: fv > 0 ? exceed[v * T + i]! / trials : null,
      analytic: fv > 0 ? 2 * normalSf((x * fv) / anStd) : null,
    }));
    if (fv > 0) {
      positive++;
      ex.forEach((e, i) => {
        withinMc[i]! += 1 - e.mc!;
        withinAn[i]! += 1 - e.analytic!;
      });
    }
    mseMc += mse;
    mseAn += anVar;
    coverage += covered[v]! / trials;
    categories.push({
      index: v,
      trueCount: trueCounts[v]!,
      trueFrequency: fv,
      meanEstimate: fv + bias,
      bias,
      biasSe: Math.sqrt(variance / trials),
      rmse: Math.sqrt(mse),
      mcStd: Math.sqrt(variance),
      analyticStd: anStd,
      errorQuantiles: { p05: q05, p50: q50, p95: q95 },
      exceedProbability: ex,
      coverage: covered[v]! / trials,
      halfWidth: z * anStd,
    });
  }
  return {
    mechanism: 'randomized-response',
    epsilon: rr.epsilon,
    k,
    p,
    q,
    units: n,
    trials,
    chunkTrials: LOCAL_CHUNK_TRIALS,
    confidence,
    thresholds,
    categories,
    summary: {
      rmse: { mc: Math.sqrt(mseMc / k), analytic: Math.sqrt(mseAn / k) },
      coverage: coverage / k,
      withinShare: thresholds.map((x, i) => ({ x, mc: positive > 0 ? withinMc[i]! / positive : null, analytic: positive > 0 ? withinAn[i]! / positive : null })),
    },
  };
}
