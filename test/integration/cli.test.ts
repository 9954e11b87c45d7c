import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../shared/node/cli/main';
import { analyticGaussianSigma } from '../../shared/core/dp/mechanisms/gaussian';
import { getAccountant } from '../../shared/core/dp/accounting/index';
import { closeTo, loadOracles, REPO_ROOT } from '../helpers/oracles';

async function dpw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

describe('dpw CLI', () => {
  it('mechanism laplace prints kind, scale, std and accuracy', async () => {
    const r = await dpw('mechanism', '--kind', 'laplace', '--epsilon', '0.5', '--sensitivity', '5', '--alpha', '0.01', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const o = loadOracles().laplace_mechanism.cases.find((c: { inputs: Record<string, number> }) => c.inputs.epsilon === 0.5 && c.inputs.sensitivity === 5 && c.inputs.alpha === 0.01);
    expect(Object.keys(j)).toEqual(['kind', 'scale', 'std', 'accuracy']);
    expect(j.kind).toBe('laplace');
    expect(closeTo(j.scale, o.expected.scale, { rel: 1e-12 })).toBe(true);
    expect(closeTo(j.accuracy, o.expected.ci_half_width, { rel: 1e-12 })).toBe(true);
  });
  it('mechanism gaussian gives the analytic sigma; with --sigma the exact epsilon', async () => {
    const r = await dpw('mechanism', '--kind', 'gaussian', '--epsilon', '1', '--delta', '1e-6', '--json');
    expect(closeTo(JSON.parse(r.out).scale, 4.224678889326835, { rel: 1e-9 })).toBe(true);
    const e = await dpw('mechanism', '--kind', 'gaussian', '--sigma', '0.5', '--delta', '1e-5', '--json');
    expect(Object.keys(JSON.parse(e.out))).toEqual(['epsilon']);
    expect(closeTo(JSON.parse(e.out).epsilon, 9.9972561464343, { rel: 1e-9 })).toBe(true);
  });
  it('mechanism gaussian-classic uses the Dwork–Roth formula', async () => {
    const r = await dpw('mechanism', '--kind', 'gaussian-classic', '--epsilon', '0.25', '--delta', '0.001', '--sensitivity', '3', '--json');
    expect(closeTo(JSON.parse(r.out).scale, 45.317754391908565, { rel: 1e-12 })).toBe(true);
    expect(JSON.parse(r.out).scale).toBeGreaterThan(analyticGaussianSigma(0.25, 0.001, 3));
  });
  it('mechanism discrete kinds answer with integer accuracy', async () => {
    const r = await dpw('mechanism', '--kind', 'discrete-laplace', '--epsilon', '0.1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ kind: 'discrete-laplace', scale: 10, accuracy: 30 });
    const g = await dpw('mechanism', '--kind', 'discrete-gaussian', '--epsilon', '1', '--delta', '1e-6', '--json');
    expect(g.code).toBe(0);
    expect(Number.isInteger(JSON.parse(g.out).accuracy)).toBe(true);
  });
  it('compose prints epsilon and delta for every accountant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-'));
    const file = join(dir, 'events.json');
    const events = [{ kind: 'laplace', epsilon: 0.1, count: 10 }, { kind: 'gaussian', sigma: 5, count: 50 }, { kind: 'discrete-laplace', epsilon: 0.1, count: 10 }];
    writeFileSync(file, JSON.stringify(events));
    for (const acc of ['basic', 'advanced', 'zcdp', 'rdp', 'pld']) {
      const r = await dpw('compose', '--events', file, '--accountant', acc, '--delta', '1e-6', '--json');
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.delta).toBe(1e-6);
      expect(j.epsilon).toBeCloseTo(getAccountant(acc).epsilonAt(events as never, 1e-6), 12);
      const d = await dpw('compose', '--events', file, '--accountant', acc, '--epsilon', String(j.epsilon * 1.01), '--json');
      expect(JSON.parse(d.out).delta).toBeLessThanOrEqual(1e-6 * 1.0001);
    }
  });
  it('select prints threshold and keep probabilities', async () => {
    const r = await dpw('select', '--strategy', 'laplace', '--epsilon', '1', '--delta', '1e-5', '--max-partitions', '1', '--units', '1,10,20', '--json');
    const j = JSON.parse(r.out);
    expect(closeTo(j.threshold, 11.819778284410283, { rel: 1e-12 })).toBe(true);
    expect(j.keep_probability[0]).toBeCloseTo(1e-5, 15);
    const o = await dpw('select', '--strategy', 'optimal', '--epsilon', '1', '--delta', '1e-5', '--max-partitions', '1', '--units', '10', '--pre-threshold', '1', '--json');
    expect(JSON.parse(o.out).threshold).toBeNull();
    expect(JSON.parse(o.out).keep_probability[0]).toBeCloseTo(0.12818308050524604, 12);
  });
  it('bad arguments exit 2 with one line naming the flag and its value', async () => {
    const cases: [string[], RegExp][] = [
      [['mechanism', '--kind', 'laplace', '--epsilon', '-1'], /--epsilon "-1"/],
      [['mechanism', '--kind', 'laplace', '--epsilon', 'abc'], /--epsilon "abc"/],
      [['mechanism', '--kind', 'bogus', '--epsilon', '1'], /--kind "bogus"/],
      [['mechanism', '--kind', 'gaussian', '--epsilon', '1'], /--delta is required/],
      [['mechanism', '--kind', 'laplace', '--epsilon', '1', '--frobnicate'], /unknown option --frobnicate/],
      [['compose', '--events', '/nonexistent.json', '--accountant', 'pld', '--delta', '1e-6'], /--events "\/nonexistent.json"/],
      [['compose', '--events', 'x', '--accountant', 'magic', '--delta', '1e-6'], /--accountant "magic"/],
      [['select', '--strategy', 'laplace', '--epsilon', '1', '--delta', '2', '--max-partitions', '1', '--units', '1'], /--delta "2"/],
      [['select', '--strategy', 'laplace', '--epsilon', '1', '--delta', '1e-5', '--max-partitions', '0', '--units', '1'], /--max-partitions "0"/],
      [['select', '--strategy', 'laplace', '--epsilon', '1', '--delta', '1e-5', '--max-partitions', '1', '--units', '1,x'], /--units "1,x"/],
    ];
    for (const [argv, re] of cases) {
      const r = await dpw(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(re);
    }
  });
  it('a bad event in the file names its field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ kind: 'laplace', epsilon: 0.1 }, { kind: 'gaussian', sigma: -3 }]));
    const r = await dpw('compose', '--events', file, '--accountant', 'basic', '--delta', '1e-6');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/events\[1\]\.sigma \(-3\)/);
  });
  it('every command has --help', async () => {
    for (const c of ['mechanism', 'compose', 'select']) {
      const r = await dpw(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: dpw /);
    }
  });
  it('runs as a real process through bin/dpw.mjs without a build step', () => {
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'bin/dpw.mjs'), 'mechanism', '--kind', 'laplace', '--epsilon', '1', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ kind: 'laplace', scale: 1, std: Math.SQRT2, accuracy: Math.log(20) });
    const bad = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/dpw.mjs'), 'select', '--strategy', 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).not.toMatch(/at .*\.ts:/); // no stack trace
  });
});
