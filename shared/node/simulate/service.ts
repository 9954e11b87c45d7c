// The end-to-end simulation service: analysis config + sample → contributions (once) → plans →
// Monte-Carlo engine (in-process, or the worker pool) and the analytic model beside it → one
// JSON-serialisable report (report.ts). The CLI's `dpw simulate` / `dpw sweep` and the app call it.
//
// Determinism: group g of a run is simulated with the seed `${seed}:${g}`; the engine's result is
// a pure function of (plan, seed), bit-identical whatever the number of workers, so the report
// differs between worker counts only in `run.workers` and `timing`.
//
// Local-DP metrics (kind local-frequency) are not part of the plans: each unit's category is read
// once (data/local.ts) and simulated in-process by core/simulate/local.ts with the seed
// `${seed}:local:${metricId}`; they appear in the report's `local` section.

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateConfig } from '../../core/config/index';
import type { AnalysisConfig, LocalFrequencyMetric } from '../../core/config/schema';
import { isLocalMetric } from '../../core/config/schema';
import type { MetricContributions } from '../../core/data/contributions';
import { DpError } from '../../core/errors';
import type { Seed } from '../../core/rng';
import type { SimulationAccumulator } from '../../core/simulate/accumulator';
import { cloneAccumulator } from '../../core/simulate/accumulator';
import { analyzePlan } from '../../core/simulate/analytic';
import { simulateLocalFrequency } from '../../core/simulate/local';
import { runTrials } from '../../core/simulate/engine';
import type { SimulationProgress } from '../../core/simulate/engine';
import type { SimulationPlan } from '../../core/simulate/plan';
import type { BuildPlanResult, ScaleOption } from '../../core/simulate/plan-builder';
import { buildPlan, DEFAULT_ERROR_SAMPLES_PER_CELL } from '../../core/simulate/plan-builder';
import { summarize } from '../../core/simulate/stats';
import { computeContributions } from '../data/aggregate';
import { Engine } from '../data/engine';
import { checkColumns, openDataset } from '../data/ingest';
import type { LocalCategories } from '../data/local';
import { computeLocalCategories } from '../data/local';
import { analysisRequirements } from '../data/profile';
import { SimulationPool } from '../workers/pool';
import type { GroupRun, LocalRun, SimulationReport } from './report';
import { buildReport } from './report';
import { groupSeed, localSeed } from '../../core/simulate/seeds';

export { groupSeed, localSeed };

/** A problem with the analysis config file itself (missing, not JSON, invalid): bad input data. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface AnalysisProgress {
  readonly phase: 'load' | 'contributions' | 'simulate';
  /** 0..1, or null when unknown. */
  readonly fraction: number | null;
  readonly detail?: string;
}

export interface LoadAnalysisOptions {
  /** The sample file to use instead of config.dataset.path (relative to the working directory). */
  readonly dataPath?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: AnalysisProgress) => void;
}

export interface DatasetInfo {
  readonly path: string;
  readonly format: string;
  readonly rows: number;
  /** Distinct privacy units in the sample. */
  readonly units: number;
  /** Columns loaded (only the ones the analysis reads). */
  readonly columns: readonly string[];
}

export interface LoadedAnalysis {
  readonly configPath: string;
  readonly config: AnalysisConfig;
  /** Contributions of every metric but ratios (a ratio's parts are its referenced metrics). */
  readonly contributions: Readonly<Record<string, MetricContributions>>;
  /** Each unit's category of every local-frequency metric, by metric id. */
  readonly local?: Readonly<Record<string, LocalCategories>>;
  readonly dataset: DatasetInfo;
  readonly loadMs: number;
}

