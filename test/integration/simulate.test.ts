import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { paretoOptimal } from '../../shared/core/simulate/sweep';
import { main } from '../../shared/node/cli/main';
import type { SimulationReport } from '../../shared/node/simulate/report';
import type { LoadedAnalysis } from '../../shared/node/simulate/service';
import { loadAnalysis, simulateAnalysis } from '../../shared/node/simulate/service';
import type { SweepReport } from '../../shared/node/simulate/sweep';
import { sweepAnalysis } from '../../shared/node/simulate/sweep';
import { REPO_ROOT } from '../helpers/oracles';

async function dpw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

const CONFIGS = resolve(REPO_ROOT, 'sample-data/configs');
const PILOT = join(CONFIGS, 'product-pilot.json');
const tmp = mkdtempSync(join(tmpdir(), 'dpw-simulate-'));

/** The report without the fields that may differ between worker counts. */
function comparable(r: SimulationReport): string {
  const { timing: _t, run, ...rest } = r;
  const { workers: _w, ...runRest } = run;
  return JSON.stringify({ ...rest, run: runRest });
}

function oneLine(err: string): void {
  expect(err.trimEnd().split('\n')).toHaveLength(1);
  expect(err).not.toMatch(/\n\s+at /);
}

let pilot: LoadedAnalysis;
beforeAll(async () => {
  pilot = await loadAnalysis(PILOT);
}, 60_000);

