import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../shared/core/config';
import type { AnalysisConfigInput } from '../../../shared/core/config';
import { makeRandomizedResponse } from '../../../shared/core/dp/mechanisms/randomized-response';
import { LOCAL_CHUNK_TRIALS, simulateLocalFrequency } from '../../../shared/core/simulate/local';
import { Engine } from '../../../shared/node/data/engine';
import { computeLocalCategories } from '../../../shared/node/data/local';

/** n units: category v for a share `shares[v]` of them, in a fixed interleaved order. */
function units(n: number, shares: readonly number[]): Int32Array {
  const out = new Int32Array(n);
  let u = 0;
  shares.forEach((s, v) => {
    const m = v === shares.length - 1 ? n - u : Math.round(s * n);
    for (let i = 0; i < m; i++) out[u++] = v;
  });
  return out;
}

describe('simulateLocalFrequency', () => {
  const cats = units(1000, [0.6, 0.3, 0.1, 0]);
  const k = 4;
  const epsilon = 1;
  const trials = 4000;
  const r = simulateLocalFrequency({ unitCategories: cats, k, epsilon, trials, seed: 7, thresholds: [0.1, 0.5] });
  const rr = makeRandomizedResponse({ epsilon, categories: k });

  it('gives unbiased estimates: MC mean within 5 standard errors of the truth', () => {
    expect(r.units).toBe(1000);
    expect(r.categories.map((c) => c.trueFrequency)).toEqual([0.6, 0.3, 0.1, 0]);
    for (const c of r.categories) {
      const se = Math.sqrt(rr.estimatorVariance(1000, c.trueFrequency) / trials);
      expect(Math.abs(c.meanEstimate - c.trueFrequency), `category ${c.index}`).toBeLessThanOrEqual(5 * se);
      expect(Math.abs(c.bias)).toBeLessThanOrEqual(5 * c.biasSe);
    }
  });

  it('has the variance of estimatorVariance (MC within 10%) and reports the analytic std beside it', () => {
    for (const c of r.categories) {
      const v = rr.estimatorVariance(1000, c.trueFrequency);
      expect(c.analyticStd).toBeCloseTo(Math.sqrt(v), 12);
      expect(Math.abs(c.mcStd ** 2 - v) / v, `category ${c.index}: MC ${c.mcStd ** 2} vs ${v}`).toBeLessThan(0.1);
      expect(c.halfWidth).toBeCloseTo(1.959963984540054 * Math.sqrt(v), 10);
      expect(Math.abs(c.coverage - 0.95), `coverage ${c.coverage}`).toBeLessThan(0.02);
      expect(c.errorQuantiles.p05).toBeLessThan(c.errorQuantiles.p50);
      expect(c.errorQuantiles.p50).toBeLessThan(c.errorQuantiles.p95);
      expect(Math.abs(c.errorQuantiles.p95 + c.errorQuantiles.p05)).toBeLessThan(0.2 * c.halfWidth);
    }
    expect(Math.abs(r.summary.rmse.mc - r.summary.rmse.analytic) / r.summary.rmse.analytic).toBeLessThan(0.05);
    expect(r.p).toBe(rr.p);
    expect(r.q).toBe(rr.q);
  });

  it('gives relative exceedance probabilities close to the analytic ones, none where the truth is 0', () => {
    for (const c of r.categories) {
      for (const e of c.exceedProbability) {
        if (c.trueFrequency === 0) {
          expect(e.mc).toBeNull();
          expect(e.analytic).toBeNull();
        } else {
          expect(Math.abs(e.mc! - e.analytic!), `category ${c.index} x ${e.x}`).toBeLessThan(5 * Math.sqrt(0.25 / trials) + 0.01);
        }
      }
    }
    expect(r.summary.withinShare.map((w) => w.x)).toEqual([0.1, 0.5]);
  });

  it('is deterministic per seed and independent of nothing else', () => {
    const small = { unitCategories: cats, k, epsilon, trials: LOCAL_CHUNK_TRIALS + 9, seed: 'a' };
    expect(simulateLocalFrequency(small)).toEqual(simulateLocalFrequency(small));
    expect(simulateLocalFrequency(small)).not.toEqual(simulateLocalFrequency({ ...small, seed: 'b' }));
  });

  it('is exact when ε is huge (every unit reports its own category)', () => {
    const s = simulateLocalFrequency({ unitCategories: cats, k, epsilon: 60, trials: 10, seed: 1 });
    for (const c of s.categories) {
      expect(Math.abs(c.bias)).toBeLessThan(1e-12);
      expect(c.rmse).toBeLessThan(1e-12);
    }
  });

  it('rejects bad inputs', () => {
    expect(() => simulateLocalFrequency({ unitCategories: Int32Array.of(0, 3), k: 3, epsilon: 1, trials: 1, seed: 1 })).toThrow(/unitCategories\[1\]/);
    expect(() => simulateLocalFrequency({ unitCategories: new Int32Array(0), k: 3, epsilon: 1, trials: 1, seed: 1 })).toThrow(/at least one/);
    expect(() => simulateLocalFrequency({ unitCategories: cats, k: 1, epsilon: 1, trials: 1, seed: 1 })).toThrow(/k/);
    expect(() => simulateLocalFrequency({ unitCategories: cats, k, epsilon: 0, trials: 1, seed: 1 })).toThrow(/epsilon/);
    expect(() => simulateLocalFrequency({ unitCategories: cats, k, epsilon: 1, trials: 0, seed: 1 })).toThrow(/trials/);
  });
});