/** Reads and validates an analysis config (errors name the file and the JSON path). */
export function readConfig(configPath: string): AnalysisConfig {
  let text: string;
  try {
    if (statSync(configPath).isDirectory()) throw new ConfigError(configPath, 'is a directory, not a config file');
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(configPath, code === 'ENOENT' ? 'config file not found' : `cannot read the config file (${code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(configPath, `not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = validateConfig(json);
  if (!r.ok) throw new ConfigError(configPath, `invalid analysis config: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return r.config;
}

/** Config + sample → contributions of every metric (see LoadedAnalysis). */
export async function loadAnalysis(configPath: string, opts: LoadAnalysisOptions = {}): Promise<LoadedAnalysis> {
  const t0 = performance.now();
  const config = readConfig(configPath);
  const dataPath = opts.dataPath !== undefined ? resolve(opts.dataPath) : resolve(dirname(resolve(configPath)), config.dataset.path);
  const base = config.metrics.filter((m): m is Exclude<typeof m, { kind: 'ratio' | 'local-frequency' }> => m.kind !== 'ratio' && m.kind !== 'local-frequency');
  const localMetrics = config.metrics.filter(isLocalMetric);
  const requirements = analysisRequirements(config);
  const needed = [...new Set(requirements.map((r) => r.column))];
  const engine = await Engine.create({ memoryLimit: '1GB' });
  try {
    opts.onProgress?.({ phase: 'load', fraction: 0, detail: dataPath });
    const ds = await openDataset(dataPath, {
      engine,
      columns: needed,
      ...(config.dataset.format ? { format: config.dataset.format } : {}),
      ...(config.dataset.columns ? { columnTypes: config.dataset.columns } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: (p) => opts.onProgress!({ phase: 'load', fraction: p.fraction, detail: p.phase }) } : {}),
    });
    await checkColumns(ds, requirements, opts.signal);
    const contributions: Record<string, MetricContributions> = {};
    let done = 0;
    for (const m of base) {
      opts.onProgress?.({ phase: 'contributions', fraction: done / base.length, detail: m.id });
      contributions[m.id] = await engine.withConnection((conn) => computeContributions(conn, ds.table, config, m, { file: dataPath, ...(opts.signal ? { signal: opts.signal } : {}) }), opts.signal);
      done++;
    }
    const local: Record<string, LocalCategories> = {};
    for (const m of localMetrics) {
      opts.onProgress?.({ phase: 'contributions', fraction: null, detail: m.id });
      local[m.id] = await engine.withConnection((conn) => computeLocalCategories(conn, ds.table, config, m), opts.signal);
    }
    opts.onProgress?.({ phase: 'contributions', fraction: 1 });
    const unitRow = await engine.row(`SELECT count(DISTINCT "${config.privacyUnit.column.replace(/"/g, '""')}")::DOUBLE AS n FROM "${ds.table}"`);
    return {
      configPath,
      config,
      contributions,
      local,
      dataset: { path: dataPath, format: ds.format, rows: ds.rowCount, units: Number(unitRow?.['n'] ?? 0), columns: ds.columns.map((c) => c.name) },
      loadMs: performance.now() - t0,
    };
  } finally {
    engine.close();
  }
}

export interface SimulateOptions {
  readonly trials: number;
  readonly seed: Seed;
  /** Worker threads: <= 1 runs in-process (the calling thread), W > 1 a pool of W threads. */
  readonly workers: number;
  /**
   * Run on a worker pool of max(1, workers) threads even when workers <= 1 (default: workers > 1).
   * One pool serves every plan group of the run.
   */
  readonly usePool?: boolean;
  readonly confidence?: number;
  readonly thresholds?: readonly number[];
  readonly scale?: ScaleOption;
  readonly errorSamplesPerCell?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: SimulationRunProgress) => void;
}

/** Progress of a simulation, with the results so far (they converge as trials accumulate). */
export interface SimulationRunProgress extends AnalysisProgress {
  readonly trialsDone: number;
  readonly trialCount: number;
  /** The plan group running now. */
  readonly group: number;
  /** Summary of this group's trials so far (computed on demand: call it only when displaying). */
  readonly partial: () => ReturnType<typeof summarize>;
}


/** Plans of a loaded analysis (see plan-builder). */
export function planAnalysis(analysis: LoadedAnalysis, opts: Pick<SimulateOptions, 'confidence' | 'thresholds' | 'scale' | 'errorSamplesPerCell' | 'trials'>, config: AnalysisConfig = analysis.config): BuildPlanResult {
  return buildPlan({
    config,
    contributions: analysis.contributions,
    ...(opts.confidence !== undefined ? { confidence: opts.confidence } : {}),
    ...(opts.thresholds !== undefined ? { relativeErrorThresholds: opts.thresholds } : {}),
    ...(opts.scale ? { scale: opts.scale } : {}),
    sampleUnits: analysis.dataset.units,
    errorSamplesPerCell: opts.errorSamplesPerCell ?? Math.min(opts.trials, DEFAULT_ERROR_SAMPLES_PER_CELL),
  });
}

export interface GroupRunTiming {
  readonly runs: GroupRun[];
  readonly groupMs: number[];
  readonly analyticMs: number;
}

