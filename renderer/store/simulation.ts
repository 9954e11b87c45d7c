// Simulation slice: trials and seed, the running simulation (progress, partial results, cancel)
// and the completed runs (pinned ones are compared side by side).

import type { StateCreator } from 'zustand';
import { isLocalMetric } from '../../shared/core/config/schema';
import { buildPlan, DEFAULT_ERROR_SAMPLES_PER_CELL } from '../../shared/core/simulate/plan-builder';
import { sharedPreviewModel } from '../model/preview';
import type { LocalRun } from '../../shared/core/simulate/report';
import { buildReport } from '../../shared/core/simulate/report';
import { localSeed } from '../../shared/core/simulate/seeds';
import { simulateLocalFrequency } from '../../shared/core/simulate/local';
import { toBridgeError } from '../bridge';
import { browserWorkerFactory, simulateBuilt, SimulationCancelled } from '../model/simulation';
import type { WorkerFactory } from '../model/simulation';
import type { CompletedRun, PartialRow, SimulationSlice, WorkbenchState } from './types';

let controller: AbortController | null = null;
let runSeq = 0;
let workerFactory: WorkerFactory = browserWorkerFactory;

/** Tests substitute the worker factory. */
export function setWorkerFactory(f: WorkerFactory): void {
  workerFactory = f;
}

/** Workers for a run: one core is left to the page so the UI stays responsive (at most 4). */
export function workerCount(): number {
  const n = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 2;
  const cores = Number.isFinite(n) && n > 0 ? n : 2;
  return Math.max(1, Math.min(4, cores - 1));
}

export const createSimulationSlice: StateCreator<WorkbenchState, [], [], SimulationSlice> = (set, get) => ({
  trials: 1000,
  seed: '1',
  simStatus: 'idle',
  simProgress: null,
  simPartial: null,
  simError: null,
  runs: [],
  currentRunId: null,
  setTrials: (n) => set({ trials: Math.max(1, Math.min(100_000, Math.round(n))) }),
  setSeed: (seed) => set({ seed }),
  async startSimulation() {
    const { config, contributions, dataset, trials, seed } = get();
    if (!config || !contributions || !dataset) return;
    if (get().simStatus === 'running') return;
    controller?.abort();
    const ac = new AbortController();
    controller = ac;
    set({ simStatus: 'running', simProgress: { trialsDone: 0, trialCount: trials, group: 0, groups: 1 }, simPartial: null, simError: null });
    performance.mark('dpw:simulate-start');
    const t0 = performance.now();
    try {
      // From 256 trials on the plans are the preview's (same structure, cached): no rebuild on the
      // main thread, and its analytic model is reused. Fewer trials keep fewer error samples.
      const preview = trials >= DEFAULT_ERROR_SAMPLES_PER_CELL ? sharedPreviewModel.evaluate(config, contributions.contributions, contributions.units) : null;
      const built = preview?.built ?? buildPlan({ config, contributions: contributions.contributions, sampleUnits: contributions.units, errorSamplesPerCell: Math.min(trials, DEFAULT_ERROR_SAMPLES_PER_CELL) });
      let lastPartial = 0;
      const result = await simulateBuilt(built, workerFactory, workerCount(), {
        trials,
        seed,
        ...(preview ? { analytic: preview.analytic } : {}),
        signal: ac.signal,
        onProgress: (p) => {
          set({ simProgress: { trialsDone: p.trialsDone, trialCount: p.trialCount, group: p.group, groups: p.groups } });
          const now = performance.now();
          // Partial results every ~200 ms: summarising is cheap but not free.
          if (now - lastPartial < 200 && p.trialsDone < p.trialCount) return;
          lastPartial = now;
          const partial = p.partial();
          const rows: PartialRow[] = [...(get().simPartial ?? [])].filter((r) => built.metricIndex[r.metricId]?.plan !== p.group);
          for (const [id, loc] of Object.entries(built.metricIndex)) {
            if (loc.plan !== p.group) continue;
            const m = partial.metrics[loc.metric];
            if (!m) continue;
            const cells = m.partitions ?? [];
            let se = 0;
            let n = 0;
            // As the report's rmse: expected squared error over cohorts, a suppressed cohort counting |true|².
            for (const c of cells) {
              const kept = c.releaseProbability;
              const e2 = (kept > 0 && Number.isFinite(c.rmse) ? kept * c.rmse * c.rmse : 0) + (1 - kept) * c.trueValue * c.trueValue;
              if (Number.isFinite(e2)) {
                se += e2;
                n++;
              }
            }
            rows.push({ metricId: id, rmse: n > 0 ? Math.sqrt(se / n) : null, trialsDone: partial.trials });
          }
          set({ simPartial: rows });
        },
      });
      const local: LocalRun[] = config.metrics.filter(isLocalMetric).map((metric) => {
        const data = contributions.local[metric.id];
        if (!data) throw new Error(`[InvalidParameter] no unit categories for local metric ${metric.id}`);
        const s = localSeed(seed, metric.id);
        return { metric, seed: s, unitsMappedToOther: data.unitsMappedToOther, result: simulateLocalFrequency({ unitCategories: data.unitCategories, k: metric.categories.length, epsilon: metric.privacy.localEpsilon, trials, seed: s }) };
      });
      const ms = performance.now() - t0;
      performance.measure('dpw:simulate', 'dpw:simulate-start');
      const report = buildReport({
        configPath: config.name,
        config,
        dataset: { path: dataset.path, format: dataset.format, rows: dataset.rows, units: contributions.units, columns: dataset.columns.map((c) => c.name) },
        built,
        runs: result.runs,
        seed,
        trials,
        workers: workerCount(),
        timing: { wallMs: ms, loadMs: contributions.loadMs, simulateMs: result.simulateMs, analyticMs: result.analyticMs, groupMs: result.groupMs },
        local,
      });
      const id = ++runSeq;
      const run: CompletedRun = { id, label: `Run ${id}: ε ${config.budget.epsilon}, ${trials} trials`, config, report, built, groupRuns: result.runs, ms, pinned: false };
      set({ runs: [...get().runs, run], currentRunId: id, simStatus: 'done', simProgress: null });
    } catch (e) {
      if (e instanceof SimulationCancelled) set({ simStatus: 'cancelled', simProgress: null });
      else set({ simStatus: 'error', simError: toBridgeError(e).message, simProgress: null });
    } finally {
      if (controller === ac) controller = null;
    }
  },
  cancelSimulation() {
    controller?.abort();
  },
  togglePin(runId) {
    set({ runs: get().runs.map((r) => (r.id === runId ? { ...r, pinned: !r.pinned } : r)) });
  },
  selectRun: (runId) => set({ currentRunId: runId }),
});
