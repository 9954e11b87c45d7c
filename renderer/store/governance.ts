// Governance slice (issue 7): the workspace's versions, the review of one version, its budget
// ledger and guardrails, the diff between versions, exports and the audit trail. Every decision
// is made by the host's services (they refuse what the guardrails refuse); this slice only asks.

import type { StateCreator } from 'zustand';
import type { AuditView, DiffRow, ExportResult, LedgerReport, VersionInfo, WorkspaceSummary } from '../../shared/contracts/ipc';
import { getBridge, toBridgeError } from '../bridge';
import type { WorkbenchState } from './types';

export interface GovernanceSlice {
  actor: string;
  workspace: WorkspaceSummary | null;
  selected: { analysisId: string; version: number } | null;
  ledger: LedgerReport | null;
  diff: readonly DiffRow[] | null;
  audit: AuditView | null;
  lastExport: ExportResult | null;
  govBusy: string | null;
  govError: string | null;
  setActor(name: string): void;
  loadWorkspace(): Promise<void>;
  selectVersion(analysisId: string, version: number): Promise<void>;
  saveVersion(analysisId: string): Promise<void>;
  recordEvidence(runId: number): Promise<void>;
  submitForReview(): Promise<void>;
  decide(decision: 'approved' | 'rejected', reviewer: string, rationale: string): Promise<void>;
  saveBudget(budget: { epsilon: number; delta: number; period: 'day' | 'week' | 'month' | 'quarter'; accountant: string; unit: 'user' | 'device' }): Promise<void>;
  /** Replaces the reservations of the default budget (budget held back for later releases). */
  saveReservations(reservations: readonly { id: string; label: string; epsilon: number; delta: number }[]): Promise<void>;
  loadDiff(from: number, to: number): Promise<void>;
  runExport(target: string, draft: boolean): Promise<void>;
  loadAudit(): Promise<void>;
}

export function currentVersion(s: Pick<GovernanceSlice, 'workspace' | 'selected'>): VersionInfo | null {
  if (!s.selected || !s.workspace) return null;
  return s.workspace.analyses.find((a) => a.id === s.selected!.analysisId)?.versions.find((v) => v.version === s.selected!.version) ?? null;
}

const storedActor = (): string => {
  try {
    return globalThis.localStorage?.getItem('dpw-actor') ?? '';
  } catch {
    return '';
  }
};

export const createGovernanceSlice: StateCreator<WorkbenchState, [], [], GovernanceSlice> = (set, get) => {
  /** Runs one host call; errors land in govError (the screen shows them), never thrown. */
  async function step<T>(label: string, work: () => Promise<T>): Promise<T | undefined> {
    set({ govBusy: label, govError: null });
    try {
      const r = await work();
      set({ govBusy: null });
      return r;
    } catch (e) {
      set({ govBusy: null, govError: toBridgeError(e).message });
      return undefined;
    }
  }
  const refresh = async (): Promise<void> => {
    const workspace = await getBridge().workspace({});
    set({ workspace });
    const sel = get().selected;
    if (sel) {
      set({ ledger: await getBridge().ledger(sel).catch(() => null) });
    }
    set({ audit: await getBridge().audit({}).catch(() => null) });
  };
  const needActor = (): string => {
    const a = get().actor.trim();
    if (!a) throw new Error('[InvalidParameter] enter your name first: every change is recorded in the audit trail with it');
    return a;
  };
  return {
    actor: storedActor(),
    workspace: null,
    selected: null,
    ledger: null,
    diff: null,
    audit: null,
    lastExport: null,
    govBusy: null,
    govError: null,
    setActor(name) {
      set({ actor: name });
      try {
        globalThis.localStorage?.setItem('dpw-actor', name);
      } catch {
        // private mode: the name is kept for this session only
      }
    },
    async loadWorkspace() {
      await step('Reading the workspace…', refresh);
    },
    async selectVersion(analysisId, version) {
      set({ selected: { analysisId, version }, diff: null, lastExport: null });
      await step('Composing the ledger…', async () => set({ ledger: await getBridge().ledger({ analysisId, version }) }));
    },
    async saveVersion(analysisId) {
      const config = get().config;
      if (!config) return;
      const v = await step('Saving a version…', async () => getBridge().saveAnalysis({ analysisId, config, actor: needActor() }));
      if (v) {
        await step('Reading the workspace…', refresh);
        await get().selectVersion(v.analysisId, v.version);
      }
    },
    async recordEvidence(runId) {
      const sel = get().selected;
      const run = get().runs.find((r) => r.id === runId);
      if (!sel || !run) return;
      const v = await step('Recording the simulation as evidence…', async () => getBridge().recordSimulation({ ...sel, actor: needActor(), report: run.report }));
      if (v) await step('Reading the workspace…', refresh);
    },
    async submitForReview() {
      const sel = get().selected;
      if (!sel) return;
      const v = await step('Submitting for review…', async () => getBridge().submitForReview({ ...sel, actor: needActor() }));
      if (v) await step('Reading the workspace…', refresh);
    },
    async decide(decision, reviewer, rationale) {
      const sel = get().selected;
      const v = currentVersion(get());
      if (!sel || !v) return;
      const r = await step(decision === 'approved' ? 'Approving…' : 'Rejecting…', async () => getBridge().decide({ ...sel, reviewer, rationale, decision, evidenceHash: v.simulation?.evidenceHash ?? '' }));
      if (r) await step('Reading the workspace…', refresh);
    },
    async saveBudget(budget) {
      const ws = get().workspace;
      const policy = {
        schemaVersion: 1,
        budgets: [{ id: 'default', label: `ε ${budget.epsilon} per ${budget.unit} per ${budget.period}`, dataset: '*', warnAt: 0.8, ...budget }],
        reservations: ws?.reservations ?? [],
      };
      const r = await step('Saving the budget policy…', async () => getBridge().savePolicy({ policy, actor: needActor() }));
      if (r) await step('Reading the workspace…', refresh);
    },
    async saveReservations(reservations) {
      const ws = get().workspace;
      const b = ws?.budgets[0];
      if (!b) {
        set({ govError: 'set a budget first: reservations are held back from a budget' });
        return;
      }
      const policy = {
        schemaVersion: 1,
        budgets: ws.budgets.map((x) => ({ ...x })),
        reservations: reservations.map((r) => ({ ...r, budget: b.id })),
      };
      const r = await step('Saving the reservations…', async () => getBridge().savePolicy({ policy, actor: needActor() }));
      if (r) await step('Reading the workspace…', refresh);
    },
    async loadDiff(from, to) {
      const sel = get().selected;
      if (!sel) return;
      await step('Comparing versions…', async () => set({ diff: await getBridge().diffVersions({ analysisId: sel.analysisId, from, to }) }));
    },
    async runExport(target, draft) {
      const sel = get().selected;
      if (!sel) return;
      set({ lastExport: null });
      const r = await step('Exporting…', async () => getBridge().runExport({ ...sel, target, draft, actor: needActor() }));
      if (r) {
        set({ lastExport: r });
        await step('Reading the workspace…', refresh);
      }
    },
    async loadAudit() {
      await step('Verifying the audit trail…', async () => set({ audit: await getBridge().audit({}) }));
    },
  };
};
