// Governance over a workspace, the one place both the app's services and the CLI (`dpw ledger`,
// `dpw export`, `dpw review approve`) go through, so the guardrails cannot differ between them:
// - the ledger of a version: every budget of the policy that covers it composes the latest
//   approved version of every other analysis on that data plus this version (core/governance);
// - approval is refused when the ledger has a guardrail error (over budget, device unit under a
//   user budget, no budget at all), with the numbers in the message;
// - export: only an approved version within budget leaves as approved; anything else only with
//   `draft`, and then every output is marked DRAFT (core/export).

import { join, relative } from 'node:path';
import type { AnalysisConfig } from '../../core/config/schema';
import { exportConfig, EXPORT_TARGETS } from '../../core/export/index';
import type { ExportTarget } from '../../core/export/index';
import type { Guardrail, Ledger } from '../../core/governance/ledger';
import { buildLedger, checkGuardrails, noBudgetGuardrail } from '../../core/governance/ledger';
import { matchBudgets } from '../../core/governance/policy';
import type { SimulationReport } from '../../core/simulate/report';
import { writeFileAtomic } from './atomic';
import { sha256, WorkspaceError } from './audit';
import type { VersionFile, Workspace } from './workspace';
import { evidenceHashOf } from './workspace';

export interface LedgerCheck {
  readonly ledgers: readonly Ledger[];
  readonly errors: readonly Guardrail[];
  readonly warnings: readonly Guardrail[];
  readonly ok: boolean;
}

/** The latest approved version of every analysis (the releases the policy already carries). */
export async function approvedVersions(ws: Workspace): Promise<VersionFile[]> {
  const out: VersionFile[] = [];
  for (const id of await ws.listAnalyses()) {
    const approved = (await ws.versions(id)).filter((v) => v.status === 'approved');
    if (approved.length > 0) out.push(approved[approved.length - 1]!);
  }
  return out;
}

/**
 * The ledgers and guardrails of `target` (a version of the workspace, whatever its status): the
 * target replaces the approved version of its own analysis in the composition.
 */
export async function checkVersion(ws: Workspace, target: VersionFile): Promise<LedgerCheck> {
  const policy = await ws.policy();
  if (!policy || policy.budgets.length === 0) {
    const g: Guardrail = { code: 'no-budget', analysisId: target.analysisId, message: `${target.analysisId} v${target.version}: the workspace has no budget policy (policy.json): set a budget per person and period before approving or exporting` };
    return { ledgers: [], errors: [g], warnings: [], ok: false };
  }
  const budgets = matchBudgets(policy, target.config);
  if (budgets.length === 0) {
    const g = noBudgetGuardrail(target.analysisId, target.config, policy.budgets);
    return { ledgers: [], errors: [g], warnings: [], ok: false };
  }
  const others = (await approvedVersions(ws)).filter((v) => v.analysisId !== target.analysisId);
  const ledgers: Ledger[] = [];
  const errors: Guardrail[] = [];
  const warnings: Guardrail[] = [];
  for (const budget of budgets) {
    const entries = [...others, target]
      .filter((v) => matchBudgets(policy, v.config).some((b) => b.id === budget.id))
      .map((v) => ({ analysisId: v.analysisId, version: v.version, status: v.status, config: v.config }));
    const ledger = buildLedger({ budget, entries, reservations: policy.reservations });
    ledgers.push(ledger);
    const report = checkGuardrails(ledger, [{ analysisId: target.analysisId, version: target.version, config: target.config }]);
    errors.push(...report.errors);
    warnings.push(...report.warnings);
  }
  return { ledgers, errors, warnings, ok: errors.length === 0 };
}

