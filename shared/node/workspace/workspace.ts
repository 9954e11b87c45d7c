// A workspace (issue 7, "Workspace" and "Review workflow"): a folder a team keeps in git, holding
// the budget policy, every version of every analysis config with its simulation evidence and
// review, the hash-chained audit log and the exports.
//
//   WORKSPACE/
//     workspace.json                   { schemaVersion: 1, name, createdAt }
//     policy.json                      the budget policy (core/governance/policy.ts)
//     analyses/<analysisId>/v<N>.json  one file per version (VersionFile)
//     audit.log                        audit.ts
//     exports/<analysisId>/v<N>/...    written by the exporters, recorded with recordExport
//
// A version is never rewritten except for the status transitions of the review workflow
// (draft → simulated → in-review → approved | rejected); an approved or rejected version is
// immutable, and a change of parameters is a new version. Every write is atomic (atomic.ts) and is
// followed by an audit line; a process killed between the two leaves a version without its line
// (the chain itself stays intact). Writers are serialised within one process; one workspace has
// one writing process at a time.

import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { AnalysisConfig, Metric } from '../../core/config/schema';
import { validateConfig } from '../../core/config/index';
import type { BudgetPolicy } from '../../core/governance/policy';
import { validatePolicy } from '../../core/governance/policy';
import type { SimulationReport } from '../../core/simulate/report';
import { fsyncDir, serialised, writeFileAtomic } from './atomic';
import type { AuditLine, AuditSubject, AuditVerification } from './audit';
import { appendAudit, AUDIT_FILE, auditHead, canonicalHash, HASH_PATTERN, sha256, verifyAudit, WorkspaceError } from './audit';

export { WorkspaceError } from './audit';
export type { WorkspaceErrorCode } from './audit';

export const WORKSPACE_FILE = 'workspace.json';
export const POLICY_FILE = 'policy.json';
export const ANALYSES_DIR = 'analyses';
export const EXPORTS_DIR = 'exports';
export const WORKSPACE_SCHEMA_VERSION = 1 as const;
export const VERSION_SCHEMA_VERSION = 1 as const;

/** Analysis ids name folders: letters, digits, _ . - (not starting with . or -), at most 100. */
export const ANALYSIS_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const VERSION_FILE_PATTERN = /^v([1-9][0-9]*)\.json$/;

// ---------------------------------------------------------------------------------------------
// Types and file schemas

export type VersionStatus = 'draft' | 'simulated' | 'in-review' | 'approved' | 'rejected';
export type Decision = 'approved' | 'rejected';

/** What recordSimulation keeps per metric, for the reviewer and diffVersions. */
export interface MetricSimulationSummary {
  /** Root mean squared error over cohorts (absolute, in the metric's unit). */
  readonly rmse: number | null;
  /** Share of cohorts released within ±10 % relative error. */
  readonly withinShare10: number | null;
  /** Expected share of cohorts released (1 − suppression). */
  readonly expectedReleasedShare: number | null;
  /** Share of the metric's total value lost to suppression. */
  readonly valueLost: number | null;
}
/** Per metric id. */
export type SimulationSummary = Readonly<Record<string, MetricSimulationSummary>>;

export interface SimulationRecord {
  /** 'sha256:<hex>' of the evidence (the simulation report file as written). */
  readonly evidenceHash: string;
  readonly trials: number;
  readonly seed: number | string;
  readonly at: string;
  readonly summary?: SimulationSummary;
}

export interface ReviewRecord {
  readonly submittedBy: string;
  readonly submittedAt: string;
  readonly decision?: Decision;
  readonly reviewer?: string;
  readonly rationale?: string;
  readonly decidedAt?: string;
  /** The evidence the reviewer decided on (equal to simulation.evidenceHash). */
  readonly evidenceHash?: string;
}

export interface VersionFile {
  readonly schemaVersion: typeof VERSION_SCHEMA_VERSION;
  readonly analysisId: string;
  readonly version: number;
  readonly status: VersionStatus;
  readonly createdAt: string;
  readonly createdBy: string;
  /** The previous version, null for v1. */
  readonly parent: number | null;
  /** 'sha256:<hex>' of the canonical JSON of `config`. */
  readonly configHash: string;
  readonly config: AnalysisConfig;
  readonly simulation?: SimulationRecord;
  readonly review?: ReviewRecord;
}

