// `dpw bench workload`: the reference Monte-Carlo workload of ../shared/bench/WORKLOAD.md run by
// the engine's own code path (buildWorkloadPlan → runTrials, or the worker pool around the same
// handler), writing the JSON of WORKLOAD.md §6 for ../shared/bench/compare.sh.

import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { SimulationAccumulator } from '../../../core/simulate/accumulator';
import { preparePlan, runTrials } from '../../../core/simulate/engine';
import { addGaussianBoxMuller, addGaussianZiggurat, addLaplaceInverseCdf, addLaplaceZiggurat, zigguratWords } from '../../../core/simulate/noise';
import type { SamplerOptions } from '../../../core/simulate/plan';
import { buildWorkloadPlan, WORKLOAD_METRICS, workloadChecksums, workloadReport, workloadTruth } from '../../../core/simulate/workload';
import { makeRng } from '../../../core/rng';
import type { Seed } from '../../../core/rng';
import { workerEntry } from '../../workers/entry';
import { SimulationPool } from '../../workers/pool';
import type { Io } from '../args';
import { choiceFlag, integerFlag, parse, UsageError } from '../args';

export const benchHelp = `Usage: dpw bench workload [--workers W] --trials N [--json FILE] [--name NAME] [--seed S]
                          [--mode workload|noise] [--samples N] [--sampler ziggurat|literal]
                          [--suppressed skip|draw] [--per-partition]

Runs the reference workload of WORKLOAD.md (500 partitions, 12 metrics, Laplace thresholding) with
the simulation engine and writes its JSON (WORKLOAD.md §6) to FILE.
  --workers W      worker threads (default 1); 0 runs on the calling thread
  --trials N       trials (default 10000)
  --seed S         seed (default 12345)
  --name NAME      "impl" in the JSON (default dpw-<W>w)
  --mode noise     raw noise throughput: N Laplace(1) then N N(0,1) draws (--samples, default
                   50,000,000) with the engine's kernels, on the calling thread
  --sampler        ziggurat (default) or literal: inverse-CDF Laplace and Box–Muller (WORKLOAD.md §3)
  --suppressed     skip (default): no noise for cells the selection suppressed; draw: draw it
                   anyway, as the reference kernels do
  --per-partition  also accumulate the per-(metric, partition) statistics
wall_s spans the first trial to the merged result, worker start-up included (WORKLOAD.md §7).`;

function parseSeed(raw: string | undefined): Seed {
  if (raw === undefined) return 12345;
  const v = Number(raw);
  if (/^\d+$/.test(raw.trim()) && Number.isSafeInteger(v)) return v;
  if (/^\d+$/.test(raw.trim())) return BigInt(raw.trim());
  return raw;
}

function cpuSeconds(): number {
  const u = process.cpuUsage(); // the whole process: every thread
  return (u.user + u.system) / 1e6;
}