function config(local: Record<string, unknown>): AnalysisConfigInput {
  return {
    schemaVersion: 2,
    name: 'local',
    dataset: { path: 'events.csv' },
    privacyUnit: { column: 'user_id', kind: 'user' },
    dimensions: [{ name: 'country', column: 'country' }],
    budget: { epsilon: 1, delta: 1e-6 },
    metrics: [
      { id: 'users', kind: 'count-distinct', by: ['country'], privacy: { budgetShare: 1, maxPartitionsContributed: 1 } },
      { id: 'platforms', kind: 'local-frequency', column: 'platform', categories: ['ios', 'android', 'web'], privacy: { localEpsilon: 2 }, ...local } as AnalysisConfigInput['metrics'][number],
    ],
  };
}

function issues(local: Record<string, unknown>): { path: string; message: string }[] {
  const r = validateConfig(config(local));
  return r.ok ? [] : r.issues;
}

describe('local-frequency config', () => {
  it('is accepted without a budget share and does not count against the budget', () => {
    const r = validateConfig(config({}));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (r.ok) expect(r.config.metrics[1]).toMatchObject({ kind: 'local-frequency', by: [], filter: [], privacy: { localEpsilon: 2 } });
  });

  it('names the path of each bad field', () => {
    expect(issues({ by: ['country'] }).map((i) => i.path)).toContain('metrics[1].by');
    expect(issues({ by: ['country'] }).find((i) => i.path === 'metrics[1].by')!.message).toMatch(/cannot be grouped/);
    expect(issues({ privacy: { localEpsilon: 0 } }).map((i) => i.path)).toContain('metrics[1].privacy.localEpsilon');
    expect(issues({ privacy: { localEpsilon: 1, budgetShare: 0.5 } }).map((i) => i.path)).toContain('metrics[1].privacy');
    expect(issues({ categories: ['ios'] }).map((i) => i.path)).toContain('metrics[1].categories');
    expect(issues({ categories: ['ios', 'web', 'ios'] }).map((i) => i.path)).toContain('metrics[1].categories[2]');
    expect(issues({ otherCategory: 'tv' }).map((i) => i.path)).toContain('metrics[1].otherCategory');
    expect(issues({ otherCategory: 'web' })).toEqual([]);
  });

  it('cannot be the numerator or denominator of a ratio', () => {
    const cfg = config({});
    cfg.metrics.push({ id: 'r', kind: 'ratio', numerator: 'platforms', denominator: 'users', privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } });
    const r = validateConfig(cfg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.find((i) => i.path === 'metrics[2].numerator')?.message).toMatch(/local-frequency/);
  });
});

describe('computeLocalCategories', () => {
  const rows = [
    // unit 1: ios 2, web 1 → ios; unit 2: android 1, web 1 (tie) → android (first in the list);
    // unit 3: web 2, tv 3 (outside); unit 4: only NULLs → does not report; unit 5: web, filtered out rows
    [1, 'ios', 'a'], [1, 'ios', 'a'], [1, 'web', 'a'],
    [2, 'web', 'a'], [2, 'android', 'a'],
    [3, 'web', 'a'], [3, 'web', 'a'], [3, 'tv', 'a'], [3, 'tv', 'a'], [3, 'tv', 'a'],
    [4, null, 'a'],
    [5, 'web', 'a'], [5, 'ios', 'b'], [5, 'ios', 'b'],
  ] as const;

  async function withTable<T>(work: (e: Engine) => Promise<T>): Promise<T> {
    const engine = await Engine.create({ memoryLimit: '256MB' });
    try {
      const values = rows.map((r) => `(${r[0]}, ${r[1] === null ? 'NULL' : `'${r[1]}'`}, '${r[2]}')`).join(', ');
      await engine.withConnection((c) => c.run(`CREATE TABLE t AS SELECT * FROM (VALUES ${values}) v(user_id, platform, src)`));
      return await work(engine);
    } finally {
      engine.close();
    }
  }
  const metric = { id: 'p', cadence: 'one-off' as const, kind: 'local-frequency' as const, column: 'platform', categories: ['ios', 'android', 'web'], by: [], filter: [{ column: 'src', op: '=' as const, value: 'a' }], privacy: { localEpsilon: 1 } };
  const config = { privacyUnit: { column: 'user_id', kind: 'user' as const } };

  it('takes each unit\'s most frequent category, ties to the first in the list, outside values to otherCategory', async () => {
    const r = await withTable((e) => e.withConnection((c) => computeLocalCategories(c, 't', config, { ...metric, otherCategory: 'web' })));
    expect([...r.unitCategories]).toEqual([0, 1, 2, 2]);
    expect([...r.trueCounts]).toEqual([1, 1, 2]);
    expect([...r.trueFrequencies]).toEqual([0.25, 0.25, 0.5]);
    expect(r.units).toBe(4);
    expect(r.unitsMappedToOther).toBe(1);
  });

  it('rejects values outside the list without otherCategory, naming the value', async () => {
    await expect(withTable((e) => e.withConnection((c) => computeLocalCategories(c, 't', config, metric)))).rejects.toThrow(/value "tv".*not one of its categories/);
  });
});
