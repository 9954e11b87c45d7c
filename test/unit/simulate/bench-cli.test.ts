import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../shared/node/cli/main';

async function dpw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

describe('dpw bench workload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dpw-bench-'));

  it('writes the JSON of WORKLOAD.md §6, the same numbers in-process and with 2 workers', async () => {
    const a = await dpw('bench', 'workload', '--workers', '0', '--trials', '130', '--seed', '5', '--json', join(dir, 'a.json'));
    const b = await dpw('bench', 'workload', '--workers', '2', '--trials', '130', '--seed', '5', '--json', join(dir, 'b.json'), '--name', 'two');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.out).toContain('data checksum: users=402171.000000 all=204009923.807158 log1p=25765.365414');
    const ja = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    const jb = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(ja).toMatchObject({ impl: 'dpw-0w', mode: 'workload', threads: 1, trials: 130, partitions: 500, metrics: 12, noise_samples: 650000 });
    expect(jb).toMatchObject({ impl: 'two', threads: 2 });
    expect(jb.stats).toEqual(ja.stats);
    expect(jb.suppression).toEqual(ja.suppression);
    expect(jb.stat_checksum).toBe(ja.stat_checksum);
    expect(ja.wall_s).toBeGreaterThan(0);
  });

  it('noise mode reports Laplace and Gaussian throughput with E|x| ≈ 1 and E x² ≈ 1', async () => {
    const r = await dpw('bench', 'workload', '--mode', 'noise', '--samples', '200000', '--json', join(dir, 'n.json'));
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(join(dir, 'n.json'), 'utf8'));
    expect(j).toMatchObject({ mode: 'noise', threads: 1, samples: 200000 });
    expect(Math.abs(j.laplace_mean_abs - 1)).toBeLessThan(0.02);
    expect(Math.abs(j.gauss_mean_sq - 1)).toBeLessThan(0.02);
  });

  it('rejects unknown targets and bad flags with exit code 2', async () => {
    expect((await dpw('bench', 'other')).code).toBe(2);
    expect((await dpw('bench', 'workload', '--trials', '0')).code).toBe(2);
    expect((await dpw('bench', 'workload', '--sampler', 'fast')).code).toBe(2);
  });
});
