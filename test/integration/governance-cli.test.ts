// The pipeline teams' CLI over a workspace: save → simulate evidence → submit → approve (refused
// over budget) → ledger → export, and a plain or unapproved config that only exports with --draft.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/oracles';

const DPW = join(REPO_ROOT, 'bin', 'dpw.mjs');
function dpw(...args: string[]): { status: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [DPW, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('dpw ledger and dpw export over a workspace', () => {
  it('refuses approval and export over budget with the numbers, exports once approved within budget', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-gov-'));
    const ws = join(dir, 'ws');
    const config = join(REPO_ROOT, 'sample-data', 'configs', 'saas-pilot.json');
    expect(dpw('workspace', 'init', ws, '--name', 'team', '--actor', 'dana').status).toBe(0);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ schemaVersion: 1, budgets: [{ id: 'tight', dataset: '*', unit: 'user', period: 'month', epsilon: 0.1, delta: 1e-5, accountant: 'pld' }] }));
    // The policy goes in through the workspace (validated, atomic write, audit line).
    expect(dpw('workspace', 'policy', ws, join(dir, 'policy.json'), '--actor', 'dana').status).toBe(0);
    expect(dpw('workspace', 'save', ws, config, '--analysis', 'saas', '--actor', 'dana').status).toBe(0);
    const report = join(dir, 'report.json');
    expect(dpw('simulate', config, '--trials', '100', '--seed', '1', '--json', report).status).toBe(0);
    const rec = dpw('workspace', 'record', ws, '--analysis', 'saas', '--version', '1', '--report', report, '--actor', 'dana');
    expect(rec.status, rec.err).toBe(0);
    expect(dpw('review', 'submit', ws, '--analysis', 'saas', '--version', '1', '--actor', 'dana').status).toBe(0);
    const v1 = JSON.parse(readFileSync(join(ws, 'analyses', 'saas', 'v1.json'), 'utf8')) as { simulation: { evidenceHash: string } };
    const refused = dpw('review', 'approve', ws, '--analysis', 'saas', '--version', '1', '--reviewer', 'rui', '--rationale', 'ok', '--evidence', v1.simulation.evidenceHash);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/refused: .*ε [\d.]+ of 0\.1 spent per month/);
    const ledger = dpw('ledger', ws, '--analysis', 'saas', '--version', '1', '--json');
    expect(ledger.status).toBe(1);
    const parsed = JSON.parse(ledger.out) as { ok: boolean; ledgers: { spent: { epsilon: number }; calendar: unknown[] }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.ledgers[0]!.spent.epsilon).toBeGreaterThan(0.1);
    expect(parsed.ledgers[0]!.calendar).toHaveLength(30);

    // Not approved: export refused unless --draft, which marks every output DRAFT.
    const out = join(dir, 'saas.sql');
    const versionFile = join(ws, 'analyses', 'saas', 'v1.json');
    const notApproved = dpw('export', versionFile, '--target', 'bigquery', '--out', out);
    expect(notApproved.status).toBe(1);
    expect(notApproved.err).toMatch(/not approved/);
    const draft = dpw('export', versionFile, '--target', 'bigquery', '--out', out, '--draft');
    expect(draft.status, draft.err).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/DRAFT/);

    // A generous budget: approval and an approved export.
    writeFileSync(join(dir, 'policy2.json'), JSON.stringify({ schemaVersion: 1, budgets: [{ id: 'month', dataset: '*', unit: 'user', period: 'month', epsilon: 50, delta: 1e-5, accountant: 'pld' }], reservations: [{ id: 'later', budget: 'month', label: 'ad-hoc questions', epsilon: 2, delta: 0 }] }));
    expect(dpw('workspace', 'policy', ws, join(dir, 'policy2.json'), '--actor', 'dana').status).toBe(0);
    const bad = dpw('workspace', 'policy', ws, join(dir, 'report.json'), '--actor', 'dana');
    expect(bad.status).toBe(1);
    const ok = dpw('review', 'approve', ws, '--analysis', 'saas', '--version', '1', '--reviewer', 'rui', '--rationale', 'within SLO', '--evidence', v1.simulation.evidenceHash);
    expect(ok.status, ok.err).toBe(0);
    const full = dpw('ledger', ws, '--json');
    expect(full.status, full.err).toBe(0);
    const l = JSON.parse(full.out) as { ledgers: { reservations: unknown[]; spent: { epsilon: number } }[] };
    expect(l.ledgers[0]!.reservations).toHaveLength(1);
    expect(l.ledgers[0]!.spent.epsilon).toBeGreaterThan(2);
    for (const target of ['json', 'yaml', 'pipelinedp', 'sheet']) {
      const file = join(dir, `saas.${target}`);
      const r = dpw('export', versionFile, '--target', target, '--out', file);
      expect(r.status, r.err).toBe(0);
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/rui/);
      expect(text).not.toMatch(/DRAFT/);
      // The evidence report is kept in the workspace (evidence/saas/v1.json): the sheet states its accuracy.
      if (target === 'sheet') expect(text).toMatch(/Accuracy \(simulated\)/);
    }
    expect(dpw('audit', 'verify', ws).status).toBe(0);
  }, 240_000);

  it('exports a plain config only as a draft', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-gov-'));
    const config = join(REPO_ROOT, 'sample-data', 'configs', 'product-pilot.json');
    const refused = dpw('export', config, '--target', 'json', '--out', join(dir, 'x.json'));
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/--draft/);
    const draft = dpw('export', config, '--target', 'json', '--out', join(dir, 'x.json'), '--draft');
    expect(draft.status, draft.err).toBe(0);
    expect(readFileSync(join(dir, 'x.json'), 'utf8')).toMatch(/DRAFT/);
  }, 120_000);
});
