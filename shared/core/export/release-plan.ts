// The privacy plan of a config without its data: for every metric its share of the budget, how it
// takes part in its group's partition selection, and for every noisy aggregate its sensitivity,
// (ε, δ) and noise. The exporters write engine code from this, so an exported job adds the same
// noise as the simulation. It follows plan-builder.ts's `finishPlans` step for step (same groups
// by `by`, same roles, same splits through budget.ts); test/unit/export checks the two agree on the
// sample configs.

import type { AnalysisConfig, CentralMetric, Dimension, Metric } from '../config/schema';
import { isCentralMetric } from '../config/schema';
import { makePartitionSelection } from '../dp/partition-selection';
import type { SelectionStrategy } from '../dp/partition-selection';
import type { Sensitivity } from '../dp/sensitivity';
import { DpError } from '../errors';
import type { Mechanism, PrivacyBudget, SelectionRole } from '../simulate/budget';
import { aggregateParts, metricBudget, noiseHalfWidth, noiseSpecFor, noiseVariance, splitSelection } from '../simulate/budget';
import type { NoiseSpec } from '../simulate/plan';

/** One noisy aggregate of a metric. */
export interface ReleasePart {
  /** '' for single-aggregate metrics; 'count' | 'sum' (mean), 'from' | 'to' (conversion), 'step1'… (funnel). */
  readonly key: string;
  readonly aggregate: 'count' | 'count-distinct' | 'sum';
  readonly sensitivity: Sensitivity;
  /** The (ε, δ) this aggregate's noise is calibrated to. */
  readonly budget: PrivacyBudget;
  readonly noise: NoiseSpec;
  readonly noiseStd: number;
  /** Half-width of the noise at 95% confidence. */
  readonly halfWidth95: number;
}

export type ReleaseRole = SelectionRole | 'derived' | 'local';

export interface MetricRelease {
  readonly metric: Metric;
  /** Index into ReleasePlan.groups (-1: local-DP metric, no group). */
  readonly group: number;
  /**
   * public: public partitions; private: pays its selection share into the group's selection;
   * shared: its noisy unit count is the group's selection; covered: released on the partitions a
   * shared count kept; derived: a ratio (post-processing); local: local DP, no central budget.
   */
  readonly role: ReleaseRole;
  /** (ε_m, δ_m): share·(ε, δ); for a ratio the sum of its two parts' (not spent again). */
  readonly total: PrivacyBudget;
  /** What the metric pays into its group's selection (null: none or 'shared', where it is the noise). */
  readonly selection: PrivacyBudget | null;
  /** What the metric's noise gets, split evenly between its parts. */
  readonly noise: PrivacyBudget;
  readonly parts: readonly ReleasePart[];
}

export interface GroupSelectionPlan {
  readonly strategy: SelectionStrategy;
  /** The metric whose unit counts are thresholded. */
  readonly driver: string;
  /** Set when the selection reads this count-distinct metric's released noisy count. */
  readonly sharedWith: string | null;
  readonly epsilon: number;
  readonly delta: number;
  readonly maxPartitionsContributed: number;
  readonly preThreshold: number;
  readonly threshold: number | null;
  readonly noiseScale: number | null;
}

export interface ReleaseGroup {
  readonly by: readonly string[];
  readonly dimensions: readonly Dimension[];
  readonly publicPartitions: boolean;
  /** Metrics of the group in config order (base metrics first, then ratios). */
  readonly metricIds: readonly string[];
  readonly selection: GroupSelectionPlan | null;
}

export interface ReleasePlan {
  readonly groups: readonly ReleaseGroup[];
  /** Every metric of the config, in config order. */
  readonly metrics: readonly MetricRelease[];
  /** Σ (ε_m, δ_m) over the metrics that spend budget (basic composition). */
  readonly allotted: PrivacyBudget;
  readonly notes: readonly string[];
}

const SEP = '\u0000';

function shareable(m: CentralMetric): boolean {
  const s = m.privacy.selection;
  return m.kind === 'count-distinct' && (s === 'laplace' || s === 'gaussian') && m.privacy.mechanism === s;
}

