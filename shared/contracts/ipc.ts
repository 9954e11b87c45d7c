// The one typed map of the host boundary (GUIDE.md "Boundaries"): every channel the renderer may
// call, with its request and response types. Electron's IPC handlers (electron/main) and the
// browser host (shared/node/host) register exactly these channels around the same services
// (shared/node/app/services.ts); the renderer's bridge (WorkbenchBridge) is typed from this map.
// Types and the list of channel names only: no behaviour here.

import type { AnalysisConfig, ColumnType, DataFormat } from '../core/config/schema';
import type { MetricContributions } from '../core/data/contributions';

/** Codes of errors crossing the boundary; the UI words its message by code. */
export type ErrorCode =
  | 'InvalidParameter'
  | 'InvalidEvent'
  | 'NotSupported'
  | 'NumericalFailure'
  /** The data file is bad (the message names file, line, column, value). */
  | 'DataError'
  /** An analysis config is bad (the message names the JSON path). */
  | 'ConfigError'
  | 'NotFound'
  | 'Cancelled'
  | 'Forbidden'
  | 'Internal';

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What every handler returns across a process boundary. */
export type Result<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly error: WireError };

export interface AppInfo {
  readonly host: 'electron' | 'browser';
  readonly version: string;
  /** Where relative dataset paths are resolved (the host's working directory). */
  readonly cwd: string;
}

export interface SampleConfig {
  readonly id: string;
  readonly title: string;
  readonly config: AnalysisConfig;
}

/** A bundled sample dataset and the example analyses that use it. */
export interface SampleInfo {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly file: string;
  readonly format: DataFormat;
  readonly sizeBytes: number;
  readonly configs: readonly SampleConfig[];
}

export interface ColumnSummary {
  readonly name: string;
  /** Inferred (or overridden) type; 'other' for types the analysis cannot use. */
  readonly type: ColumnType | 'other';
  readonly duckdbType: string;
  /** Approximate distinct values. */
  readonly distinct: number;
  readonly nulls: number;
  /** Up to 5 example values, as text. */
  readonly examples: readonly string[];
}

export type Cell = string | number | boolean | null;

export interface DatasetSummary {
  /** Handle for later requests on this dataset (valid while the host runs). */
  readonly datasetId: string;
  readonly path: string;
  /** File name for display. */
  readonly name: string;
  readonly format: DataFormat;
  readonly sizeBytes: number;
  readonly rows: number;
  readonly columns: readonly ColumnSummary[];
  /** The first rows, one array per row in column order. */
  readonly preview: readonly (readonly Cell[])[];
  /** Columns that look like privacy units (identifier-like, many distinct values), best first. */
  readonly unitCandidates: readonly string[];
  readonly warnings: readonly string[];
  /** Set when the dataset was opened as a bundled sample. */
  readonly sampleId?: string;
  readonly loadMs: number;
}

export type DatasetSource =
  | { readonly kind: 'sample'; readonly sampleId: string }
  | { readonly kind: 'path'; readonly path: string }
  /** Bytes of a file picked in the browser (the browser host stores them in its uploads folder). */
  | { readonly kind: 'upload'; readonly name: string; readonly bytes: Uint8Array };

export interface ContributionsRequest {
  readonly datasetId: string;
  readonly config: AnalysisConfig;
  /** Lets the caller cancel it with wb:request-cancel. */
  readonly requestId?: string;
}

export interface ContributionsResult {
  /** Distinct privacy units in the sample. */
  readonly units: number;
  /** Every central metric but ratios, by metric id. */
  readonly contributions: Readonly<Record<string, MetricContributions>>;
  /** Each unit's category index of every local-frequency metric (see shared/node/data/local.ts). */
  readonly local: Readonly<Record<string, { readonly unitCategories: Int32Array; readonly unitsMappedToOther: number }>>;
  /** Metrics served from the host's cache (same dataset and data definition). */
  readonly cached: readonly string[];
  readonly loadMs: number;
}

// ---------------------------------------------------------------------------------------------
// Governance (issue 7): workspace versions, review, ledger, audit, export. Plain DTOs so the
// renderer does not depend on the Node workspace module's file format.

export type VersionStatus = 'draft' | 'simulated' | 'in-review' | 'approved' | 'rejected';

export interface VersionInfo {
  readonly analysisId: string;
  readonly version: number;
  readonly status: VersionStatus;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly parent: number | null;
  readonly configHash: string;
  readonly config: AnalysisConfig;
  readonly simulation: { readonly evidenceHash: string; readonly trials: number; readonly seed: string; readonly at: string } | null;
  readonly review: { readonly submittedBy?: string; readonly submittedAt?: string; readonly decision?: 'approved' | 'rejected'; readonly reviewer?: string; readonly rationale?: string; readonly decidedAt?: string; readonly evidenceHash?: string } | null;
}

export interface PolicyBudgetView {
  readonly id: string;
  readonly label?: string;
  readonly dataset: string;
  readonly unit: 'user' | 'device';
  readonly period: 'day' | 'week' | 'month' | 'quarter';
  readonly epsilon: number;
  readonly delta: number;
  readonly accountant: string;
  readonly warnAt: number;
}