/** The ledger of every budget with the approved versions only (`dpw ledger`). */
export async function workspaceLedgers(ws: Workspace): Promise<LedgerCheck> {
  const policy = await ws.policy();
  if (!policy) return { ledgers: [], errors: [{ code: 'no-budget', message: 'the workspace has no budget policy (policy.json)' }], warnings: [], ok: false };
  const approved = await approvedVersions(ws);
  const ledgers: Ledger[] = [];
  const errors: Guardrail[] = [];
  const warnings: Guardrail[] = [];
  for (const budget of policy.budgets) {
    const entries = approved
      .filter((v) => matchBudgets(policy, v.config).some((b) => b.id === budget.id))
      .map((v) => ({ analysisId: v.analysisId, version: v.version, status: v.status, config: v.config }));
    const ledger = buildLedger({ budget, entries, reservations: policy.reservations });
    ledgers.push(ledger);
    const report = checkGuardrails(ledger, approved.map((v) => ({ analysisId: v.analysisId, version: v.version, config: v.config })));
    errors.push(...report.errors);
    warnings.push(...report.warnings);
  }
  return { ledgers, errors, warnings, ok: errors.length === 0 };
}

/** Approves or rejects through the workspace, refusing an approval that the guardrails block. */
export async function decideWithGuardrails(
  ws: Workspace,
  analysisId: string,
  version: number,
  input: { reviewer: string; rationale: string; decision: 'approved' | 'rejected'; evidenceHash: string; now?: Date },
): Promise<VersionFile> {
  const v = await ws.version(analysisId, version);
  // Workflow refusals (not in review, self-review, other evidence) come from ws.decide with their own words.
  const workflowRefusal = v.status !== 'in-review' || v.review?.submittedBy === input.reviewer || v.simulation?.evidenceHash !== input.evidenceHash;
  if (input.decision === 'approved' && !workflowRefusal) {
    const check = await checkVersion(ws, v);
    if (!check.ok) {
      throw new WorkspaceError('InvalidTransition', `approval of ${analysisId} v${version} refused: ${check.errors.map((g) => g.message).join('; ')}`);
    }
  }
  return ws.decide(analysisId, version, input);
}

// ---------------------------------------------------------------------------------------------
// Evidence: the simulation report a version's evidenceHash names, kept beside the version so a
// reviewer can re-check it and the privacy sheet can state its accuracy.

/** evidence/<id>/v<N>.json in the workspace. */
export function evidencePath(ws: Workspace, analysisId: string, version: number): string {
  return join(ws.dir, 'evidence', analysisId, `v${version}.json`);
}

