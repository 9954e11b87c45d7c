import { describe, expect, it } from 'vitest';
import { migrateConfig, parseConfig, SCHEMA_VERSION, validateConfig } from '../../../shared/core/config';
import { REPO_ROOT } from '../../helpers/oracles';
import type { AnalysisConfigInput } from '../../../shared/core/config';
import type { CentralMetric } from '../../../shared/core/config/schema';

function base(): AnalysisConfigInput {
  return {
    schemaVersion: 2,
    name: 'pilot',
    dataset: { path: 'events.csv' },
    privacyUnit: { column: 'user_id', kind: 'user' },
    dimensions: [{ name: 'country', column: 'country' }, { name: 'day', column: 'ts', bucket: 'day' }],
    budget: { epsilon: 1, delta: 1e-6 },
    metrics: [
      { id: 'users', kind: 'count-distinct', by: ['country'], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1 } },
      { id: 'revenue', kind: 'sum', column: 'revenue', by: ['country'], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1, clamp: { low: 0, high: 100 } } },
      { id: 'arpu', kind: 'ratio', numerator: 'revenue', denominator: 'users', by: ['country'], privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } },
    ],
  };
}

describe('analysis config v1', () => {
  it('accepts a valid config and fills defaults', () => {
    const cfg = parseConfig(base());
    const m = cfg.metrics[0] as CentralMetric;
    expect(m.privacy.mechanism).toBe('laplace');
    expect(m.privacy.maxContributionsPerPartition).toBe(1);
    expect(m.privacy.preThreshold).toBe(1);
    expect(m.privacy.selection).toBe('laplace');
    expect(cfg.budget.accountant).toBe('pld');
  });
  it('rejects an unknown schemaVersion with a clear message', () => {
    const r = validateConfig({ ...base(), schemaVersion: 3 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toEqual({ path: 'schemaVersion', message: 'unknown schemaVersion 3: this workbench reads versions 1 to 2' });
  });
  it('names the JSON path of each bad field', () => {
    const cfg = base();
    cfg.metrics.push({ id: 'bad', kind: 'mean', column: 'x', by: ['nope'], privacy: { budgetShare: 0.05, maxPartitionsContributed: 0 } });
    const r = validateConfig(cfg);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.issues.map((i) => i.path);
    expect(paths).toContain('metrics[3].privacy.maxPartitionsContributed');
    expect(paths).toContain('metrics[3].by[0]');
    expect(paths).toContain('metrics[3].privacy.clamp');
    expect(r.issues.find((i) => i.path === 'metrics[3].by[0]')!.message).toMatch(/unknown dimension "nope"/);
  });
  it('refuses budget shares over the whole budget, and duplicate ids', () => {
    const cfg = base();
    const first = cfg.metrics[0] as Extract<AnalysisConfigInput['metrics'][number], { kind: 'count-distinct' }>;
    first.privacy.budgetShare = 0.7;
    cfg.metrics.push({ ...first, privacy: { ...first.privacy, budgetShare: 0.05 } });
    const r = validateConfig(cfg);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.message).join('\n')).toMatch(/budget shares add up to 1\.1500/);
    expect(r.issues.map((i) => i.message).join('\n')).toMatch(/duplicate metric id "users"/);
  });
  it('checks that ratios refer to existing metrics with the same grouping', () => {
    const cfg = base();
    cfg.metrics[2] = { id: 'arpu', kind: 'ratio', numerator: 'revenue', denominator: 'ghost', by: ['country'], privacy: { budgetShare: 0.1, maxPartitionsContributed: 1 } };
    const r = validateConfig(cfg);
    expect(!r.ok && r.issues.some((i) => i.path === 'metrics[2].denominator' && /unknown metric "ghost"/.test(i.message))).toBe(true);
  });
  it('rejects unknown fields (typos do not pass silently)', () => {
    const r = validateConfig({ ...base(), budjet: { epsilon: 1 } });
    expect(r.ok).toBe(false);
  });
  it('parseConfig throws one DpError listing every issue', () => {
    expect(() => parseConfig({ ...base(), budget: { epsilon: -1, delta: 1e-6 } })).toThrow(/budget\.epsilon: must be > 0/);
  });
});

describe('schema migrations', () => {
  it('reads a v1 config as v2: every metric released one-off, nothing else changed', () => {
    const v1 = { ...base(), schemaVersion: 1 };
    const m = migrateConfig(v1);
    expect(m.from).toBe(1);
    expect(m.steps).toHaveLength(1);
    expect(v1.schemaVersion).toBe(1); // the input is not modified
    const r = validateConfig(v1);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.schemaVersion).toBe(SCHEMA_VERSION);
      expect(r.config.metrics.every((x) => x.cadence === 'one-off')).toBe(true);
      expect(r.config.name).toBe('pilot');
    }
  });

  it('keeps a v2 cadence and refuses an unknown cadence naming its path', () => {
    const cfg = base();
    const withCadence = { ...cfg, metrics: cfg.metrics.map((x) => ({ ...x, cadence: 'daily' })) };
    const r = validateConfig(withCadence);
    expect(r.ok && r.config.metrics[0]!.cadence).toBe('daily');
    const bad = validateConfig({ ...cfg, metrics: cfg.metrics.map((x) => ({ ...x, cadence: 'hourly' })) });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0]!.path).toBe('metrics[0].cadence');
  });

  it('reads every bundled example config (v1 and v2)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(REPO_ROOT, 'sample-data', 'configs');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const r = validateConfig(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      expect(r.ok, f).toBe(true);
    }
  });
});
