// The app's services through the dispatcher both hosts use: results, readable errors by code,
// contributions cached per data definition, cancellation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnalysisConfig } from '../../../../shared/core/config/schema';
import { makeDispatcher, makeWorkbenchServices } from '../../../../shared/node/app/services';
import { REPO_ROOT } from '../../../helpers/oracles';

const dir = mkdtempSync(join(tmpdir(), 'dpw-services-'));
const services = makeWorkbenchServices({ host: 'browser', version: '0.0.0-test', samplesDir: join(REPO_ROOT, 'sample-data'), uploadsDir: join(dir, 'uploads'), cwd: dir });
const dispatch = makeDispatcher(services);
afterAll(() => services.close());

describe('workbench services', () => {
  it('lists the bundled samples with their example configs', async () => {
    const r = await dispatch('wb:samples-list', {});
    if (!r.ok) throw new Error(r.error.message);
    const product = r.data.find((s) => s.id === 'product-events');
    expect(product?.configs.map((c) => c.id)).toEqual(expect.arrayContaining(['product-pilot', 'product-device']));
    expect(r.data.find((s) => s.id === 'saas-usage')?.configs.map((c) => c.id)).toContain('saas-pilot');
    expect(r.data.find((s) => s.id === 'product-events-parquet')?.format).toBe('parquet');
  });

  it('opens a sample with its schema, preview and privacy-unit candidates', async () => {
    const r = await dispatch('wb:dataset-open', { source: { kind: 'sample', sampleId: 'product-events' } });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.data.rows).toBe(50_000);
    expect(r.data.columns.find((c) => c.name === 'revenue')?.type).toBe('float');
    expect(r.data.columns.find((c) => c.name === 'ts')?.type).toBe('timestamp');
    expect(r.data.preview.length).toBeGreaterThan(0);
    expect(r.data.unitCandidates[0]).toBe('user_id');
    expect(r.data.unitCandidates).not.toContain('event_id');
  });

  it('answers a missing file with DataError naming the file, and an unknown sample with NotFound', async () => {
    const r = await dispatch('wb:dataset-open', { source: { kind: 'path', path: 'missing/events.csv' } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('DataError');
      expect(r.error.message).toContain('events.csv');
    }
    const s = await dispatch('wb:dataset-open', { source: { kind: 'sample', sampleId: 'nope' } });
    expect(!s.ok && s.error.code).toBe('NotFound');
    const c = await dispatch('wb:nope' as 'wb:app-info', {});
    expect(!c.ok && c.error.code).toBe('NotFound');
  });

  it('stores an upload under its own name and reads it; a ragged row is a DataError with its line', async () => {
    const good = await dispatch('wb:dataset-open', { source: { kind: 'upload', name: 'mine.csv', bytes: new TextEncoder().encode('user,v\na,1\nb,2\n') } });
    if (!good.ok) throw new Error(good.error.message);
    expect(good.data.name).toBe('mine.csv');
    expect(good.data.rows).toBe(2);
    const bad = await dispatch('wb:dataset-open', { source: { kind: 'upload', name: 'bad.csv', bytes: new TextEncoder().encode('user,v\na,1\nb,2,3\n') } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/bad\.csv.*line 3/);
  });

  it('computes contributions per metric and serves them from the cache when only privacy changes', async () => {
    const samples = await dispatch('wb:samples-list', {});
    if (!samples.ok) throw new Error(samples.error.message);
    const config = samples.data.find((s) => s.id === 'product-events')!.configs.find((c) => c.id === 'product-pilot')!.config;
    const open = await dispatch('wb:dataset-open', { source: { kind: 'sample', sampleId: 'product-events' } });
    if (!open.ok) throw new Error(open.error.message);
    const first = await dispatch('wb:contributions-load', { datasetId: open.data.datasetId, config });
    if (!first.ok) throw new Error(first.error.message);
    expect(first.data.cached).toEqual([]);
    expect(Object.keys(first.data.contributions)).toEqual(expect.arrayContaining(['active_users_by_country', 'revenue_by_country', 'checkout_funnel']));
    expect(first.data.contributions['revenue_per_user_by_country']).toBeUndefined();
    expect(first.data.local['platform_share_local']?.unitCategories).toBeInstanceOf(Int32Array);
    expect(first.data.units).toBeGreaterThan(1000);
    const tuned: AnalysisConfig = { ...config, budget: { ...config.budget, epsilon: 0.3 }, metrics: config.metrics.map((m) => (m.kind === 'count-distinct' ? { ...m, privacy: { ...m.privacy, maxPartitionsContributed: 7 } } : m)) };
    const second = await dispatch('wb:contributions-load', { datasetId: open.data.datasetId, config: tuned });
    if (!second.ok) throw new Error(second.error.message);
    expect(second.data.cached.length).toBe(Object.keys(second.data.contributions).length + Object.keys(second.data.local).length);
    expect(second.data.contributions['active_users_by_country']!.pairUnit).toBe(first.data.contributions['active_users_by_country']!.pairUnit);
  }, 60_000);

  it('names a column the config needs that the file lacks', async () => {
    const open = await dispatch('wb:dataset-open', { source: { kind: 'upload', name: 'few.csv', bytes: new TextEncoder().encode('user,v\na,1\n') } });
    if (!open.ok) throw new Error(open.error.message);
    const config = { schemaVersion: 1, name: 'x', dataset: { path: 'few.csv' }, privacyUnit: { column: 'user_id', kind: 'user' }, dimensions: [], budget: { epsilon: 1, delta: 1e-6 }, metrics: [{ id: 'c', kind: 'count', privacy: { budgetShare: 1, maxPartitionsContributed: 1 } }] };
    const r = await dispatch('wb:contributions-load', { datasetId: open.data.datasetId, config: config as unknown as AnalysisConfig });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('DataError');
      expect(r.error.message).toContain('user_id');
    }
  });

  it('refuses an invalid config with ConfigError naming the JSON path', async () => {
    const open = await dispatch('wb:dataset-open', { source: { kind: 'sample', sampleId: 'saas-usage' } });
    if (!open.ok) throw new Error(open.error.message);
    const r = await dispatch('wb:contributions-load', { datasetId: open.data.datasetId, config: { schemaVersion: 1 } as unknown as AnalysisConfig });
    expect(!r.ok && r.error.code).toBe('ConfigError');
    if (!r.ok) expect(r.error.message).toMatch(/name|metrics/);
  });

  it('cancels a running request by its id', async () => {
    const big = join(dir, 'big.csv');
    const lines = ['user,v'];
    for (let i = 0; i < 400_000; i++) lines.push(`u${i % 5000},${i}`);
    writeFileSync(big, lines.join('\n'));
    const pending = dispatch('wb:dataset-open', { source: { kind: 'path', path: big }, requestId: 'r1' });
    await new Promise((r) => setTimeout(r, 20));
    const cancel = await dispatch('wb:request-cancel', { requestId: 'r1' });
    const r = await pending;
    if (cancel.ok && cancel.data.cancelled) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('Cancelled');
    } else {
      // The read finished before the cancel arrived: then it must have succeeded.
      expect(r.ok).toBe(true);
    }
  });
});
