// The workbench's services for the app (GUIDE.md "Two hosts, one set of services"): plain async
// functions over the data engine, one per channel of shared/contracts/ipc.ts. Electron's IPC
// handlers and the browser host both call them through `makeDispatcher`, which maps requests to
// results ({ ok, data } | { ok: false, error: { code, message } }) and handles cancellation.
//
// Datasets stay open in DuckDB while the host runs (a few at most, least recently used closed
// first), so adding a metric reads its contributions without re-reading the file; contributions
// are cached per (dataset, metric data definition): privacy parameters do not change them.

import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AppInfo, AuditView, Cell, Channel, ColumnSummary, ContributionsRequest, ContributionsResult, DatasetSource, DatasetSummary, DiffRow, ErrorCode, LedgerReport, LedgerView, RequestOf, ResponseOf, Result, SampleConfig, SampleInfo, VersionInfo, WireError, WorkspaceSummary } from '../../contracts/ipc';
import type { Ledger } from '../../core/governance/ledger';
import type { SimulationReport } from '../../core/simulate/report';
import { readAudit, WorkspaceError } from '../workspace/audit';
import { auditCoverage, checkVersion, decideWithGuardrails, exportVersion, saveEvidence } from '../workspace/governance';
import type { FieldChange, VersionDiff, VersionFile } from '../workspace/workspace';
import { diffVersions, openWorkspace, simulationEvidence, Workspace } from '../workspace/workspace';
import type { AnalysisConfig, ColumnType, Metric } from '../../core/config/schema';
import { isLocalMetric } from '../../core/config/schema';
import { validateConfig } from '../../core/config/index';
import type { MetricContributions } from '../../core/data/contributions';
import { DpError } from '../../core/errors';
import { computeContributions } from '../data/aggregate';
import type { ContributionMetric } from '../data/aggregate';
import { Engine, quoteIdent } from '../data/engine';
import { DataError } from '../data/errors';
import { checkColumns, formatFromPath, openDataset } from '../data/ingest';
import type { LoadedDataset } from '../data/ingest';
import { computeLocalCategories } from '../data/local';
import { analysisRequirements } from '../data/profile';
import { ConfigError } from '../simulate/service';

export interface ServiceContext {
  readonly signal?: AbortSignal;
}

/** The channels the services answer themselves (the host adds wb:dataset-choose and wb:request-cancel). */
export type ServiceChannel = Exclude<Channel, 'wb:dataset-choose' | 'wb:request-cancel'>;

export type ServiceHandlers = { [C in ServiceChannel]: (request: RequestOf<C>, ctx: ServiceContext) => Promise<ResponseOf<C>> };

export interface WorkbenchServices extends ServiceHandlers {
  /** Opens a file by path (what a host's file dialog leads to). */
  openPath(path: string, ctx: ServiceContext): Promise<DatasetSummary>;
  close(): Promise<void>;
}

export interface ServicesOptions {
  readonly host: AppInfo['host'];
  readonly version: string;
  /** The bundled samples (sample-data/). */
  readonly samplesDir: string;
  /** Where uploaded files are stored (browser host). */
  readonly uploadsDir: string;
  /** Base of relative paths (default: process.cwd()). */
  readonly cwd?: string;
  /** Datasets kept open at once (default 3). */
  readonly maxOpenDatasets?: number;
  /** DuckDB memory limit per dataset (default 1GB). */
  readonly memoryLimit?: string;
  /** The governance workspace (created on first use when absent). */
  readonly workspaceDir?: string;
}

// ---------------------------------------------------------------------------------------------
// Governance DTOs (shared/contracts/ipc.ts) from the workspace's file format

export function versionInfo(v: VersionFile): VersionInfo {
  return {
    analysisId: v.analysisId,
    version: v.version,
    status: v.status,
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    parent: v.parent,
    configHash: v.configHash,
    config: v.config,
    simulation: v.simulation ? { evidenceHash: v.simulation.evidenceHash, trials: v.simulation.trials, seed: String(v.simulation.seed), at: v.simulation.at } : null,
    review: v.review ? { ...v.review } : null,
  };
}

