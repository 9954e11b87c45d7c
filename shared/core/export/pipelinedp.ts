// PipelineDP export: a Python script (pipeline_dp, LocalBackend; Beam or Spark by swapping the
// backend) with one DPEngine.aggregate per noisy aggregate, parameterised so that PipelineDP adds
// the noise the workbench simulated (names as in PipelineDP's aggregate_params.py, dp_engine.py and
// budget_accounting.py).
//
// Budget: PipelineDP's NaiveBudgetAccountant divides its total among every mechanism requested from
// it by weight (partition selection with weight 1 whatever budget_weight says, δ only among the
// mechanisms that use it), so one accountant for the whole analysis would not reproduce the
// workbench's split. Each release therefore gets its own accountant holding exactly the (ε, δ) the
// workbench gives it, with budget_weight 1; the releases compose by basic composition, as in the
// workbench (the header states the sum).
//
// Partition selection as in plan-builder.ts: public cohorts → public_partitions; a count-distinct
// whose noisy count is the selection → PRIVACY_ID_COUNT with post_aggregation_thresholding (all of
// (ε_m, δ_m)); the other metrics of such a group → public_partitions = the keys that count kept;
// otherwise one select_partitions per group with the pooled selection budget, whose keys the
// group's metrics then use as public_partitions.
//
// Mechanisms: laplace and discrete-laplace → NoiseKind.LAPLACE, gaussian and discrete-gaussian →
// NoiseKind.GAUSSIAN (PipelineDP has no discrete kinds; its noise is Google's secure sampler).
// Conversion and funnel: one row per (unit, cohort) with 0/1 step flags, then PRIVACY_ID_COUNT of
// the first step and SUM of the later steps' flags with bounds [0, 1].

import type { AnalysisConfig, CentralMetric } from '../config/schema';
import type { SelectionStrategy } from '../dp/partition-selection';
import type { ExportContext } from './common';
import { approx, commentBlock, dimensionsOf, filtersText, headerLines, mechanismText, metricLabel, num } from './common';
import { pyDims, pyFilters, pyList, pyName, pyNum, pyScalar, pyStr } from './python';
import type { MetricRelease, ReleasePart, ReleasePlan } from './release-plan';
import { releasePlan } from './release-plan';

const STRATEGY: Record<SelectionStrategy, string> = {
  laplace: 'pipeline_dp.PartitionSelectionStrategy.LAPLACE_THRESHOLDING',
  gaussian: 'pipeline_dp.PartitionSelectionStrategy.GAUSSIAN_THRESHOLDING',
  optimal: 'pipeline_dp.PartitionSelectionStrategy.TRUNCATED_GEOMETRIC',
};

function noiseKind(mechanism: string): string {
  return mechanism === 'gaussian' || mechanism === 'discrete-gaussian' ? 'pipeline_dp.NoiseKind.GAUSSIAN' : 'pipeline_dp.NoiseKind.LAPLACE';
}

