// Exports read back: every target of the sample configs is parsed by a real parser of its language
// and the privacy parameters recovered from it give the same noise as the core.
//
// - JSON / YAML: JSON.parse / the yaml package, then validateConfig: the same config and hash input.
// - Python (PipelineDP, OpenDP, Tumult): `python3 -m py_compile`, then Python's own `ast` module (a
//   small helper below) lists every call's arguments; ε, bounds and scales are checked against the
//   core's, and the noise scale is recomputed from the extracted parameters (L1/ε, or the analytic
//   Gaussian σ for L2 at (ε, δ)). The engines themselves are not installed (compile only).
// - BigQuery: sql-parser-cst (dialect bigquery) parses every statement. It accepts GoogleSQL's
//   named arguments (`contribution_bounds_per_group => (lo, hi)`) but not the
//   `WITH DIFFERENTIAL_PRIVACY OPTIONS (...)` clause, so each statement is split by one documented
//   transformation: the clause is cut out of `SELECT WITH DIFFERENTIAL_PRIVACY OPTIONS (...) ...`
//   (leaving `SELECT ...`, parsed as a query), and its option list is parsed as the OPTIONS list of
//   `CREATE TABLE dpw_options (x INT64) OPTIONS (...)` (GoogleSQL's DDL option syntax). Nothing else
//   of the statement is changed.
// - Sheet: HTML checks (ids, hash, banner, no script), with and without a simulation report.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseSql } from 'sql-parser-cst';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { AnalysisConfig, AnalysisConfigInput } from '../../../shared/core/config/index';
import { parseConfig, validateConfig } from '../../../shared/core/config/index';
import { analyticGaussianSigma } from '../../../shared/core/dp/mechanisms/gaussian';
import { canonicalJson, EXPORT_TARGETS, exportConfig, releasePlan } from '../../../shared/core/export/index';
import type { ExportContext, ExportTarget, MetricRelease, ReleasePart } from '../../../shared/core/export/index';
import { buildPlan } from '../../../shared/core/simulate/plan-builder';
import type { NoiseSpec } from '../../../shared/core/simulate/plan';
import type { SimulationReport } from '../../../shared/node/simulate/report';
import { loadAnalysis, simulateAnalysis } from '../../../shared/node/simulate/service';
import type { LoadedAnalysis } from '../../../shared/node/simulate/service';
import { REPO_ROOT } from '../../helpers/oracles';

const CONFIG_NAMES = ['product-pilot', 'saas-pilot'] as const;
const configPath = (name: string): string => resolve(REPO_ROOT, 'sample-data/configs', `${name}.json`);

function loadConfig(name: string): AnalysisConfig {
  const r = validateConfig(JSON.parse(readFileSync(configPath(name), 'utf8')));
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.issues)}`);
  return r.config;
}

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;

const APPROVAL = { reviewer: 'Grace Hopper', rationale: 'Errors within the agreed ±10%;\nbounds from domain knowledge.', at: '2025-03-04T10:11:12Z', evidenceHash: 'sha256:feedface' };

function context(config: AnalysisConfig, approved: boolean, extra: Partial<ExportContext> = {}): ExportContext {
  return {
    analysisId: 'shop-pilot', version: 4, approved, ...(approved ? { approval: APPROVAL } : {}),
    configHash: sha256(canonicalJson(config)), generatedAt: '2025-03-05T08:00:00Z', workbenchVersion: '0.1.0', ...extra,
  };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
const expectClose = (a: number, b: number, what: string, tol = 1e-9): void => {
  expect(rel(a, b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(tol);
};

function scaleOf(n: NoiseSpec): number {
  switch (n.kind) {
    case 'laplace':
    case 'discrete-laplace':
      return n.scale;
    case 'gaussian':
    case 'discrete-gaussian':
      return n.sigma;
    case 'none':
      return 0;
  }
}
const isLaplace = (n: NoiseSpec): boolean => n.kind === 'laplace' || n.kind === 'discrete-laplace';

/** The noise recomputed from exported parameters with budget.ts's formulas. */
function recompute(noise: NoiseSpec, l1: number, l2: number, epsilon: number, delta: number): number {
  if (isLaplace(noise)) return l1 / epsilon;
  if (noise.kind === 'gaussian') return analyticGaussianSigma(epsilon, delta, l2);
  throw new Error(`cannot recompute ${noise.kind} from (ε, δ) alone`);
}

// ---------------------------------------------------------------------------------------------
// Python: compile, and list every call's arguments with the `ast` module

const tmp = mkdtempSync(join(tmpdir(), 'dpw-export-'));

const AST_HELPER = `
import ast, json, sys
src = open(sys.argv[1], encoding="utf-8").read()
tree = ast.parse(src)
def name(f):
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return name(f.value) + "." + f.attr
    if isinstance(f, ast.Call):
        return name(f.func) + "()"
    return "<expr>"
