// Analysis slice: the config being piloted (metrics, cohorts, budget, privacy parameters) and the
// contributions the host computed for it. Contributions depend on the data definition only
// (unit, dimensions, metric kinds, columns, filters), not on privacy parameters, so moving a
// slider never goes back to the host.

import type { StateCreator } from 'zustand';
import type { AnalysisConfig, Metric } from '../../shared/core/config/schema';
import { validateConfig } from '../../shared/core/config/index';
import { getBridge, toBridgeError } from '../bridge';
import { rebalanceShares } from '../model/shares';
import type { AnalysisSlice, WorkbenchState } from './types';

/** What the contributions depend on (the host caches per metric on the same key). */
export function dataDefinitionKey(datasetId: string, config: AnalysisConfig): string {
  return JSON.stringify({
    datasetId,
    unit: config.privacyUnit.column,
    dims: config.dimensions.map((d) => [d.name, d.column, d.bucket ?? null]),
    types: config.dataset.columns ?? null,
    metrics: config.metrics.map((m) => {
      const { privacy: _p, label: _l, ...data } = m as Metric & { label?: string };
      return data;
    }),
  });
}

let loadSeq = 0;

export const createAnalysisSlice: StateCreator<WorkbenchState, [], [], AnalysisSlice> = (set, get) => {
  const shareable = (c: AnalysisConfig): Metric[] => c.metrics.filter((m) => m.kind !== 'ratio' && m.kind !== 'local-frequency');
  const edit = (f: (c: AnalysisConfig) => unknown): boolean => {
    const c = get().config;
    return c ? get().setConfig(f(c)) : false;
  };
  return {
    config: null,
    configError: null,
    selectedMetricId: null,
    locked: {},
    contributions: null,
    contributionsKey: null,
    contributionsBusy: false,
    contributionsError: null,
    setConfig(next) {
      const r = validateConfig(next);
      if (!r.ok) {
        set({ configError: r.issues.map((i) => `${i.path || '(config)'}: ${i.message}`).join('\n') });
        return false;
      }
      const selected = get().selectedMetricId;
      set({
        config: r.config,
        configError: null,
        selectedMetricId: selected && r.config.metrics.some((m) => m.id === selected) ? selected : (r.config.metrics[0]?.id ?? null),
      });
      return true;
    },
    selectMetric: (id) => set({ selectedMetricId: id }),
    upsertMetric(metric, previousId) {
      const ok = edit((c) => {
        const at = c.metrics.findIndex((m) => m.id === (previousId ?? metric.id));
        const metrics = at >= 0 ? c.metrics.map((m, i) => (i === at ? metric : m)) : [...c.metrics, metric];
        return { ...c, metrics };
      });
      if (ok) set({ selectedMetricId: metric.id });
      return ok;
    },
    removeMetric(id) {
      edit((c) => ({ ...c, metrics: c.metrics.filter((m) => m.id !== id) }));
    },
    setUnit(column, kind) {
      edit((c) => ({ ...c, privacyUnit: { column, kind } }));
    },
    setBudget(patch) {
      edit((c) => ({ ...c, budget: { ...c.budget, ...patch } }));
    },
    setShare(id, share) {
      edit((c) => {
        const metrics = shareable(c);
        const shares = Object.fromEntries(metrics.map((m) => [m.id, (m as Exclude<Metric, { kind: 'local-frequency' }>).privacy.budgetShare]));
        const locked = new Set(Object.entries(get().locked).filter(([, v]) => v).map(([k]) => k));
        const next = rebalanceShares(shares, locked, id, share).shares;
        return { ...c, metrics: c.metrics.map((m) => (m.id in next && m.kind !== 'local-frequency' ? { ...m, privacy: { ...m.privacy, budgetShare: next[m.id]! } } : m)) };
      });
    },
    toggleLock(id) {
      set({ locked: { ...get().locked, [id]: !get().locked[id] } });
    },
    setPrivacy(id, patch) {
      edit((c) => ({ ...c, metrics: c.metrics.map((m) => (m.id === id && m.kind !== 'local-frequency' ? { ...m, privacy: { ...m.privacy, ...patch } } : m)) }));
    },
    async ensureContributions() {
      const { dataset, config } = get();
      if (!dataset || !config) return;
      const key = dataDefinitionKey(dataset.datasetId, config);
      if (key === get().contributionsKey) return;
      const seq = ++loadSeq;
      set({ contributionsBusy: true, contributionsError: null });
      try {
        const contributions = await getBridge().loadContributions({ datasetId: dataset.datasetId, config, requestId: `contrib-${seq}` });
        if (seq !== loadSeq) return;
        set({ contributions, contributionsKey: key, contributionsBusy: false });
      } catch (e) {
        if (seq !== loadSeq) return;
        set({ contributionsBusy: false, contributionsError: toBridgeError(e), contributionsKey: null });
      }
    },
  };
};