const PRELUDE = `import csv
import datetime
import functools
import itertools
import json

import pipeline_dp


def _convert(value, column_type):
    if value is None or value == "":
        return None
    if column_type == "integer":
        return int(value)
    if column_type == "float":
        return float(value)
    if column_type == "boolean":
        return str(value).strip().lower() in ("true", "1", "yes")
    if column_type == "timestamp":
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return value


def load_rows(path, data_format, column_types):
    """Rows of the dataset as dicts (csv, tsv, ndjson; other formats: load them yourself)."""
    if data_format in ("csv", "tsv"):
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\\t" if data_format == "tsv" else ","))
    elif data_format == "ndjson":
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        raise NotImplementedError("load %s data into a list of dicts here" % data_format)
    for row in rows:
        for column, column_type in column_types.items():
            if column in row:
                row[column] = _convert(row[column], column_type)
    return [row for row in rows if row.get(PRIVACY_UNIT) not in (None, "")]


def _like(value, example):
    if value is None or isinstance(example, str):
        return value if value is None or isinstance(value, str) else str(value)
    if isinstance(example, bool):
        return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def matches(row, filters):
    """True when the row satisfies every (column, op, value) filter (SQL semantics: NULL never matches)."""
    for column, op, value in filters:
        x = row.get(column)
        if op in ("in", "not-in"):
            values = value if isinstance(value, list) else [value]
            hit = any(_like(x, v) == v for v in values) if x is not None else False
            if x is None or hit != (op == "in"):
                return False
            continue
        y = _like(x, value)
        if y is None:
            return False
        if op == "=" and not y == value:
            return False
        if op == "!=" and not y != value:
            return False
        if op == "<" and not y < value:
            return False
        if op == "<=" and not y <= value:
            return False
        if op == ">" and not y > value:
            return False
        if op == ">=" and not y >= value:
            return False
    return True


def key_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cohort(row, dims):
    """The cohort key of a row: one text per (column, bucket) dimension; days and ISO weeks as YYYY-MM-DD."""
    key = []
    for column, bucket in dims:
        value = row.get(column)
        if bucket is not None and value is not None:
            if isinstance(value, str):
                value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            day = value.date() if isinstance(value, datetime.datetime) else value
            value = day if bucket == "day" else day - datetime.timedelta(days=day.weekday())
            value = value.isoformat()
        key.append(None if value is None else key_text(value))
    return tuple(key)


def unit_flags(rows, dims, steps):
    """One row per (unit, cohort) where the unit matched steps[0], with 0/1 flags for every step."""
    pairs = {}
    for row in rows:
        k = (row[PRIVACY_UNIT], cohort(row, dims))
        flags = pairs.setdefault(k, [0] * len(steps))
        for i, step in enumerate(steps):
            if not flags[i] and matches(row, step):
                flags[i] = 1
    return [{"unit": u, "key": key, "flags": f} for (u, key), f in pairs.items() if f[0] == 1]


def public_keys(values_per_dimension):
    return [tuple(key_text(v) for v in combo) for combo in itertools.product(*values_per_dimension)]


def value_of(entry):
    """The released value of one (key, metrics) entry of an aggregate's result."""
    _, metrics = entry
    for field in ("mean", "sum", "privacy_id_count", "count"):
        if hasattr(metrics, field):
            return getattr(metrics, field)
    raise ValueError("no metric in %r" % (metrics,))
`;

interface Ctx {
  readonly config: AnalysisConfig;
  readonly plan: ReleasePlan;
  readonly fnOf: Map<string, string>;
}

function partOf(r: MetricRelease, key: string): ReleasePart {
  return r.parts.find((p) => p.key === key)!;
}

function accountant(budget: { epsilon: number; delta: number }): string {
  return `    accountant = pipeline_dp.NaiveBudgetAccountant(total_epsilon=${pyNum(budget.epsilon)}, total_delta=${pyNum(budget.delta)})\n    engine = pipeline_dp.DPEngine(accountant, BACKEND)`;
}

/** The Python source of one aggregate call, returning its listed result. */
function aggregateCall(opts: {
  readonly budget: { epsilon: number; delta: number };
  readonly noise: string;
  readonly metric: string;
  readonly l0: number;
  readonly linf: number;
  readonly bounds?: readonly [string, number, number];
  readonly selection?: { strategy: SelectionStrategy; preThreshold: number };
  readonly data: string;
  readonly idExtractor: string;
  readonly keyExtractor: string;
  readonly valueExtractor: string;
  readonly publicPartitions: string | null;
  readonly comment: string;
}): string {
  const kw = [
    `noise_kind=${opts.noise}`,
    `metrics=[pipeline_dp.Metrics.${opts.metric}]`,
    `max_partitions_contributed=${opts.l0}`,
    `max_contributions_per_partition=${opts.linf}`,
    ...(opts.bounds ? [`${opts.bounds[0]}=${pyNum(opts.bounds[1])}`, `${opts.bounds[0].replace('min', 'max')}=${pyNum(opts.bounds[2])}`] : []),
    ...(opts.selection ? [
      `partition_selection_strategy=${STRATEGY[opts.selection.strategy]}`,
      ...(opts.selection.preThreshold > 1 ? [`pre_threshold=${opts.selection.preThreshold}`] : []),
      'post_aggregation_thresholding=True',
    ] : []),
    'budget_weight=1',
  ];
  return `    # ${opts.comment}
${accountant(opts.budget)}
    params = pipeline_dp.AggregateParams(
${kw.map((k) => `        ${k},`).join('\n')}
    )
    extractors = pipeline_dp.DataExtractors(
        privacy_id_extractor=${opts.idExtractor},
        partition_extractor=${opts.keyExtractor},
        value_extractor=${opts.valueExtractor},
    )
    result = engine.aggregate(${opts.data}, params, extractors${opts.publicPartitions ? `, public_partitions=${opts.publicPartitions}` : ''})
    accountant.compute_budgets()
    return list(result)`;
}

