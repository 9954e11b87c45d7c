// Tumult Analytics export: a PySpark script (tmlt.analytics: Session, QueryBuilder, KeySet,
// AddRowsWithID, MaxGroupsPerID, MaxRowsPerGroupPerID, MaxRowsPerID, PureDPBudget, ApproxDPBudget,
// RhoZCDPBudget), one query per noisy aggregate evaluated with the budget the workbench gives it.
//
// Sessions: Tumult chooses the noise from the budget type (pure DP → Laplace / geometric, zCDP →
// Gaussian / discrete Gaussian), and a session's budget has one type, so the script opens one
// session per type it needs (pure DP for Laplace kinds, zCDP for Gaussian kinds with
// ρ = L2²/(2σ²) of the workbench's σ, approximate DP for private partition selection with
// get_groups); the sessions compose by basic composition (the header states the totals).
// Contribution bounds: MaxRowsPerGroupPerID(L∞) and MaxGroupsPerID(L0) on the cohort column
// (a metric grouped by several dimensions gets the combined bound MaxRowsPerID(L0·L∞), looser but
// valid; a comment says so). Cohorts: public keys → KeySet.from_dict; a count-distinct whose noisy
// count is the group's selection → get_groups with half its budget and the count with the other
// half (Tumult cannot threshold a released count: its noise is then larger than simulated, said in
// a comment); otherwise one get_groups per group with the pooled selection budget.

import type { AnalysisConfig, CentralMetric } from '../config/schema';
import type { ExportContext } from './common';
import { approx, commentBlock, defaultTable, dimensionsOf, filtersText, headerLines, mechanismText, metricLabel, num } from './common';
import { filtered, filtersExpr, publicKeyLists, sparkDimensionColumns } from './frames';
import { gaussianRho } from './opendp';
import { pyList, pyName, pyNum, pyStr } from './python';
import type { MetricRelease, ReleasePart, ReleasePlan } from './release-plan';
import { releasePlan } from './release-plan';

const isGaussian = (mechanism: string): boolean => mechanism === 'gaussian' || mechanism === 'discrete-gaussian';

function sigmaOf(p: ReleasePart): number {
  const n = p.noise;
  return n.kind === 'gaussian' || n.kind === 'discrete-gaussian' ? n.sigma : 0;
}

function prelude(config: AnalysisConfig, ctx: ExportContext): string {
  const fmt = config.dataset.format ?? (config.dataset.path.split('.').pop() ?? 'csv');
  const read = fmt === 'parquet' ? 'spark.read.parquet(DATA_PATH)'
    : fmt === 'ndjson' || fmt === 'json' ? 'spark.read.json(DATA_PATH)'
      : `spark.read.csv(DATA_PATH, header=True, sep=${fmt === 'tsv' ? '"\\t"' : '","'})`;
  const casts = Object.entries(config.dataset.columns ?? {}).map(([c, t]) => `    df = df.withColumn(${pyStr(c)}, F.col(${pyStr(c)}).cast(${pyStr(t === 'integer' ? 'long' : t === 'float' ? 'double' : t === 'boolean' ? 'boolean' : t === 'timestamp' ? 'timestamp' : 'string')}))`);
  const dims = sparkDimensionColumns(config).map(([n, e]) => `    df = df.withColumn(${pyStr(n)}, ${e})`);
  return `import functools

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from tmlt.analytics import (
    AddRowsWithID,
    ApproxDPBudget,
    KeySet,
    MaxGroupsPerID,
    MaxRowsPerGroupPerID,
    MaxRowsPerID,
    PureDPBudget,
    QueryBuilder,
    RhoZCDPBudget,
    Session,
)

PRIVACY_UNIT = ${pyStr(config.privacyUnit.column)}
DATA_PATH = ${pyStr(config.dataset.path)}  # relative to the config file
SOURCE = ${pyStr(defaultTable(config, ctx))}  # the private table's source id in each Session


@functools.lru_cache(maxsize=None)
def load_frame():
    """The table with typed columns and one text column per dimension (days and ISO weeks as YYYY-MM-DD)."""
    spark = SparkSession.builder.getOrCreate()
    df = ${read}
${[...casts, ...dims].join('\n') || '    pass'}
    return df.filter(F.col(PRIVACY_UNIT).isNotNull())


def unit_flags(df, dims, steps):
    """One row per (unit, cohort) where the unit matched steps[0], with 0/1 columns dpw_step1, dpw_step2, ..."""
    flags = [F.max(F.when(step, 1).otherwise(0)).alias("dpw_step%d" % (i + 1)) for i, step in enumerate(steps)]
    return df.groupBy(PRIVACY_UNIT, *dims).agg(*flags).filter(F.col("dpw_step1") == 1)


def session(budget, source_id, dataframe):
    return Session.from_dataframe(
        privacy_budget=budget,
        source_id=source_id,
        dataframe=dataframe,
        protected_change=AddRowsWithID(id_column=PRIVACY_UNIT),
    )

`;
}

