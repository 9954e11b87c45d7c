// BigQuery (GoogleSQL) export: one `SELECT WITH DIFFERENTIAL_PRIVACY` statement per metric, with
// the metric's (ε_m, δ_m) as the statement's budget, L0 as max_groups_contributed and per-aggregate
// contribution bounds (GoogleSQL "Differentially private aggregate functions" and "Differential
// privacy clause"). Each aggregate is preceded by a machine-readable `-- dpw:` comment with the
// noise the workbench simulated, so a reader can compare.
//
// What maps and what does not:
// - L∞: GoogleSQL clamps each unit's per-group contribution to `contribution_bounds_per_group`
//   instead of sampling L∞ rows; the sensitivity is the same (count: (0, L∞); per-value sum:
//   (L∞·lo, L∞·hi) of values clamped to [lo, hi]; per-partition sum: (lo, hi)).
// - count-distinct: a DISTINCT (unit, cohort) subquery counted with bounds (0, 1).
// - mean: a noisy COUNT and a noisy SUM of (x − mid), mean = mid + sum / count (the workbench's
//   estimator); GoogleSQL's DP AVG averages per-unit averages, a different estimator, so it is not used.
// - conversion and funnel: their distinct-unit counts (one row per unit and cohort, 0/1 step flags);
//   the rates are post-processing, stated in a comment.
// - ratio: post-processing of two released metrics (a comment); local-frequency: local DP runs on
//   devices and has no BigQuery equivalent (a comment).
// - noise and budget split: BigQuery chooses its mechanism (Laplace) and splits the statement's ε
//   and δ between its aggregates and group selection itself; the statement gets the metric's whole
//   (ε_m, δ_m), so its noise can differ from the simulated noise stated in the comments.
// - public partitions: `group_selection_strategy = PUBLIC_GROUPS` with a RIGHT OUTER JOIN on the
//   public keys; private partitions: BigQuery's own thresholding, with `min_privacy_units_per_group`
//   for a pre-threshold > 1.

import type { AnalysisConfig, CentralMetric, Dimension, Filter } from '../config/schema';
import type { ExportContext } from './common';
import { approx, commentBlock, defaultTable, dimensionsOf, filtersText, headerLines, mechanismText, metricLabel, num } from './common';
import type { MetricRelease, ReleasePart, ReleasePlan } from './release-plan';
import { releasePlan } from './release-plan';

// GoogleSQL reserved keywords (identifiers spelled like them must be quoted).
const RESERVED = new Set(('ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE CROSS CUBE CURRENT DEFAULT '
  + 'DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS EXTRACT FALSE FETCH FOLLOWING FOR FROM FULL GROUP GROUPING GROUPS HASH '
  + 'HAVING IF IGNORE IN INNER INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LIKE LIMIT LOOKUP MERGE NATURAL NEW NO NOT NULL NULLS OF ON OR '
  + 'ORDER OUTER OVER PARTITION PRECEDING PROTO QUALIFY RANGE RECURSIVE RESPECT RIGHT ROLLUP ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO '
  + 'TREAT TRUE UNBOUNDED UNION UNNEST USING WHEN WHERE WINDOW WITH WITHIN').split(' '));

/** A GoogleSQL identifier, quoted with backticks unless it is a plain non-reserved name. */
export function sqlIdent(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name.toUpperCase())) return name;
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}\``;
}

/** A table path: each dot-separated part quoted as needed (`project.dataset.table`). */
function sqlTable(name: string): string {
  return name.split('.').map(sqlIdent).join('.');
}

/** A GoogleSQL string literal (single quotes, backslash escapes). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

function sqlScalar(v: string | number | boolean): string {
  if (typeof v === 'string') return sqlString(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return num(v);
}

function filterSql(f: Filter): string {
  const col = sqlIdent(f.column);
  if (f.op === 'in' || f.op === 'not-in') {
    const values = Array.isArray(f.value) ? f.value : [f.value];
    if (values.length === 0) return f.op === 'in' ? 'FALSE' : `${col} IS NOT NULL`;
    return `${col} ${f.op === 'in' ? 'IN' : 'NOT IN'} (${values.map(sqlScalar).join(', ')})`;
  }
  const v = Array.isArray(f.value) ? f.value[0]! : f.value;
  return `${col} ${f.op === '!=' ? '<>' : f.op} ${sqlScalar(v)}`;
}

function whereSql(filters: readonly Filter[]): string {
  return filters.length === 0 ? 'TRUE' : filters.map(filterSql).join(' AND ');
}

/** The cohort key of a row: a column, or the day / ISO week (Monday) of a timestamp as a DATE. */
function dimensionSql(d: Dimension): string {
  const col = sqlIdent(d.column);
  if (d.bucket === 'day') return `DATE(${col})`;
  if (d.bucket === 'week') return `DATE_TRUNC(DATE(${col}), WEEK(MONDAY))`;
  return col;
}