export interface WorkspaceMeta {
  readonly schemaVersion: typeof WORKSPACE_SCHEMA_VERSION;
  readonly name: string;
  readonly createdAt: string;
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO time');
const hash = z.string().regex(HASH_PATTERN, 'must be "sha256:" and 64 lowercase hex digits');
const name = z.string().refine((s) => s.trim() !== '' && !/[\r\n]/.test(s), 'must be a non-empty one-line name');
const share = z.number().refine((v) => v >= 0 && v <= 1, 'must be in [0, 1]').nullable();

const WorkspaceMetaSchema = z.object({
  schemaVersion: z.literal(WORKSPACE_SCHEMA_VERSION),
  name,
  createdAt: isoTime,
}).strict();

const MetricSummarySchema = z.object({
  rmse: z.number().refine((v) => v >= 0, 'must be >= 0').nullable(),
  withinShare10: share,
  expectedReleasedShare: share,
  valueLost: share,
}).strict();
const SummarySchema = z.record(z.string(), MetricSummarySchema);

const SimulationSchema = z.object({
  evidenceHash: hash,
  trials: z.number().int().min(1),
  seed: z.union([z.number().int(), z.string().min(1)]),
  at: isoTime,
  summary: SummarySchema.optional(),
}).strict();

const ReviewSchema = z.object({
  submittedBy: name,
  submittedAt: isoTime,
  decision: z.enum(['approved', 'rejected']).optional(),
  reviewer: name.optional(),
  rationale: z.string().optional(),
  decidedAt: isoTime.optional(),
  evidenceHash: hash.optional(),
}).strict();

const VersionFileSchema = z.object({
  schemaVersion: z.literal(VERSION_SCHEMA_VERSION),
  analysisId: z.string(),
  version: z.number().int().min(1),
  status: z.enum(['draft', 'simulated', 'in-review', 'approved', 'rejected']),
  createdAt: isoTime,
  createdBy: name,
  parent: z.number().int().min(1).nullable(),
  configHash: hash,
  config: z.unknown(),
  simulation: SimulationSchema.optional(),
  review: ReviewSchema.optional(),
}).strict();

// ---------------------------------------------------------------------------------------------
// Reading files

/** Offset of the first syntax error in a JSON text (JSON.parse does not always say), or -1. */
export function jsonErrorOffset(s: string): number {
  let i = 0;
  const fail = (): never => {
    throw new RangeError(String(i));
  };
  const ws = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const NUM = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const str = (): void => {
    i++;
    for (;;) {
      if (i >= s.length) fail();
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = s[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(s[i + k] ?? '')) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (s[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (s[i] !== '"') fail();
          str();
          ws();
          if (s[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') return str();
    for (const word of ['true', 'false', 'null']) {
      if (c === word[0]) {
        for (const ch of word) {
          if (s[i] !== ch) fail();
          i++;
        }
        return;
      }
    }
    NUM.lastIndex = i;
    const m = NUM.exec(s);
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return -1;
  } catch (e) {
    // RangeError from fail(), or a stack overflow on absurd nesting (then: position unknown).
    const at = Number((e as Error).message);
    return Number.isInteger(at) ? at : -1;
  }
}

/** Parses a JSON file's text; a syntax error names the file, line, column and position. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') throw new WorkspaceError('Corrupt', `${file}: the file is empty, not JSON`, file);
    const at = jsonErrorOffset(text);
    if (at < 0) throw new WorkspaceError('Corrupt', `${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`, file);
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    const found = at >= text.length ? 'the end of the file' : JSON.stringify(text.slice(at, at + 12));
    throw new WorkspaceError('Corrupt', `${file}: not valid JSON at line ${line} column ${column} (position ${at}): unexpected ${found}`, file);
  }
}

function issuesText(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ');
}

async function readText(abs: string, file: string): Promise<string | null> {
  try {
    return await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new WorkspaceError('Corrupt', `${file}: cannot read the file (${code ?? (e as Error).message})`, file);
  }
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

// ---------------------------------------------------------------------------------------------
// Arguments

export interface ActorOptions {
  /** Who does it (a person's name or handle): recorded in the file and the audit log. */
  readonly actor: string;
  /** The time to record; default: the real clock. */
  readonly now?: Date;
}

function requireName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || /[\r\n]/.test(value)) {
    throw new WorkspaceError('InvalidArgument', `${what} ${JSON.stringify(value)} must be a non-empty one-line name`);
  }
  return value;
}

function requireId(id: unknown): string {
  if (typeof id !== 'string' || !ANALYSIS_ID_PATTERN.test(id) || id.includes('..')) {
    throw new WorkspaceError('InvalidArgument', `analysis id ${JSON.stringify(id)} must use letters, digits, _ . - (at most 100, not starting with . or -)`);
  }
  return id;
}

function requireVersion(n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new WorkspaceError('InvalidArgument', `version ${JSON.stringify(n)} must be an integer >= 1`);
  return n;
}

function requireHash(what: string, h: unknown): string {
  if (typeof h !== 'string' || !HASH_PATTERN.test(h)) throw new WorkspaceError('InvalidArgument', `${what} ${JSON.stringify(h)} must be "sha256:" and 64 lowercase hex digits`);
  return h;
}

function isoNow(now: Date | undefined): string {
  const d = now ?? new Date();
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new WorkspaceError('InvalidArgument', `now ${JSON.stringify(String(now))} is not a valid time`);
  return d.toISOString();
}

/** The text a version or workspace file is written as: indented, for readable git diffs. */
function fileText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const label = (id: string, n: number): string => `analysis ${id} v${n}`;

// ---------------------------------------------------------------------------------------------
// Policy

function checkPolicy(value: unknown): BudgetPolicy {
  const r = validatePolicy(value);
  if (!r.ok) throw new WorkspaceError('InvalidPolicy', `${POLICY_FILE}: invalid budget policy: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, POLICY_FILE);
  return r.policy;
}

// ---------------------------------------------------------------------------------------------
// The workspace

export interface SimulationInput {
  readonly evidenceHash: string;
  readonly trials: number;
  readonly seed: number | bigint | string;
  readonly summary?: SimulationSummary;
}

export interface DecisionInput {
  readonly reviewer: string;
  /** Why: required, recorded in the version file and the audit log. */
  readonly rationale: string;
  readonly decision: Decision;
  /** Must equal the recorded simulation's evidenceHash: the decision is on the evidence on record. */
  readonly evidenceHash: string;
  readonly now?: Date;
}

export interface ExportOptions extends ActorOptions {
  /** Exporting a version that is not approved is allowed only as a draft. */
  readonly draft: boolean;
}

export interface AnalysisStatus {
  readonly analysisId: string;
  readonly versions: readonly Pick<VersionFile, 'version' | 'status' | 'createdAt' | 'createdBy' | 'configHash'>[];
}

export class Workspace {
  /** Absolute path of the workspace folder. */
  readonly dir: string;
  readonly meta: WorkspaceMeta;

  private constructor(dir: string, meta: WorkspaceMeta) {
    this.dir = dir;
    this.meta = meta;
  }

  get auditPath(): string {
    return join(this.dir, AUDIT_FILE);
  }

  /** Where the exports of a version go: exports/<id>/v<N>/. */
  exportDir(analysisId: string, version: number): string {
    return join(this.dir, EXPORTS_DIR, requireId(analysisId), `v${requireVersion(version)}`);
  }

  /** Creates a workspace in `dir` (created if absent); refuses a folder that already is one. */
  static async init(dir: string, opts: { name: string } & ActorOptions): Promise<Workspace> {
    const root = resolve(dir);
    const wsName = requireName('workspace name', opts.name);
    const actor = requireName('actor', opts.actor);
    const at = isoNow(opts.now);
    for (const f of [WORKSPACE_FILE, AUDIT_FILE]) {
      if (await exists(join(root, f))) throw new WorkspaceError('Immutable', `${f}: already exists in ${root}: the folder is a workspace already`, f);
    }
    await mkdir(root, { recursive: true });
    const meta: WorkspaceMeta = { schemaVersion: WORKSPACE_SCHEMA_VERSION, name: wsName, createdAt: at };
    const text = fileText(meta);
    await writeFileAtomic(join(root, WORKSPACE_FILE), text, { overwrite: false }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') throw new WorkspaceError('Immutable', `${WORKSPACE_FILE}: already exists in ${root}: the folder is a workspace already`, WORKSPACE_FILE);
      throw e;
    });
    await appendAudit(join(root, AUDIT_FILE), { at, actor, action: 'workspace-created', subject: { workspace: wsName }, details: { file: WORKSPACE_FILE, fileHash: sha256(text) } }, { create: true });
    return new Workspace(root, meta);
  }

  /**
   * Opens a workspace and checks every version file (JSON, schema, configHash, numbering); the
   * first problem is thrown, naming the file. The audit log must exist (verifyAudit checks it).
   */
  static async open(dir: string): Promise<Workspace> {
    const root = resolve(dir);
    const st = await stat(root).catch(() => null);
    if (!st) throw new WorkspaceError('NotFound', `${root}: no such folder`);
    if (!st.isDirectory()) throw new WorkspaceError('NotFound', `${root}: not a folder`);
    const text = await readText(join(root, WORKSPACE_FILE), WORKSPACE_FILE);
    if (text === null) throw new WorkspaceError('NotFound', `${WORKSPACE_FILE}: not found in ${root} (not a workspace: create one with dpw workspace init)`, WORKSPACE_FILE);
    const r = WorkspaceMetaSchema.safeParse(parseJsonText(text, WORKSPACE_FILE));
    if (!r.success) throw new WorkspaceError('Corrupt', `${WORKSPACE_FILE}: ${issuesText(r.error.issues)}`, WORKSPACE_FILE);
    if (!(await exists(join(root, AUDIT_FILE)))) throw new WorkspaceError('NotFound', `${AUDIT_FILE}: not found in ${root} (the audit trail of the workspace is missing)`, AUDIT_FILE);
    const ws = new Workspace(root, r.data as WorkspaceMeta);
    for (const id of await ws.listAnalyses()) await ws.versions(id);
    return ws;
  }

  /** Analysis ids, sorted. */
  async listAnalyses(): Promise<string[]> {
    const entries = await readdir(join(this.dir, ANALYSES_DIR), { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
    return entries.filter((e) => e.isDirectory() && ANALYSIS_ID_PATTERN.test(e.name)).map((e) => e.name).sort();
  }

  /** The version numbers on disk (v<N>.json; temp files and other names are ignored), checked to run 1..N. */
  private async versionNumbers(id: string): Promise<number[]> {
    const folder = `${ANALYSES_DIR}/${id}`;
    const names = await readdir(join(this.dir, ANALYSES_DIR, id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (names === null) throw new WorkspaceError('NotFound', `analysis ${JSON.stringify(id)} not found (${folder} does not exist)`, folder);
    const ns = names.map((n) => VERSION_FILE_PATTERN.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
    ns.forEach((n, i) => {
      if (n !== i + 1) throw new WorkspaceError('Corrupt', `${folder}/v${i + 1}.json: missing (versions on disk: ${ns.join(', ')}): a version file was deleted`, `${folder}/v${i + 1}.json`);
    });
    return ns;
  }

  /** Reads and checks one version file. */
  private async readVersion(id: string, n: number): Promise<VersionFile> {
    return (await this.readVersionAndRaw(id, n)).version;
  }

  /**
   * The version with its config validated (defaults applied, older schemas migrated), and the
   * config exactly as stored: a status transition writes that back, so configHash stays its hash.
   */
  private async readVersionAndRaw(id: string, n: number): Promise<{ version: VersionFile; rawConfig: unknown }> {
    const file = `${ANALYSES_DIR}/${id}/v${n}.json`;
    const text = await readText(join(this.dir, file), file);
    if (text === null) throw new WorkspaceError('NotFound', `${label(id, n)} not found (${file} does not exist)`, file);
    const r = VersionFileSchema.safeParse(parseJsonText(text, file));
    if (!r.success) throw new WorkspaceError('Corrupt', `${file}: ${issuesText(r.error.issues)}`, file);
    const v = r.data;
    const bad = (what: string): never => {
      throw new WorkspaceError('Corrupt', `${file}: ${what}`, file);
    };
    if (v.analysisId !== id) bad(`analysisId ${JSON.stringify(v.analysisId)} is not the folder's ${JSON.stringify(id)}`);
    if (v.version !== n) bad(`version ${v.version} is not the file name's ${n}`);
    if (v.parent !== (n === 1 ? null : n - 1)) bad(`parent ${JSON.stringify(v.parent)} should be ${n === 1 ? 'null' : n - 1}`);
    const computed = canonicalHash(v.config);
    if (computed !== v.configHash) {
      throw new WorkspaceError('Tampered', `${file}: configHash ${v.configHash.slice(0, 19)}… does not match the config (${computed.slice(0, 19)}…): the file was edited`, file);
    }
    const c = validateConfig(v.config);
    if (!c.ok) bad(`config: ${c.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    const { simulation: sim, review } = v;
    const needs = (cond: boolean, what: string): void => {
      if (!cond) bad(`status ${v.status} ${what}`);
    };
    needs((v.status === 'draft') === !sim, v.status === 'draft' ? 'cannot have a simulation' : 'needs a simulation');
    needs(['in-review', 'approved', 'rejected'].includes(v.status) === !!review, review ? 'cannot have a review' : 'needs a review');
    if (review) {
      const decided = v.status === 'approved' || v.status === 'rejected';
      needs(decided ? review.decision === v.status : review.decision === undefined, decided ? `needs review.decision ${v.status}` : 'cannot have a review decision');
      if (decided) {
        needs(!!review.reviewer && !!review.rationale?.trim() && !!review.decidedAt, 'needs review.reviewer, rationale and decidedAt');
        needs(review.evidenceHash === sim?.evidenceHash, 'needs review.evidenceHash equal to simulation.evidenceHash');
      } else needs(review.reviewer === undefined && review.rationale === undefined && review.decidedAt === undefined && review.evidenceHash === undefined, 'cannot have reviewer, rationale, decidedAt or evidenceHash');
    }
    return { version: { ...(v as Omit<VersionFile, 'config'>), config: (c as { config: AnalysisConfig }).config }, rawConfig: v.config };
  }

  /** Every version of an analysis, oldest first. */
  async versions(analysisId: string): Promise<VersionFile[]> {
    const id = requireId(analysisId);
    const out: VersionFile[] = [];
    for (const n of await this.versionNumbers(id)) out.push(await this.readVersion(id, n));
    return out;
  }

  async version(analysisId: string, n: number): Promise<VersionFile> {
    return this.readVersion(requireId(analysisId), requireVersion(n));
  }

  /** The newest version, or null if the analysis has none. */
  async latest(analysisId: string): Promise<VersionFile | null> {
    const id = requireId(analysisId);
    const ns = await this.versionNumbers(id).catch((e: unknown) => {
      if (e instanceof WorkspaceError && e.code === 'NotFound') return [];
      throw e;
    });
    const last = ns[ns.length - 1];
    return last === undefined ? null : this.readVersion(id, last);
  }

  /** Analyses with their versions and statuses. */
  async status(): Promise<AnalysisStatus[]> {
    const out: AnalysisStatus[] = [];
    for (const id of await this.listAnalyses()) {
      const vs = await this.versions(id);
      out.push({ analysisId: id, versions: vs.map(({ version, status, createdAt, createdBy, configHash }) => ({ version, status, createdAt, createdBy, configHash })) });
    }
    return out;
  }

  verifyAudit(): Promise<AuditVerification> {
    return verifyAudit(this.auditPath);
  }

  /** Mutations of this workspace run one at a time (within this process). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return serialised(`workspace:${this.dir}`, work);
  }

  private audit(at: string, actor: string, action: string, subject: AuditSubject, details: Record<string, unknown>): Promise<AuditLine> {
    return appendAudit(this.auditPath, { at, actor, action, subject, details });
  }

  /**
   * Saves a config as the analysis's next version (status draft, parent = the previous version);
   * creates the analysis if new. The same parameters as the latest version (same configHash) make
   * no new version: `created` is false and the latest is returned.
   */
  async saveConfig(analysisId: string, config: unknown, opts: ActorOptions): Promise<{ version: VersionFile; created: boolean }> {
    const id = requireId(analysisId);
    const actor = requireName('actor', opts.actor);
    const at = isoNow(opts.now);
    const r = validateConfig(config);
    if (!r.ok) throw new WorkspaceError('InvalidConfig', `analysis ${id}: invalid config: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    const configHash = canonicalHash(r.config);
    return this.exclusive(async () => {
      const latest = await this.latest(id);
      if (latest && latest.configHash === configHash) return { version: latest, created: false };
      await auditHead(this.auditPath); // a broken log is refused before anything is written
      const n = (latest?.version ?? 0) + 1;
      const folder = join(this.dir, ANALYSES_DIR, id);
      if (!latest) {
        await mkdir(folder, { recursive: true });
        await fsyncDir(join(this.dir, ANALYSES_DIR));
      }
      const file = `${ANALYSES_DIR}/${id}/v${n}.json`;
      const v: VersionFile = {
        schemaVersion: VERSION_SCHEMA_VERSION, analysisId: id, version: n, status: 'draft', createdAt: at, createdBy: actor,
        parent: latest ? latest.version : null, configHash, config: r.config,
      };
      const text = fileText(v);
      await writeFileAtomic(join(this.dir, file), text, { overwrite: false }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') throw new WorkspaceError('Immutable', `${file}: already exists (written by another process?): nothing was saved`, file);
        throw e;
      });
      await this.audit(at, actor, 'config-saved', { analysisId: id, version: n }, { file, configHash, parent: v.parent, fileHash: sha256(text) });
      return { version: v, created: true };
    });
  }

  /**
   * Rewrites version n after a status transition: re-reads it (so the check sees the file on
   * disk), refuses approved and rejected versions, applies `next`, writes, then audits.
   */
  private transition(id: string, n: number, at: string, actor: string, action: string, next: (v: VersionFile) => { version: VersionFile; details: Record<string, unknown> }): Promise<VersionFile> {
    return this.exclusive(async () => {
      const { version: current, rawConfig } = await this.readVersionAndRaw(id, n);
      if (current.status === 'approved' || current.status === 'rejected') {
        throw new WorkspaceError('Immutable', `${label(id, n)} is ${current.status}: a decided version is immutable (save the config again to make a new version)`);
      }
      const { version, details } = next(current);
      await auditHead(this.auditPath);
      const file = `${ANALYSES_DIR}/${id}/v${n}.json`;
      const text = fileText({ ...version, config: rawConfig });
      await writeFileAtomic(join(this.dir, file), text);
      await this.audit(at, actor, action, { analysisId: id, version: n }, { file, ...details, configHash: version.configHash, fileHash: sha256(text) });
      return version;
    });
  }

  /** draft | simulated → simulated: records the simulation evidence (replacing an earlier one). */
  async recordSimulation(analysisId: string, n: number, sim: SimulationInput, opts: ActorOptions): Promise<VersionFile> {
    const id = requireId(analysisId);
    requireVersion(n);
    const actor = requireName('actor', opts.actor);
    const at = isoNow(opts.now);
    const evidenceHash = requireHash('evidenceHash', sim.evidenceHash);
    if (!Number.isSafeInteger(sim.trials) || sim.trials < 1) throw new WorkspaceError('InvalidArgument', `trials ${JSON.stringify(sim.trials)} must be an integer >= 1`);
    const seed = typeof sim.seed === 'bigint' ? sim.seed.toString() : sim.seed;
    if (!(typeof seed === 'number' ? Number.isSafeInteger(seed) : typeof seed === 'string' && seed !== '')) throw new WorkspaceError('InvalidArgument', `seed ${JSON.stringify(seed)} must be an integer or a non-empty string`);
    let summary: SimulationSummary | undefined;
    if (sim.summary !== undefined) {
      const s = SummarySchema.safeParse(sim.summary);
      if (!s.success) throw new WorkspaceError('InvalidArgument', `simulation summary: ${issuesText(s.error.issues)}`);
      summary = s.data;
    }
    return this.transition(id, n, at, actor, 'simulation-recorded', (v) => {
      if (v.status === 'in-review') throw new WorkspaceError('InvalidTransition', `${label(id, n)} is in-review: the evidence under review cannot be replaced (reject it, or save a new version)`);
      const simulation: SimulationRecord = { evidenceHash, trials: sim.trials, seed, at, ...(summary ? { summary } : {}) };
      return {
        version: { ...v, status: 'simulated', simulation },
        details: { evidenceHash, trials: sim.trials, seed, replaced: v.simulation?.evidenceHash ?? null },
      };
    });
  }

  /** simulated → in-review. */
  async submitForReview(analysisId: string, n: number, opts: ActorOptions): Promise<VersionFile> {
    const id = requireId(analysisId);
    requireVersion(n);
    const actor = requireName('actor', opts.actor);
    const at = isoNow(opts.now);
    return this.transition(id, n, at, actor, 'review-submitted', (v) => {
      if (v.status === 'draft') throw new WorkspaceError('InvalidTransition', `${label(id, n)} is draft: run a simulation before submitting it for review`);
      if (v.status === 'in-review') throw new WorkspaceError('InvalidTransition', `${label(id, n)} is in-review already (submitted by ${v.review!.submittedBy} at ${v.review!.submittedAt})`);
      return {
        version: { ...v, status: 'in-review', review: { submittedBy: actor, submittedAt: at } },
        details: { evidenceHash: v.simulation!.evidenceHash },
      };
    });
  }

  /**
   * in-review → approved | rejected. The rationale is required; the evidence hash must be the
   * recorded simulation's; a submitter cannot approve their own submission (they may reject it,
   * which withdraws it).
   */
  async decide(analysisId: string, n: number, input: DecisionInput): Promise<VersionFile> {
    const id = requireId(analysisId);
    requireVersion(n);
    const reviewer = requireName('reviewer', input.reviewer);
    const at = isoNow(input.now);
    if (input.decision !== 'approved' && input.decision !== 'rejected') throw new WorkspaceError('InvalidArgument', `decision ${JSON.stringify(input.decision)} must be approved or rejected`);
    if (typeof input.rationale !== 'string' || input.rationale.trim() === '') throw new WorkspaceError('InvalidArgument', `rationale is required: say why ${label(id, n)} is ${input.decision}`);
    const evidenceHash = requireHash('evidence hash', input.evidenceHash);
    const decision = input.decision;
    return this.transition(id, n, at, reviewer, decision, (v) => {
      if (v.status === 'draft') throw new WorkspaceError('InvalidTransition', `${label(id, n)} is draft: run a simulation and submit it for review before it can be ${decision}`);
      if (v.status === 'simulated') throw new WorkspaceError('InvalidTransition', `${label(id, n)} is simulated: submit it for review before it can be ${decision}`);
      const review = v.review!;
      const recorded = v.simulation!.evidenceHash;
      if (evidenceHash !== recorded) {
        throw new WorkspaceError('EvidenceMismatch', `evidence ${evidenceHash.slice(0, 19)}… is not the simulation on record for ${label(id, n)} (${recorded.slice(0, 19)}…): a decision must be based on the recorded evidence`);
      }
      if (decision === 'approved' && reviewer === review.submittedBy) {
        throw new WorkspaceError('SelfReview', `reviewer ${JSON.stringify(reviewer)} submitted ${label(id, n)} for review: another person must approve it`);
      }
      return {
        version: { ...v, status: decision, review: { ...review, decision, reviewer, rationale: input.rationale, decidedAt: at, evidenceHash } },
        details: { rationale: input.rationale, evidenceHash, submittedBy: review.submittedBy },
      };
    });
  }

  /**
   * Records an export of version n (written by an exporter under exportDir(id, n)). Only an
   * approved version can be exported, unless the export is marked a draft.
   */
  async recordExport(analysisId: string, n: number, target: string, file: string, contentHash: string, opts: ExportOptions): Promise<AuditLine> {
    const id = requireId(analysisId);
    requireVersion(n);
    const actor = requireName('actor', opts.actor);
    const at = isoNow(opts.now);
    requireName('export target', target);
    requireName('export file', file);
    requireHash('contentHash', contentHash);
    return this.exclusive(async () => {
      const v = await this.readVersion(id, n);
      if (!opts.draft && v.status !== 'approved') throw new WorkspaceError('InvalidTransition', `${label(id, n)} is ${v.status}: only an approved version can be exported (or export it as a draft)`);
      return this.audit(at, actor, 'exported', { analysisId: id, version: n }, { target, file, contentHash, draft: opts.draft, status: v.status, configHash: v.configHash });
    });
  }

  /** The budget policy (policy.json), validated; null if the workspace has none. */
  async policy(): Promise<BudgetPolicy | null> {
    const text = await readText(join(this.dir, POLICY_FILE), POLICY_FILE);
    if (text === null) return null;
    return checkPolicy(parseJsonText(text, POLICY_FILE));
  }

  /** Validates and writes policy.json (audited as policy-changed with the old and new hashes). */
  async savePolicy(policy: unknown, opts: ActorOptions): Promise<BudgetPolicy> {
    const actor = requireName('actor', opts.actor);
    const at = isoNow(opts.now);
    const valid = checkPolicy(policy);
    return this.exclusive(async () => {
      const old = await readText(join(this.dir, POLICY_FILE), POLICY_FILE);
      const previousHash = old === null ? null : canonicalHash(parseJsonText(old, POLICY_FILE));
      const policyHash = canonicalHash(valid);
      if (previousHash === policyHash) return valid;
      await auditHead(this.auditPath);
      const text = fileText(valid);
      await writeFileAtomic(join(this.dir, POLICY_FILE), text);
      await this.audit(at, actor, 'policy-changed', { file: POLICY_FILE }, { policyHash, previousHash, fileHash: sha256(text) });
      return valid;
    });
  }
}

/** Creates a workspace (see Workspace.init). */
export function initWorkspace(dir: string, opts: { name: string } & ActorOptions): Promise<Workspace> {
  return Workspace.init(dir, opts);
}

/** Opens and checks a workspace (see Workspace.open). */
export function openWorkspace(dir: string): Promise<Workspace> {
  return Workspace.open(dir);
}

// ---------------------------------------------------------------------------------------------
// Simulation evidence

/**
 * The per-metric summary recordSimulation keeps, from a simulation report (dpw simulate --json):
 * Monte-Carlo values where the report has them, else the analytic ones.
 */
export function summarizeSimulation(report: Pick<SimulationReport, 'metrics' | 'local'>): SimulationSummary {
  const out: Record<string, MetricSimulationSummary> = {};
  const within10 = (ws: readonly { x: number; mc: number | null; analytic: number | null }[]): number | null => {
    const w = ws.find((s) => Math.abs(s.x - 0.1) < 1e-12);
    return w ? (w.mc ?? w.analytic) : null;
  };
  for (const m of report.metrics) {
    const s = m.summary;
    out[m.id] = {
      rmse: s.rmse.mc ?? s.rmse.analytic,
      withinShare10: within10(s.withinShare),
      expectedReleasedShare: s.cohorts > 0 ? Math.min(1, s.expectedReleased.mc / s.cohorts) : null,
      valueLost: s.valueLostToSuppression.mc,
    };
  }
  // Local-DP frequencies release every category: nothing is suppressed.
  for (const m of report.local ?? []) {
    out[m.id] = { rmse: m.summary.rmse.mc, withinShare10: within10(m.summary.withinShare), expectedReleasedShare: 1, valueLost: 0 };
  }
  return out;
}

/**
 * The hash that identifies a simulation report as evidence: sha256 of its canonical JSON, so the
 * same report hashes the same whether it was written compact (dpw simulate --json) or indented.
 */
export function evidenceHashOf(report: unknown): string {
  return canonicalHash(report);
}

/** What recordSimulation needs, from a simulation report: its hash, trials, seed and summary. */
export function simulationEvidence(report: SimulationReport): SimulationInput {
  return { evidenceHash: evidenceHashOf(report), trials: report.run.trials, seed: report.run.seed, summary: summarizeSimulation(report) };
}

// ---------------------------------------------------------------------------------------------
// Differences between versions

export interface FieldChange<T> {
  readonly from: T | null;
  readonly to: T | null;
  /** to − from, when both are numbers. */
  readonly delta?: number;
}

/** The reviewable parameters of a metric (null where they do not apply to its kind). */
export interface MetricParams {
  readonly kind: Metric['kind'];
  /** Share of the total budget; null for ratios and local-DP metrics, which spend none of it. */
  readonly share: number | null;
  /** ε_m = share × total ε. */
  readonly epsilon: number | null;
  readonly localEpsilon: number | null;
  readonly mechanism: string | null;
  readonly l0: number | null;
  readonly linf: number | null;
  readonly clamp: { readonly low: number; readonly high: number; readonly mode: string } | null;
  readonly preThreshold: number | null;
  readonly selection: string | null;
  readonly selectionShare: number | null;
  readonly cadence: string;
  readonly provenance: string | null;
  readonly by: readonly string[];
  /** What is measured (column, filter, funnel steps, ...), as canonical JSON. */
  readonly definition: string;
}

export interface MetricDiff {
  readonly id: string;
  readonly change: 'added' | 'removed' | 'changed' | 'unchanged';
  /** Only the fields that differ (for added / removed metrics: every field, from or to null). */
  readonly fields: { readonly [K in keyof MetricParams]?: FieldChange<MetricParams[K]> };
  /** When both versions have simulation summaries: expected error and suppression, before and after. */
  readonly error?: { readonly [K in keyof MetricSimulationSummary]: FieldChange<number> };
}

export interface VersionDiff {
  readonly from: { readonly analysisId: string; readonly version: number; readonly status: VersionStatus; readonly configHash: string };
  readonly to: { readonly analysisId: string; readonly version: number; readonly status: VersionStatus; readonly configHash: string };
  readonly sameConfig: boolean;
  readonly budget: { readonly epsilon: FieldChange<number>; readonly delta: FieldChange<number>; readonly accountant: FieldChange<string> };
  /** Every metric of either version, in the order of `to` then the removed ones. */
  readonly metrics: readonly MetricDiff[];
  /** Other parts of the config that changed: name, description, dataset, privacyUnit, dimensions. */
  readonly other: readonly string[];
  /** Whether both versions have simulation summaries (then MetricDiff.error is set). */
  readonly simulationsCompared: boolean;
}

export function metricParams(config: AnalysisConfig, m: Metric): MetricParams {
  const { id: _id, label: _label, privacy: _privacy, cadence, by, kind, ...definition } = m;
  const base = { kind, cadence, by, definition: canonicalJsonCompact(definition) };
  if (m.kind === 'local-frequency') {
    return { ...base, share: null, epsilon: null, localEpsilon: m.privacy.localEpsilon, mechanism: 'randomized-response', l0: null, linf: null, clamp: null, preThreshold: null, selection: null, selectionShare: null, provenance: null };
  }
  const p = m.privacy;
  const spends = m.kind !== 'ratio';
  return {
    ...base,
    share: spends ? p.budgetShare : null,
    epsilon: spends ? p.budgetShare * config.budget.epsilon : null,
    localEpsilon: null,
    mechanism: p.mechanism,
    l0: p.maxPartitionsContributed,
    linf: p.maxContributionsPerPartition,
    clamp: p.clamp ? { low: p.clamp.low, high: p.clamp.high, mode: p.clamp.mode } : null,
    preThreshold: p.preThreshold,
    selection: p.selection,
    selectionShare: p.selectionShare,
    provenance: p.boundProvenance ?? null,
  };
}

/** Sorted-key JSON on one line (for `definition`). */
function canonicalJsonCompact(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(value));
}

function change<T>(from: T | null, to: T | null): FieldChange<T> {
  return typeof from === 'number' && typeof to === 'number' ? { from, to, delta: to - from } : { from, to };
}

const same = (a: unknown, b: unknown): boolean => canonicalJsonCompact(a) === canonicalJsonCompact(b);

/** What changed from version a to version b: budget, per-metric parameters and, with summaries, the error. */
export function diffVersions(a: VersionFile, b: VersionFile): VersionDiff {
  const ca = a.config;
  const cb = b.config;
  const pa = new Map(ca.metrics.map((m) => [m.id, metricParams(ca, m)] as const));
  const pb = new Map(cb.metrics.map((m) => [m.id, metricParams(cb, m)] as const));
  const sa = a.simulation?.summary;
  const sb = b.simulation?.summary;
  const ids = [...cb.metrics.map((m) => m.id), ...ca.metrics.map((m) => m.id).filter((id) => !pb.has(id))];
  const metrics = ids.map((id): MetricDiff => {
    const x = pa.get(id);
    const y = pb.get(id);
    const fields: Record<string, FieldChange<unknown>> = {};
    for (const k of Object.keys(y ?? x!) as (keyof MetricParams)[]) {
      const from = x ? x[k] : null;
      const to = y ? y[k] : null;
      if ((from === null && to === null) || (x && y && same(from, to))) continue;
      fields[k] = change<unknown>(from, to);
    }
    const diff = { id, change: !x ? 'added' : !y ? 'removed' : Object.keys(fields).length ? 'changed' : 'unchanged', fields } as const;
    if (!sa || !sb) return diff;
    const ea = sa[id];
    const eb = sb[id];
    const err = (k: keyof MetricSimulationSummary): FieldChange<number> => change(ea?.[k] ?? null, eb?.[k] ?? null);
    return { ...diff, error: { rmse: err('rmse'), withinShare10: err('withinShare10'), expectedReleasedShare: err('expectedReleasedShare'), valueLost: err('valueLost') } };
  });
  const other = (['name', 'description', 'dataset', 'privacyUnit', 'dimensions'] as const).filter((k) => !same(ca[k] ?? null, cb[k] ?? null));
  const ref = (v: VersionFile) => ({ analysisId: v.analysisId, version: v.version, status: v.status, configHash: v.configHash });
  return {
    from: ref(a),
    to: ref(b),
    sameConfig: a.configHash === b.configHash,
    budget: { epsilon: change(ca.budget.epsilon, cb.budget.epsilon), delta: change(ca.budget.delta, cb.budget.delta), accountant: change(ca.budget.accountant, cb.budget.accountant) },
    metrics,
    other,
    simulationsCompared: !!sa && !!sb,
  };
}
