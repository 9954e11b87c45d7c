// `dpw simulate` and `dpw sweep`: the Monte-Carlo simulation of an analysis config on its sample
// (shared/node/simulate/service.ts), written as JSON (atomically: OUT.tmp, then renamed) with a
// short human summary on stdout.

import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DpError } from '../../../core/errors';
import type { Seed } from '../../../core/rng';
import type { ScaleOption } from '../../../core/simulate/plan-builder';
import { parseNumberList } from '../../../core/simulate/sweep';
import { DataError } from '../../data/errors';
import type { SimulationReport } from '../../simulate/report';
import { ConfigError, loadAnalysis, simulateAnalysis } from '../../simulate/service';
import type { LoadedAnalysis } from '../../simulate/service';
import type { SweepReport } from '../../simulate/sweep';
import { sweepAnalysis } from '../../simulate/sweep';
import type { Io, OptionSpec } from '../args';
import { integerFlag, numberFlag, parse, UsageError } from '../args';

const COMMON = `  --data FILE              the sample to use instead of the config's dataset.path
  --trials N               Monte-Carlo trials (required)
  --seed S                 seed (required): the same seed gives the same bits for any --workers
  --workers W              worker threads (default 1; 0 or 1: in-process, W >= 2: a pool of W threads)
  --confidence C           confidence level of the stated intervals (default 0.95)
  --threshold X,...        relative errors x for "within ±x" (default 0.05,0.1,0.2)
  --production-factor F    simulate production size: units resampled to F× the sample
  --production             production size from the config's dataset.sampleRate / productionUnits
  --peak-factor F          with production size: traffic multiplier of a peak period (default 1)
  --json OUT               write the JSON result to OUT (atomically)`;

export const simulateHelp = `Usage: dpw simulate CONFIG [--data FILE] --trials N --seed S [--workers W] [--confidence C]
                    [--threshold X,...] [--production-factor F] [--json OUT]

Simulates the private release of every metric of an analysis config on its sample, many times,
and reports per metric and cohort the release probability, bias, RMSE, relative errors, error
quantiles, P(|rel| > x), interval coverage and the analytic model's RMSE and keep probability;
per metric the share of cohorts within ±x, the value lost to suppression and the error
decomposition (clipping, bounding, noise, suppression).
${COMMON}
Exit status: 0 ok, 1 bad config or data (one line naming the file), 2 bad arguments.`;

export const sweepHelp = `Usage: dpw sweep CONFIG --epsilon E,... [--l0 N,...] [--linf N,...] [--pre-threshold N,...]
                 --trials N --seed S [--workers W] [--json OUT]

Simulates the config at every point of a grid: total ε (every metric's budget scales with it),
and L0 / L∞ / pre-threshold set for every metric. Contributions are loaded once, the analytic
model is re-evaluated per point, and every point's Monte-Carlo run uses the same seed (common
random numbers). Per point and metric: RMSE, median relative error, share within ±x, value lost
to suppression, and whether the point is Pareto-optimal in (ε, median relative error).
  --epsilon E,...          total ε values (required)
  --l0 N,...               L0 (max partitions per unit) values for every metric
  --linf N,...             L∞ (max rows per unit and partition) values for every metric
  --pre-threshold N,...    pre-threshold values for every metric
${COMMON}
Exit status: 0 ok, 1 bad config or data (one line naming the file), 2 bad arguments.`;

const OPTIONS: OptionSpec = {
  data: { type: 'string' }, trials: { type: 'string' }, seed: { type: 'string' }, workers: { type: 'string' },
  confidence: { type: 'string' }, threshold: { type: 'string' }, 'production-factor': { type: 'string' },
  production: { type: 'boolean' }, 'peak-factor': { type: 'string' }, json: { type: 'string' },
};

function parseSeed(raw: string | undefined): Seed {
  if (raw === undefined) throw new UsageError('--seed is required (e.g. --seed 1)');
  const s = raw.trim();
  if (s === '') throw new UsageError(`--seed ${JSON.stringify(raw)}: must not be empty`);
  if (/^\d+$/.test(s)) return Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s);
  return s;
}

function listFlag(values: Record<string, unknown>, name: string, integer: boolean): number[] | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  let list: number[];
  try {
    list = parseNumberList(`--${name}`, String(raw));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  for (const v of list) {
    if (integer ? !(Number.isSafeInteger(v) && v >= 1) : !(v > 0)) throw new UsageError(`--${name} ${JSON.stringify(String(raw))}: ${v} ${integer ? 'is not an integer >= 1' : 'is not > 0'}`);
  }
  if (new Set(list).size !== list.length) throw new UsageError(`--${name} ${JSON.stringify(String(raw))}: a value appears twice`);
  return list;
}

