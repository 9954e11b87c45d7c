// OpenDP export: a Python script using OpenDP's Polars Context API (opendp.prelude: Context.compositor,
// unit_of with an identifier, loss_of, polars.Margin, truncate_per_group / truncate_num_groups,
// dp.len and .dp.sum with explicit noise scales), one compositor per release.
//
// Each noisy aggregate is given the scale the workbench simulated (`scale=`), and its compositor the
// privacy loss that scale costs, so OpenDP checks the same noise against the same budget:
// - Laplace kinds: loss_of(epsilon=ε_m, delta=δ_m) (pure-DP noise; δ only for private keys);
// - Gaussian kinds: OpenDP adds Gaussian noise under zCDP, so loss_of(rho=ρ, ...) with
//   ρ = Σ L2²/(2σ²) over the parts: the zCDP cost of the same σ (Bun & Steinke 2016); the (ε, δ)
//   the workbench calibrated σ for is stated in a comment.
// OpenDP's noise is integer Laplace / discrete Gaussian for counts (exact samplers).
// Cohorts: public keys → `.with_keys(...)` (empty cohorts released too); a count-distinct whose
// noisy count is the group's selection → OpenDP's own thresholding of that count (private keys,
// δ_m); otherwise one selection query per group (dp.len with the pooled selection budget) whose
// released keys the group's metrics then use as keys. OpenDP thresholds a noisy count: the
// workbench's 'optimal' strategy has no OpenDP equivalent (stated where used).

import type { AnalysisConfig, CentralMetric } from '../config/schema';
import type { ExportContext } from './common';
import { approx, commentBlock, dimensionsOf, filtersText, headerLines, mechanismText, metricLabel, num } from './common';
import { filtered, filtersExpr, polarsDimensionColumns, publicKeyLists } from './frames';
import { pyList, pyName, pyNum, pyStr } from './python';
import type { MetricRelease, ReleasePart, ReleasePlan } from './release-plan';
import { releasePlan } from './release-plan';

const isGaussian = (mechanism: string): boolean => mechanism === 'gaussian' || mechanism === 'discrete-gaussian';

function scaleOf(p: ReleasePart): number {
  const n = p.noise;
  return n.kind === 'none' ? 0 : n.kind === 'laplace' || n.kind === 'discrete-laplace' ? n.scale : n.sigma;
}

/** zCDP cost ρ = L2²/(2σ²) of Gaussian noise σ on an aggregate of L2 sensitivity. */
export function gaussianRho(l2: number, sigma: number): number {
  return (l2 * l2) / (2 * sigma * sigma);
}