interface Ctx {
  readonly config: AnalysisConfig;
  readonly plan: ReleasePlan;
  readonly fnOf: Map<string, string>;
}

function partOf(r: MetricRelease, key: string): ReleasePart {
  return r.parts.find((p) => p.key === key)!;
}

/** The query budget of a part: PureDPBudget(ε) or RhoZCDPBudget(ρ). */
function budgetOf(part: ReleasePart, gaussian: boolean, epsilon: number): string {
  return gaussian ? `RhoZCDPBudget(rho=${pyNum(gaussianRho(part.sensitivity.l2, sigmaOf(part)))})` : `PureDPBudget(epsilon=${pyNum(epsilon)})`;
}

function metricFunction(c: Ctx, r: MetricRelease): string {
  const m = r.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const p = m.privacy;
  const group = c.plan.groups[r.group]!;
  const dims = dimensionsOf(c.config, m.by);
  const names = dims.map((d) => pyStr(d.name));
  const gaussian = isGaussian(p.mechanism);
  const fn = c.fnOf.get(m.id)!;
  const shared = r.role === 'shared' && dims.length > 0;
  let frame = `${filtered('load_frame()', m.filter, 'F')}`;
  let linf = p.maxContributionsPerPartition;
  let enforce: string;
  const notes: string[] = [];
  const queries: { part: ReleasePart; call: string; epsilon: number }[] = [];
  const eps = (part: ReleasePart): number => (shared ? part.budget.epsilon / 2 : part.budget.epsilon);
  const q = (agg: string, part: ReleasePart): void => { queries.push({ part, call: agg, epsilon: eps(part) }); };
  switch (m.kind) {
    case 'count':
      q(`count(name=${pyStr(m.id)})`, partOf(r, ''));
      break;
    case 'count-distinct':
      linf = 1;
      q(`count_distinct([PRIVACY_UNIT], name=${pyStr(m.id)})`, partOf(r, ''));
      break;
    case 'sum': {
      const cl = p.clamp!;
      frame += `.filter(F.col(${pyStr(m.column)}).isNotNull())`;
      if (cl.mode === 'per-partition') {
        frame = `${frame}.groupBy(PRIVACY_UNIT, ${names.join(', ')}).agg(F.sum(${pyStr(m.column)}).alias(${pyStr(m.column)}))`;
        linf = 1;
      }
      q(`sum(${pyStr(m.column)}, low=${pyNum(cl.low)}, high=${pyNum(cl.high)}, name=${pyStr(m.id)})`, partOf(r, ''));
      break;
    }
    case 'mean': {
      const cl = p.clamp!;
      frame += `.filter(F.col(${pyStr(m.column)}).isNotNull())`;
      // Tumult's average is a noisy sum over a noisy count with the budget split between them, as the workbench's two parts.
      queries.push({ part: partOf(r, 'count'), call: `average(${pyStr(m.column)}, low=${pyNum(cl.low)}, high=${pyNum(cl.high)}, name=${pyStr(m.id)})`, epsilon: r.noise.epsilon });
      break;
    }
    case 'conversion':
    case 'funnel': {
      const steps = m.kind === 'conversion' ? [m.from, m.to] : m.steps;
      const keys = m.kind === 'conversion' ? ['from', 'to'] : steps.map((_, i) => `step${i + 1}`);
      frame = `unit_flags(${frame}, ${pyList(names)}, ${pyList(steps.map((s) => filtersExpr(s, 'F')))})`;
      linf = 1;
      keys.forEach((k, i) => {
        const part = partOf(r, k);
        const product = Array.from({ length: i + 1 }, (_, j) => `F.col("dpw_step${j + 1}")`).join(' * ');
        if (i === 0) q(`count(name=${pyStr(`${m.id}_${k}_units`)})`, part);
        else q(`sum("dpw_reached_${i + 1}", low=0, high=1, name=${pyStr(`${m.id}_${k}_units`)})`, part);
        if (i > 0) frame += `.withColumn("dpw_reached_${i + 1}", ${product})`;
      });
      break;
    }
  }
  if (dims.length === 1) {
    enforce = `.enforce(MaxRowsPerGroupPerID(${names[0]!}, ${linf})).enforce(MaxGroupsPerID(${names[0]!}, ${p.maxPartitionsContributed}))`;
  } else if (dims.length === 0) {
    enforce = `.enforce(MaxRowsPerID(${linf}))`;
  } else {
    enforce = `.enforce(MaxRowsPerID(${p.maxPartitionsContributed * linf}))`;
    notes.push(`several dimensions: Tumult bounds groups per ID on one column, so the combined bound MaxRowsPerID(L0·L∞ = ${p.maxPartitionsContributed * linf}) is used (valid, more noise than simulated)`);
  }
  let keyset: string;
  if (dims.length === 0) keyset = 'KeySet.from_dict({})';
  else if (group.publicPartitions) keyset = `KeySet.from_dict({${dims.map((d, i) => `${pyStr(d.name)}: ${publicKeyLists(dims)[i]!}`).join(', ')}})`;
  else if (r.role === 'covered') keyset = `KeySet.from_dataframe(${c.fnOf.get(group.selection!.sharedWith!)!}().select(${names.join(', ')}))`;
  else if (shared) keyset = `${fn}__groups()`;
  else keyset = `select_group_${r.group}()`;
  if (shared) notes.push(`private keys: Tumult cannot threshold a released count, so get_groups gets half of this metric's epsilon and all of its delta (${num(r.total.delta)}), and the count the other half: its noise is twice the simulated`);
  const header = [
    `metric ${m.id} (${m.kind}): ${metricLabel(m)}`,
    `by ${m.by.length ? m.by.join(', ') : '(nothing: one overall value)'}${m.filter.length ? `, rows where ${filtersText(m.filter)}` : ''}; cadence ${m.cadence}`,
    `privacy: epsilon ${num(r.total.epsilon)}, delta ${num(r.total.delta)} (share ${num(p.budgetShare)}); workbench mechanism ${mechanismText(p.mechanism)}; role ${r.role}`,
    `bounds: L0 ${p.maxPartitionsContributed}, L∞ ${p.maxContributionsPerPartition}${p.clamp ? `, clamp [${num(p.clamp.low)}, ${num(p.clamp.high)}] ${p.clamp.mode}` : ''}${p.boundProvenance ? ` (${p.boundProvenance})` : ''}`,
    ...r.parts.map((pt) => `part ${pt.key || '(value)'}: workbench ${pt.noise.kind} noise ${pt.noise.kind === 'none' ? '' : pt.noise.kind.endsWith('gaussian') ? `sigma ${num(sigmaOf(pt))}` : `scale ${num((pt.noise as { scale: number }).scale)}`} at epsilon ${num(pt.budget.epsilon)}, delta ${num(pt.budget.delta)}`),
    ...(m.kind === 'conversion' || m.kind === 'funnel' ? [`result: ${m.id} = last / max(first, 1) per cohort (post-processing)`] : []),
    ...notes,
  ];
  const groupsFn = shared ? `
@functools.lru_cache(maxsize=None)
def ${fn}__groups():
    ${pyStr(`private keys of ${m.id}`)}
    s = session(ApproxDPBudget(epsilon=${pyNum(r.total.epsilon / 2)}, delta=${pyNum(r.total.delta)}), SOURCE, ${frame})
    query = QueryBuilder(SOURCE).enforce(MaxGroupsPerID(${names[0] ?? '""'}, ${p.maxPartitionsContributed})).get_groups(${pyList(names)})
    return KeySet.from_dataframe(s.evaluate(query, ApproxDPBudget(epsilon=${pyNum(r.total.epsilon / 2)}, delta=${pyNum(r.total.delta)})))
` : '';
  const body = queries.map((x, i) => `    result_${i} = s.evaluate(
        QueryBuilder(SOURCE)${enforce}.groupby(${keyset}).${x.call},
        ${budgetOf(x.part, gaussian, x.epsilon)},
    )`).join('\n');
  const sessionBudget = gaussian
    ? `RhoZCDPBudget(rho=${pyNum(queries.reduce((s, x) => s + gaussianRho(x.part.sensitivity.l2, sigmaOf(x.part)), 0))})`
    : `PureDPBudget(epsilon=${pyNum(queries.reduce((s, x) => s + x.epsilon, 0))})`;
  const joined = queries.length === 1 ? 'result_0' : queries.slice(1).reduce((acc, _, i) => `${acc}.join(result_${i + 1}, on=${pyList(names)}, how="outer")`, 'result_0');
  return `${commentBlock(header, '#')}${groupsFn}
@functools.lru_cache(maxsize=None)
def ${fn}():
    ${pyStr(`metric ${m.id}`)}
    # one ${gaussian ? 'zCDP' : 'pure-DP'} session holding exactly what this metric's queries spend
    s = session(${sessionBudget}, SOURCE, ${frame})
${body}
    return ${dims.length === 0 && queries.length > 1 ? queries.slice(1).reduce((acc, _, i) => `${acc}.crossJoin(result_${i + 1})`, 'result_0') : joined}
`;
}

