// Dataset slice: the bundled samples, the open dataset and its loading state.
import type { StateCreator } from 'zustand';
import type { DatasetSummary } from '../../shared/contracts/ipc';
import type { AnalysisConfig } from '../../shared/core/config/schema';
import { parseConfig } from '../../shared/core/config/index';
import { getBridge, toBridgeError } from '../bridge';
import type { DatasetSlice, WorkbenchState } from './types';

let requestSeq = 0;
let currentRequest: string | null = null;

const dimName = (column: string): string => {
  const n = column.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z_]/.test(n) ? n : `_${n}`;
};

/** A first analysis for a file that has no example config: distinct units and rows, overall. */
export function defaultConfig(ds: DatasetSummary): AnalysisConfig {
  const unit = ds.unitCandidates[0] ?? ds.columns[0]?.name ?? 'user_id';
  const dims = ds.columns
    .filter((c) => c.name !== unit && ((c.type === 'string' && c.distinct >= 2 && c.distinct <= 300) || c.type === 'timestamp'))
    .slice(0, 6)
    .map((c) => (c.type === 'timestamp' ? { name: `${dimName(c.name)}_day`, column: c.name, bucket: 'day' as const } : { name: dimName(c.name), column: c.name }));
  return parseConfig({
    schemaVersion: 1,
    name: `Pilot on ${ds.name}`,
    dataset: { path: ds.path, format: ds.format },
    privacyUnit: { column: unit, kind: 'user' },
    dimensions: dims,
    budget: { epsilon: 1, delta: 1e-6, accountant: 'pld' },
    metrics: [
      { id: 'active_units', label: 'Active units', kind: 'count-distinct', by: [], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1 } },
      { id: 'rows', label: 'Rows (events)', kind: 'count', by: [], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1, maxContributionsPerPartition: 10 } },
    ],
  });
}

export const createDatasetSlice: StateCreator<WorkbenchState, [], [], DatasetSlice> = (set, get) => {
  async function open(what: string, work: (requestId: string) => Promise<DatasetSummary | null>, configFor: (ds: DatasetSummary) => AnalysisConfig): Promise<void> {
    const requestId = `open-${++requestSeq}`;
    currentRequest = requestId;
    set({ datasetBusy: what, datasetError: null });
    try {
      const ds = await work(requestId);
      if (currentRequest !== requestId) return;
      if (!ds) return set({ datasetBusy: null });
      set({ dataset: ds, datasetBusy: null, contributions: null, contributionsKey: null, contributionsError: null });
      get().setConfig(configFor(ds));
    } catch (e) {
      if (currentRequest !== requestId) return;
      set({ datasetBusy: null, datasetError: toBridgeError(e) });
    } finally {
      if (currentRequest === requestId) currentRequest = null;
    }
  }

  return {
    samples: [],
    dataset: null,
    datasetBusy: null,
    datasetError: null,
    async loadSamples() {
      try {
        set({ samples: await getBridge().listSamples() });
      } catch (e) {
        get().showError('Could not list the bundled samples', e);
      }
    },
    async openSample(sampleId, configId) {
      const sample = get().samples.find((s) => s.id === sampleId);
      await open(`Opening ${sample?.file ?? sampleId}…`, (requestId) => getBridge().openDataset({ kind: 'sample', sampleId }, { requestId }), (ds) => {
        const chosen = sample?.configs.find((c) => c.id === configId) ?? sample?.configs[0];
        return chosen ? { ...chosen.config, dataset: { ...chosen.config.dataset, path: ds.path } } : defaultConfig(ds);
      });
    },
    async openPath(path) {
      await open(`Opening ${path}…`, (requestId) => getBridge().openDataset({ kind: 'path', path }, { requestId }), defaultConfig);
    },
    async chooseFile() {
      await open('Opening the chosen file…', () => getBridge().chooseDataset(), defaultConfig);
    },
    cancelDataset() {
      const id = currentRequest;
      currentRequest = null;
      set({ datasetBusy: null });
      if (id) void getBridge().cancel(id).catch(() => undefined);
    },
  };
};
