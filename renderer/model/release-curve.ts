// P(release | cohort of n units) of a plan group's partition selection, for the threshold curve.
import { makePartitionSelection } from '../../shared/core/dp/partition-selection';
import type { GroupSelection } from '../../shared/core/simulate/plan-builder';
import { normalCdf } from '../../shared/core/math/special';

/**
 * Keep probability of the group's selection as a function of the true unit count. An own
 * selection is the core's PartitionSelection; a selection that reads a released count's noise
 * (shared) thresholds n − (k − 1) + noise at the group's threshold with that noise's scale.
 */
export function keepProbabilityOf(sel: GroupSelection): (n: number) => number {
  const k = sel.preThreshold;
  if (sel.strategy === 'optimal' || sel.sharedWith === undefined) {
    const ps = makePartitionSelection({ strategy: sel.strategy, epsilon: sel.epsilon, delta: sel.delta, maxPartitionsContributed: sel.maxPartitionsContributed, preThreshold: k });
    return (n) => ps.keepProbability(Math.max(0, Math.round(n)));
  }
  const T = sel.threshold ?? Infinity;
  const s = sel.noiseScale ?? 0;
  return (n) => {
    if (n < k) return 0;
    const t = T - (n - (k - 1));
    if (!(s > 0)) return t <= 0 ? 1 : 0;
    if (sel.strategy === 'laplace') return t <= 0 ? 1 - 0.5 * Math.exp(t / s) : 0.5 * Math.exp(-t / s);
    return 1 - normalCdf(t / s);
  };
}