function prelude(config: AnalysisConfig): string {
  const fmt = config.dataset.format ?? (config.dataset.path.split('.').pop() ?? 'csv');
  const casts = Object.entries(config.dataset.columns ?? {}).map(([c, t]) => {
    const col = `pl.col(${pyStr(c)})`;
    if (t === 'timestamp') return `${col}.cast(pl.String).str.to_datetime()`;
    return `${col}.cast(${t === 'integer' ? 'pl.Int64' : t === 'float' ? 'pl.Float64' : t === 'boolean' ? 'pl.Boolean' : 'pl.String'})`;
  });
  const scan = fmt === 'parquet' ? 'pl.scan_parquet(DATA_PATH)'
    : fmt === 'ndjson' ? 'pl.scan_ndjson(DATA_PATH)'
      : fmt === 'arrow' ? 'pl.scan_ipc(DATA_PATH)'
        : fmt === 'json' ? 'pl.read_json(DATA_PATH).lazy()'
          : `pl.scan_csv(DATA_PATH, separator=${fmt === 'tsv' ? '"\\t"' : '","'}, infer_schema=False)`;
  return `import functools

import polars as pl
import opendp.prelude as dp

dp.enable_features("contrib")

PRIVACY_UNIT = ${pyStr(config.privacyUnit.column)}
DATA_PATH = ${pyStr(config.dataset.path)}  # relative to the config file
# A public upper bound on the rows of the table (OpenDP needs one for sums); set it for production.
MAX_ROWS = 1_000_000_000


def load_frame():
    """The table with typed columns and one text column per dimension."""
    lf = ${scan}
    lf = lf.with_columns(${pyList(casts)})
    lf = lf.with_columns(${pyList(polarsDimensionColumns(config))})
    return lf.filter(pl.col(PRIVACY_UNIT).is_not_null())


def unit_flags(lf, dims, steps):
    """One row per (unit, cohort) where the unit matched steps[0], with 0/1 flags dpw_step1, dpw_step2, ..."""
    flags = [step.any().cast(pl.Int64).alias("dpw_step%d" % (i + 1)) for i, step in enumerate(steps)]
    return lf.group_by([PRIVACY_UNIT, *dims]).agg(flags).filter(pl.col("dpw_step1") == 1)


def compositor(lf, privacy_loss, by):
    return dp.Context.compositor(
        data=lf,
        privacy_unit=dp.unit_of(contributions=1, identifier=PRIVACY_UNIT),
        privacy_loss=privacy_loss,
        split_evenly_over=1,
        margins=[dp.polars.Margin(by=by, max_length=MAX_ROWS)],
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

function lossOf(r: MetricRelease, parts: readonly ReleasePart[], gaussian: boolean, privateKeysDelta: number | null): string {
  if (!gaussian) return `dp.loss_of(epsilon=${pyNum(r.role === 'private' || r.role === 'covered' ? r.noise.epsilon : r.total.epsilon)}${privateKeysDelta !== null ? `, delta=${pyNum(privateKeysDelta)}` : ''})`;
  const rho = parts.reduce((s, p) => s + gaussianRho(p.sensitivity.l2, scaleOf(p)), 0);
  return `dp.loss_of(rho=${pyNum(rho)}${privateKeysDelta !== null ? `, delta=${pyNum(privateKeysDelta)}` : ''})`;
}

function metricFunction(c: Ctx, r: MetricRelease): string {
  const m = r.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const p = m.privacy;
  const group = c.plan.groups[r.group]!;
  const dims = dimensionsOf(c.config, m.by);
  const by = pyList(dims.map((d) => pyStr(d.name)));
  const gaussian = isGaussian(p.mechanism);
  const fn = c.fnOf.get(m.id)!;
  const sel = group.selection;
  const aggs: { part: ReleasePart; expr: string }[] = [];
  const alias = (suffix: string): string => pyStr(suffix ? `${m.id}_${suffix}` : m.id);
  const len = (part: ReleasePart, a: string): string => `dp.len(scale=${pyNum(scaleOf(part))}).alias(${a})`;
  const sum = (part: ReleasePart, expr: string, lo: number, hi: number, a: string): string => `${expr}.fill_null(0).dp.sum((${pyNum(lo)}, ${pyNum(hi)}), scale=${pyNum(scaleOf(part))}).alias(${a})`;
  let frame = `${filtered('load_frame()', m.filter, 'pl')}`;
  let linf = p.maxContributionsPerPartition;
  switch (m.kind) {
    case 'count':
      aggs.push({ part: partOf(r, ''), expr: len(partOf(r, ''), alias('')) });
      break;
    case 'count-distinct':
      linf = 1;
      aggs.push({ part: partOf(r, ''), expr: len(partOf(r, ''), alias('')) });
      break;
    case 'sum': {
      const cl = p.clamp!;
      frame += `.filter(pl.col(${pyStr(m.column)}).is_not_null())`;
      if (cl.mode === 'per-partition') {
        // One row per (unit, cohort) holding the unit's sum there, clamped by .dp.sum.
        frame = `${frame}.group_by([PRIVACY_UNIT, *${by}]).agg(pl.col(${pyStr(m.column)}).sum())`;
        linf = 1;
      }
      aggs.push({ part: partOf(r, ''), expr: sum(partOf(r, ''), `pl.col(${pyStr(m.column)})`, cl.low, cl.high, alias('')) });
      break;
    }
    case 'mean': {
      const cl = p.clamp!;
      const mid = (cl.low + cl.high) / 2;
      frame += `.filter(pl.col(${pyStr(m.column)}).is_not_null())`;
      aggs.push({ part: partOf(r, 'count'), expr: len(partOf(r, 'count'), alias('count')) });
      aggs.push({ part: partOf(r, 'sum'), expr: sum(partOf(r, 'sum'), `(pl.col(${pyStr(m.column)}).clip(${pyNum(cl.low)}, ${pyNum(cl.high)}) - ${pyNum(mid)})`, cl.low - mid, cl.high - mid, alias('centered_sum')) });
      break;
    }
    case 'conversion':
    case 'funnel': {
      const steps = m.kind === 'conversion' ? [m.from, m.to] : m.steps;
      const keys = m.kind === 'conversion' ? ['from', 'to'] : steps.map((_, i) => `step${i + 1}`);
      frame = `unit_flags(${frame}, ${by}, ${pyList(steps.map((s) => filtersExpr(s, 'pl')))})`;
      linf = 1;
      keys.forEach((k, i) => {
        const part = partOf(r, k);
        if (i === 0) aggs.push({ part, expr: len(part, alias(`${k}_units`)) });
        else aggs.push({ part, expr: sum(part, Array.from({ length: i + 1 }, (_, j) => `pl.col("dpw_step${j + 1}")`).join(' * '), 0, 1, alias(`${k}_units`)) });
      });
      break;
    }
  }
  let keysExpr = '';
  let privateDelta: number | null = null;
  const notes: string[] = [];
  if (dims.length > 0 && group.publicPartitions) {
    keysExpr = `\n        .with_keys(pl.LazyFrame({${dims.map((d, i) => `${pyStr(d.name)}: ${publicKeyLists(dims)[i]!}`).join(', ')}}))`;
  } else if (dims.length > 0 && r.role === 'shared') {
    privateDelta = r.total.delta;
    notes.push(`private keys: OpenDP thresholds this noisy count itself with delta ${num(r.total.delta)} (the workbench: ${sel!.strategy} thresholding of the same count, pre-threshold ${sel!.preThreshold})`);
  } else if (dims.length > 0 && r.role === 'covered') {
    keysExpr = `\n        .with_keys(${c.fnOf.get(sel!.sharedWith!)!}().select(${by}).lazy())`;
  } else if (dims.length > 0 && r.role === 'private') {
    keysExpr = `\n        .with_keys(select_group_${r.group}())`;
  }
  const loss = lossOf(r, aggs.map((a) => a.part), gaussian, privateDelta);
  const truncate = dims.length > 0
    ? `\n        .truncate_per_group(${linf}, by=${by})\n        .truncate_num_groups(${p.maxPartitionsContributed}, by=${by})\n        .group_by(${by})`
    : `\n        .truncate_per_group(${linf})`;
  const header = [
    `metric ${m.id} (${m.kind}): ${metricLabel(m)}`,
    `by ${m.by.length ? m.by.join(', ') : '(nothing: one overall value)'}${m.filter.length ? `, rows where ${filtersText(m.filter)}` : ''}; cadence ${m.cadence}`,
    `privacy: epsilon ${num(r.total.epsilon)}, delta ${num(r.total.delta)} (share ${num(p.budgetShare)}); workbench mechanism ${mechanismText(p.mechanism)}; role ${r.role}${r.selection ? ` (${num(r.selection.epsilon)} of its epsilon goes to the group's selection)` : ''}`,
    `bounds: L0 ${p.maxPartitionsContributed}, L∞ ${p.maxContributionsPerPartition}${p.clamp ? `, clamp [${num(p.clamp.low)}, ${num(p.clamp.high)}] ${p.clamp.mode}` : ''}${p.boundProvenance ? ` (${p.boundProvenance})` : ''}`,
    ...aggs.map((a) => `part ${a.part.key || '(value)'}: ${a.part.noise.kind} noise, scale ${num(scaleOf(a.part))}, calibrated to epsilon ${num(a.part.budget.epsilon)}, delta ${num(a.part.budget.delta)} (L1 ${num(a.part.sensitivity.l1)}, L2 ${num(a.part.sensitivity.l2)})`),
    ...(m.kind === 'mean' ? [`result: ${m.id} = ${num((p.clamp!.low + p.clamp!.high) / 2)} + ${m.id}_centered_sum / max(${m.id}_count, 1)`] : []),
    ...notes,
  ];
  return `${commentBlock(header, '#')}
@functools.lru_cache(maxsize=None)
def ${fn}():
    ${pyStr(`metric ${m.id}`)}
    context = compositor(${frame}, ${loss}, ${by})
    query = (
        context.query()${truncate}${dims.length > 0 ? '\n        .agg(' : '\n        .select('}${aggs.map((a) => a.expr).join(', ')})${keysExpr}
    )
    return query.release().collect()