function selectionFunction(c: Ctx, gi: number): string {
  const g = c.plan.groups[gi]!;
  const sel = g.selection!;
  const driver = c.plan.metrics.find((r) => r.metric.id === sel.driver)!.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const names = dimensionsOf(c.config, g.by).map((d) => pyStr(d.name));
  const constraint = names.length === 1 ? `MaxGroupsPerID(${names[0]!}, ${sel.maxPartitionsContributed})` : `MaxRowsPerID(${sel.maxPartitionsContributed})`;
  return `${commentBlock([
    `partition selection of the cohorts [${g.by.join(', ')}] on the units of ${sel.driver}: pooled selection budget epsilon ${approx(sel.epsilon)}, delta ${approx(sel.delta)}`,
    `the workbench simulated ${sel.strategy} selection${sel.preThreshold > 1 ? ` with pre-threshold ${sel.preThreshold}` : ''}; Tumult's get_groups uses its own thresholding`,
  ], '#')}
@functools.lru_cache(maxsize=None)
def select_group_${gi}():
    ${pyStr(`selection of group ${gi}`)}
    budget = ApproxDPBudget(epsilon=${pyNum(sel.epsilon)}, delta=${pyNum(sel.delta)})
    s = session(budget, SOURCE, ${filtered('load_frame()', driver.filter, 'F')})
    query = QueryBuilder(SOURCE).enforce(${constraint}).get_groups(${pyList(names)})
    return KeySet.from_dataframe(s.evaluate(query, budget))