function noiseComment(p: ReleasePart): string {
  const n = p.noise;
  const s = n.kind === 'none' ? 'no noise' : n.kind === 'laplace' || n.kind === 'discrete-laplace' ? `${n.kind} scale ${num(n.scale)}` : `${n.kind} sigma ${num(n.sigma)}`;
  return `workbench noise: ${s} (L1 ${num(p.sensitivity.l1)}, L2 ${num(p.sensitivity.l2)}, epsilon ${num(p.budget.epsilon)}, delta ${num(p.budget.delta)})`;
}

function metricFunctions(c: Ctx, r: MetricRelease): string {
  const m = r.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const p = m.privacy;
  const group = c.plan.groups[r.group]!;
  const dims = dimensionsOf(c.config, m.by);
  const fn = c.fnOf.get(m.id)!;
  const dimsPy = pyDims(dims);
  const keyEx = `lambda row: cohort(row, ${dimsPy})`;
  const unitEx = 'lambda row: row[PRIVACY_UNIT]';
  const noise = noiseKind(p.mechanism);
  let publicPartitions: string | null = null;
  if (group.publicPartitions) publicPartitions = `public_keys(${pyList(dims.map((d) => pyList(d.publicValues!.map(pyScalar))))})`;
  else if (r.role === 'covered') publicPartitions = `[key for key, _ in ${c.fnOf.get(group.selection!.sharedWith!)!}()]`;
  else if (r.role === 'private') publicPartitions = `select_group_${r.group}()`;
  const selection = r.role === 'shared' ? { strategy: group.selection!.strategy, preThreshold: group.selection!.preThreshold } : undefined;
  const valueCol = m.kind === 'sum' || m.kind === 'mean' ? m.column : null;
  // Rows with no value are left out of sums and means (as SQL's SUM and AVG, and the workbench).
  const rowsOf = `[row for row in ROWS if matches(row, ${pyFilters(m.filter)})${valueCol ? ` and row.get(${pyStr(valueCol)}) is not None` : ''}]`;
  const header = [
    `metric ${m.id} (${m.kind}): ${metricLabel(m)}`,
    `by ${m.by.length ? m.by.join(', ') : '(nothing: one overall value)'}${m.filter.length ? `, rows where ${filtersText(m.filter)}` : ''}; cadence ${m.cadence}`,
    `privacy: epsilon ${num(r.total.epsilon)}, delta ${num(r.total.delta)} (share ${num(p.budgetShare)}); workbench mechanism ${mechanismText(p.mechanism)}; role ${r.role}`,
    `bounds: L0 ${p.maxPartitionsContributed}, L∞ ${p.maxContributionsPerPartition}${p.clamp ? `, clamp [${num(p.clamp.low)}, ${num(p.clamp.high)}] ${p.clamp.mode}` : ''}${p.boundProvenance ? ` (${p.boundProvenance})` : ''}`,
  ];
  const fns: string[] = [];
  const def = (name: string, doc: string, body: string): void => {
    fns.push(`@functools.lru_cache(maxsize=None)\ndef ${name}():\n    ${pyStr(doc)}\n${body}\n`);
  };
  switch (m.kind) {
    case 'count':
    case 'count-distinct':
    case 'sum': {
      const part = partOf(r, '');
      const bounds: readonly [string, number, number] | undefined = m.kind === 'sum'
        ? (p.clamp!.mode === 'per-value' ? ['min_value', p.clamp!.low, p.clamp!.high] : ['min_sum_per_partition', p.clamp!.low, p.clamp!.high])
        : undefined;
      def(fn, `metric ${m.id}`, aggregateCall({
        budget: part.budget, noise, metric: m.kind === 'count' ? 'COUNT' : m.kind === 'sum' ? 'SUM' : 'PRIVACY_ID_COUNT',
        l0: p.maxPartitionsContributed, linf: m.kind === 'count-distinct' ? 1 : p.maxContributionsPerPartition, ...(bounds ? { bounds } : {}), ...(selection ? { selection } : {}),
        data: rowsOf, idExtractor: unitEx, keyExtractor: keyEx,
        valueExtractor: m.kind === 'sum' ? `lambda row: row[${pyStr(m.column)}]` : 'lambda row: 0',
        publicPartitions, comment: noiseComment(part),
      }));
      break;
    }
    case 'mean': {
      // PipelineDP's MEAN is a noisy COUNT and a noisy normalised SUM with its budget split evenly:
      // the workbench's two parts (each half of the noise budget), so one accountant holds both.
      const cp = partOf(r, 'count');
      const sp = partOf(r, 'sum');
      def(fn, `metric ${m.id}`, aggregateCall({
        budget: r.noise, noise, metric: 'MEAN', l0: p.maxPartitionsContributed, linf: p.maxContributionsPerPartition,
        bounds: ['min_value', p.clamp!.low, p.clamp!.high],
        data: rowsOf,
        idExtractor: unitEx, keyExtractor: keyEx, valueExtractor: `lambda row: row[${pyStr(m.column)}]`,
        publicPartitions, comment: `count part ${noiseComment(cp)}; normalised-sum part ${noiseComment(sp)}`,
      }));
      break;
    }
    case 'conversion':
    case 'funnel': {
      const steps = m.kind === 'conversion' ? [m.from, m.to] : m.steps;
      const keys = m.kind === 'conversion' ? ['from', 'to'] : steps.map((_, i) => `step${i + 1}`);
      const pairs = `unit_flags(${rowsOf}, ${dimsPy}, ${pyList(steps.map(pyFilters))})`;
      keys.forEach((k, i) => {
        const part = partOf(r, k);
        const reached = Array.from({ length: i + 1 }, (_, j) => `pair["flags"][${j}]`).join(' * ');
        def(`${fn}__${k}`, `metric ${m.id} part ${k}`, aggregateCall({
          budget: part.budget, noise, metric: i === 0 ? 'PRIVACY_ID_COUNT' : 'SUM', l0: p.maxPartitionsContributed, linf: 1,
          ...(i === 0 ? {} : { bounds: ['min_value', 0, 1] as const }), ...(selection ? { selection } : {}),
          data: pairs, idExtractor: 'lambda pair: pair["unit"]', keyExtractor: 'lambda pair: pair["key"]',
          valueExtractor: i === 0 ? 'lambda pair: 0' : `lambda pair: ${reached}`,
          publicPartitions, comment: noiseComment(part),
        }));
      });
      const first = `${fn}__${keys[0]!}`;
      const last = `${fn}__${keys[keys.length - 1]!}`;
      fns.push(`def ${fn}():\n    ${pyStr(`metric ${m.id}: ${m.kind === 'conversion' ? 'to / max(from, 1)' : 'last step / max(first step, 1)'} per cohort (post-processing)`)}\n    first = {key: value_of((key, v)) for key, v in ${first}()}\n    return [(key, value_of((key, v)) / max(first.get(key, 0), 1)) for key, v in ${last}()]\n`);
      break;
    }
  }
  return `${commentBlock(header, '#')}\n${fns.join('\n\n')}`;
}