/** The privacy plan of a config (see the module comment). Throws DpError where the simulation would. */
export function releasePlan(config: AnalysisConfig): ReleasePlan {
  const notes: string[] = [];
  const total: PrivacyBudget = { epsilon: config.budget.epsilon, delta: config.budget.delta };
  const dims = new Map(config.dimensions.map((d) => [d.name, d]));
  const central = config.metrics.filter(isCentralMetric);

  const order: string[] = [];
  const members = new Map<string, CentralMetric[]>();
  for (const m of central) {
    const k = m.by.join(SEP);
    if (!members.has(k)) {
      members.set(k, []);
      order.push(k);
    }
    members.get(k)!.push(m);
  }

  const groups: ReleaseGroup[] = [];
  const byId = new Map<string, MetricRelease>();
  order.forEach((k, gi) => {
    const ms = members.get(k)!;
    const by = ms[0]!.by;
    const dimList = by.map((n) => {
      const d = dims.get(n);
      if (!d) throw new DpError('InvalidParameter', `unknown dimension ${JSON.stringify(n)}`);
      return d;
    });
    const isPublic = dimList.every((d) => d.publicValues !== undefined && d.publicValues.length > 0);
    const base = ms.filter((m) => m.kind !== 'ratio');
    const ratios = ms.filter((m): m is Extract<CentralMetric, { kind: 'ratio' }> => m.kind === 'ratio');

    const roles = new Map<string, SelectionRole>();
    let driver: CentralMetric | undefined;
    let sharedDriver = false;
    if (isPublic) {
      for (const m of base) roles.set(m.id, 'public');
    } else {
      const missing = by.filter((n) => !dims.get(n)?.publicValues?.length);
      for (const m of base) {
        if (m.privacy.selection === 'public') {
          throw new DpError('InvalidParameter', `metric ${m.id}: selection 'public' needs publicValues for every dimension of by (missing: ${missing.join(', ')})`);
        }
      }
      driver = base.find(shareable);
      sharedDriver = driver !== undefined;
      driver ??= base[0];
      for (const m of base) roles.set(m.id, sharedDriver ? (m === driver ? 'shared' : 'covered') : 'private');
    }

    const selBudget = { epsilon: 0, delta: 0 };
    for (const m of base) {
      const role = roles.get(m.id)!;
      const mTotal = metricBudget(total, m);
      const split = splitSelection(mTotal, role, m.privacy.selectionShare, m.privacy.mechanism as Mechanism);
      if (role === 'private' && split.selection) {
        selBudget.epsilon += split.selection.epsilon;
        selBudget.delta += split.selection.delta;
      }
      const parts: ReleasePart[] = aggregateParts(m, split.noise).map((ap) => {
        let noise: NoiseSpec;
        if (role === 'shared') {
          const sel = makePartitionSelection({
            strategy: m.privacy.selection as 'laplace' | 'gaussian', epsilon: mTotal.epsilon, delta: mTotal.delta,
            maxPartitionsContributed: m.privacy.maxPartitionsContributed, preThreshold: m.privacy.preThreshold,
          });
          noise = sel.strategy === 'laplace' ? { kind: 'laplace', scale: sel.noiseScale! } : { kind: 'gaussian', sigma: sel.noiseScale! };
        } else {
          noise = noiseSpecFor(m.privacy.mechanism as Mechanism, ap.sensitivity, ap.budget, notes, ap.key ? `${m.id}.${ap.key}` : m.id);
        }
        return {
          key: ap.key, aggregate: ap.aggregate, sensitivity: ap.sensitivity,
          budget: role === 'shared' ? mTotal : ap.budget,
          noise, noiseStd: Math.sqrt(noiseVariance(noise)), halfWidth95: noiseHalfWidth(noise, 0.95),
        };
      });
      byId.set(m.id, { metric: m, group: gi, role, total: mTotal, selection: role === 'shared' ? null : split.selection, noise: split.noise, parts });
    }
    for (const r of ratios) {
      const num = byId.get(r.numerator);
      const den = byId.get(r.denominator);
      if (!num || !den) throw new DpError('InvalidParameter', `ratio ${r.id}: unknown metric ${JSON.stringify(!num ? r.numerator : r.denominator)}`);
      for (const ref of [num, den]) {
        const kind = ref.metric.kind;
        if (kind !== 'count' && kind !== 'count-distinct' && kind !== 'sum') {
          throw new DpError('NotSupported', `ratio ${r.id}: ${ref.metric.id} is a ${kind}; a ratio's parts must be count, count-distinct or sum metrics`);
        }
      }
      byId.set(r.id, {
        metric: r, group: gi, role: 'derived',
        total: { epsilon: num.total.epsilon + den.total.epsilon, delta: num.total.delta + den.total.delta },
        selection: null, noise: { epsilon: 0, delta: 0 }, parts: [],
      });
    }

    let selection: GroupSelectionPlan | null = null;
    if (!isPublic && driver) {
      const p = driver.privacy;
      const sb = sharedDriver ? metricBudget(total, driver) : selBudget;
      const strategy = p.selection as SelectionStrategy;
      const sel = makePartitionSelection({ strategy, epsilon: sb.epsilon, delta: sb.delta, maxPartitionsContributed: p.maxPartitionsContributed, preThreshold: p.preThreshold });
      selection = {
        strategy, driver: driver.id, sharedWith: sharedDriver ? driver.id : null, epsilon: sb.epsilon, delta: sb.delta,
        maxPartitionsContributed: sel.maxPartitionsContributed, preThreshold: sel.preThreshold, threshold: sel.threshold, noiseScale: sel.noiseScale,
      };
      for (const m of base) {
        if (m === driver) continue;
        if (m.privacy.preThreshold !== p.preThreshold) notes.push(`metric ${m.id}: pre-threshold ${m.privacy.preThreshold} differs from ${driver.id}'s; the group [${by.join(', ')}] uses ${p.preThreshold}`);
      }
    }
    groups.push({ by: [...by], dimensions: dimList, publicPartitions: isPublic, metricIds: [...base.map((m) => m.id), ...ratios.map((r) => r.id)], selection });
  });

  const metrics: MetricRelease[] = config.metrics.map((m) => byId.get(m.id) ?? {
    metric: m, group: -1, role: 'local', total: { epsilon: 0, delta: 0 }, selection: null, noise: { epsilon: 0, delta: 0 }, parts: [],
  });
  const allotted = { epsilon: 0, delta: 0 };
  for (const r of metrics) {
    if (r.role === 'derived' || r.role === 'local') continue;
    allotted.epsilon += r.total.epsilon;
    allotted.delta += r.total.delta;
  }
  return { groups, metrics, allotted, notes };
}

/** The release of one metric id (throws when absent). */
export function releaseOf(plan: ReleasePlan, id: string): MetricRelease {
  const r = plan.metrics.find((m) => m.metric.id === id);
  if (!r) throw new DpError('InvalidParameter', `unknown metric ${JSON.stringify(id)}`);
  return r;
}