interface CommonArgs {
  readonly config: string;
  readonly dataPath?: string;
  readonly trials: number;
  readonly seed: Seed;
  readonly workers: number;
  readonly confidence?: number;
  readonly thresholds?: number[];
  readonly scale?: ScaleOption;
  readonly json?: string;
}

function commonArgs(values: Record<string, string | boolean | undefined>, positionals: string[], command: string): CommonArgs {
  if (positionals.length === 0) throw new UsageError(`CONFIG is required (dpw ${command} CONFIG ...)`);
  if (positionals.length > 1) throw new UsageError(`one CONFIG only, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  const trials = integerFlag(values, 'trials', 1);
  if (trials === undefined) throw new UsageError('--trials is required (e.g. --trials 1000)');
  const seed = parseSeed(values.seed as string | undefined);
  const workers = integerFlag(values, 'workers', 0, 1)!;
  if (workers > 256) throw new UsageError(`--workers ${JSON.stringify(String(values.workers))}: must be at most 256`);
  const confidence = numberFlag(values, 'confidence', 'open-unit');
  const thresholds = listFlag(values, 'threshold', false);
  const factor = numberFlag(values, 'production-factor', 'positive');
  const peak = numberFlag(values, 'peak-factor', 'positive');
  if (factor !== undefined && values.production) throw new UsageError('--production and --production-factor: give one of them');
  if (peak !== undefined && factor === undefined && !values.production) throw new UsageError(`--peak-factor ${JSON.stringify(String(values['peak-factor']))}: needs --production or --production-factor`);
  const scale: ScaleOption | undefined = factor !== undefined || values.production
    ? { kind: 'production', ...(factor !== undefined ? { factor } : {}), ...(peak !== undefined ? { peakFactor: peak } : {}) }
    : undefined;
  const json = values.json as string | undefined;
  if (json !== undefined) {
    if (json.trim() === '') throw new UsageError(`--json ${JSON.stringify(json)}: empty file name`);
    const dir = dirname(resolve(json));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--json ${JSON.stringify(json)}: directory ${JSON.stringify(dir)} does not exist`);
    if (existsSync(json) && statSync(json).isDirectory()) throw new UsageError(`--json ${JSON.stringify(json)}: is a directory`);
  }
  const dataPath = values.data as string | undefined;
  if (dataPath !== undefined && dataPath.trim() === '') throw new UsageError(`--data ${JSON.stringify(dataPath)}: empty file name`);
  return {
    config: positionals[0]!, trials, seed, workers,
    ...(dataPath !== undefined ? { dataPath } : {}),
    ...(confidence !== undefined ? { confidence } : {}),
    ...(thresholds ? { thresholds } : {}),
    ...(scale ? { scale } : {}),
    ...(json !== undefined ? { json } : {}),
  };
}

