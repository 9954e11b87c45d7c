import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../shared/node/cli/main';
import { REPO_ROOT } from '../helpers/oracles';

async function dpw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

const CONFIG = join(REPO_ROOT, 'sample-data/configs/product-pilot.json');

async function workspaceWithOneVersion(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'dpw-wscli-')), 'ws');
  const init = await dpw('workspace', 'init', dir, '--name', 'Shop pilot', '--actor', 'alice');
  expect(init.code, init.err).toBe(0);
  expect(init.out).toMatch(/^created workspace "Shop pilot" in /);
  const save = await dpw('workspace', 'save', dir, CONFIG, '--analysis', 'shop', '--actor', 'alice');
  expect(save.code, save.err).toBe(0);
  expect(save.out).toMatch(/^analysis shop v1 saved \(draft\), config sha256:[0-9a-f]{64}\n$/);
  return dir;
}

describe('dpw workspace / audit / review', () => {
  it('init → save → audit verify OK; an edited audit line → exit 1 naming the line', async () => {
    const dir = await workspaceWithOneVersion();
    const ok = await dpw('audit', 'verify', dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^audit log OK: 2 lines, chain intact \(head sha256:[0-9a-f]{64}\); every version file and the policy match their last audit line\n$/);

    const log = join(dir, 'audit.log');
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, [lines[0], lines[1]!.replace('"actor":"alice"', '"actor":"mallory"'), ...lines.slice(2)].join('\n'));
    const bad = await dpw('audit', 'verify', dir);
    expect(bad.code).toBe(1);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toMatch(/audit\.log line 2: hash mismatch: the line was edited/);
    // The log file itself can be given too; --json reports the line.
    const j = await dpw('audit', 'verify', log, '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, line: 2 });
    // A workspace whose log is broken refuses to append to it.
    const save = await dpw('workspace', 'save', dir, CONFIG, '--analysis', 'other', '--actor', 'alice');
    expect(save.code).toBe(1);
    expect(save.err).toMatch(/^dpw workspace: audit\.log line 2: hash mismatch/);
    expect(existsSync(join(dir, 'analyses', 'other', 'v1.json'))).toBe(false);
  });

  it('a saved unchanged config makes no new version; status lists versions', async () => {
    const dir = await workspaceWithOneVersion();
    const again = await dpw('workspace', 'save', dir, CONFIG, '--analysis', 'shop', '--actor', 'bob');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/config unchanged, v1 \(draft\)/);
    const st = await dpw('workspace', 'status', dir, '--json');
    expect(st.code).toBe(0);
    const j = JSON.parse(st.out);
    expect(j).toMatchObject({ name: 'Shop pilot', audit: { ok: true, lines: 2 }, analyses: [{ analysisId: 'shop', versions: [{ version: 1, status: 'draft', createdBy: 'alice' }] }] });
    const text = await dpw('workspace', 'status', dir);
    expect(text.out).toMatch(/shop\n\s+v1\s+draft/);
  });

  it('runs the review through the CLI: record, submit, refusals, approve', async () => {
    const dir = await workspaceWithOneVersion();
    const early = await dpw('review', 'submit', dir, '--analysis', 'shop', '--version', '1', '--actor', 'alice');
    expect(early.code).toBe(1);
    expect(early.err).toBe('dpw review: analysis shop v1 is draft: run a simulation before submitting it for review\n');

    const report = join(dir, '..', 'report.json');
    writeFileSync(report, JSON.stringify({ format: 'dpw-simulation', version: 1, run: { seed: '42', trials: 50 }, metrics: [], local: [] }));
    const rec = await dpw('workspace', 'record', dir, '--analysis', 'shop', '--version', '1', '--report', report, '--actor', 'alice');
    expect(rec.code, rec.err).toBe(0);
    const evidence = /evidence (sha256:[0-9a-f]{64})/.exec(rec.out)![1]!;

    expect((await dpw('review', 'submit', dir, '--analysis', 'shop', '--version', '1', '--actor', 'alice')).code).toBe(0);
    const self = await dpw('review', 'approve', dir, '--analysis', 'shop', '--version', '1', '--reviewer', 'alice', '--rationale', 'fine', '--evidence', evidence);
    expect(self.code).toBe(1);
    expect(self.err).toMatch(/another person must approve it/);
    const wrong = await dpw('review', 'approve', dir, '--analysis', 'shop', '--version', '1', '--reviewer', 'bob', '--rationale', 'fine', '--evidence', `sha256:${'0'.repeat(64)}`);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/is not the simulation on record/);
    const noWhy = await dpw('review', 'approve', dir, '--analysis', 'shop', '--version', '1', '--reviewer', 'bob', '--evidence', evidence);
    expect(noWhy.code).toBe(2);
    expect(noWhy.err).toMatch(/--rationale is required/);
    // Approval needs a budget the version fits in (the guardrails of shared/node/workspace/governance.ts).
    const unbudgeted = await dpw('review', 'approve', dir, '--analysis', 'shop', '--version', '1', '--reviewer', 'bob', '--rationale', 'fine', '--evidence', evidence);
    expect(unbudgeted.code).toBe(1);
    expect(unbudgeted.err).toMatch(/no budget policy/);
    const policyFile = join(dir, '..', 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ schemaVersion: 1, budgets: [{ id: 'month', dataset: '*', unit: 'user', period: 'month', epsilon: 100, delta: 1e-5 }] }));
    expect((await dpw('workspace', 'policy', dir, policyFile, '--actor', 'alice')).code).toBe(0);
    const ok = await dpw('review', 'approve', dir, '--analysis', 'shop', '--version', '1', '--reviewer', 'bob', '--rationale', 'errors acceptable', '--evidence', evidence);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe('analysis shop v1 approved by bob\n');
    const again = await dpw('review', 'reject', dir, '--analysis', 'shop', '--version', '1', '--reviewer', 'carol', '--rationale', 'no', '--evidence', evidence);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/is approved: a decided version is immutable/);
    expect((await dpw('audit', 'verify', dir)).out).toMatch(/^audit log OK: 6 lines/);
    // A policy edited by hand (not through dpw workspace policy) no longer matches its audit line.
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ schemaVersion: 1, budgets: [{ id: 'month', dataset: '*', unit: 'user', period: 'month', epsilon: 1000, delta: 1e-5 }] }));
    const edited = await dpw('audit', 'verify', dir);
    expect(edited.code).toBe(1);
    expect(edited.err).toMatch(/policy\.json: differs from what the audit log last recorded/);
  });

  it('bad arguments exit 2; a folder that is not a workspace exits 1 naming workspace.json', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dpw-wscli-'));
    for (const [argv, re] of [
      [['workspace', 'init', empty], /--name is required/],
      [['workspace', 'save', empty, CONFIG, '--actor', 'a'], /--analysis is required/],
      [['workspace', 'frobnicate'], /unknown subcommand "frobnicate"/],
      [['review', 'approve', empty, '--analysis', 'x', '--version', '0'], /--version "0"/],
      [['audit', 'check', empty], /unknown subcommand "check"/],
      [['audit', 'verify'], /WORKSPACE is required/],
    ] as [string[], RegExp][]) {
      const r = await dpw(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
    }
    const r = await dpw('workspace', 'status', empty);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^dpw workspace: workspace\.json: not found in /);
    const a = await dpw('audit', 'verify', empty);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/audit\.log: file not found/);
  });

  it('runs as a real process through bin/dpw.mjs', async () => {
    const dir = await workspaceWithOneVersion();
    const ok = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/dpw.mjs'), 'audit', 'verify', dir], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^audit log OK: 2 lines, chain intact/);
    writeFileSync(join(dir, 'audit.log'), readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').slice(1).join('\n'));
    const bad = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/dpw.mjs'), 'audit', 'verify', dir], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^dpw audit verify: audit\.log line 1: seq 2 where 1 was expected: a line was removed before it\n$/);
  });
});