function selectionFunction(c: Ctx, gi: number): string {
  const g = c.plan.groups[gi]!;
  const sel = g.selection!;
  const driver = c.plan.metrics.find((r) => r.metric.id === sel.driver)!.metric as Exclude<CentralMetric, { kind: 'ratio' }>;
  const dims = dimensionsOf(c.config, g.by);
  return `${commentBlock([
    `partition selection of the cohorts [${g.by.join(', ')}]: ${sel.strategy} on the unit counts of ${sel.driver}, pre-threshold ${sel.preThreshold}`,
    `pooled selection budget of the group's metrics: epsilon ${approx(sel.epsilon)}, delta ${approx(sel.delta)}${sel.threshold !== null ? `; workbench threshold ${num(sel.threshold)}` : ''}`,
  ], '#')}
@functools.lru_cache(maxsize=None)
def select_group_${gi}():
    ${pyStr(`selection of group ${gi}`)}
    accountant = pipeline_dp.NaiveBudgetAccountant(total_epsilon=${pyNum(sel.epsilon)}, total_delta=${pyNum(sel.delta)})
    engine = pipeline_dp.DPEngine(accountant, BACKEND)
    params = pipeline_dp.SelectPartitionsParams(
        max_partitions_contributed=${sel.maxPartitionsContributed},
        partition_selection_strategy=${STRATEGY[sel.strategy]},
${sel.preThreshold > 1 ? `        pre_threshold=${sel.preThreshold},\n` : ''}    )
    extractors = pipeline_dp.DataExtractors(
        privacy_id_extractor=lambda row: row[PRIVACY_UNIT],
        partition_extractor=lambda row: cohort(row, ${pyDims(dims)}),
    )
    keys = engine.select_partitions([row for row in ROWS if matches(row, ${pyFilters(driver.filter)})], params, extractors)
    accountant.compute_budgets()
    return list(keys)