`;
}

function selectionFunction(c: Ctx, gi: number): string {
  const g = c.plan.groups[gi]!;
  const sel = g.selection!;
  const driver = c.plan.metrics.find((r) => r.metric.id === sel.driver)!.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const by = pyList(dimensionsOf(c.config, g.by).map((d) => pyStr(d.name)));
  const scale = sel.strategy === 'optimal' ? null : sel.noiseScale;
  return `${commentBlock([
    `partition selection of the cohorts [${g.by.join(', ')}] on the unit counts of ${sel.driver}: pooled selection budget epsilon ${approx(sel.epsilon)}, delta ${approx(sel.delta)}, pre-threshold ${sel.preThreshold}`,
    sel.strategy === 'optimal'
      ? "the workbench simulated the 'optimal' (truncated geometric) rule, which OpenDP does not have: OpenDP thresholds a noisy unit count instead (fewer small cohorts kept)"
      : `the workbench simulated ${sel.strategy} thresholding with noise scale ${num(sel.noiseScale!)} and threshold ${num(sel.threshold!)}`,
  ], '#')}
@functools.lru_cache(maxsize=None)
def select_group_${gi}():
    ${pyStr(`selection of group ${gi}`)}
    lf = ${filtered('load_frame()', driver.filter, 'pl')}
    context = compositor(lf, dp.loss_of(epsilon=${pyNum(sel.epsilon)}, delta=${pyNum(sel.delta)}), ${by})
    query = (
        context.query()
        .truncate_per_group(1, by=${by})
        .truncate_num_groups(${sel.maxPartitionsContributed}, by=${by})
        .group_by(${by})
        .agg(dp.len(${scale !== null && sel.strategy === 'laplace' ? `scale=${pyNum(scale)}` : ''}))
    )
    return query.release().collect().select(${by}).lazy()