`;
}

/** The Tumult Analytics script of a config (see the module comment). */
export function exportTumult(config: AnalysisConfig, ctx: ExportContext): string {
  const plan = releasePlan(config);
  const fnOf = new Map<string, string>();
  plan.metrics.forEach((r, i) => fnOf.set(r.metric.id, pyName('release', r.metric.id, i)));
  const c: Ctx = { config, plan, fnOf };
  let pure = 0;
  let rho = 0;
  const selSpend: [number, number] = [0, 0];
  for (const r of plan.metrics) {
    if (r.role === 'local' || r.role === 'derived') continue;
    const m = r.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
    if (isGaussian(m.privacy.mechanism)) rho += r.parts.reduce((s, p) => s + gaussianRho(p.sensitivity.l2, sigmaOf(p)), 0);
    else pure += r.role === 'shared' && m.by.length > 0 ? r.total.epsilon / 2 : r.noise.epsilon;
    if (r.role === 'shared' && m.by.length > 0) {
      selSpend[0] += r.total.epsilon / 2;
      selSpend[1] += r.total.delta;
    }
  }
  for (const g of plan.groups) {
    if (g.selection && g.selection.sharedWith === null) {
      selSpend[0] += g.selection.epsilon;
      selSpend[1] += g.selection.delta;
    }
  }
  const out: string[] = [
    commentBlock([
      ...headerLines(config, ctx, 'Tumult Analytics job'),
      '',
      `privacy unit: ${config.privacyUnit.column} (${config.privacyUnit.kind})${config.privacyUnit.kind === 'device' ? ' — WARNING: a device is a weaker unit than a person: someone with k devices is protected only at k times these epsilons' : ''}`,
      `total budget: epsilon ${num(config.budget.epsilon)}, delta ${num(config.budget.delta)} (${config.budget.accountant} accountant); the workbench allots epsilon ${approx(plan.allotted.epsilon)}, delta ${approx(plan.allotted.delta)} (basic composition)`,
      `this job spends: pure DP epsilon ${approx(pure)}; zCDP rho ${approx(rho)} (Gaussian metrics, the zCDP cost of the simulated sigma); partition selection epsilon ${approx(selSpend[0])}, delta ${approx(selSpend[1])}`,
      'Requires: pip install tmlt.analytics (and a Spark runtime).',
    ], '#'),
    prelude(config, ctx),
  ];
  plan.groups.forEach((g, gi) => {
    if (g.selection && g.selection.sharedWith === null) out.push(selectionFunction(c, gi));
  });
  for (const r of plan.metrics) {
    const m = r.metric;
    if (r.role === 'local') {
      out.push(commentBlock([`metric ${m.id} (local-frequency): ${metricLabel(m)}`, 'NOT EXPORTED: local DP (randomized response on each device) is not a Tumult query.'], '#'));
      continue;
    }
    if (m.kind === 'ratio') {
      const keys = pyList(dimensionsOf(config, m.by).map((d) => pyStr(d.name)));
      out.push(`${commentBlock([`metric ${m.id} (ratio): ${metricLabel(m)}`, `${m.numerator} / max(${m.denominator}, 1) per cohort: post-processing of two releases (epsilon ${num(r.total.epsilon)} together), no extra privacy cost`], '#')}
def ${fnOf.get(m.id)!}():
    ${pyStr(`metric ${m.id}`)}
    num = ${fnOf.get(m.numerator)!}()
    den = ${fnOf.get(m.denominator)!}()
    joined = ${m.by.length ? `num.join(den, on=${keys}, how="left")` : 'num.crossJoin(den)'}
    return joined.withColumn(${pyStr(m.id)}, F.col(${pyStr(m.numerator)}) / F.greatest(F.coalesce(F.col(${pyStr(m.denominator)}), F.lit(0)), F.lit(1)))
`);
      continue;
    }
    out.push(metricFunction(c, r));
  }
  const released = plan.metrics.filter((r) => r.role !== 'local');
  out.push(`RELEASES = {
${released.map((r) => `    ${pyStr(r.metric.id)}: ${fnOf.get(r.metric.id)!},`).join('\n')}
}


if __name__ == "__main__":
    for metric_id, release in RELEASES.items():
        release().show()
`);
  return out.join('\n\n');
}
