// `npm run bench:core`: PLD composition of 1,000 mixed Laplace and Gaussian events (goal <= 1 s on
// one core) and samples per second of each sampler. Prints numbers; asserts nothing.
import { performance } from 'node:perf_hooks';
import { makeRng } from '../../shared/core/rng';
import type { Rng } from '../../shared/core/rng';
import { makeLaplace } from '../../shared/core/dp/mechanisms/laplace';
import { makeGaussian } from '../../shared/core/dp/mechanisms/gaussian';
import { makeDiscreteLaplace } from '../../shared/core/dp/mechanisms/discrete-laplace';
import { makeDiscreteGaussian } from '../../shared/core/dp/mechanisms/discrete-gaussian';
import { makeRandomizedResponse } from '../../shared/core/dp/mechanisms/randomized-response';
import { makePartitionSelection } from '../../shared/core/dp/partition-selection';
import { getAccountant } from '../../shared/core/dp/accounting/index';
import { makePldAccountant } from '../../shared/core/dp/accounting/pld';
import type { DpEvent } from '../../shared/core/dp/accounting/events';

function time<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

console.log(`DP Workbench core benchmark — node ${process.version}, ${process.arch}`);
console.log('');

// 1. PLD composition of 1,000 mixed events: 10 distinct mechanisms x 100 releases each.
const mixed: DpEvent[] = [];
for (let i = 0; i < 5; i++) mixed.push({ kind: 'laplace', epsilon: 0.002 * (i + 1), count: 100 });
for (let i = 0; i < 5; i++) mixed.push({ kind: 'gaussian', sigma: 40 + 20 * i, count: 100 });
const homogeneous: DpEvent[] = [{ kind: 'laplace', epsilon: 0.01, count: 500 }, { kind: 'gaussian', sigma: 50, count: 500 }];
const distinct: DpEvent[] = Array.from({ length: 1000 }, (_, i) =>
  i % 2 === 0 ? { kind: 'laplace' as const, epsilon: 0.001 + 0.00001 * i } : { kind: 'gaussian' as const, sigma: 100 + i });
const cases: [string, DpEvent[]][] = [
  ['10 kinds x 100 (5 Laplace, 5 Gaussian)', mixed],
  ['500 Laplace(0.01) + 500 Gaussian(50)', homogeneous],
  ['1,000 distinct events (500 Laplace, 500 Gaussian)', distinct],
];
for (const [label, events] of cases) {
  const runs: number[] = [];
  let eps = 0;
  for (let r = 0; r < 3; r++) {
    const t = time(() => makePldAccountant().epsilonAt(events, 1e-6)); // fresh accountant: no cached composition
    runs.push(t.ms);
    eps = t.value;
  }
  console.log(`PLD composition, 1,000 events [${label}]: ${median(runs).toFixed(0)} ms median of 3 (epsilon at delta 1e-6 = ${eps.toFixed(6)}; goal <= 1000 ms)`);
  for (const name of ['basic', 'advanced', 'zcdp', 'rdp'] as const) {
    const t = time(() => getAccountant(name).epsilonAt(events, 1e-6));
    console.log(`  ${name.padEnd(8)} epsilon ${t.value.toFixed(6)} in ${t.ms.toFixed(1)} ms`);
  }
}
console.log('');

// 2. Sampler throughput (simulation PRNG: xoshiro128**).
function rate(label: string, n: number, f: (rng: Rng) => number): void {
  const rng = makeRng(1);
  let acc = 0;
  for (let i = 0; i < Math.min(n, 20_000); i++) acc += f(rng); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) acc += f(rng);
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(52)} ${(n / s / 1e6).toFixed(2).padStart(7)} M samples/s  (checksum ${acc.toExponential(3)})`);
}

const lap = makeLaplace({ epsilon: 1, sensitivity: 1 });
const gau = makeGaussian({ epsilon: 1, delta: 1e-6, sensitivity: 1 });
const dlap = makeDiscreteLaplace({ epsilon: 0.5, sensitivity: 1 });
const rr = makeRandomizedResponse({ epsilon: 1, categories: 10 });
const sel = makePartitionSelection({ strategy: 'optimal', epsilon: 1, delta: 1e-5, maxPartitionsContributed: 1 });
rate('uniform double (xoshiro128**)', 20_000_000, (r) => r.nextDouble());
rate('Laplace (inverse CDF)', 10_000_000, (r) => lap.sample(r));
rate('Gaussian (Box-Muller)', 10_000_000, (r) => gau.sample(r));
rate('discrete Laplace, fast (two geometrics)', 5_000_000, (r) => dlap.sample(r));
rate('discrete Laplace, exact (CKS 2020 Alg. 2), eps 0.5', 1_000_000, (r) => dlap.sampleExact(r));
for (const sigma of [1, 10, 1000]) {
  const dg = makeDiscreteGaussian({ sensitivity: 1, sigma });
  rate(`discrete Gaussian, exact (CKS 2020 Alg. 3), sigma ${sigma}`, 500_000, (r) => dg.sample(r));
}
rate('randomized response, k = 10', 10_000_000, (r) => rr.respond(r, 3));
rate('partition selection keep/drop, optimal', 10_000_000, (r) => (sel.sampleKeep(r, 12) ? 1 : 0));