describe('dpw simulate', () => {
  it.each(['product-pilot', 'product-device', 'saas-pilot'])('runs %s and writes the documented fields', async (name) => {
    const out = join(tmp, `${name}.json`);
    const r = await dpw('simulate', join(CONFIGS, `${name}.json`), '--trials', '100', '--seed', '5', '--threshold', '0.1,0.25', '--json', out);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(`${out}.tmp`)).toBe(false);
    expect(r.out).toContain('median |rel|');
    const j = JSON.parse(readFileSync(out, 'utf8')) as SimulationReport;
    expect(j.format).toBe('dpw-simulation');
    expect(j.run).toMatchObject({ seed: '5', trials: 100, workers: 1, confidence: 0.95, relativeErrorThresholds: [0.1, 0.25] });
    expect(j.scale.kind).toBe('sample');
    expect(j.scale.factor).toBe(1);
    expect(j.scale.units).toBeGreaterThan(0);
    expect(j.dataset.rows).toBeGreaterThan(0);
    expect(j.notes.length).toBeGreaterThan(0);
    for (const k of ['wallMs', 'loadMs', 'simulateMs', 'analyticMs']) expect(typeof (j.timing as unknown as Record<string, number>)[k]).toBe('number');
    const cfg = JSON.parse(readFileSync(join(CONFIGS, `${name}.json`), 'utf8')) as { metrics: { id: string; kind: string }[]; budget: { delta: number } };
    expect(j.metrics.map((m) => m.id)).toEqual(cfg.metrics.filter((m) => m.kind !== 'local-frequency').map((m) => m.id));
    expect(j.local.map((m) => m.id)).toEqual(cfg.metrics.filter((m) => m.kind === 'local-frequency').map((m) => m.id));
    for (const m of j.metrics) {
      expect(m.privacy.epsilon).toBeGreaterThan(0);
      expect(m.privacy.delta).toBeGreaterThanOrEqual(0);
      expect(m.privacy.confidence).toBe(0.95);
      expect(m.parts.length).toBeGreaterThan(0);
      for (const p of m.parts) if (p.role === 'base') expect(['true-values', 'deterministic-bounding', 'sampled-bounding']).toContain(p.valueSource);
      const s = m.summary;
      expect(s.withinShare.map((w) => w.x)).toEqual([0.1, 0.25]);
      expect(s.valueLostToSuppression.mc).toBeGreaterThanOrEqual(0);
      expect(s.decomposition.total).toBeCloseTo(s.decomposition.clipping + s.decomposition.bounding + s.decomposition.noise + s.decomposition.suppression, 6);
      expect(typeof s.rmse.analytic).toBe('number');
      expect(m.cohorts.length).toBe(s.cohorts);
      for (const c of m.cohorts) {
        expect(Array.isArray(c.key)).toBe(true);
        expect(c.releaseProbability).toBeGreaterThanOrEqual(0);
        expect(c.releaseProbability).toBeLessThanOrEqual(1);
        expect(c.exceedProbability.map((e) => e.x)).toEqual([0.1, 0.25]);
        expect(c.analytic.keepProbability).toBeGreaterThanOrEqual(0);
        if (c.releaseProbability > 0) {
          expect(c.rmse).not.toBeNull();
          expect(c.errorQuantiles).not.toBeNull();
        }
      }
    }
  }, 60_000);

  it('gives the same bits in-process, with a pool of 1 and with 2 workers', async () => {
    const opts = { trials: 200, seed: 'same' };
    const inProcess = await simulateAnalysis(pilot, { ...opts, workers: 1 });
    const one = await simulateAnalysis(pilot, { ...opts, workers: 1, usePool: true });
    const two = await simulateAnalysis(pilot, { ...opts, workers: 2 });
    expect(one.run.workers).toBe(1);
    expect(two.run.workers).toBe(2);
    expect(comparable(one)).toBe(comparable(inProcess));
    expect(comparable(two)).toBe(comparable(inProcess));
    const other = await simulateAnalysis(pilot, { ...opts, seed: 'other', workers: 1 });
    expect(comparable(other)).not.toBe(comparable(inProcess));
  }, 60_000);

  it('CLI output is the same for --workers 1 and --workers 2', async () => {
    const a = join(tmp, 'w1.json');
    const b = join(tmp, 'w2.json');
    expect((await dpw('simulate', PILOT, '--trials', '130', '--seed', '9', '--workers', '1', '--json', a)).code).toBe(0);
    expect((await dpw('simulate', PILOT, '--trials', '130', '--seed', '9', '--workers', '2', '--json', b)).code).toBe(0);
    expect(comparable(JSON.parse(readFileSync(b, 'utf8')))).toBe(comparable(JSON.parse(readFileSync(a, 'utf8'))));
  }, 60_000);

  it('agrees with the analytic model on the product sample for base count metrics', async () => {
    const trials = 2000;
    const r = await simulateAnalysis(pilot, { trials, seed: 11, workers: 1 });
    const counts = r.metrics.filter((m) => m.kind === 'count' || m.kind === 'count-distinct');
    expect(counts.length).toBeGreaterThanOrEqual(3);
    for (const m of counts) {
      const { mc, analytic } = m.summary.rmse;
      expect(mc, m.id).not.toBeNull();
      expect(Math.abs(mc! - analytic) / analytic, `${m.id}: MC RMSE ${mc} vs analytic ${analytic}`).toBeLessThan(0.1);
      for (const c of m.cohorts) {
        const p = c.analytic.keepProbability;
        const se = Math.sqrt(Math.max(p * (1 - p), 1 / trials) / trials);
        expect(Math.abs(c.releaseProbability - p), `${m.id} ${c.label}: release ${c.releaseProbability} vs keep ${p}`).toBeLessThanOrEqual(5 * se);
        // Cohorts that are usually released: their RMSE as well.
        if (c.releaseProbability > 0.5 && c.rmse !== null) {
          expect(Math.abs(c.rmse - c.analytic.rmse) / c.analytic.rmse, `${m.id} ${c.label}: RMSE ${c.rmse} vs ${c.analytic.rmse}`).toBeLessThan(0.1);
        }
      }
    }
  }, 60_000);

  it('reports bad inputs on one line with the right exit code', async () => {
    const missing = await dpw('simulate', join(tmp, 'nope.json'), '--trials', '10', '--seed', '1');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('nope.json: config file not found');
    oneLine(missing.err);

    const cfg = JSON.parse(readFileSync(PILOT, 'utf8')) as { dataset: { path: string }; metrics: { privacy: { budgetShare: number } }[] };
    const bad = structuredClone(cfg);
    bad.metrics[2]!.privacy.budgetShare = 2;
    const badPath = join(tmp, 'bad.json');
    writeFileSync(badPath, JSON.stringify(bad));
    const invalid = await dpw('simulate', badPath, '--trials', '10', '--seed', '1');
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain('metrics[2].privacy.budgetShare');
    oneLine(invalid.err);

    writeFileSync(join(tmp, 'notjson.json'), '{ "schemaVersion": 1,');
    const notJson = await dpw('simulate', join(tmp, 'notjson.json'), '--trials', '10', '--seed', '1');
    expect(notJson.code).toBe(1);
    oneLine(notJson.err);

    const noData = { ...cfg, dataset: { ...cfg.dataset, path: 'missing-events.csv' } };
    const noDataPath = join(tmp, 'nodata.json');
    writeFileSync(noDataPath, JSON.stringify(noData));
    const gone = await dpw('simulate', noDataPath, '--trials', '10', '--seed', '1');
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('missing-events.csv');
    oneLine(gone.err);

    const workers = await dpw('simulate', PILOT, '--trials', '10', '--seed', '1', '--workers', 'many');
    expect(workers.code).toBe(2);
    expect(workers.err).toContain('--workers "many"');
    oneLine(workers.err);

    const neg = await dpw('simulate', PILOT, '--trials', '10', '--seed', '1', '--workers', '-2');
    expect(neg.code).toBe(2);
    expect(neg.err).toContain('--workers "-2"');

    const noTrials = await dpw('simulate', PILOT, '--seed', '1');
    expect(noTrials.code).toBe(2);
    expect(noTrials.err).toContain('--trials');
    oneLine(noTrials.err);

    const badThreshold = await dpw('simulate', PILOT, '--trials', '10', '--seed', '1', '--threshold', '0.1,x');
    expect(badThreshold.code).toBe(2);
    expect(badThreshold.err).toContain('--threshold "0.1,x"');

    const badOut = await dpw('simulate', PILOT, '--trials', '10', '--seed', '1', '--json', join(tmp, 'no-such-dir', 'out.json'));
    expect(badOut.code).toBe(2);
    oneLine(badOut.err);
  }, 60_000);

  it('reports the local-DP metric (randomized response with debiasing), Monte-Carlo beside analytic', async () => {
    const trials = 1000;
    const r = await simulateAnalysis(pilot, { trials, seed: 3, workers: 1 });
    expect(r.local).toHaveLength(1);
    const m = r.local[0]!;
    expect(m).toMatchObject({ id: 'platform_share_local', kind: 'local-frequency', column: 'platform', privacy: { localEpsilon: 2, delta: 0, model: 'local', confidence: 0.95 }, relativeErrorBasis: '|true|' });
    expect(m.mechanism.k).toBe(3);
    expect(m.seed).toBe('3:local:platform_share_local');
    const data = pilot.local!['platform_share_local']!;
    expect(m.units).toBe(data.units);
    expect(m.units).toBeGreaterThan(1000);
    expect(m.units).toBeLessThanOrEqual(pilot.dataset.units);
    expect(m.categories.map((c) => c.category)).toEqual(['ios', 'android', 'web']);
    expect(m.categories.map((c) => c.trueFrequency)).toEqual([...data.trueFrequencies]);
    expect(m.categories.reduce((s, c) => s + c.trueFrequency, 0)).toBeCloseTo(1, 12);
    for (const c of m.categories) {
      expect(Math.abs(c.bias), c.category.toString()).toBeLessThanOrEqual(5 * (c.analyticStd / Math.sqrt(trials)));
      expect(Math.abs(c.mcStd / c.analyticStd - 1), `${String(c.category)}: MC std ${c.mcStd} vs analytic ${c.analyticStd}`).toBeLessThan(0.1);
      expect(Math.abs(c.coverage - 0.95)).toBeLessThan(0.04);
      expect(c.exceedProbability.map((e) => e.x)).toEqual(r.run.relativeErrorThresholds);
    }
    // The central metrics are unchanged by the local one (it spends no central budget).
    expect(r.metrics.map((x) => x.id)).not.toContain('platform_share_local');
    const again = await simulateAnalysis(pilot, { trials: 50, seed: 3, workers: 1 });
    const again2 = await simulateAnalysis(pilot, { trials: 50, seed: 3, workers: 1 });
    expect(again.local).toEqual(again2.local);

    const cli = await dpw('simulate', PILOT, '--trials', '50', '--seed', '1');
    expect(cli.code, cli.err).toBe(0);
    expect(cli.out).toMatch(/platform_share_local \(local DP, randomized response, local ε 2, 3 categories, \d+ units\)/);
  }, 60_000);

  it('rejects a bad local-frequency metric on one line, naming the path or the value', async () => {
    const cfg = JSON.parse(readFileSync(PILOT, 'utf8')) as { dataset: { path: string }; metrics: Record<string, unknown>[] };
    const at = cfg.metrics.findIndex((m) => m['kind'] === 'local-frequency');
    expect(at).toBeGreaterThanOrEqual(0);
    const write = (name: string, metric: Record<string, unknown>): string => {
      const c = structuredClone(cfg);
      c.metrics[at] = { ...c.metrics[at], ...metric };
      c.dataset.path = resolve(CONFIGS, c.dataset.path);
      const p = join(tmp, name);
      writeFileSync(p, JSON.stringify(c));
      return p;
    };
    const grouped = await dpw('simulate', write('local-by.json', { by: ['country'] }), '--trials', '10', '--seed', '1');
    expect(grouped.code).toBe(1);
    expect(grouped.err).toContain(`metrics[${at}].by`);
    oneLine(grouped.err);
    const eps = await dpw('simulate', write('local-eps.json', { privacy: { localEpsilon: -1 } }), '--trials', '10', '--seed', '1');
    expect(eps.code).toBe(1);
    expect(eps.err).toContain(`metrics[${at}].privacy.localEpsilon`);
    const outside = await dpw('simulate', write('local-outside.json', { categories: ['ios', 'android'] }), '--trials', '10', '--seed', '1');
    expect(outside.code).toBe(1);
    expect(outside.err).toMatch(/value "web"/);
    oneLine(outside.err);
    const other = await dpw('simulate', write('local-other.json', { categories: ['ios', 'other'], otherCategory: 'other' }), '--trials', '10', '--seed', '1');
    expect(other.code, other.err).toBe(0);
  }, 60_000);

  it('simulates production size when asked and says so', async () => {
    const r = await simulateAnalysis(pilot, { trials: 64, seed: 2, workers: 1, scale: { kind: 'production', factor: 3 } });
    expect(r.scale.kind).toBe('production');
    expect(r.scale.factor).toBe(3);
    expect(r.scale.description).toContain('production');
    expect(r.scale.units).toBeGreaterThan(2 * pilot.dataset.units);
  }, 60_000);

  it('offers partial results that converge to the final ones, on the pool too', async () => {
    for (const workers of [1, 2]) {
      const partials: { group: number; trials: number; rmse: number }[] = [];
      const final = await simulateAnalysis(pilot, {
        trials: 256, seed: 9, workers,
        onProgress: (p) => {
          if (p.group !== 0) return;
          const s = p.partial();
          partials.push({ group: p.group, trials: s.trials, rmse: s.metrics[0]!.perTrial.rmse.mean });
        },
      });
      // Trials so far grow chunk by chunk; the last partial of group 0 is the group's final result.
      expect(partials.length).toBeGreaterThan(1);
      for (let i = 1; i < partials.length; i++) expect(partials[i]!.trials).toBeGreaterThan(partials[i - 1]!.trials);
      const last = partials.at(-1)!;
      expect(last.trials).toBe(256);
      const done = await simulateAnalysis(pilot, { trials: 256, seed: 9, workers: 1 });
      expect(JSON.stringify(final.metrics)).toBe(JSON.stringify(done.metrics));
    }
  }, 120_000);

  it('passes progress through and stops on an aborted signal', async () => {
    const seen: number[] = [];
    await simulateAnalysis(pilot, { trials: 128, seed: 1, workers: 1, onProgress: (p) => seen.push(p.trialsDone) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(128 * 4);
    const ac = new AbortController();
    ac.abort();
    await expect(simulateAnalysis(pilot, { trials: 128, seed: 1, workers: 1, signal: ac.signal })).rejects.toThrow();
  }, 60_000);
});

describe('dpw sweep', () => {
  it('gives one point per grid cell, falling analytic noise with ε, and consistent Pareto marks', async () => {
    const out = join(tmp, 'sweep.json');
    const r = await dpw('sweep', PILOT, '--epsilon', '0.5,1,2,4', '--l0', '1,3', '--trials', '64', '--seed', '4', '--json', out);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8')) as SweepReport;
    expect(j.format).toBe('dpw-sweep');
    expect(j.points).toHaveLength(8);
    expect(j.points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(j.points.map((p) => `${p.epsilon}/${p.bounds.l0}`)).size).toBe(8);
    for (const p of j.points) expect(p.delta).toBe(1e-6);
    for (const m of j.metrics) {
      for (const l0 of [1, 3]) {
        const pts = j.points.filter((p) => p.bounds.l0 === l0).sort((a, b) => a.epsilon - b.epsilon);
        for (let i = 1; i < pts.length; i++) {
          const a = pts[i - 1]!.metrics[m.id]!;
          const b = pts[i]!.metrics[m.id]!;
          expect(b.epsilon, m.id).toBeGreaterThan(a.epsilon);
          expect(b.noiseStd, `${m.id} L0=${l0} ε ${pts[i - 1]!.epsilon}→${pts[i]!.epsilon}`).toBeLessThan(a.noiseStd);
        }
      }
      const marks = j.points.map((p) => p.metrics[m.id]!.pareto);
      expect(marks).toEqual(paretoOptimal(j.points.map((p) => ({ cost: p.epsilon, error: p.metrics[m.id]!.medianRelativeError }))));
      expect(marks.some(Boolean), m.id).toBe(true);
      // No marked point is dominated by another point.
      j.points.forEach((p, i) => {
        if (!marks[i]) return;
        const e = p.metrics[m.id]!.medianRelativeError!;
        for (const q of j.points) {
          const f = q.metrics[m.id]!.medianRelativeError;
          if (q === p || f === null) continue;
          expect(q.epsilon <= p.epsilon && f <= e && (q.epsilon < p.epsilon || f < e)).toBe(false);
        }
      });
    }
  }, 60_000);

  it('a point at the config\'s own ε and bounds equals dpw simulate with the same seed (common random numbers)', async () => {
    const sweep = await sweepAnalysis(pilot, { trials: 100, seed: 8, workers: 1, axes: { epsilon: [1, pilot.config.budget.epsilon] } });
    const sim = await simulateAnalysis(pilot, { trials: 100, seed: 8, workers: 1 });
    const p = sweep.points[1]!;
    for (const m of sim.metrics) {
      expect(p.metrics[m.id]!.rmse).toEqual(m.summary.rmse);
      expect(p.metrics[m.id]!.medianRelativeError).toBe(m.summary.medianRelativeError);
    }
  }, 60_000);

  it('rejects bad grid values with exit 2', async () => {
    const r = await dpw('sweep', PILOT, '--epsilon', '1,0', '--trials', '10', '--seed', '1');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--epsilon "1,0"');
    oneLine(r.err);
    const l0 = await dpw('sweep', PILOT, '--epsilon', '1', '--l0', '1.5', '--trials', '10', '--seed', '1');
    expect(l0.code).toBe(2);
    expect(l0.err).toContain('--l0 "1.5"');
    const none = await dpw('sweep', PILOT, '--trials', '10', '--seed', '1');
    expect(none.code).toBe(2);
    expect(none.err).toContain('--epsilon');
  });
});