/** Stores the report (after recordSimulation accepted it). */
export async function saveEvidence(ws: Workspace, analysisId: string, version: number, report: unknown): Promise<string> {
  const path = evidencePath(ws, analysisId, version);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(ws.dir, 'evidence', analysisId), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(report, null, 1)}\n`);
  return path;
}

/** The stored report of a version, when present and its hash is the recorded evidenceHash; else null. */
export async function loadEvidence(ws: Workspace, v: VersionFile): Promise<SimulationReport | null> {
  if (!v.simulation) return null;
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(evidencePath(ws, v.analysisId, v.version), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const report = JSON.parse(text) as SimulationReport;
    return evidenceHashOf(report) === v.simulation.evidenceHash ? report : null;
  } catch {
    return null;
  }
}

export interface ExportRequest {
  readonly target: string;
  readonly draft: boolean;
  readonly actor: string;
  readonly workbenchVersion: string;
  readonly now?: Date;
  readonly report?: SimulationReport;
}

export interface WrittenExport {
  readonly target: ExportTarget;
  readonly filename: string;
  /** Absolute path of the file written in the workspace. */
  readonly path: string;
  readonly mediaType: string;
  readonly content: string;
  readonly draft: boolean;
}

function requireTarget(target: string): ExportTarget {
  if (!(EXPORT_TARGETS as readonly string[]).includes(target)) throw new WorkspaceError('InvalidArgument', `export target ${JSON.stringify(target)} is not one of ${EXPORT_TARGETS.join(', ')}`);
  return target as ExportTarget;
}

/** Content of an export of a version (no file written): refused unless approved and within budget, or draft. */
export async function renderVersionExport(ws: Workspace, v: VersionFile, req: ExportRequest): Promise<{ target: ExportTarget; filename: string; mediaType: string; content: string; draft: boolean }> {
  const target = requireTarget(req.target);
  const approved = v.status === 'approved' && v.review?.decision === 'approved';
  if (!req.draft) {
    if (!approved) throw new WorkspaceError('InvalidTransition', `${v.analysisId} v${v.version} is ${v.status}, not approved: only an approved version exports (or export it as a draft, marked DRAFT)`);
    const check = await checkVersion(ws, v);
    if (!check.ok) throw new WorkspaceError('InvalidTransition', `export of ${v.analysisId} v${v.version} refused: ${check.errors.map((g) => g.message).join('; ')}`);
  }
  const asApproved = approved && !req.draft;
  const report = req.report ?? (await loadEvidence(ws, v)) ?? undefined;
  const file = exportConfig(target, v.config as AnalysisConfig, {
    analysisId: v.analysisId,
    version: v.version,
    approved: asApproved,
    ...(asApproved ? { approval: { reviewer: v.review!.reviewer!, rationale: v.review!.rationale ?? '', at: v.review!.decidedAt!, evidenceHash: v.review!.evidenceHash ?? v.simulation?.evidenceHash ?? '' } } : {}),
    configHash: v.configHash,
    generatedAt: (req.now ?? new Date()).toISOString(),
    workbenchVersion: req.workbenchVersion,
    ...(report ? { report } : {}),
  });
  return { target, filename: file.filename, mediaType: file.mediaType, content: file.content, draft: !asApproved };
}

/** Exports a version into the workspace (exports/<id>/v<N>/) and records it in the audit trail. */
export async function exportVersion(ws: Workspace, analysisId: string, version: number, req: ExportRequest): Promise<WrittenExport> {
  const v = await ws.version(analysisId, version);
  const out = await renderVersionExport(ws, v, req);
  const dir = ws.exportDir(analysisId, version);
  const path = join(dir, out.filename);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path, out.content);
  await ws.recordExport(analysisId, version, out.target, relative(ws.dir, path), sha256(out.content), { actor: req.actor, draft: out.draft, ...(req.now ? { now: req.now } : {}) });
  return { ...out, path };
}

// ---------------------------------------------------------------------------------------------
// Audit coverage: the chain proves the log was not edited; this proves the files agree with it.

export interface CoverageProblem {
  readonly file: string;
  readonly reason: string;
}

const FILE_ACTIONS = new Set(['config-saved', 'simulation-recorded', 'review-submitted', 'approved', 'rejected']);

/**
 * Every version file and policy.json must be exactly as the last audit line about it recorded
 * (its fileHash). A file written by a process killed before its audit line, or edited by hand
 * outside the workbench, is reported by name.
 */
export async function auditCoverage(ws: Workspace): Promise<CoverageProblem[]> {
  const { readFile } = await import('node:fs/promises');
  const { readAudit } = await import('./audit');
  const lines = await readAudit(ws.auditPath);
  const last = new Map<string, string>();
  for (const l of lines) {
    const fileHash = (l.details as { fileHash?: unknown }).fileHash;
    if (typeof fileHash !== 'string') continue;
    if (FILE_ACTIONS.has(l.action) && typeof l.subject['analysisId'] === 'string') last.set(`analyses/${l.subject['analysisId']}/v${l.subject['version']}.json`, fileHash);
    else if (l.action === 'policy-changed') last.set('policy.json', fileHash);
  }
  const problems: CoverageProblem[] = [];
  const check = async (file: string): Promise<void> => {
    const text = await readFile(join(ws.dir, file), 'utf8').catch(() => null);
    if (text === null) return;
    const recorded = last.get(file);
    if (recorded === undefined) problems.push({ file, reason: 'has no audit line: written outside the workbench, or the writer stopped before recording it' });
    else if (recorded !== sha256(text)) problems.push({ file, reason: `differs from what the audit log last recorded (${recorded.slice(0, 19)}…): changed outside the workbench` });
  };
  for (const id of await ws.listAnalyses()) for (const v of await ws.versions(id)) await check(`analyses/${id}/v${v.version}.json`);
  await check('policy.json');
  return problems;
}
