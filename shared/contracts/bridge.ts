// The one object the renderer reaches its host through (GUIDE.md "Boundaries"): Electron's preload
// exposes it as `window.workbench` (contextBridge), the browser host's client implements it over
// fetch. The renderer gets it from renderer/bridge and never knows which host it runs in.
// Every method resolves to the service's value or rejects with a BridgeError (code + message).

import type { AppInfo, ContributionsRequest, ContributionsResult, DatasetSource, DatasetSummary, ErrorCode, RequestOf, ResponseOf, SampleInfo } from './ipc';
import type { ColumnType } from '../core/config/schema';

/**
 * Governance methods (issue 7): each one named method bound to one channel, taking that channel's
 * request object. Hosts build them from this table (never a generic invoke).
 */
export const GOVERNANCE_METHODS = {
  workspace: 'wb:workspace-get',
  savePolicy: 'wb:policy-save',
  saveAnalysis: 'wb:analysis-save',
  recordSimulation: 'wb:simulation-record',
  submitForReview: 'wb:review-submit',
  decide: 'wb:review-decide',
  diffVersions: 'wb:version-diff',
  ledger: 'wb:ledger-get',
  runExport: 'wb:export-run',
  audit: 'wb:audit-get',
} as const;

export type GovernanceBridge = { [M in keyof typeof GOVERNANCE_METHODS]: (request: RequestOf<(typeof GOVERNANCE_METHODS)[M]>) => Promise<ResponseOf<(typeof GOVERNANCE_METHODS)[M]>> };

export interface WorkbenchBridge extends GovernanceBridge {
  appInfo(): Promise<AppInfo>;
  listSamples(): Promise<readonly SampleInfo[]>;
  openDataset(source: DatasetSource, opts?: { columnTypes?: Readonly<Record<string, ColumnType>>; requestId?: string }): Promise<DatasetSummary>;
  /** Asks the user for a data file (native dialog in Electron, a file input in the browser); null when cancelled. */
  chooseDataset(): Promise<DatasetSummary | null>;
  loadContributions(request: ContributionsRequest): Promise<ContributionsResult>;
  cancel(requestId: string): Promise<boolean>;
  /** Commands from the host's application menu (Electron); the browser host has none. Returns an unsubscribe function. */
  onMenuCommand?(listener: (command: MenuCommand) => void): () => void;
}

/** Application menu commands the renderer acts on. */
export type MenuCommand = 'open-dataset' | 'go-data' | 'go-metrics' | 'go-privacy' | 'go-simulate' | 'go-results' | 'go-compare' | 'go-review';

/** Channel on which the Electron main process sends menu commands to the window. */
export const MENU_CHANNEL = 'wb:menu-command';

/**
 * The error a bridge call rejects with. Electron's contextBridge keeps only an Error's message, so
 * hosts put the code in front of it: "[DataError] file.csv, line 3: …"; renderer/bridge parses it.
 */
export interface BridgeErrorShape {
  readonly name: 'BridgeError';
  readonly code: ErrorCode;
  readonly message: string;
}

/** Name of the global the Electron preload exposes. */
export const BRIDGE_GLOBAL = 'workbench';