export function ledgerView(l: Ledger): LedgerView {
  return {
    budgetId: l.budgetId, label: l.label, period: l.period, periodDays: l.periodDays, accountant: l.accountant,
    limit: l.limit, spent: l.spent, remaining: l.remaining, usedShare: l.usedShare, status: l.status,
    entries: l.entries.map((e) => ({ analysisId: e.analysisId, version: e.version, status: e.status, metrics: e.metrics.map((m) => ({ ...m })) })),
    calendar: l.calendar, notes: l.notes,
  };
}

/** A value for a diff cell: numbers to 6 significant digits (0.22499999999999998 → 0.225). */
const show = (x: unknown): string => (x === null || x === undefined ? '–' : typeof x === 'number' ? String(Number(x.toPrecision(6))) : typeof x === 'object' ? JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v)) : String(x));

/** A version diff as table rows (what changed, before, after). */
export function diffRows(d: VersionDiff): DiffRow[] {
  const rows: DiffRow[] = [];
  const add = (scope: string, field: string, c: FieldChange<unknown> | undefined): void => {
    if (!c) return;
    const delta = c.delta !== undefined ? ` (Δ ${c.delta > 0 ? '+' : ''}${Number(c.delta.toPrecision(4))})` : '';
    // Equal to 6 significant digits is no change for a reviewer (shares × ε in floating point).
    if (show(c.from) !== show(c.to)) rows.push({ scope, field, before: show(c.from), after: `${show(c.to)}${delta}` });
  };
  add('budget', 'total ε', d.budget.epsilon);
  add('budget', 'total δ', d.budget.delta);
  add('budget', 'accountant', d.budget.accountant);
  for (const m of d.metrics) {
    if (m.change === 'unchanged') continue;
    if (m.change !== 'changed') rows.push({ scope: m.id, field: 'metric', before: m.change === 'added' ? '–' : 'present', after: m.change === 'added' ? 'added' : 'removed' });
    for (const [field, c] of Object.entries(m.fields)) add(m.id, field, c as FieldChange<unknown>);
    for (const [field, c] of Object.entries(m.error ?? {})) add(m.id, `simulated ${field}`, c as FieldChange<unknown>);
  }
  for (const o of d.other) rows.push({ scope: 'config', field: o, before: 'changed', after: 'changed' });
  return rows;
}

interface Sample {
  readonly info: SampleInfo;
  readonly path: string;
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
}

const SAMPLE_TITLES: Record<string, { title: string; description: string }> = {
  'product-events.csv': {
    title: 'Shop app events (CSV, 50k rows)',
    description: 'About 2,000 users over 4 weeks: sessions, page views, searches, carts, purchases with heavy-tailed revenue; 60 countries, 3 platforms, multi-device users and a few bots.',
  },
  'product-events.parquet': {
    title: 'Shop app events (Parquet, 50k rows)',
    description: 'The same events as the CSV, in Parquet.',
  },
  'saas-usage.csv': {
    title: 'B2B SaaS usage (CSV, 30k rows)',
    description: 'Feature usage by workspace: seats, plans, regions; the privacy unit is the workspace.',
  },
};

