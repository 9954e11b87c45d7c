// Golden test of the two front ends (GUIDE.md "The CLI … calls the same functions the app calls"):
// the renderer's runner (Web Worker protocol, 2 workers, chunks merged in order) gives the same
// bits as the CLI's `dpw simulate` service for the bundled pilot config and seed, and the same report.
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { accumulatorsIdentical } from '../../../shared/core/simulate/accumulator';
import { buildReport } from '../../../shared/core/simulate/report';
import type { SimulationRequest, SimulationResponse } from '../../../shared/core/simulate/worker-handler';
import { makeSimulationHandler } from '../../../shared/core/simulate/worker-handler';
import { loadAnalysis, planAnalysis, runGroups } from '../../../shared/node/simulate/service';
import type { WorkerLike } from '../../../renderer/model/simulation';
import { SimulationCancelled, simulateBuilt } from '../../../renderer/model/simulation';
import { REPO_ROOT } from '../../helpers/oracles';

/** A worker double: the real handler on the far side of a MessageChannel. */
function channelWorker(): WorkerLike {
  const { port1, port2 } = new MessageChannel();
  const handle = makeSimulationHandler({ postMessage: (m, t) => port2.postMessage(m, t ?? []) });
  port2.on('message', (m: SimulationRequest) => handle(m));
  const listeners: ((e: { data: SimulationResponse }) => void)[] = [];
  port1.on('message', (data: SimulationResponse) => listeners.forEach((l) => l({ data })));
  return {
    postMessage: (m: SimulationRequest) => port1.postMessage(m),
    addEventListener: ((type: string, l: (e: { data: SimulationResponse }) => void) => {
      if (type === 'message') listeners.push(l);
    }) as WorkerLike['addEventListener'],
    terminate: () => {
      port1.close();
      port2.close();
    },
  };
}

describe('renderer simulation runner', () => {
  it('matches the CLI service bit for bit on the bundled pilot config', async () => {
    const analysis = await loadAnalysis(join(REPO_ROOT, 'sample-data', 'configs', 'product-pilot.json'));
    const trials = 200;
    const opts = { trials, seed: '42', workers: 0 } as const;
    const built = planAnalysis(analysis, opts);
    const cli = await runGroups(built, opts);
    let progressCalls = 0;
    const app = await simulateBuilt(built, channelWorker, 2, { trials, seed: '42', onProgress: () => progressCalls++ });
    expect(app.runs).toHaveLength(cli.runs.length);
    app.runs.forEach((r, g) => {
      expect(r.seed).toBe(cli.runs[g]!.seed);
      expect(accumulatorsIdentical(r.accumulator, cli.runs[g]!.accumulator)).toBe(true);
    });
    expect(progressCalls).toBeGreaterThanOrEqual(built.plans.length);
    const common = { configPath: 'x', config: analysis.config, dataset: { path: 'd', format: 'csv', rows: 1, units: 1, columns: [] }, built, seed: '42', trials, workers: 1, timing: { wallMs: 0, loadMs: 0, simulateMs: 0, analyticMs: 0, groupMs: [] } };
    expect(JSON.stringify(buildReport({ ...common, runs: app.runs }))).toBe(JSON.stringify(buildReport({ ...common, runs: cli.runs })));
  }, 120_000);

  it('stops with SimulationCancelled when its signal is aborted', async () => {
    const analysis = await loadAnalysis(join(REPO_ROOT, 'sample-data', 'configs', 'saas-pilot.json'));
    const built = planAnalysis(analysis, { trials: 5000 });
    const ac = new AbortController();
    const run = simulateBuilt(built, channelWorker, 1, { trials: 5000, seed: '1', signal: ac.signal, onProgress: () => ac.abort() });
    await expect(run).rejects.toBeInstanceOf(SimulationCancelled);
  }, 120_000);
});