def val(n):
    try:
        return ast.literal_eval(n)
    except Exception:
        return {"source": ast.get_source_segment(src, n)}
out = []
for fn in tree.body:
    if not isinstance(fn, ast.FunctionDef):
        continue
    calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    out.append({"function": fn.name, "doc": ast.get_docstring(fn), "calls": [
        {"name": name(c.func), "args": [val(a) for a in c.args], "kwargs": {k.arg: val(k.value) for k in c.keywords if k.arg}} for c in calls]})
print(json.dumps(out))
`;

interface PyCall {
  readonly name: string;
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
}
interface PyFunction {
  readonly function: string;
  readonly doc: string | null;
  readonly calls: PyCall[];
}

function writeTmp(name: string, content: string): string {
  const file = join(tmp, name);
  writeFileSync(file, content);
  return file;
}

function pyCompile(files: readonly string[]): void {
  execFileSync('python3', ['-m', 'py_compile', ...files], { stdio: 'pipe' });
}

function pyFunctions(file: string): PyFunction[] {
  return JSON.parse(execFileSync('python3', ['-c', AST_HELPER, file], { encoding: 'utf8' })) as PyFunction[];
}

/** The functions whose docstring names the metric (`metric <id>` or `metric <id> part <k>`). */
function functionsOf(fns: readonly PyFunction[], id: string): PyFunction[] {
  return fns.filter((f) => f.doc === `metric ${id}` || f.doc?.startsWith(`metric ${id} part `));
}

const calls = (f: PyFunction, suffix: string): PyCall[] => f.calls.filter((c) => c.name === suffix || c.name.endsWith(`.${suffix}`));
const one = (f: PyFunction, suffix: string): PyCall => {
  const cs = calls(f, suffix);
  expect(cs, `${f.function}: one ${suffix}`).toHaveLength(1);
  return cs[0]!;
};
const numArg = (v: unknown): number => {
  expect(typeof v, `numeric literal, got ${JSON.stringify(v)}`).toBe('number');
  return v as number;
};

// ---------------------------------------------------------------------------------------------
// SQL: the documented split of a DP statement, then sql-parser-cst

interface SqlStatement {
  readonly metricId: string;
  readonly options: Record<string, number | string>;
  readonly bounds: [number, number][];
  readonly comments: Record<string, string>[];
}

/** Cuts `WITH DIFFERENTIAL_PRIVACY OPTIONS (...)` out of a statement (the transformation of the module comment). */
function splitDpClause(stmt: string): { options: string; query: string } {
  const m = /SELECT\s+WITH\s+DIFFERENTIAL_PRIVACY\s+OPTIONS\s*\(/i.exec(stmt);
  if (!m) throw new Error(`no DP clause in ${stmt.slice(0, 200)}`);
  let depth = 1;
  let i = m.index + m[0].length;
  for (; i < stmt.length && depth > 0; i++) {
    if (stmt[i] === '(') depth++;
    else if (stmt[i] === ')') depth--;
  }
  return { options: stmt.slice(m.index + m[0].length, i - 1), query: `${stmt.slice(0, m.index)}SELECT${stmt.slice(i)}` };
}

type Cst = { type?: string; [k: string]: unknown };

function walk(node: unknown, visit: (n: Cst) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node !== null && typeof node === 'object') {
    visit(node as Cst);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

function literal(n: Cst): number | string {
  if (n.type === 'number_literal') return n['value'] as number;
  if (n.type === 'prefix_op_expr' && (n['operator'] as string) === '-') return -(literal(n['expr'] as Cst) as number);
  if (n.type === 'identifier') return n['name'] as string;
  if (n.type === 'string_literal') return n['value'] as string;
  throw new Error(`unexpected literal node ${n.type}`);
}

function parseStatement(metricId: string, block: string): SqlStatement {
  const { options, query } = splitDpClause(block);
  const opt = parseSql(`CREATE TABLE dpw_options (x INT64) OPTIONS (${options})`, { dialect: 'bigquery' });
  const optionsOut: Record<string, number | string> = {};
  walk(opt, (n) => {
    if (n.type === 'binary_expr' && n['operator'] === '=') optionsOut[(n['left'] as Cst)['name'] as string] = literal(n['right'] as Cst);
  });
  const cst = parseSql(query, { dialect: 'bigquery' });
  const bounds: [number, number][] = [];
  walk(cst, (n) => {
    if (n.type === 'named_arg' && ((n['name'] as Cst)['name'] as string) === 'contribution_bounds_per_group') {
      const items = ((n['value'] as Cst)['expr'] as Cst)['items'] as Cst[];
      bounds.push([literal(items[0]!) as number, literal(items[1]!) as number]);
    }
  });
  const comments = [...block.matchAll(/^\s*-- dpw: (.*)$/gm)].map((mm) => Object.fromEntries(mm[1]!.split(/\s+/).map((kv) => kv.split('=') as [string, string])));
  return { metricId, options: optionsOut, bounds, comments };
}

/** Statements of a BigQuery export, each with the metric id of its `-- ==== metric` comment. */
function sqlStatements(sql: string): SqlStatement[] {
  return sql.split(/\n(?=-- ==== metric )/).filter((b) => /SELECT\s+WITH\s+DIFFERENTIAL_PRIVACY/.test(b)).map((b) => {
    const id = /^-- ==== metric (\S+) /m.exec(b)![1]!;
    return parseStatement(id, b);
  });
}

// ---------------------------------------------------------------------------------------------

describe('canonicalJson', () => {
  it('sorts keys recursively, indents by two spaces and ends with a newline', () => {
    const a = canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined });
    expect(a).toBe('{\n  "a": {\n    "c": null,\n    "d": [\n      3,\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n');
    expect(canonicalJson({ a: { c: null, d: [3, { y: 2, z: 1 }] }, b: 1 })).toBe(a);
  });
});

describe.each(CONFIG_NAMES)('exports of %s', (name) => {
  const config = loadConfig(name);
  const plan = releasePlan(config);
  const central = plan.metrics.filter((r) => r.role !== 'local' && r.role !== 'derived');
  const draft = context(config, false);
  const approved = context(config, true);

  it('JSON reads back through validateConfig to the same config and hash input', () => {
    const f = exportConfig('json', config, approved);
    expect(f.filename).toBe('shop-pilot-v4.config.json');
    expect(f.content).toBe(canonicalJson(JSON.parse(f.content)));
    const doc = JSON.parse(f.content);
    expect(doc.export).toEqual({
      analysisId: 'shop-pilot', version: 4, status: 'APPROVED', approval: APPROVAL,
      configHash: approved.configHash, generatedAt: '2025-03-05T08:00:00Z', workbenchVersion: '0.1.0',
    });
    const back = validateConfig(doc.config);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(canonicalJson(back.config)).toBe(canonicalJson(config));
    expect(sha256(canonicalJson(back.config))).toBe(approved.configHash);
  });

  it('YAML reads back through validateConfig to the same config and hash input', () => {
    const f = exportConfig('yaml', config, approved);
    expect(f.content.split('\n')[0]).toBe('# APPROVED by Grace Hopper on 2025-03-04T10:11:12Z');
    const doc = parseYaml(f.content);
    expect(doc.export.configHash).toBe(approved.configHash);
    expect(doc.export.approval).toEqual(APPROVAL);
    const back = validateConfig(doc.config);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(canonicalJson(back.config)).toBe(canonicalJson(config));
    expect(sha256(canonicalJson(back.config))).toBe(approved.configHash);
    expect(canonicalJson(doc)).toBe(exportConfig('json', config, approved).content);
  });

  it('every Python export compiles (python3 -m py_compile)', () => {
    const files = (['pipelinedp', 'opendp', 'tumult'] as const).flatMap((t) => [draft, approved].map((ctx) => {
      const f = exportConfig(t, config, ctx);
      return writeTmp(`${name}-${f.filename}`, f.content);
    }));
    expect(() => pyCompile(files)).not.toThrow();
  });

  it('PipelineDP: per-release ε, δ and bounds give the core noise', () => {
    const fns = pyFunctions(writeTmp(`${name}-pdp.py`, exportConfig('pipelinedp', config, approved).content));
    for (const r of central) {
      const m = r.metric as Exclude<AnalysisConfig['metrics'][number], { kind: 'ratio' | 'local-frequency' }>;
      const p = m.privacy;
      const mine = functionsOf(fns, m.id).filter((f) => calls(f, 'AggregateParams').length > 0);
      const perPart = m.kind === 'conversion' || m.kind === 'funnel';
      expect(mine.length, m.id).toBe(perPart ? r.parts.length : 1);
      mine.forEach((f, i) => {
        const acc = one(f, 'NaiveBudgetAccountant').kwargs;
        const params = one(f, 'AggregateParams').kwargs;
        const eps = numArg(acc['total_epsilon']);
        const delta = numArg(acc['total_delta']);
        const l0 = numArg(params['max_partitions_contributed']);
        const linf = numArg(params['max_contributions_per_partition']);
        expect(l0, m.id).toBe(p.maxPartitionsContributed);
        const metric = (params['metrics'] as { source: string }).source;
        const gaussian = (params['noise_kind'] as { source: string }).source.endsWith('GAUSSIAN');
        expect(gaussian, m.id).toBe(p.mechanism === 'gaussian' || p.mechanism === 'discrete-gaussian');
        if (metric.includes('MEAN')) {
          // One accountant for the mean's two parts, split evenly by PipelineDP as by the core.
          expectClose(eps, r.noise.epsilon, `${m.id} ε`);
          const [lo, hi] = [numArg(params['min_value']), numArg(params['max_value'])];
          expect([lo, hi]).toEqual([p.clamp!.low, p.clamp!.high]);
          const [count, sum] = [r.parts.find((x) => x.key === 'count')!, r.parts.find((x) => x.key === 'sum')!];
          expectClose(recompute(count.noise, l0 * linf, Math.sqrt(l0) * linf, eps / 2, delta / 2), scaleOf(count.noise), `${m.id} count scale`);
          const sumLinf = (linf * (hi - lo)) / 2;
          expectClose(recompute(sum.noise, l0 * sumLinf, Math.sqrt(l0) * sumLinf, eps / 2, delta / 2), scaleOf(sum.noise), `${m.id} sum scale`);
          return;
        }
        const part: ReleasePart = perPart ? r.parts[i]! : r.parts[0]!;
        expectClose(eps, r.role === 'shared' ? r.total.epsilon : part.budget.epsilon, `${m.id} ε`);
        let perPartition: number;
        if (metric.includes('PRIVACY_ID_COUNT')) perPartition = 1;
        else if (metric.includes('COUNT')) perPartition = linf;
        else if ('min_value' in params) perPartition = Math.max(Math.abs(numArg(params['min_value'])), Math.abs(numArg(params['max_value']))) * linf;
        else perPartition = Math.max(Math.abs(numArg(params['min_sum_per_partition'])), Math.abs(numArg(params['max_sum_per_partition'])));
        if (m.kind === 'sum') expect([params['min_value'] ?? params['min_sum_per_partition'], params['max_value'] ?? params['max_sum_per_partition']]).toEqual([p.clamp!.low, p.clamp!.high]);
        expectClose(perPartition, part.sensitivity.perPartition, `${m.id} L∞′`);
        if (r.role === 'shared') {
          expect((params['partition_selection_strategy'] as { source: string }).source).toMatch(/THRESHOLDING$/);
          expect(params['post_aggregation_thresholding']).toBe(true);
        }
        if (isLaplace(part.noise) || part.noise.kind === 'gaussian') {
          expectClose(recompute(part.noise, l0 * perPartition, Math.sqrt(l0) * perPartition, eps, r.role === 'shared' ? delta / 2 : delta), scaleOf(part.noise), `${m.id} scale`);
        }
      });
    }
  });

  it('OpenDP: explicit scales are the core noise and cost exactly each release budget', () => {
    const fns = pyFunctions(writeTmp(`${name}-opendp.py`, exportConfig('opendp', config, approved).content));
    for (const r of central) {
      const m = r.metric as Exclude<AnalysisConfig['metrics'][number], { kind: 'ratio' | 'local-frequency' }>;
      const [f] = functionsOf(fns, m.id);
      expect(f, m.id).toBeDefined();
      const loss = one(f!, 'dp.loss_of').kwargs;
      const l0 = m.by.length ? numArg(one(f!, 'truncate_num_groups').args[0]) : 1;
      const linf = numArg(one(f!, 'truncate_per_group').args[0]);
      if (m.by.length) expect(l0).toBe(m.privacy.maxPartitionsContributed);
      const aggs = [...calls(f!, 'dp.len'), ...calls(f!, 'dp.sum')];
      expect(aggs.length, m.id).toBe(r.parts.length);
      let cost = 0;
      for (const part of r.parts) {
        const agg = part.aggregate === 'sum' ? calls(f!, 'dp.sum')[r.parts.filter((x) => x.aggregate === 'sum').indexOf(part)]! : calls(f!, 'dp.len')[r.parts.filter((x) => x.aggregate !== 'sum').indexOf(part)]!;
        const scale = numArg(agg.kwargs['scale']);
        expectClose(scale, scaleOf(part.noise), `${m.id}.${part.key} scale`);
        let perPartition = part.aggregate === 'sum' ? 0 : linf;
        if (part.aggregate === 'sum') {
          const [lo, hi] = agg.args[0] as [number, number];
          perPartition = Math.max(Math.abs(lo), Math.abs(hi)) * linf;
        }
        expectClose(perPartition, part.sensitivity.perPartition, `${m.id}.${part.key} L∞′`);
        cost += isLaplace(part.noise) ? (l0 * perPartition) / scale : (l0 * perPartition * perPartition) / (2 * scale * scale);
      }
      if (isLaplace(r.parts[0]!.noise)) {
        expectClose(numArg(loss['epsilon']), r.role === 'private' ? r.noise.epsilon : r.total.epsilon, `${m.id} ε`);
        expectClose(cost, numArg(loss['epsilon']), `${m.id} pure-DP cost of the scales`);
      } else {
        expectClose(cost, numArg(loss['rho']), `${m.id} zCDP cost of the scales`);
      }
    }
  });

  it('Tumult: per-query budgets and constraints give the core noise', () => {
    const fns = pyFunctions(writeTmp(`${name}-tumult.py`, exportConfig('tumult', config, approved).content));
    for (const r of central) {
      const m = r.metric as Exclude<AnalysisConfig['metrics'][number], { kind: 'ratio' | 'local-frequency' }>;
      const p = m.privacy;
      const f = functionsOf(fns, m.id).find((x) => calls(x, 'evaluate').length > 0)!;
      expect(f, m.id).toBeDefined();
      if (m.by.length === 1) {
        // One constraint pair per query (a conversion or funnel has one query per part).
        for (const c of calls(f, 'MaxGroupsPerID')) expect([c.args[0], c.args[1]]).toEqual([m.by[0], p.maxPartitionsContributed]);
        for (const c of calls(f, 'MaxRowsPerGroupPerID')) expect(numArg(c.args[1])).toBe(m.kind === 'count' || m.kind === 'sum' || m.kind === 'mean' ? p.maxContributionsPerPartition : 1);
        expect(calls(f, 'MaxGroupsPerID').length, m.id).toBe(m.kind === 'mean' ? 1 : r.parts.length);
      }
      const gaussian = p.mechanism === 'gaussian' || p.mechanism === 'discrete-gaussian';
      const budgets = f.calls.filter((c) => c.name === (gaussian ? 'RhoZCDPBudget' : 'PureDPBudget'));
      if (m.kind === 'mean') {
        expectClose(numArg(budgets[budgets.length - 1]!.kwargs['epsilon']), r.noise.epsilon, `${m.id} ε`);
        const avg = one(f, 'average').kwargs;
        expect([avg['low'], avg['high']]).toEqual([p.clamp!.low, p.clamp!.high]);
        continue;
      }
      const queryBudgets = budgets.slice(1); // the first is the session's
      expect(queryBudgets.length, m.id).toBe(r.parts.length);
      r.parts.forEach((part, i) => {
        const b = queryBudgets[i]!.kwargs;
        if (gaussian) {
          const sigma = part.sensitivity.l2 / Math.sqrt(2 * numArg(b['rho']));
          expectClose(sigma, scaleOf(part.noise), `${m.id}.${part.key} σ`);
        } else {
          const eps = numArg(b['epsilon']);
          const expected = r.role === 'shared' ? part.budget.epsilon / 2 : part.budget.epsilon;
          expectClose(eps, expected, `${m.id}.${part.key} ε`);
          if (r.role !== 'shared') expectClose(part.sensitivity.l1 / eps, scaleOf(part.noise), `${m.id}.${part.key} scale`);
        }
      });
      if (m.kind === 'sum') {
        const s = one(f, 'sum').kwargs;
        expect([s['low'], s['high']]).toEqual([p.clamp!.low, p.clamp!.high]);
      }
    }
  });

  it('BigQuery: every statement parses, and OPTIONS and bounds give the core noise', () => {
    const sql = exportConfig('bigquery', config, approved).content;
    const stmts = sqlStatements(sql);
    const expected = central.map((r) => r.metric.id);
    expect(stmts.map((s) => s.metricId)).toEqual(expected);
    for (const s of stmts) {
      const r = central.find((x) => x.metric.id === s.metricId)!;
      const p = (r.metric as Extract<AnalysisConfig['metrics'][number], { privacy: { budgetShare: number } }>).privacy;
      expectClose(s.options['epsilon'] as number, r.total.epsilon, `${s.metricId} OPTIONS epsilon`);
      expectClose(s.options['delta'] as number, r.total.delta, `${s.metricId} OPTIONS delta`);
      const l0 = s.options['max_groups_contributed'] as number;
      expect(l0).toBe(p.maxPartitionsContributed);
      expect(s.options['privacy_unit_column']).toBe(config.privacyUnit.column);
      expect(s.bounds.length).toBe(r.parts.length);
      expect(s.comments.length).toBe(r.parts.length);
      let partsEpsilon = 0;
      r.parts.forEach((part, i) => {
        const [lo, hi] = s.bounds[i]!;
        const perPartition = Math.max(Math.abs(lo), Math.abs(hi));
        expectClose(perPartition, part.sensitivity.perPartition, `${s.metricId}.${part.key} bound`);
        const c = s.comments[i]!;
        const eps = Number(c['epsilon']);
        const delta = Number(c['delta']);
        partsEpsilon += eps;
        const scale = Number(c['scale'] ?? c['sigma']);
        expectClose(scale, scaleOf(part.noise), `${s.metricId}.${part.key} stated scale`);
        if (isLaplace(part.noise) || part.noise.kind === 'gaussian') {
          const d = r.role === 'shared' && part.noise.kind === 'gaussian' ? delta / 2 : delta;
          expectClose(recompute(part.noise, l0 * perPartition, Math.sqrt(l0) * perPartition, eps, d), scale, `${s.metricId}.${part.key} scale from the SQL bounds`);
        }
      });
      // The parts' ε never exceed the statement's; with public cohorts and one aggregate they are it.
      expect(partsEpsilon).toBeLessThanOrEqual(r.total.epsilon * (1 + 1e-12));
      if (r.role === 'public' && r.parts.length === 1 && isLaplace(r.parts[0]!.noise)) {
        expectClose(recompute(r.parts[0]!.noise, l0 * Math.max(...s.bounds[0]!.map(Math.abs)), 0, s.options['epsilon'] as number, 0), scaleOf(r.parts[0]!.noise), `${s.metricId} scale from OPTIONS alone`);
      }
      if (plan.groups[r.group]!.publicPartitions && r.metric.by.length > 0) expect(s.options['group_selection_strategy']).toBe('PUBLIC_GROUPS');
    }
  });

  it('the privacy sheet names every metric, the hash and the approval, and runs no script', () => {
    const html = exportConfig('sheet', config, approved).content;
    for (const m of config.metrics) expect(html).toContain(`id="metric-${m.id}"`);
    expect(html).toContain(approved.configHash);
    expect(html).toContain('Approved by Grace Hopper on 2025-03-04T10:11:12Z');
    expect(html).toContain(APPROVAL.evidenceHash);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const d = exportConfig('sheet', config, draft).content;
    expect(d).toMatch(/<div class="banner draft" role="alert">DRAFT — NOT APPROVED/);
  });

  it('a DRAFT export of every target is marked as such and claims no approval', () => {
    for (const t of EXPORT_TARGETS) {
      const f = exportConfig(t, config, draft);
      expect(f.filename, t).toMatch(/-DRAFT\./);
      expect(f.content, t).not.toMatch(/approved by/i);
      expect(f.content, t).not.toContain(APPROVAL.reviewer);
      if (t === 'json') expect(JSON.parse(f.content).export).toMatchObject({ status: 'DRAFT — not approved', approval: null });
      else if (t === 'yaml') expect(parseYaml(f.content).export.status).toBe('DRAFT — not approved');
      else if (t === 'sheet') expect(f.content).toContain('DRAFT — NOT APPROVED');
      if (t !== 'json' && t !== 'sheet') expect(f.content.split('\n')[0], t).toMatch(/^(#|--) DRAFT — NOT APPROVED/);
      for (const x of [draft.analysisId, draft.configHash]) expect(f.content, t).toContain(x);
    }
  });

  it('an approved export of every target names the reviewer, time, rationale and evidence', () => {
    for (const t of EXPORT_TARGETS) {
      const f = exportConfig(t, config, approved);
      for (const x of [APPROVAL.reviewer, APPROVAL.at, APPROVAL.evidenceHash, 'shop-pilot', approved.configHash]) expect(f.content, `${t}: ${x}`).toContain(x);
      expect(f.content, t).not.toContain('DRAFT');
    }
  });
});

describe('export safety', () => {
  it('an approved context without approval details is rejected', () => {
    const config = loadConfig('product-pilot');
    expect(() => exportConfig('json', config, { ...context(config, false), approved: true })).toThrow(/approval details/);
    expect(() => exportConfig('nope' as ExportTarget, config, context(config, false))).toThrow(/not one of json, yaml/);
  });

  it('labels, values and names cannot break out of HTML, Python strings or SQL literals', () => {
    const evil = `x'"\\\n</script><script>alert(1)</script>"""; DROP TABLE t; --`;
    const input = JSON.parse(readFileSync(configPath('product-pilot'), 'utf8')) as AnalysisConfigInput;
    input.name = evil;
    input.description = evil;
    input.metrics = input.metrics.map((m) => ({ ...m, label: evil })) as AnalysisConfigInput['metrics'];
    const rev = input.metrics.find((m) => m.id === 'revenue_by_country')!;
    rev.filter = [{ column: 'event_type', op: '=', value: evil }, { column: 'coun`try', op: 'in', value: [evil, 'a'] }];
    const config = parseConfig(input);
    const ctx = context(config, true, { approval: { ...APPROVAL, reviewer: evil, rationale: evil } });
    const html = exportConfig('sheet', config, ctx).content;
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;/script&gt;');
    const files = (['pipelinedp', 'opendp', 'tumult'] as const).map((t) => writeTmp(`evil-${t}.py`, exportConfig(t, config, ctx).content));
    expect(() => pyCompile(files)).not.toThrow();
    const fns = pyFunctions(files[0]!);
    const revFn = functionsOf(fns, 'revenue_by_country')[0]!;
    const filters = revFn.calls.find((c) => c.name === 'matches')!.args[1] as [string, string, unknown][];
    expect(filters[0]).toEqual(['event_type', '=', evil]);
    const sql = exportConfig('bigquery', config, ctx).content;
    const stmts = sqlStatements(sql);
    expect(stmts.map((s) => s.metricId)).toContain('revenue_by_country');
    // The filter value survives as one string literal of the parsed statement.
    const block = sql.split(/\n(?=-- ==== metric )/).find((b) => b.startsWith('-- ==== metric revenue_by_country'))!;
    const strings: string[] = [];
    walk(parseSql(splitDpClause(block).query, { dialect: 'bigquery' }), (n) => {
      if (n.type === 'string_literal') strings.push(n['value'] as string);
    });
    expect(strings).toContain(evil);
    expect(JSON.parse(exportConfig('json', config, ctx).content).config.name).toBe(evil);
    expect(parseYaml(exportConfig('yaml', config, ctx).content).config.name).toBe(evil);
  });
});