/** The bundled samples and the example configs that name them. */
export function listSamples(samplesDir: string): Sample[] {
  const configsDir = join(samplesDir, 'configs');
  const configs: { id: string; config: AnalysisConfig }[] = [];
  for (const f of safeReaddir(configsDir).filter((f) => f.endsWith('.json')).sort()) {
    try {
      const r = validateConfig(JSON.parse(readFileSync(join(configsDir, f), 'utf8')));
      if (r.ok) configs.push({ id: basename(f, '.json'), config: r.config });
    } catch {
      // An unreadable example is left out of the list, not fatal.
    }
  }
  const samples: Sample[] = [];
  for (const file of Object.keys(SAMPLE_TITLES)) {
    const path = join(samplesDir, file);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      continue;
    }
    const format = formatFromPath(file) ?? 'csv';
    const stem = file.replace(/\.[^.]+$/, '');
    // The person-level analysis first: it is the one to start from (device is the weaker unit).
    const own = configs
      .filter((c) => basename(c.config.dataset.path).replace(/\.[^.]+$/, '') === stem)
      .sort((a, b) => Number(a.config.privacyUnit.kind === 'device') - Number(b.config.privacyUnit.kind === 'device') || a.id.localeCompare(b.id));
    const sampleConfigs: SampleConfig[] = own.map((c) => ({
      id: c.id,
      title: c.config.name,
      // The example names the CSV; a Parquet twin uses the same analysis on its own file.
      config: { ...c.config, dataset: { ...c.config.dataset, path: file, format } },
    }));
    const columnTypes = own[0]?.config.dataset.columns;
    samples.push({
      info: { id: stem + (format === 'csv' ? '' : `-${format}`), ...SAMPLE_TITLES[file]!, file, format, sizeBytes: size, configs: sampleConfigs },
      path,
      ...(columnTypes ? { columnTypes } : {}),
    });
  }
  return samples;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface OpenDataset {
  readonly id: string;
  readonly engine: Engine;
  readonly ds: LoadedDataset;
  readonly summary: DatasetSummary;
  readonly contributions: Map<string, MetricContributions>;
  readonly local: Map<string, { unitCategories: Int32Array; unitsMappedToOther: number }>;
  units?: Map<string, number>;
  lastUsed: number;
}

/** The data definition of a metric (what its contributions depend on), as a cache key. */
export function dataKey(config: AnalysisConfig, metric: Metric): string {
  const { privacy: _privacy, label: _label, id: _id, ...data } = metric as Metric & { label?: string };
  const dims = config.dimensions.filter((d) => metric.by.includes(d.name)).map((d) => ({ name: d.name, column: d.column, bucket: d.bucket ?? null }));
  return JSON.stringify({ unit: config.privacyUnit.column, dims, data, types: config.dataset.columns ?? {} });
}

const PREVIEW_ROWS = 12;