`;
}

/** The OpenDP script of a config (see the module comment). */
export function exportOpenDp(config: AnalysisConfig, ctx: ExportContext): string {
  const plan = releasePlan(config);
  const fnOf = new Map<string, string>();
  plan.metrics.forEach((r, i) => fnOf.set(r.metric.id, pyName('release', r.metric.id, i)));
  const c: Ctx = { config, plan, fnOf };
  const out: string[] = [
    commentBlock([
      ...headerLines(config, ctx, 'OpenDP (Polars Context API) job'),
      '',
      `privacy unit: ${config.privacyUnit.column} (${config.privacyUnit.kind})${config.privacyUnit.kind === 'device' ? ' — WARNING: a device is a weaker unit than a person: someone with k devices is protected only at k times these epsilons' : ''}`,
      `total budget: epsilon ${num(config.budget.epsilon)}, delta ${num(config.budget.delta)} (${config.budget.accountant} accountant); the releases below spend epsilon ${approx(plan.allotted.epsilon)}, delta ${approx(plan.allotted.delta)} under basic composition, one compositor each`,
      'Requires: pip install "opendp[polars]".',
    ], '#'),
    prelude(config),
  ];
  plan.groups.forEach((g, gi) => {
    if (g.selection && g.selection.sharedWith === null) out.push(selectionFunction(c, gi));
  });
  for (const r of plan.metrics) {
    const m = r.metric;
    if (r.role === 'local') {
      out.push(commentBlock([`metric ${m.id} (local-frequency): ${metricLabel(m)}`, 'NOT EXPORTED: local DP (randomized response on each device) is not a central OpenDP query; see dp.m.make_randomized_response for the device side.'], '#'));
      continue;
    }
    if (m.kind === 'ratio') {
      const keys = pyList(dimensionsOf(config, m.by).map((d) => pyStr(d.name)));
      out.push(`${commentBlock([`metric ${m.id} (ratio): ${metricLabel(m)}`, `${m.numerator} / max(${m.denominator}, 1) per cohort: post-processing of two releases (epsilon ${num(r.total.epsilon)} together), no extra privacy cost`], '#')}
def ${fnOf.get(m.id)!}():
    ${pyStr(`metric ${m.id}`)}
    num = ${fnOf.get(m.numerator)!}()
    den = ${fnOf.get(m.denominator)!}()
    joined = ${m.by.length ? `num.join(den, on=${keys}, how="left")` : 'pl.concat([num, den], how="horizontal")'}
    return joined.select(*${keys}, (pl.col(${pyStr(m.numerator)}) / pl.max_horizontal(pl.col(${pyStr(m.denominator)}).fill_null(0), 1)).alias(${pyStr(m.id)}))
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
        print(metric_id, release())
`);
  return out.join('\n\n');
}
