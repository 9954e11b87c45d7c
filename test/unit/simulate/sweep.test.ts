import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/core/config/index';
import type { CentralMetric } from '../../../shared/core/config/schema';
import { applySweepPoint, boundsKey, paretoOptimal, parseNumberList, sweepGrid } from '../../../shared/core/simulate/sweep';

const config = parseConfig({
  schemaVersion: 1, name: 't', dataset: { path: 'x.csv' }, privacyUnit: { column: 'u', kind: 'user' },
  dimensions: [{ name: 'd', column: 'd' }], budget: { epsilon: 1, delta: 1e-6 },
  metrics: [
    { id: 'c', kind: 'count', by: ['d'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 2, maxContributionsPerPartition: 3, preThreshold: 2 } },
    { id: 's', kind: 'sum', column: 'v', by: ['d'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1, clamp: { low: 0, high: 5 } } },
  ],
});

describe('sweepGrid', () => {
  it('gives every combination, ε varying fastest', () => {
    const g = sweepGrid({ epsilon: [0.5, 1, 2], l0: [1, 4], linf: [2] });
    expect(g).toHaveLength(6);
    expect(g.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(g.map((p) => [p.epsilon, p.l0, p.linf, p.preThreshold])).toEqual([
      [0.5, 1, 2, null], [1, 1, 2, null], [2, 1, 2, null], [0.5, 4, 2, null], [1, 4, 2, null], [2, 4, 2, null],
    ]);
    expect(new Set(g.map(boundsKey)).size).toBe(2);
    expect(sweepGrid({ epsilon: [1] })).toEqual([{ index: 0, epsilon: 1, l0: null, linf: null, preThreshold: null }]);
  });

  it('rejects empty, non-positive, non-integer and repeated values', () => {
    expect(() => sweepGrid({ epsilon: [] })).toThrow(/epsilon/);
    expect(() => sweepGrid({ epsilon: [1, 0] })).toThrow(/epsilon \(0\)/);
    expect(() => sweepGrid({ epsilon: [1, NaN] })).toThrow(/epsilon/);
    expect(() => sweepGrid({ epsilon: [1], l0: [1.5] })).toThrow(/l0 \(1.5\)/);
    expect(() => sweepGrid({ epsilon: [1], linf: [0] })).toThrow(/linf/);
    expect(() => sweepGrid({ epsilon: [1, 1] })).toThrow(/twice/);
  });
});

describe('applySweepPoint', () => {
  it('sets total ε (every metric scales with it) and the given bounds of every metric', () => {
    const c = applySweepPoint(config, { epsilon: 4, l0: 3, linf: 7, preThreshold: 5 });
    expect(c.budget).toEqual({ ...config.budget, epsilon: 4 });
    for (const m of c.metrics) expect(m.privacy).toMatchObject({ maxPartitionsContributed: 3, maxContributionsPerPartition: 7, preThreshold: 5 });
    expect(c.metrics.map((m) => (m as CentralMetric).privacy.budgetShare)).toEqual([0.5, 0.5]);
    // The input is not changed.
    expect(config.budget.epsilon).toBe(1);
    expect((config.metrics[0] as CentralMetric).privacy.maxPartitionsContributed).toBe(2);
  });
  it('keeps each metric\'s own bounds where the point gives none', () => {
    const c = applySweepPoint(config, { epsilon: 2, l0: null, linf: null, preThreshold: null });
    expect(c.metrics.map((m) => m.privacy)).toEqual(config.metrics.map((m) => m.privacy));
    expect(() => applySweepPoint(config, { epsilon: -1, l0: null, linf: null, preThreshold: null })).toThrow(/epsilon/);
  });
});

describe('paretoOptimal', () => {
  it('marks the points no other point dominates', () => {
    const pts = [
      { cost: 1, error: 0.5 },
      { cost: 2, error: 0.3 },
      { cost: 2, error: 0.4 }, // dominated by (2, 0.3)
      { cost: 4, error: 0.3 }, // dominated by (2, 0.3)
      { cost: 4, error: 0.1 },
      { cost: 0.5, error: null }, // no error: never optimal
      { cost: 8, error: NaN },
    ];
    expect(paretoOptimal(pts)).toEqual([true, true, false, false, true, false, false]);
  });
  it('keeps ties (equal points do not dominate each other)', () => {
    expect(paretoOptimal([{ cost: 1, error: 1 }, { cost: 1, error: 1 }])).toEqual([true, true]);
    expect(paretoOptimal([])).toEqual([]);
  });
  it('the marked set is the non-dominated set (random check)', () => {
    let s = 7;
    const rnd = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (let rep = 0; rep < 20; rep++) {
      const pts = Array.from({ length: 15 }, () => ({ cost: Math.ceil(rnd() * 5), error: rnd() }));
      const marks = paretoOptimal(pts);
      pts.forEach((p, i) => {
        const dominated = pts.some((q) => q.cost <= p.cost && q.error <= p.error && (q.cost < p.cost || q.error < p.error));
        expect(marks[i]).toBe(!dominated);
      });
    }
  });
});

describe('parseNumberList', () => {
  it('parses comma-separated numbers and names the list on error', () => {
    expect(parseNumberList('--epsilon', '0.25, 0.5,1,2,4')).toEqual([0.25, 0.5, 1, 2, 4]);
    expect(() => parseNumberList('--epsilon', '1,,2')).toThrow('--epsilon "1,,2"');
    expect(() => parseNumberList('--l0', '1,a')).toThrow('"a" is not a finite number');
  });
});