// ---------------------------------------------------------------------------------------------
// The config-only release plan against the simulator's plan on the bundled data

describe('release plan', () => {
  const loaded = new Map<string, LoadedAnalysis>();
  let report: SimulationReport | undefined;

  beforeAll(async () => {
    for (const name of [...CONFIG_NAMES, 'product-device']) loaded.set(name, await loadAnalysis(configPath(name)));
    report = await simulateAnalysis(loaded.get('product-pilot')!, { trials: 200, seed: 7, workers: 0 });
  }, 180_000);

  it.each([...CONFIG_NAMES, 'product-device'])('%s: roles, budgets and noise equal the simulation plan', (name) => {
    const a = loaded.get(name)!;
    const built = buildPlan({ config: a.config, contributions: a.contributions });
    const plan = releasePlan(a.config);
    for (const r of plan.metrics as MetricRelease[]) {
      if (r.role === 'local') {
        expect(built.budgets[r.metric.id]).toBeUndefined();
        continue;
      }
      const b = built.budgets[r.metric.id]!;
      expect(r.role, r.metric.id).toBe(b.role);
      expect(r.total).toEqual(b.total);
      expect(r.parts.map((p) => [p.key, p.aggregate, p.budget.epsilon, p.budget.delta, p.noise])).toEqual(b.aggregates.map((x) => [x.key, x.aggregate, x.epsilon, x.delta, x.noise]));
    }
    plan.groups.forEach((g, i) => {
      const bg = built.plans[i]!;
      expect(g.by).toEqual(bg.by);
      expect(g.publicPartitions).toBe(bg.publicPartitions);
      if (g.selection === null) expect(bg.selection).toBeNull();
      else expect({ ...g.selection, sharedWith: g.selection.sharedWith ?? undefined }).toEqual({ ...bg.selection, sharedWith: bg.selection?.sharedWith });
    });
  });

  it('the sheet with a simulation report states accuracy in sentences with charts and privacy metadata', () => {
    const config = loaded.get('product-pilot')!.config;
    const html = exportConfig('sheet', config, context(config, false, { report: report! })).content;
    expect(html).toMatch(/in 10 countries are released each week|All \d+ countries are released each week/);
    expect(html).toMatch(/is typically within ±[\d.,]+ of the truth/);
    expect(html).toMatch(/<svg role="img"/);
    expect(html).toContain(`${report!.run.trials} simulated releases (seed 7)`);
    expect(html).not.toMatch(/<script/i);
    for (const m of config.metrics) expect(html).toContain(`id="metric-${m.id}"`);
  });
});