function publicValueSql(d: Dimension, v: string | number | boolean): string {
  if (d.bucket && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return `DATE ${sqlString(v)}`;
  return sqlScalar(v);
}

/** The public keys of the dimensions as a derived table (cross product of the public values). */
function publicKeysSql(dims: readonly Dimension[]): string {
  const unnests = dims.map((d) => `UNNEST([${d.publicValues!.map((v) => publicValueSql(d, v)).join(', ')}]) AS ${sqlIdent(d.name)}`);
  return `(SELECT ${dims.map((d) => sqlIdent(d.name)).join(', ')} FROM ${unnests.join(' CROSS JOIN ')}) AS public_groups`;
}

function part(r: MetricRelease, key: string): ReleasePart {
  return r.parts.find((p) => p.key === key)!;
}

function noiseWords(p: ReleasePart): string {
  const n = p.noise;
  const scale = n.kind === 'none' ? 'none' : n.kind === 'laplace' || n.kind === 'discrete-laplace' ? `scale=${num(n.scale)}` : `sigma=${num(n.sigma)}`;
  return `noise=${n.kind} epsilon=${num(p.budget.epsilon)} delta=${num(p.budget.delta)} l1=${num(p.sensitivity.l1)} l2=${num(p.sensitivity.l2)} linf=${num(p.sensitivity.perPartition)} ${scale}`;
}

interface Aggregate {
  readonly part: ReleasePart;
  readonly sql: string;
  readonly alias: string;
}

function statement(config: AnalysisConfig, plan: ReleasePlan, r: MetricRelease, table: string): string {
  const m = r.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const p = m.privacy;
  const group = plan.groups[r.group]!;
  const dims = dimensionsOf(config, m.by);
  const unit = sqlIdent(config.privacyUnit.column);
  const dimSel = dims.map((d) => (!d.bucket && d.column === d.name ? sqlIdent(d.name) : `${dimensionSql(d)} AS ${sqlIdent(d.name)}`));
  const dimNames = dims.map((d) => sqlIdent(d.name));
  const where = [`${unit} IS NOT NULL`, ...m.filter.map(filterSql)].join(' AND ');
  const L = p.maxContributionsPerPartition;
  const aggs: Aggregate[] = [];
  const post: string[] = [];
  const alias = (suffix: string): string => sqlIdent(suffix ? `${m.id}_${suffix}` : m.id);
  let source: string;
  switch (m.kind) {
    case 'count':
      source = `SELECT ${[unit, ...dimSel].join(', ')} FROM ${table} WHERE ${where}`;
      aggs.push({ part: part(r, ''), alias: alias(''), sql: `COUNT(*, contribution_bounds_per_group => (0, ${L}))` });
      break;
    case 'count-distinct':
      source = `SELECT DISTINCT ${[unit, ...dimSel].join(', ')} FROM ${table} WHERE ${where}`;
      aggs.push({ part: part(r, ''), alias: alias(''), sql: 'COUNT(*, contribution_bounds_per_group => (0, 1))' });
      break;
    case 'sum': {
      const c = p.clamp!;
      const perValue = c.mode === 'per-value';
      const value = perValue ? `LEAST(GREATEST(CAST(${sqlIdent(m.column)} AS FLOAT64), ${num(c.low)}), ${num(c.high)})` : `CAST(${sqlIdent(m.column)} AS FLOAT64)`;
      source = `SELECT ${[unit, ...dimSel, `${value} AS dpw_value`].join(', ')} FROM ${table} WHERE ${where} AND ${sqlIdent(m.column)} IS NOT NULL`;
      const lo = perValue ? L * c.low : c.low;
      const hi = perValue ? L * c.high : c.high;
      aggs.push({ part: part(r, ''), alias: alias(''), sql: `SUM(dpw_value, contribution_bounds_per_group => (${num(lo)}, ${num(hi)}))` });
      break;
    }
    case 'mean': {
      const c = p.clamp!;
      const mid = (c.low + c.high) / 2;
      source = `SELECT ${[unit, ...dimSel, `LEAST(GREATEST(CAST(${sqlIdent(m.column)} AS FLOAT64), ${num(c.low)}), ${num(c.high)}) - ${num(mid)} AS dpw_centered`].join(', ')} FROM ${table} WHERE ${where} AND ${sqlIdent(m.column)} IS NOT NULL`;
      aggs.push({ part: part(r, 'count'), alias: alias('count'), sql: `COUNT(*, contribution_bounds_per_group => (0, ${L}))` });
      aggs.push({ part: part(r, 'sum'), alias: alias('centered_sum'), sql: `SUM(dpw_centered, contribution_bounds_per_group => (${num(L * (c.low - mid))}, ${num(L * (c.high - mid))}))` });
      post.push(`${m.id} = ${num(mid)} + ${m.id}_centered_sum / GREATEST(${m.id}_count, 1)   (post-processing, no extra privacy cost)`);
      break;
    }
    case 'conversion': {
      const from = whereSql(m.from);
      const to = whereSql(m.to);
      source = `SELECT ${[unit, ...dimSel, `MAX(IF(${to}, 1, 0)) AS dpw_to`].join(', ')} FROM ${table} WHERE ${where} GROUP BY ${[unit, ...dimNames].join(', ')} HAVING MAX(IF(${from}, 1, 0)) = 1`;
      aggs.push({ part: part(r, 'from'), alias: alias('from_units'), sql: 'COUNT(*, contribution_bounds_per_group => (0, 1))' });
      aggs.push({ part: part(r, 'to'), alias: alias('to_units'), sql: 'SUM(dpw_to, contribution_bounds_per_group => (0, 1))' });
      post.push(`${m.id} = ${m.id}_to_units / GREATEST(${m.id}_from_units, 1)   (post-processing)`);
      break;
    }
    case 'funnel': {
      const steps = m.steps.map((s) => whereSql(s));
      const flags = steps.slice(1).map((s, i) => `MAX(IF(${s}, 1, 0)) AS dpw_step${i + 2}`);
      source = `SELECT ${[unit, ...dimSel, ...flags].join(', ')} FROM ${table} WHERE ${where} GROUP BY ${[unit, ...dimNames].join(', ')} HAVING MAX(IF(${steps[0]!}, 1, 0)) = 1`;
      aggs.push({ part: part(r, 'step1'), alias: alias('step1_units'), sql: 'COUNT(*, contribution_bounds_per_group => (0, 1))' });
      for (let s = 2; s <= steps.length; s++) {
        const reached = Array.from({ length: s - 1 }, (_, i) => `dpw_step${i + 2}`).join(' * ');
        aggs.push({ part: part(r, `step${s}`), alias: alias(`step${s}_units`), sql: `SUM(${reached}, contribution_bounds_per_group => (0, 1))` });
      }
      post.push(`${m.id} = ${m.id}_step${steps.length}_units / GREATEST(${m.id}_step1_units, 1); step rates stepI / stepI-1   (post-processing)`);
      break;
    }
  }

  const options = [
    `epsilon = ${num(r.total.epsilon)}`,
    `delta = ${num(r.total.delta)}`,
    `max_groups_contributed = ${p.maxPartitionsContributed}`,
    `privacy_unit_column = ${unit}`,
  ];
  const sel = group.selection;
  if (group.publicPartitions && dims.length > 0) options.push('group_selection_strategy = PUBLIC_GROUPS');
  else if (sel && sel.preThreshold > 1) options.push(`min_privacy_units_per_group = ${sel.preThreshold}`);

  const comments: string[] = [
    `==== metric ${m.id} (${m.kind}): ${metricLabel(m)}`,
    `by: ${m.by.length ? m.by.join(', ') : '(no dimensions: one overall value)'}${m.filter.length ? `; rows where ${filtersText(m.filter)}` : ''}; cadence ${m.cadence}`,
    `privacy: epsilon ${num(r.total.epsilon)} and delta ${num(r.total.delta)} (share ${num(p.budgetShare)} of the total), L0 ${p.maxPartitionsContributed}, L∞ ${L}${p.clamp ? `, clamp [${num(p.clamp.low)}, ${num(p.clamp.high)}] ${p.clamp.mode}` : ''}${p.boundProvenance ? ` (bounds: ${p.boundProvenance})` : ''}`,
    `workbench mechanism: ${mechanismText(p.mechanism)}; BigQuery chooses its own noise (Laplace) and splits this statement's budget between its aggregates itself`,
    group.publicPartitions
      ? 'cohorts: public (every key of the public values is released, empty ones too)'
      : r.role === 'shared'
        ? `cohorts: private; the workbench thresholds this metric's own noisy unit count (${sel!.strategy}, pre-threshold ${sel!.preThreshold}); BigQuery applies its own thresholding`
        : r.role === 'covered'
          ? `cohorts: private; the workbench releases this metric on the cohorts that ${sel!.sharedWith!}'s noisy count keeps; BigQuery thresholds each statement itself (join the results on the kept cohorts to match)`
          : `cohorts: private; the workbench selects them once for the group (${sel!.strategy} on ${sel!.driver}'s unit counts, pre-threshold ${sel!.preThreshold}); BigQuery applies its own thresholding per statement`,
    ...post.map((x) => `result: ${x}`),
  ];
  const select = [...dimNames.map((d) => (group.publicPartitions && dims.length > 0 ? `public_groups.${d}` : d)), ...aggs.map((a) => `${a.sql} AS ${a.alias}`)];
  const selectLines = select.map((s, i) => {
    const a = i >= dimNames.length ? aggs[i - dimNames.length] : undefined;
    return `${a ? `  -- dpw: part=${a.part.key || '(value)'} aggregate=${a.part.aggregate} ${noiseWords(a.part)}\n` : ''}  ${s}${i < select.length - 1 ? ',' : ''}`;
  });
  let from = `FROM (${source}) AS src`;
  if (group.publicPartitions && dims.length > 0) from += `\nRIGHT OUTER JOIN ${publicKeysSql(dims)} USING (${dimNames.join(', ')})`;
  const groupBy = dimNames.length ? `\nGROUP BY ${dimNames.join(', ')}` : '';
  return `${commentBlock(comments, '--')}\nSELECT WITH DIFFERENTIAL_PRIVACY\n  OPTIONS (${options.join(', ')})\n${selectLines.join('\n')}\n${from}${groupBy};`;
}

/** The BigQuery script of a config (see the module comment). */
export function exportBigQuery(config: AnalysisConfig, ctx: ExportContext): string {
  const plan = releasePlan(config);
  const table = sqlTable(defaultTable(config, ctx));
  const out: string[] = [commentBlock([
    ...headerLines(config, ctx, 'BigQuery differentially private queries'),
    '',
    `privacy unit: ${config.privacyUnit.column} (${config.privacyUnit.kind})${config.privacyUnit.kind === 'device' ? ' — WARNING: a device is a weaker unit than a person: someone with k devices is protected only at k times these epsilons' : ''}`,
    `total budget: epsilon ${num(config.budget.epsilon)}, delta ${num(config.budget.delta)} (${config.budget.accountant} accountant); the statements below spend epsilon ${approx(plan.allotted.epsilon)} and delta ${approx(plan.allotted.delta)} under basic composition`,
    `table: ${table} (one row per event, privacy unit column ${config.privacyUnit.column})`,
    'Run every statement once per release period; each statement spends its own OPTIONS budget.',
  ], '--')];
  for (const r of plan.metrics) {
    const m = r.metric;
    if (r.role === 'local') {
      out.push(commentBlock([`==== metric ${m.id} (local-frequency): ${metricLabel(m)}`, 'NOT EXPORTED: local DP (randomized response on each device) has no BigQuery equivalent; the devices report, and the debiasing runs on the collected reports.'], '--'));
      continue;
    }
    if (m.kind === 'ratio') {
      out.push(commentBlock([`==== metric ${m.id} (ratio): ${metricLabel(m)}`, `result: ${m.id} = ${m.numerator} / GREATEST(${m.denominator}, 1) per cohort, computed from the two statements' outputs (post-processing, no query, no extra privacy cost; together they spend epsilon ${num(r.total.epsilon)})`], '--'));
      continue;
    }
    out.push(statement(config, plan, r, table));
  }
  return `${out.join('\n\n')}\n`;
}
