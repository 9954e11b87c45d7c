// The store's shape: one zustand store built from typed slices (zustand's slices pattern).
import type { ContributionsResult, DatasetSummary, SampleInfo } from '../../shared/contracts/ipc';
import type { AnalysisConfig, Metric, MetricPrivacy } from '../../shared/core/config/schema';
import type { BuildPlanResult } from '../../shared/core/simulate/plan-builder';
import type { GroupRun, SimulationReport } from '../../shared/core/simulate/report';
import type { BridgeError } from '../bridge';
import type { GovernanceSlice } from './governance';

export type Screen = 'data' | 'metrics' | 'privacy' | 'simulate' | 'results' | 'compare' | 'review';
export const SCREENS: readonly { id: Screen; title: string; hint: string }[] = [
  { id: 'data', title: 'Data', hint: 'Load a sample, pick the privacy unit' },
  { id: 'metrics', title: 'Metrics', hint: 'What to measure, by which cohorts' },
  { id: 'privacy', title: 'Privacy', hint: 'Budget, noise, bounds, thresholds' },
  { id: 'simulate', title: 'Simulate', hint: 'Monte-Carlo runs of the release' },
  { id: 'results', title: 'Results', hint: 'Error, its sources, suppression' },
  { id: 'compare', title: 'Compare', hint: 'Configurations side by side' },
  { id: 'review', title: 'Review & export', hint: 'Budget ledger, approval, audit, export' },
];

export interface Notice {
  readonly kind: 'error' | 'info';
  readonly title: string;
  readonly message: string;
}

export interface UiSlice {
  screen: Screen;
  notice: Notice | null;
  setScreen(screen: Screen): void;
  showError(title: string, e: unknown): void;
  dismissNotice(): void;
}

export interface DatasetSlice {
  samples: readonly SampleInfo[];
  dataset: DatasetSummary | null;
  /** What is loading now ('Opening product-events.csv…'), or null. */
  datasetBusy: string | null;
  datasetError: BridgeError | null;
  loadSamples(): Promise<void>;
  openSample(sampleId: string, configId?: string): Promise<void>;
  openPath(path: string): Promise<void>;
  chooseFile(): Promise<void>;
  cancelDataset(): void;
}

export interface AnalysisSlice {
  config: AnalysisConfig | null;
  /** Why the last edit was refused (JSON path + message), or null. */
  configError: string | null;
  selectedMetricId: string | null;
  /** Metrics whose budget share is held when another moves. */
  locked: Readonly<Record<string, boolean>>;
  contributions: ContributionsResult | null;
  /** The data definition the contributions are for. */
  contributionsKey: string | null;
  contributionsBusy: boolean;
  contributionsError: BridgeError | null;
  /** Replaces the config (validated; an invalid one is refused with configError). Returns whether it was accepted. */
  setConfig(next: unknown): boolean;
  selectMetric(id: string | null): void;
  upsertMetric(metric: Metric, previousId?: string): boolean;
  removeMetric(id: string): void;
  setUnit(column: string, kind: 'user' | 'device'): void;
  setBudget(patch: Partial<AnalysisConfig['budget']>): void;
  setShare(id: string, share: number): void;
  toggleLock(id: string): void;
  setPrivacy(id: string, patch: Partial<MetricPrivacy>): void;
  ensureContributions(): Promise<void>;
}

export interface PartialRow {
  readonly metricId: string;
  /** √(mean over cohorts of the expected squared error so far; a suppressed cohort counts |true|²), as the report's rmse. */
  readonly rmse: number | null;
  readonly trialsDone: number;
}

export interface CompletedRun {
  readonly id: number;
  readonly label: string;
  readonly config: AnalysisConfig;
  readonly report: SimulationReport;
  readonly built: BuildPlanResult;
  readonly groupRuns: readonly GroupRun[];
  readonly ms: number;
  pinned: boolean;
}

export interface SimulationSlice {
  trials: number;
  seed: string;
  simStatus: 'idle' | 'running' | 'done' | 'cancelled' | 'error';
  simProgress: { trialsDone: number; trialCount: number; group: number; groups: number } | null;
  simPartial: readonly PartialRow[] | null;
  simError: string | null;
  runs: readonly CompletedRun[];
  currentRunId: number | null;
  setTrials(n: number): void;
  setSeed(seed: string): void;
  startSimulation(): Promise<void>;
  cancelSimulation(): void;
  togglePin(runId: number): void;
  selectRun(runId: number): void;
}

export type WorkbenchState = UiSlice & DatasetSlice & AnalysisSlice & SimulationSlice & GovernanceSlice;
