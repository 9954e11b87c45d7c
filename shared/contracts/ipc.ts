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

/** Every channel: name `wb:<noun>-<verb>` → request and response. */
export interface IpcChannels {
  'wb:app-info': { request: Record<string, never>; response: AppInfo };
  'wb:samples-list': { request: Record<string, never>; response: readonly SampleInfo[] };
  'wb:dataset-open': { request: { readonly source: DatasetSource; readonly columnTypes?: Readonly<Record<string, ColumnType>>; readonly requestId?: string }; response: DatasetSummary };
  /** Electron: the native open dialog, then open the file; null when the user cancels. */
  'wb:dataset-choose': { request: Record<string, never>; response: DatasetSummary | null };
  'wb:contributions-load': { request: ContributionsRequest; response: ContributionsResult };
  'wb:request-cancel': { request: { readonly requestId: string }; response: { readonly cancelled: boolean } };
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
] as const satisfies readonly Channel[];