export interface WorkspaceSummary {
  readonly dir: string;
  readonly name: string;
  readonly budgets: readonly PolicyBudgetView[];
  readonly reservations: readonly { readonly id: string; readonly budget: string; readonly label: string; readonly epsilon: number; readonly delta: number }[];
  readonly analyses: readonly { readonly id: string; readonly versions: readonly VersionInfo[] }[];
}

export interface GuardrailView {
  readonly level: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly metricId?: string;
}

export interface LedgerView {
  readonly budgetId: string;
  readonly label: string;
  readonly period: string;
  readonly periodDays: number;
  readonly accountant: string;
  readonly limit: { readonly epsilon: number; readonly delta: number };
  readonly spent: { readonly epsilon: number; readonly delta: number };
  readonly remaining: { readonly epsilon: number; readonly delta: number };
  readonly usedShare: number;
  readonly status: 'ok' | 'warning' | 'over';
  readonly entries: readonly { readonly analysisId: string; readonly version: number; readonly status: string; readonly metrics: readonly { readonly metricId: string; readonly label: string; readonly cadence: string; readonly releases: number; readonly epsilonPerRelease: number; readonly deltaPerRelease: number }[] }[];
  readonly calendar: readonly { readonly day: number; readonly epsilon: number }[];
  readonly notes: readonly string[];
}

export interface LedgerReport {
  /** The ledgers of the budgets the version falls under (usually one). */
  readonly ledgers: readonly LedgerView[];
  readonly guardrails: readonly GuardrailView[];
  /** True when approval and export are allowed (no guardrail error). */
  readonly ok: boolean;
}

export interface DiffRow {
  readonly scope: string;
  readonly field: string;
  readonly before: string;
  readonly after: string;
}

export interface AuditEntryView {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly hash: string;
}

export interface AuditView {
  readonly ok: boolean;
  readonly lines: number;
  readonly firstBad: { readonly line: number; readonly reason: string } | null;
  /** The newest entries first (at most 200). */
  readonly entries: readonly AuditEntryView[];
}

export interface ExportResult {
  readonly target: string;
  readonly filename: string;
  /** Where the file was written in the workspace. */
  readonly path: string;
  readonly mediaType: string;
  readonly content: string;
  readonly draft: boolean;
}

/** Every channel: name `wb:<noun>-<verb>` → request and response. */
export interface IpcChannels {
  'wb:app-info': { request: Record<string, never>; response: AppInfo };
  'wb:samples-list': { request: Record<string, never>; response: readonly SampleInfo[] };
  'wb:dataset-open': { request: { readonly source: DatasetSource; readonly columnTypes?: Readonly<Record<string, ColumnType>>; readonly requestId?: string }; response: DatasetSummary };
  /** Electron: the native open dialog, then open the file; null when the user cancels. */
  'wb:dataset-choose': { request: Record<string, never>; response: DatasetSummary | null };
  'wb:contributions-load': { request: ContributionsRequest; response: ContributionsResult };
  'wb:request-cancel': { request: { readonly requestId: string }; response: { readonly cancelled: boolean } };
  'wb:workspace-get': { request: Record<string, never>; response: WorkspaceSummary };
  'wb:policy-save': { request: { readonly policy: unknown; readonly actor: string }; response: WorkspaceSummary };
  'wb:analysis-save': { request: { readonly analysisId: string; readonly config: AnalysisConfig; readonly actor: string }; response: VersionInfo };
  /** Records a simulation report of this version's exact config as its evidence. */
  'wb:simulation-record': { request: { readonly analysisId: string; readonly version: number; readonly actor: string; readonly report: unknown }; response: VersionInfo };
  'wb:review-submit': { request: { readonly analysisId: string; readonly version: number; readonly actor: string }; response: VersionInfo };
  'wb:review-decide': { request: { readonly analysisId: string; readonly version: number; readonly reviewer: string; readonly rationale: string; readonly decision: 'approved' | 'rejected'; readonly evidenceHash: string }; response: VersionInfo };
  'wb:version-diff': { request: { readonly analysisId: string; readonly from: number; readonly to: number }; response: readonly DiffRow[] };
  'wb:ledger-get': { request: { readonly analysisId: string; readonly version: number }; response: LedgerReport };
  'wb:export-run': { request: { readonly analysisId: string; readonly version: number; readonly target: string; readonly draft: boolean; readonly actor: string }; response: ExportResult };
  'wb:audit-get': { request: Record<string, never>; response: AuditView };
}

export type Channel = keyof IpcChannels;
export type RequestOf<C extends Channel> = IpcChannels[C]['request'];
export type ResponseOf<C extends Channel> = IpcChannels[C]['response'];

/** The channels in one list (hosts register exactly these; the preload allows exactly these). */
export const CHANNELS = [
  'wb:app-info',
  'wb:samples-list',
  'wb:dataset-open',
  'wb:dataset-choose',
  'wb:contributions-load',
  'wb:request-cancel',
  'wb:workspace-get',
  'wb:policy-save',
  'wb:analysis-save',
  'wb:simulation-record',
  'wb:review-submit',
  'wb:review-decide',
  'wb:version-diff',
  'wb:ledger-get',
  'wb:export-run',
  'wb:audit-get',
] as const satisfies readonly Channel[];