/** Writes text to `path` atomically: `path.tmp`, then renamed over `path`. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const v = x * 100;
  return `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)}%`;
}

/** An absolute error of a share, in percentage points. */
function pp(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)} pp` : '-';
}

function fmtEps(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

function printSummary(io: Io, r: SimulationReport): void {
  const xs = r.run.relativeErrorThresholds;
  io.out(`${r.config.path}: ${r.run.trials} trials, seed ${r.run.seed}, ${r.run.workers <= 1 ? 'in-process' : `${r.run.workers} workers`}; simulated ${r.scale.description}; total ε ${r.privacy.epsilon}, δ ${r.privacy.delta}; ${(r.timing.wallMs / 1000).toFixed(2)} s`);
  const w = Math.max(6, ...r.metrics.map((m) => m.id.length));
  io.out(`  ${'metric'.padEnd(w)}  ${'ε'.padStart(7)}  ${'median |rel|'.padStart(12)}  ${`within ${xs.map((x) => `±${pct(x)}`).join(' / ')}`.padEnd(28)}  suppressed`);
  for (const m of r.metrics) {
    const within = m.summary.withinShare.map((s) => pct(s.mc)).join(' / ');
    io.out(`  ${m.id.padEnd(w)}  ${fmtEps(m.privacy.epsilon).padStart(7)}  ${pct(m.summary.medianRelativeError).padStart(12)}  ${within.padEnd(28)}  ${pct(m.summary.valueLostToSuppression.mc)}`);
  }
  for (const m of r.local ?? []) {
    const within = m.summary.withinShare.map((s) => pct(s.mc)).join(' / ');
    io.out(`  ${m.id} (local DP, randomized response, local ε ${fmtEps(m.privacy.localEpsilon)}, ${m.mechanism.k} categories, ${m.units} units): rmse of shares ${pp(m.summary.rmse.mc)} (analytic ${pp(m.summary.rmse.analytic)}), within ${within}, coverage ${pct(m.summary.coverage)}`);
  }
}

function printSweep(io: Io, r: SweepReport): void {
  io.out(`${r.config.path}: ${r.points.length} points × ${r.run.trials} trials, seed ${r.run.seed} (common random numbers); ${(r.timing.wallMs / 1000).toFixed(2)} s`);
  for (const m of r.metrics) {
    const cells = r.points.map((p) => {
      const mp = p.metrics[m.id]!;
      const b = [p.bounds.l0 !== null ? `L0=${p.bounds.l0}` : '', p.bounds.linf !== null ? `L∞=${p.bounds.linf}` : '', p.bounds.preThreshold !== null ? `pre=${p.bounds.preThreshold}` : ''].filter(Boolean).join(',');
      return `ε${p.epsilon}${b ? `[${b}]` : ''}:${pct(mp.medianRelativeError)}${mp.pareto ? '*' : ''}`;
    });
    io.out(`  ${m.id}: ${cells.join('  ')}`);
  }
  io.out('  (median |relative error| per point; * = Pareto-optimal in (ε, error))');
}

async function withLoaded<T>(io: Io, command: string, args: CommonArgs, work: (a: LoadedAnalysis) => Promise<T>): Promise<T | number> {
  try {
    const analysis = await loadAnalysis(args.config, args.dataPath !== undefined ? { dataPath: args.dataPath } : {});
    return await work(analysis);
  } catch (e) {
    // Bad config or data (including a config the plan builder rejects): exit 1, one line.
    if (e instanceof ConfigError || e instanceof DataError || e instanceof DpError) {
      io.err(`dpw ${command}: ${e.message.split('\n')[0]}`);
      return 1;
    }
    throw e;
  }
}

export async function runSimulate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    io.out(simulateHelp);
    return 0;
  }
  const args = commonArgs(values, positionals, 'simulate');
  const r = await withLoaded(io, 'simulate', args, (analysis) => simulateAnalysis(analysis, {
    trials: args.trials, seed: args.seed, workers: args.workers,
    ...(args.confidence !== undefined ? { confidence: args.confidence } : {}),
    ...(args.thresholds ? { thresholds: args.thresholds } : {}),
    ...(args.scale ? { scale: args.scale } : {}),
  }));
  if (typeof r === 'number') return r;
  if (args.json !== undefined) writeAtomic(args.json, JSON.stringify(r));
  printSummary(io, r);
  if (args.json !== undefined) io.out(`wrote ${args.json}`);
  return 0;
}

export async function runSweep(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...OPTIONS, epsilon: { type: 'string' }, l0: { type: 'string' }, linf: { type: 'string' }, 'pre-threshold': { type: 'string' },
  });
  if (values.help) {
    io.out(sweepHelp);
    return 0;
  }
  const args = commonArgs(values, positionals, 'sweep');
  const epsilon = listFlag(values, 'epsilon', false);
  if (!epsilon) throw new UsageError('--epsilon is required (e.g. --epsilon 0.25,0.5,1,2,4)');
  const l0 = listFlag(values, 'l0', true);
  const linf = listFlag(values, 'linf', true);
  const preThreshold = listFlag(values, 'pre-threshold', true);
  const r = await withLoaded(io, 'sweep', args, (analysis) => sweepAnalysis(analysis, {
    trials: args.trials, seed: args.seed, workers: args.workers,
    axes: { epsilon, ...(l0 ? { l0 } : {}), ...(linf ? { linf } : {}), ...(preThreshold ? { preThreshold } : {}) },
    ...(args.confidence !== undefined ? { confidence: args.confidence } : {}),
    ...(args.thresholds ? { thresholds: args.thresholds } : {}),
    ...(args.scale ? { scale: args.scale } : {}),
  }));
  if (typeof r === 'number') return r;
  if (args.json !== undefined) writeAtomic(args.json, JSON.stringify(r));
  printSweep(io, r);
  if (args.json !== undefined) io.out(`wrote ${args.json}`);
  return 0;
}