export async function runBench(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    workers: { type: 'string' }, trials: { type: 'string' }, json: { type: 'string' }, name: { type: 'string' }, seed: { type: 'string' },
    mode: { type: 'string' }, samples: { type: 'string' }, sampler: { type: 'string' }, suppressed: { type: 'string' }, 'per-partition': { type: 'boolean' },
  });
  if (values.help) {
    io.out(benchHelp);
    return 0;
  }
  if (positionals[0] !== 'workload' || positionals.length !== 1) throw new UsageError(`expected "workload" (got ${JSON.stringify(positionals.join(' '))})`);
  const workers = integerFlag(values, 'workers', 0, 1)!;
  const trials = integerFlag(values, 'trials', 1, 10_000)!;
  const mode = choiceFlag(values, 'mode', ['workload', 'noise'] as const, 'workload')!;
  const sampler = choiceFlag(values, 'sampler', ['ziggurat', 'literal'] as const, 'ziggurat')!;
  const suppressed = choiceFlag(values, 'suppressed', ['skip', 'draw'] as const, 'skip')!;
  const seed = parseSeed(values.seed as string | undefined);
  const json = values.json as string | undefined;
  const samplers: SamplerOptions = sampler === 'literal' ? { laplace: 'inverse-cdf', gaussian: 'box-muller', suppressedCells: suppressed } : { suppressedCells: suppressed };

  if (mode === 'noise') {
    const samples = integerFlag(values, 'samples', 2, 50_000_000)!;
    const name = (values.name as string | undefined) ?? `dpw-noise-${sampler}`;
    const r = noiseThroughput(seed, samples, sampler);
    io.out(`${name} noise: laplace ${r.laplace_rate.toExponential(3)} samples/s (${r.laplace_s.toFixed(3)} s, mean|x|=${r.laplace_mean_abs.toFixed(5)})  gaussian ${r.gauss_rate.toExponential(3)} samples/s (${r.gauss_s.toFixed(3)} s, mean x^2=${r.gauss_mean_sq.toFixed(5)})`);
    if (json) writeFileSync(json, JSON.stringify({ impl: name, mode: 'noise', threads: 1, samples, ...r }) + '\n');
    return 0;
  }

  const name = (values.name as string | undefined) ?? `dpw-${workers}w`;
  const tSetup = performance.now();
  const truth = workloadTruth();
  const checksums = workloadChecksums(truth);
  const plan = buildWorkloadPlan({ samplers, perPartition: values['per-partition'] === true });
  preparePlan(plan);
  const setup = (performance.now() - tSetup) / 1000;
  // The workers' script is bundled once per source change (entry.ts), like compiling a kernel:
  // outside the timed span. Starting the workers and loading it is inside.
  if (workers > 0) await workerEntry();

  const c0 = cpuSeconds();
  const t0 = performance.now();
  let acc: SimulationAccumulator;
  let startup = '';
  if (workers === 0) acc = runTrials(plan, seed, { trialCount: trials });
  else {
    const pool = new SimulationPool(workers);
    try {
      acc = await pool.run(plan, seed, { trialCount: trials });
    } finally {
      startup = pool.timings().startupMs.map((ms) => ms.toFixed(0)).join(', ');
      void pool.close();
    }
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  const threads = Math.max(1, workers);
  const report = workloadReport(acc, name, threads, { wallSeconds: wall, cpuSeconds: cpu, setupSeconds: setup }, checksums);

  const used = report.trials_used as number;
  const stats = report.stats as Record<string, Record<string, { sum: number }>>;
  io.out(`${name} workload: trials=${trials} partitions=500 metrics=12 noise_samples=${report.noise_samples} (threads ${threads}, samplers ${sampler}, suppressed cells ${suppressed})`);
  io.out(`  data checksum: users=${checksums.users.toFixed(6)} all=${checksums.all.toFixed(6)} log1p=${checksums.log1p.toFixed(6)}`);
  io.out(`  wall ${wall.toFixed(3)} s, cpu ${cpu.toFixed(3)} s (setup ${setup.toFixed(4)} s)  ->  ${(report.samples_per_s as number).toExponential(3)} noise samples/s${startup ? `; worker ready after ${startup} ms` : ''}`);
  io.out(`  mean suppression rate ${((report.suppression as { sum: number }).sum / trials).toFixed(5)} ; stat checksum ${(report.stat_checksum as number).toFixed(5)}`);
  io.out(`  ${'metric'.padEnd(17)} ${['rmse', 'mare', 'p05', 'p50', 'p95'].map((s) => s.padStart(12)).join(' ')}`);
  for (const m of WORKLOAD_METRICS) {
    io.out(`  ${m.name.padEnd(17)} ${['rmse', 'mare', 'p05', 'p50', 'p95'].map((s) => (stats[m.name]![s]!.sum / used).toPrecision(6).padStart(12)).join(' ')}`);
  }
  if (json) writeFileSync(json, JSON.stringify(report) + '\n');
  return 0;
}

/** WORKLOAD.md §7 "--mode noise" with the engine's noise kernels (in blocks of 4096 draws). */
function noiseThroughput(seed: Seed, samples: number, sampler: 'ziggurat' | 'literal'): { laplace_s: number; laplace_rate: number; laplace_mean_abs: number; gauss_s: number; gauss_rate: number; gauss_mean_sq: number } {
  const B = 4096;
  const ids = new Int32Array(B);
  for (let i = 0; i < B; i++) ids[i] = i;
  const base = new Float64Array(B);
  const out = new Float64Array(B);
  const words = new Uint32Array(zigguratWords(B));
  const uni = new Float64Array(B + 2);
  const rng = makeRng(seed, 0);
  let t0 = performance.now();
  let lap = 0;
  for (let done = 0; done < samples; done += B) {
    const n = Math.min(B, samples - done);
    if (sampler === 'ziggurat') addLaplaceZiggurat(rng, words, ids, n, base, out, 0, 1);
    else addLaplaceInverseCdf(rng, uni, ids, n, base, out, 0, 1);
    for (let i = 0; i < n; i++) lap += Math.abs(out[i]!);
  }
  const t1 = performance.now();
  let gsq = 0;
  for (let done = 0; done < samples; done += B) {
    const n = Math.min(B, samples - done);
    if (sampler === 'ziggurat') addGaussianZiggurat(rng, words, ids, n, base, out, 0, 1);
    else addGaussianBoxMuller(rng, uni, ids, n, base, out, 0, 1);
    for (let i = 0; i < n; i++) gsq += out[i]! * out[i]!;
  }
  const t2 = performance.now();
  t0 /= 1000;
  const ls = t1 / 1000 - t0;
  const gs = (t2 - t1) / 1000;
  return { laplace_s: ls, laplace_rate: samples / ls, laplace_mean_abs: lap / samples, gauss_s: gs, gauss_rate: samples / gs, gauss_mean_sq: gsq / samples };
}