`;
}

/** The PipelineDP script of a config (see the module comment). */
export function exportPipelineDp(config: AnalysisConfig, ctx: ExportContext): string {
  const plan = releasePlan(config);
  const fnOf = new Map<string, string>();
  plan.metrics.forEach((r, i) => fnOf.set(r.metric.id, pyName('release', r.metric.id, i)));
  const c: Ctx = { config, plan, fnOf };
  const out: string[] = [
    commentBlock([
      ...headerLines(config, ctx, 'PipelineDP job'),
      '',
      `privacy unit: ${config.privacyUnit.column} (${config.privacyUnit.kind})${config.privacyUnit.kind === 'device' ? ' — WARNING: a device is a weaker unit than a person: someone with k devices is protected only at k times these epsilons' : ''}`,
      `total budget: epsilon ${num(config.budget.epsilon)}, delta ${num(config.budget.delta)} (${config.budget.accountant} accountant); this job spends epsilon ${approx(plan.allotted.epsilon)}, delta ${approx(plan.allotted.delta)} under basic composition (one NaiveBudgetAccountant per release, see below)`,
      'Each release below has its own accountant holding exactly the budget the workbench simulated; run the job once per release period.',
      'Requires: pip install pipeline-dp. Swap BACKEND for pipeline_dp.BeamBackend() or pipeline_dp.SparkRDDBackend(sc) at scale.',
    ], '#'),
    PRELUDE,
    `PRIVACY_UNIT = ${pyStr(config.privacyUnit.column)}
DATA_PATH = ${pyStr(config.dataset.path)}  # relative to the config file
DATA_FORMAT = ${pyStr(config.dataset.format ?? (config.dataset.path.split('.').pop() ?? 'csv'))}
COLUMN_TYPES = {${Object.entries(config.dataset.columns ?? {}).map(([k, v]) => `${pyStr(k)}: ${pyStr(v)}`).join(', ')}}
BACKEND = pipeline_dp.LocalBackend()
ROWS = []
`,
  ];
  plan.groups.forEach((g, gi) => {
    if (g.selection && g.selection.sharedWith === null) out.push(selectionFunction(c, gi));
  });
  plan.metrics.forEach((r) => {
    const m = r.metric;
    if (r.role === 'local') {
      out.push(commentBlock([`metric ${m.id} (local-frequency): ${metricLabel(m)}`, 'NOT EXPORTED: local DP (randomized response on each device) is not a PipelineDP aggregation; the devices randomise, the server only debiases.'], '#'));
      return;
    }
    if (m.kind === 'ratio') {
      out.push(`${commentBlock([`metric ${m.id} (ratio): ${metricLabel(m)}`, `${m.numerator} / max(${m.denominator}, 1) per cohort: post-processing of two releases (epsilon ${num(r.total.epsilon)} together), no extra privacy cost`], '#')}
def ${fnOf.get(m.id)!}():
    ${pyStr(`metric ${m.id}`)}
    den = {key: value_of((key, v)) for key, v in ${fnOf.get(m.denominator)!}()}
    return [(key, value_of((key, v)) / max(den.get(key, 0), 1)) for key, v in ${fnOf.get(m.numerator)!}()]
`);
      return;
    }
    out.push(metricFunctions(c, r));
  });
  const released = plan.metrics.filter((r) => r.role !== 'local');
  out.push(`RELEASES = {
${released.map((r) => `    ${pyStr(r.metric.id)}: ${fnOf.get(r.metric.id)!},`).join('\n')}
}


def main():
    ROWS.extend(load_rows(DATA_PATH, DATA_FORMAT, COLUMN_TYPES))
    for metric_id, release in RELEASES.items():
        print(metric_id, release())


if __name__ == "__main__":
    main()
`);
  return out.join('\n\n');
}