function cellOf(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

async function summarizeDataset(id: string, ds: LoadedDataset, sizeBytes: number, loadMs: number, sampleId?: string): Promise<DatasetSummary> {
  const t = quoteIdent(ds.table);
  const cols = ds.columns;
  const distinctSql = cols.map((c, i) => `approx_count_distinct(${quoteIdent(c.name)})::DOUBLE AS d${i}`).join(', ');
  const distinct = cols.length > 0 ? (await ds.engine.row(`SELECT ${distinctSql} FROM ${t}`)) ?? {} : {};
  const previewRows = await ds.engine.rows(`SELECT * FROM ${t} LIMIT ${PREVIEW_ROWS}`);
  const columns: ColumnSummary[] = cols.map((c, i) => ({
    name: c.name,
    type: c.type,
    duckdbType: c.duckdbType,
    distinct: Math.min(Number(distinct[`d${i}`] ?? 0), ds.rowCount),
    nulls: c.nullCount,
    examples: [...new Set(previewRows.map((r) => r[c.name]).filter((v) => v !== null && v !== undefined).map((v) => String(cellOf(v))))].slice(0, 5),
  }));
  const preview = previewRows.map((r) => cols.map((c) => cellOf(r[c.name])));
  // Identifier-like columns with many distinct values, named like a person or device first.
  const score = (c: ColumnSummary): number => {
    const n = c.name.toLowerCase();
    // A person (or account) first: a device is the weaker unit (a person may have several).
    const named = /(^|_)(user|person|customer|account|member|workspace|org|tenant)(_?id)?$/.test(n) ? 3 : /(^|_)(device|client|visitor|browser|cookie)(_?id)?$/.test(n) ? 2 : /(_id|id)$/.test(n) ? 1 : 0;
    return named * 10 + Math.log10(1 + c.distinct);
  };
  const unitCandidates = columns
    .filter((c) => (c.type === 'string' || c.type === 'integer') && c.distinct > 1 && c.distinct < ds.rowCount * 0.9 && !/^(event|row|session)_?id$/i.test(c.name))
    .sort((a, b) => score(b) - score(a))
    .map((c) => c.name);
  return {
    datasetId: id,
    path: ds.path,
    name: basename(ds.path),
    format: ds.format,
    sizeBytes,
    rows: ds.rowCount,
    columns,
    preview,
    unitCandidates,
    warnings: ds.warnings.map((w) => (typeof w === 'string' ? w : (w as { message?: string }).message ?? JSON.stringify(w))),
    ...(sampleId ? { sampleId } : {}),
    loadMs,
  };
}

/** Makes the services; call close() when the host stops. */
export function makeWorkbenchServices(opts: ServicesOptions): WorkbenchServices {
  const cwd = opts.cwd ?? process.cwd();
  const maxOpen = opts.maxOpenDatasets ?? 3;
  const datasets = new Map<string, OpenDataset>();
  let clock = 0;

  const samples = (): Sample[] => listSamples(opts.samplesDir);

  async function evict(): Promise<void> {
    while (datasets.size > maxOpen) {
      const oldest = [...datasets.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0]!;
      datasets.delete(oldest.id);
      oldest.engine.close();
    }
  }

  async function open(path: string, ctx: ServiceContext, extra: { columnTypes?: Readonly<Record<string, ColumnType>>; sampleId?: string; displayName?: string } = {}): Promise<DatasetSummary> {
    const t0 = performance.now();
    const engine = await Engine.create({ memoryLimit: opts.memoryLimit ?? '1GB' });
    try {
      const ds = await openDataset(path, {
        engine,
        ...(extra.columnTypes ? { columnTypes: extra.columnTypes } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const id = randomUUID();
      const size = statSync(path).size;
      let summary = await summarizeDataset(id, ds, size, performance.now() - t0, extra.sampleId);
      if (extra.displayName) summary = { ...summary, name: extra.displayName };
      datasets.set(id, { id, engine, ds, summary, contributions: new Map(), local: new Map(), lastUsed: ++clock });
      await evict();
      return summary;
    } catch (e) {
      engine.close();
      throw e;
    }
  }

  function getDataset(id: string): OpenDataset {
    const d = datasets.get(id);
    if (!d) throw new ServiceError('NotFound', `dataset ${id} is not open (it was closed to free memory, or the app restarted): open it again`);
    d.lastUsed = ++clock;
    return d;
  }

  async function loadContributions(req: ContributionsRequest, ctx: ServiceContext): Promise<ContributionsResult> {
    const t0 = performance.now();
    const d = getDataset(req.datasetId);
    const v = validateConfig(req.config);
    if (!v.ok) throw new ConfigError('analysis', v.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    const config = v.config;
    const base = config.metrics.filter((m): m is ContributionMetric => m.kind !== 'ratio' && m.kind !== 'local-frequency');
    const localMetrics = config.metrics.filter(isLocalMetric);
    await checkColumns(d.ds, analysisRequirements(config), ctx.signal);
    const contributions: Record<string, MetricContributions> = {};
    const local: Record<string, { unitCategories: Int32Array; unitsMappedToOther: number }> = {};
    const cached: string[] = [];
    for (const m of base) {
      const key = dataKey(config, m);
      let c = d.contributions.get(key);
      if (c) cached.push(m.id);
      else {
        c = await d.engine.withConnection((conn) => computeContributions(conn, d.ds.table, config, m, { file: d.ds.path, ...(ctx.signal ? { signal: ctx.signal } : {}) }), ctx.signal);
        d.contributions.set(key, c);
      }
      contributions[m.id] = c.metricId === m.id ? c : { ...c, metricId: m.id };
    }
    for (const m of localMetrics) {
      const key = dataKey(config, m);
      let l = d.local.get(key);
      if (l) cached.push(m.id);
      else {
        const r = await d.engine.withConnection((conn) => computeLocalCategories(conn, d.ds.table, config, m), ctx.signal);
        l = { unitCategories: r.unitCategories, unitsMappedToOther: r.unitsMappedToOther };
        d.local.set(key, l);
      }
      local[m.id] = l;
    }
    d.units ??= new Map();
    let units = d.units.get(config.privacyUnit.column);
    if (units === undefined) {
      const row = await d.engine.row(`SELECT count(DISTINCT ${quoteIdent(config.privacyUnit.column)})::DOUBLE AS n FROM ${quoteIdent(d.ds.table)}`);
      units = Number(row?.['n'] ?? 0);
      d.units.set(config.privacyUnit.column, units);
    }
    return { units, contributions, local, cached, loadMs: performance.now() - t0 };
  }

  async function openSource(source: DatasetSource, columnTypes: Readonly<Record<string, ColumnType>> | undefined, ctx: ServiceContext): Promise<DatasetSummary> {
    if (source.kind === 'sample') {
      const s = samples().find((x) => x.info.id === source.sampleId);
      if (!s) throw new ServiceError('NotFound', `no bundled sample ${JSON.stringify(source.sampleId)} (known: ${samples().map((x) => x.info.id).join(', ')})`);
      const types = columnTypes ?? s.columnTypes;
      return open(s.path, ctx, { sampleId: s.info.id, ...(types ? { columnTypes: types } : {}) });
    }
    if (source.kind === 'path') {
      if (typeof source.path !== 'string' || source.path.trim() === '') throw new ServiceError('InvalidParameter', 'path is empty: give the path of a CSV, NDJSON, Parquet or Arrow file');
      const path = isAbsolute(source.path) ? source.path : resolve(cwd, source.path);
      return open(path, ctx, columnTypes ? { columnTypes } : {});
    }
    if (source.kind === 'upload') {
      const name = basename(String(source.name ?? '')).replace(/[^A-Za-z0-9._-]/g, '_') || 'upload';
      if (!(source.bytes instanceof Uint8Array)) throw new ServiceError('InvalidParameter', 'upload has no file bytes');
      mkdirSync(opts.uploadsDir, { recursive: true });
      // A fresh folder per upload keeps the user's file name (the format is read from the extension).
      const dir = join(opts.uploadsDir, randomUUID());
      mkdirSync(dir);
      const path = join(dir, name);
      writeFileSync(`${path}.part`, source.bytes);
      renameSync(`${path}.part`, path);
      return open(path, ctx, { ...(columnTypes ? { columnTypes } : {}), displayName: name });
    }
    throw new ServiceError('InvalidParameter', `unknown dataset source ${JSON.stringify((source as { kind?: unknown }).kind)}`);
  }

  // ---- governance: one workspace per host, opened (or created) on first use
  let workspace: Promise<Workspace> | null = null;
  const ws = (): Promise<Workspace> => {
    if (!opts.workspaceDir) return Promise.reject(new ServiceError('NotSupported', 'this host has no workspace folder (start it with --workspace DIR or DPW_WORKSPACE)'));
    workspace ??= openWorkspace(opts.workspaceDir).catch(async (e: unknown) => {
      if (e instanceof WorkspaceError && e.code === 'NotFound' && /workspace\.json|no such folder/.test(e.message)) {
        return Workspace.init(opts.workspaceDir!, { name: 'DP Workbench workspace', actor: 'workbench' });
      }
      workspace = null;
      throw e;
    });
    return workspace;
  };
  const summary = async (): Promise<WorkspaceSummary> => {
    const w = await ws();
    const policy = await w.policy();
    const analyses = [];
    for (const id of await w.listAnalyses()) analyses.push({ id, versions: (await w.versions(id)).map(versionInfo) });
    return {
      dir: w.dir,
      name: w.meta.name,
      budgets: (policy?.budgets ?? []).map((b) => ({ id: b.id, ...(b.label !== undefined ? { label: b.label } : {}), dataset: b.dataset, unit: b.unit, period: b.period, epsilon: b.epsilon, delta: b.delta, accountant: b.accountant, warnAt: b.warnAt })),
      reservations: (policy?.reservations ?? []).map((r) => ({ id: r.id, budget: r.budget, label: r.label, epsilon: r.epsilon, delta: r.delta })),
      analyses,
    };
  };
  const ledgerReport = async (analysisId: string, version: number): Promise<LedgerReport> => {
    const w = await ws();
    const check = await checkVersion(w, await w.version(analysisId, version));
    return {
      ledgers: check.ledgers.map(ledgerView),
      guardrails: [...check.errors.map((g) => ({ level: 'error' as const, code: g.code, message: g.message, ...(g.metricId ? { metricId: g.metricId } : {}) })), ...check.warnings.map((g) => ({ level: 'warning' as const, code: g.code, message: g.message, ...(g.metricId ? { metricId: g.metricId } : {}) }))],
      ok: check.ok,
    };
  };

  return {
    'wb:workspace-get': async () => summary(),
    'wb:policy-save': async (req) => {
      await (await ws()).savePolicy(req.policy, { actor: req.actor });
      return summary();
    },
    'wb:analysis-save': async (req) => versionInfo((await (await ws()).saveConfig(req.analysisId, req.config, { actor: req.actor })).version),
    'wb:simulation-record': async (req) => {
      const w = await ws();
      const v = await w.version(req.analysisId, req.version);
      const report = req.report as SimulationReport;
      if (!report || typeof report !== 'object' || !Array.isArray((report as { metrics?: unknown }).metrics)) throw new ServiceError('InvalidParameter', 'the simulation report is missing or not a report');
      // The evidence must be a simulation of exactly this version's config.
      const ids = new Set(v.config.metrics.map((m) => m.id));
      if (report.privacy?.epsilon !== v.config.budget.epsilon || report.metrics.some((m) => !ids.has(m.id))) {
        throw new ServiceError('InvalidParameter', `the simulation is not of ${req.analysisId} v${req.version}'s configuration (ε ${report.privacy?.epsilon} vs ${v.config.budget.epsilon}, or other metrics): simulate this version first`);
      }
      const recorded = await w.recordSimulation(req.analysisId, req.version, simulationEvidence(report), { actor: req.actor });
      await saveEvidence(w, req.analysisId, req.version, report);
      return versionInfo(recorded);
    },
    'wb:review-submit': async (req) => versionInfo(await (await ws()).submitForReview(req.analysisId, req.version, { actor: req.actor })),
    'wb:review-decide': async (req) => versionInfo(await decideWithGuardrails(await ws(), req.analysisId, req.version, { reviewer: req.reviewer, rationale: req.rationale, decision: req.decision, evidenceHash: req.evidenceHash })),
    'wb:version-diff': async (req) => {
      const w = await ws();
      return diffRows(diffVersions(await w.version(req.analysisId, req.from), await w.version(req.analysisId, req.to)));
    },
    'wb:ledger-get': async (req) => ledgerReport(req.analysisId, req.version),
    'wb:export-run': async (req) => {
      const out = await exportVersion(await ws(), req.analysisId, req.version, { target: req.target, draft: req.draft, actor: req.actor, workbenchVersion: opts.version });
      return { target: out.target, filename: out.filename, path: out.path, mediaType: out.mediaType, content: out.content, draft: out.draft };
    },
    'wb:audit-get': async (): Promise<AuditView> => {
      const w = await ws();
      const check = await w.verifyAudit();
      const lines = await readAudit(w.auditPath).catch(() => []);
      // The files must agree with the log as well (hand edits, a writer stopped before its audit line).
      const coverage = check.ok ? await auditCoverage(w) : [];
      const firstBad = !check.ok ? { line: check.line, reason: check.reason } : coverage.length > 0 ? { line: 0, reason: coverage.map((p) => `${p.file}: ${p.reason}`).join('; ') } : null;
      return {
        ok: firstBad === null,
        lines: check.ok ? check.lines : lines.length,
        firstBad,
        entries: lines.slice(-200).reverse().map((l) => ({ seq: l.seq, at: l.at, actor: l.actor, action: l.action, subject: Object.values(l.subject).join(' v'), hash: l.hash })),
      };
    },
    'wb:app-info': async () => ({ host: opts.host, version: opts.version, cwd }),
    'wb:samples-list': async () => samples().map((s) => s.info),
    'wb:dataset-open': async (req, ctx) => openSource(req.source, req.columnTypes, ctx),
    'wb:contributions-load': loadContributions,
    openPath: (path, ctx) => open(path, ctx),
    async close() {
      for (const d of datasets.values()) d.engine.close();
      datasets.clear();
    },
  };
}

/** An error a service raises on purpose, with its wire code. */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Maps anything thrown to the wire error (GUIDE.md "Errors"): codes the UI can word, messages that name the value. */
export function toWireError(e: unknown): WireError {
  if (e instanceof ServiceError) return { code: e.code, message: e.message };
  if (e instanceof DpError) return { code: e.code, message: e.message };
  if (e instanceof DataError) return { code: e.code === 'Cancelled' ? 'Cancelled' : 'DataError', message: e.message };
  if (e instanceof ConfigError) return { code: 'ConfigError', message: e.message };
  if (e instanceof WorkspaceError) return { code: e.code === 'NotFound' ? 'NotFound' : e.code === 'InvalidConfig' ? 'ConfigError' : 'InvalidParameter', message: e.message };
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'QueryCancelled')) return { code: 'Cancelled', message: 'cancelled' };
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'Internal', message: msg || 'unexpected error' };
}

export interface DispatcherOptions {
  /** wb:dataset-choose: asks the user for a file path (Electron's dialog); absent = not supported by this host. */
  readonly choosePath?: () => Promise<string | null>;
}

export type Dispatch = <C extends Channel>(channel: C, request: RequestOf<C>) => Promise<Result<ResponseOf<C>>>;

/** One entry point for both hosts: validates the channel, runs the service, returns a Result, tracks cancellable requests. */
export function makeDispatcher(services: WorkbenchServices, dopts: DispatcherOptions = {}): Dispatch {
  const running = new Map<string, AbortController>();
  const run = async (channel: Channel, request: unknown): Promise<unknown> => {
    if (channel === 'wb:request-cancel') {
      const id = (request as { requestId?: unknown })?.requestId;
      const c = typeof id === 'string' ? running.get(id) : undefined;
      c?.abort();
      return { cancelled: c !== undefined };
    }
    if (channel === 'wb:dataset-choose') {
      if (!dopts.choosePath) throw new ServiceError('NotSupported', 'this host has no file dialog: pick the file in the page');
      const path = await dopts.choosePath();
      return path === null ? null : services.openPath(path, {});
    }
    const handler = (services as unknown as Record<string, ((req: unknown, ctx: ServiceContext) => Promise<unknown>) | undefined>)[channel];
    if (!channel.startsWith('wb:') || typeof handler !== 'function') throw new ServiceError('NotFound', `unknown channel ${JSON.stringify(channel)}`);
    const requestId = (request as { requestId?: unknown } | null)?.requestId;
    if (typeof requestId === 'string') {
      const controller = new AbortController();
      running.set(requestId, controller);
      try {
        return await handler(request ?? {}, { signal: controller.signal });
      } finally {
        running.delete(requestId);
      }
    }
    return handler(request ?? {}, {});
  };
  return async (channel, request) => {
    try {
      return { ok: true, data: (await run(channel, request)) as never };
    } catch (e) {
      return { ok: false, error: toWireError(e) };
    }
  };
}