/** Runs the engine on every group of built plans and the analytic model beside it. */
export async function runGroups(built: BuildPlanResult, opts: SimulateOptions, analytic: (plan: SimulationPlan, g: number) => ReturnType<typeof analyzePlan> = (plan) => analyzePlan(plan)): Promise<GroupRunTiming> {
  const trials = opts.trials;
  const total = trials * built.plans.length;
  const usePool = opts.usePool ?? opts.workers > 1;
  const runs: GroupRun[] = [];
  const groupMs: number[] = [];
  let analyticMs = 0;
  // One pool for every group (the pool is reusable across runs).
  const pool = usePool ? new SimulationPool(Math.max(1, opts.workers)) : undefined;
  try {
  for (let g = 0; g < built.plans.length; g++) {
    const plan = built.plans[g]!.plan;
    const seed = groupSeed(opts.seed, g);
    const progress = opts.onProgress
      ? (p: SimulationProgress) => opts.onProgress!({
        phase: 'simulate', fraction: total > 0 ? (g * trials + p.trialsDone) / total : 1, trialsDone: g * trials + p.trialsDone, trialCount: total,
        detail: `group ${g + 1}/${built.plans.length}`, group: g, partial: () => summarize(cloneAccumulator(p.accumulator), plan),
      })
      : undefined;
    const t0 = performance.now();
    let acc: SimulationAccumulator;
    const runOpts = { trialCount: trials, ...(progress ? { onProgress: progress } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    if (pool) acc = await pool.run(plan, seed, runOpts);
    else acc = runTrials(plan, seed, runOpts);
    groupMs.push(performance.now() - t0);
    const t1 = performance.now();
    const an = analytic(plan, g);
    analyticMs += performance.now() - t1;
    runs.push({ seed, accumulator: acc, mc: summarize(acc, plan), analytic: an });
  }
  } finally {
    await pool?.close();
  }
  return { runs, groupMs, analyticMs };
}


/** Simulates every local-frequency metric of a loaded analysis (in-process; see core/simulate/local.ts). */
export function runLocal(analysis: LoadedAnalysis, opts: Pick<SimulateOptions, 'trials' | 'seed' | 'confidence' | 'thresholds' | 'signal'>): LocalRun[] {
  return analysis.config.metrics.filter(isLocalMetric).map((metric: LocalFrequencyMetric) => {
    const data = analysis.local?.[metric.id];
    if (!data) throw new DpError('InvalidParameter', `no unit categories for local-frequency metric ${JSON.stringify(metric.id)}`);
    const seed = localSeed(opts.seed, metric.id);
    const result = simulateLocalFrequency({
      unitCategories: data.unitCategories,
      k: metric.categories.length,
      epsilon: metric.privacy.localEpsilon,
      trials: opts.trials,
      seed,
      ...(opts.thresholds ? { thresholds: opts.thresholds } : {}),
      ...(opts.confidence !== undefined ? { confidence: opts.confidence } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { metric, seed, unitsMappedToOther: data.unitsMappedToOther, result };
  });
}

/** Simulates a loaded analysis and reports it (see the module comment and report.ts). */
export async function simulateAnalysis(analysis: LoadedAnalysis, opts: SimulateOptions): Promise<SimulationReport> {
  if (!Number.isSafeInteger(opts.trials) || opts.trials < 1) throw new DpError('InvalidParameter', `trials (${opts.trials}) must be an integer >= 1`);
  if (!Number.isSafeInteger(opts.workers) || opts.workers < 0) throw new DpError('InvalidParameter', `workers (${opts.workers}) must be an integer >= 0`);
  const t0 = performance.now();
  const built = planAnalysis(analysis, opts);
  const { runs, groupMs, analyticMs } = await runGroups(built, opts);
  const tl = performance.now();
  const local = runLocal(analysis, opts);
  const localMs = performance.now() - tl;
  const simulateMs = groupMs.reduce((a, b) => a + b, 0) + localMs;
  const report = buildReport({
    configPath: analysis.configPath,
    config: analysis.config,
    dataset: analysis.dataset,
    built,
    runs,
    seed: String(opts.seed),
    trials: opts.trials,
    workers: opts.workers,
    timing: { wallMs: 0, loadMs: analysis.loadMs, simulateMs, analyticMs, groupMs },
    local,
  });
  return { ...report, timing: { ...report.timing, wallMs: performance.now() - t0 + analysis.loadMs } };
}
