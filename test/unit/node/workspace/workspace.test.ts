import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnalysisConfigInput } from '../../../../shared/core/config/schema';
import { writeFileAtomic } from '../../../../shared/node/workspace/atomic';
import { readAudit } from '../../../../shared/node/workspace/audit';
import type { SimulationSummary, Workspace } from '../../../../shared/node/workspace/workspace';
import { diffVersions, evidenceHashOf, initWorkspace, jsonErrorOffset, openWorkspace, summarizeSimulation, WorkspaceError } from '../../../../shared/node/workspace/workspace';

const now = new Date('2025-03-01T09:00:00Z');
const EVIDENCE = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;

function config(overrides: (c: AnalysisConfigInput) => void = () => undefined): AnalysisConfigInput {
  const c: AnalysisConfigInput = {
    schemaVersion: 2,
    name: 'Checkout pilot',
    dataset: { path: 'events.csv' },
    privacyUnit: { column: 'user_id', kind: 'user' },
    dimensions: [{ name: 'country', column: 'country' }],
    budget: { epsilon: 1, delta: 1e-6, accountant: 'pld' },
    metrics: [
      { id: 'users', kind: 'count-distinct', by: ['country'], privacy: { budgetShare: 0.5, maxPartitionsContributed: 1 } },
      { id: 'revenue', kind: 'sum', column: 'revenue', by: ['country'], privacy: { budgetShare: 0.4, maxPartitionsContributed: 1, clamp: { low: 0, high: 100 }, boundProvenance: 'domain-knowledge' } },
    ],
  };
  overrides(c);
  return c;
}

async function fresh(): Promise<Workspace> {
  return initWorkspace(join(mkdtempSync(join(tmpdir(), 'dpw-ws-')), 'ws'), { name: 'Pilot', actor: 'alice', now });
}

/** v1 of 'checkout', in review (submitted by alice). */
async function inReview(): Promise<Workspace> {
  const ws = await fresh();
  await ws.saveConfig('checkout', config(), { actor: 'alice', now });
  await ws.recordSimulation('checkout', 1, { evidenceHash: EVIDENCE, trials: 200, seed: 7 }, { actor: 'alice', now });
  await ws.submitForReview('checkout', 1, { actor: 'alice', now });
  return ws;
}

async function rejection(p: Promise<unknown>): Promise<WorkspaceError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(WorkspaceError);
  return e as WorkspaceError;
}

describe('workspace files and versions', () => {
  it('init writes workspace.json and the first audit line; a second init is refused', async () => {
    const ws = await fresh();
    expect(JSON.parse(readFileSync(join(ws.dir, 'workspace.json'), 'utf8'))).toEqual({ schemaVersion: 1, name: 'Pilot', createdAt: '2025-03-01T09:00:00.000Z' });
    const audit = await readAudit(ws.auditPath);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ seq: 1, actor: 'alice', action: 'workspace-created', subject: { workspace: 'Pilot' } });
    const e = await rejection(initWorkspace(ws.dir, { name: 'Again', actor: 'bob', now }));
    expect(e.message).toMatch(/^workspace\.json: already exists/);
  });

  it('saves every change of parameters as a new draft version with its parent; an unchanged config makes none', async () => {
    const ws = await fresh();
    const a = await ws.saveConfig('checkout', config(), { actor: 'alice', now });
    expect(a.created).toBe(true);
    expect(a.version).toMatchObject({ schemaVersion: 1, analysisId: 'checkout', version: 1, status: 'draft', parent: null, createdBy: 'alice' });
    expect(a.version.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Key order and defaults do not matter: the same parameters are the same config.
    const reordered = JSON.parse(JSON.stringify(config(), Object.keys(config()).reverse()));
    const same = await ws.saveConfig('checkout', { ...reordered, ...config() }, { actor: 'bob', now });
    expect(same).toMatchObject({ created: false, version: { version: 1 } });
    const b = await ws.saveConfig('checkout', config((c) => (c.budget.epsilon = 2)), { actor: 'bob', now });
    expect(b.version).toMatchObject({ version: 2, parent: 1, status: 'draft', createdBy: 'bob' });
    expect((await ws.versions('checkout')).map((v) => v.version)).toEqual([1, 2]);
    expect((await ws.latest('checkout'))?.version).toBe(2);
    expect((await ws.version('checkout', 1)).config.budget.epsilon).toBe(1);
    expect(await ws.latest('nothing-yet')).toBeNull();
    expect(await ws.listAnalyses()).toEqual(['checkout']);
    expect(readdirSync(join(ws.dir, 'analyses', 'checkout')).sort()).toEqual(['v1.json', 'v2.json']);
  });

  it('rejects an invalid config, a bad analysis id and an empty actor', async () => {
    const ws = await fresh();
    expect((await rejection(ws.saveConfig('checkout', { schemaVersion: 2, name: 'x' }, { actor: 'alice', now }))).code).toBe('InvalidConfig');
    expect((await rejection(ws.saveConfig('../escape', config(), { actor: 'alice', now }))).message).toMatch(/analysis id "..\/escape"/);
    expect((await rejection(ws.saveConfig('checkout', config(), { actor: '', now }))).message).toMatch(/actor "" must be a non-empty one-line name/);
  });

  it('concurrent saves in one process get distinct version numbers', async () => {
    const ws = await fresh();
    const rs = await Promise.all([1, 2, 3, 4, 5].map((e) => ws.saveConfig('checkout', config((c) => (c.budget.epsilon = e)), { actor: 'alice', now })));
    expect(rs.map((r) => r.version.version).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await ws.verifyAudit()).ok).toBe(true);
  });

  it('a version file edited by hand is detected on open, naming the file', async () => {
    const ws = await fresh();
    await ws.saveConfig('checkout', config(), { actor: 'alice', now });
    await ws.saveConfig('checkout', config((c) => (c.budget.epsilon = 3)), { actor: 'alice', now });
    const file = join(ws.dir, 'analyses', 'checkout', 'v1.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('"epsilon": 1,', '"epsilon": 10,'));
    const e = await rejection(openWorkspace(ws.dir));
    expect(e.code).toBe('Tampered');
    expect(e.message).toMatch(/^analyses\/checkout\/v1\.json: configHash sha256:[0-9a-f]{12}… does not match the config \(sha256:[0-9a-f]{12}…\): the file was edited$/);
    writeFileSync(file, original.replace('"status": "draft"', '"status": "approved"'));
    expect((await rejection(openWorkspace(ws.dir))).message).toMatch(/^analyses\/checkout\/v1\.json: status approved needs a simulation/);
    writeFileSync(file, original.replace('"createdBy": "alice",', '"createdBy": "alice"'));
    const j = await rejection(openWorkspace(ws.dir));
    expect(j.code).toBe('Corrupt');
    expect(j.message).toMatch(/^analyses\/checkout\/v1\.json: not valid JSON at line 8 column 3 \(position \d+\): unexpected "\\"parent/);
    writeFileSync(file, original);
    rmSync(join(ws.dir, 'analyses', 'checkout', 'v1.json'));
    expect((await rejection(openWorkspace(ws.dir))).message).toMatch(/^analyses\/checkout\/v1\.json: missing \(versions on disk: 2\)/);
  });

  it('open names a missing or invalid workspace.json and a missing audit log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-ws-'));
    expect((await rejection(openWorkspace(dir))).message).toMatch(/^workspace\.json: not found in /);
    writeFileSync(join(dir, 'workspace.json'), '{"schemaVersion": 1, "name": "x",}');
    expect((await rejection(openWorkspace(dir))).message).toMatch(/^workspace\.json: not valid JSON at line 1 column 34 \(position 33\): unexpected "}"/);
    writeFileSync(join(dir, 'workspace.json'), '{"schemaVersion": 2, "name": "x", "createdAt": "2025-01-01T00:00:00Z"}');
    expect((await rejection(openWorkspace(dir))).message).toMatch(/^workspace\.json: schemaVersion: /);
    writeFileSync(join(dir, 'workspace.json'), '{"schemaVersion": 1, "name": "x", "createdAt": "2025-01-01T00:00:00Z"}');
    expect((await rejection(openWorkspace(dir))).message).toMatch(/^audit\.log: not found/);
  });

  it('ignores temp files and unknown names beside the versions', async () => {
    const ws = await fresh();
    await ws.saveConfig('checkout', config(), { actor: 'alice', now });
    writeFileSync(join(ws.dir, 'analyses', 'checkout', '.v2.json.123.abcdefabcdef.tmp'), '{"half":');
    writeFileSync(join(ws.dir, 'analyses', 'checkout', 'notes.md'), 'hello');
    expect((await (await openWorkspace(ws.dir)).versions('checkout')).map((v) => v.version)).toEqual([1]);
  });

  it('policy() is null without policy.json; savePolicy validates, writes and audits it', async () => {
    const ws = await fresh();
    expect(await ws.policy()).toBeNull();
    const policy = { schemaVersion: 1, budgets: [{ id: 'events', dataset: 'events', unit: 'user', period: 'month', epsilon: 4, delta: 1e-6 }] };
    const saved = await ws.savePolicy(policy, { actor: 'alice', now });
    expect(saved.budgets[0]).toMatchObject({ id: 'events', accountant: 'pld', warnAt: 0.8 });
    expect(await ws.policy()).toEqual(saved);
    await ws.savePolicy(policy, { actor: 'alice', now }); // unchanged: no second line
    const audit = await readAudit(ws.auditPath);
    expect(audit.map((l) => l.action)).toEqual(['workspace-created', 'policy-changed']);
    expect(audit[1]).toMatchObject({ subject: { file: 'policy.json' }, details: { previousHash: null } });
    const bad = await rejection(ws.savePolicy({ schemaVersion: 1, budgets: [{ id: 'events' }] }, { actor: 'alice', now }));
    expect(bad.code).toBe('InvalidPolicy');
    expect(bad.message).toMatch(/^policy\.json: invalid budget policy: budgets\[0\]\.dataset: /);
    writeFileSync(join(ws.dir, 'policy.json'), '{"schemaVersion": 1, "budgets": [{"id": 1}]}');
    expect((await rejection(ws.policy())).message).toMatch(/^policy\.json: invalid budget policy: budgets\[0\]\.id: /);
  });
});

describe('review workflow', () => {
  it('runs draft → simulated → in-review → approved, with an audit line per step', async () => {
    const ws = await inReview();
    const v = await ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'errors within 10% for 90% of countries', decision: 'approved', evidenceHash: EVIDENCE, now });
    expect(v).toMatchObject({
      status: 'approved',
      simulation: { evidenceHash: EVIDENCE, trials: 200, seed: 7, at: '2025-03-01T09:00:00.000Z' },
      review: { submittedBy: 'alice', decision: 'approved', reviewer: 'bob', rationale: 'errors within 10% for 90% of countries', evidenceHash: EVIDENCE },
    });
    expect(await ws.version('checkout', 1)).toEqual(v);
    const line = await ws.recordExport('checkout', 1, 'json', 'exports/checkout/v1/config.json', OTHER, { actor: 'bob', draft: false, now });
    expect(line.details).toMatchObject({ target: 'json', contentHash: OTHER, draft: false, configHash: v.configHash });
    const audit = await readAudit(ws.auditPath);
    expect(audit.map((l) => [l.action, l.actor])).toEqual([
      ['workspace-created', 'alice'], ['config-saved', 'alice'], ['simulation-recorded', 'alice'], ['review-submitted', 'alice'], ['approved', 'bob'], ['exported', 'bob'],
    ]);
    expect(audit.slice(1, 5).every((l) => l.subject.analysisId === 'checkout' && l.subject.version === 1)).toBe(true);
    expect(audit[4]!.details).toMatchObject({ rationale: 'errors within 10% for 90% of countries', evidenceHash: EVIDENCE, configHash: v.configHash });
    // The audit's fileHash is the hash of the version file as written.
    const { createHash } = await import('node:crypto');
    const bytes = readFileSync(join(ws.dir, 'analyses', 'checkout', 'v1.json'));
    expect(audit[4]!.details.fileHash).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  });

  it('an approved or rejected version is immutable', async () => {
    for (const decision of ['approved', 'rejected'] as const) {
      const ws = await inReview();
      await ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'ok', decision, evidenceHash: EVIDENCE, now });
      const before = readFileSync(join(ws.dir, 'analyses', 'checkout', 'v1.json'), 'utf8');
      for (const attempt of [
        ws.recordSimulation('checkout', 1, { evidenceHash: OTHER, trials: 1, seed: 1 }, { actor: 'alice', now }),
        ws.submitForReview('checkout', 1, { actor: 'alice', now }),
        ws.decide('checkout', 1, { reviewer: 'carol', rationale: 'changed my mind', decision: 'approved', evidenceHash: EVIDENCE, now }),
      ]) {
        const e = await rejection(attempt);
        expect(e.code).toBe('Immutable');
        expect(e.message).toBe(`analysis checkout v1 is ${decision}: a decided version is immutable (save the config again to make a new version)`);
      }
      expect(readFileSync(join(ws.dir, 'analyses', 'checkout', 'v1.json'), 'utf8')).toBe(before);
      // A change is a new version.
      const next = await ws.saveConfig('checkout', config((c) => (c.budget.epsilon = 0.5)), { actor: 'alice', now });
      expect(next.version).toMatchObject({ version: 2, parent: 1, status: 'draft' });
    }
  });

  it('refuses steps out of order with a message naming the status', async () => {
    const ws = await fresh();
    await ws.saveConfig('checkout', config(), { actor: 'alice', now });
    const submit = await rejection(ws.submitForReview('checkout', 1, { actor: 'alice', now }));
    expect(submit).toMatchObject({ code: 'InvalidTransition', message: 'analysis checkout v1 is draft: run a simulation before submitting it for review' });
    expect((await rejection(ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'ok', decision: 'approved', evidenceHash: EVIDENCE, now }))).message).toMatch(/^analysis checkout v1 is draft: /);
    await ws.recordSimulation('checkout', 1, { evidenceHash: EVIDENCE, trials: 10, seed: 'abc' }, { actor: 'alice', now });
    expect((await rejection(ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'ok', decision: 'approved', evidenceHash: EVIDENCE, now }))).message).toBe('analysis checkout v1 is simulated: submit it for review before it can be approved');
    // Re-simulating a simulated version replaces its evidence; once in review it cannot.
    await ws.recordSimulation('checkout', 1, { evidenceHash: OTHER, trials: 20, seed: 1n }, { actor: 'alice', now });
    expect((await ws.version('checkout', 1)).simulation).toMatchObject({ evidenceHash: OTHER, seed: '1' });
    await ws.submitForReview('checkout', 1, { actor: 'alice', now });
    expect((await rejection(ws.submitForReview('checkout', 1, { actor: 'alice', now }))).message).toMatch(/^analysis checkout v1 is in-review already \(submitted by alice/);
    expect((await rejection(ws.recordSimulation('checkout', 1, { evidenceHash: EVIDENCE, trials: 1, seed: 1 }, { actor: 'alice', now }))).message).toMatch(/^analysis checkout v1 is in-review: the evidence under review cannot be replaced/);
    expect((await rejection(ws.submitForReview('checkout', 9, { actor: 'alice', now }))).code).toBe('NotFound');
  });

  it('a decision must name the evidence on record', async () => {
    const ws = await inReview();
    const e = await rejection(ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'ok', decision: 'approved', evidenceHash: OTHER, now }));
    expect(e.code).toBe('EvidenceMismatch');
    expect(e.message).toMatch(/^evidence sha256:bbbbbbbbbbbb… is not the simulation on record for analysis checkout v1 \(sha256:aaaaaaaaaaaa…\)/);
    expect((await rejection(ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'ok', decision: 'approved', evidenceHash: 'abc', now }))).code).toBe('InvalidArgument');
    expect((await ws.version('checkout', 1)).status).toBe('in-review');
  });

  it('the submitter cannot approve their own submission (they may withdraw it by rejecting)', async () => {
    const ws = await inReview();
    const e = await rejection(ws.decide('checkout', 1, { reviewer: 'alice', rationale: 'looks good', decision: 'approved', evidenceHash: EVIDENCE, now }));
    expect(e).toMatchObject({ code: 'SelfReview', message: 'reviewer "alice" submitted analysis checkout v1 for review: another person must approve it' });
    const v = await ws.decide('checkout', 1, { reviewer: 'alice', rationale: 'withdrawn: wrong dataset', decision: 'rejected', evidenceHash: EVIDENCE, now });
    expect(v.status).toBe('rejected');
  });

  it('a rationale is required', async () => {
    const ws = await inReview();
    for (const rationale of ['', '   ']) {
      expect((await rejection(ws.decide('checkout', 1, { reviewer: 'bob', rationale, decision: 'approved', evidenceHash: EVIDENCE, now }))).message).toBe('rationale is required: say why analysis checkout v1 is approved');
    }
  });

  it('exports of a version that is not approved must be drafts', async () => {
    const ws = await inReview();
    expect((await rejection(ws.recordExport('checkout', 1, 'json', 'c.json', OTHER, { actor: 'bob', draft: false, now }))).message).toBe('analysis checkout v1 is in-review: only an approved version can be exported (or export it as a draft)');
    const line = await ws.recordExport('checkout', 1, 'json', 'c.json', OTHER, { actor: 'bob', draft: true, now });
    expect(line).toMatchObject({ action: 'exported', details: { draft: true, status: 'in-review' } });
    expect(ws.exportDir('checkout', 1)).toBe(join(ws.dir, 'exports', 'checkout', 'v1'));
  });

  it('a refused step appends no audit line and leaves the file unchanged', async () => {
    const ws = await inReview();
    const before = readFileSync(ws.auditPath, 'utf8');
    await rejection(ws.decide('checkout', 1, { reviewer: 'alice', rationale: 'x', decision: 'approved', evidenceHash: EVIDENCE, now }));
    await rejection(ws.decide('checkout', 1, { reviewer: 'bob', rationale: 'x', decision: 'approved', evidenceHash: OTHER, now }));
    expect(readFileSync(ws.auditPath, 'utf8')).toBe(before);
  });
});

describe('diffVersions', () => {
  const summary = (rmse: number, kept: number): SimulationSummary => ({
    users: { rmse, withinShare10: 0.8, expectedReleasedShare: kept, valueLost: 1 - kept },
    revenue: { rmse: rmse * 10, withinShare10: 0.5, expectedReleasedShare: kept, valueLost: 0.1 },
  });

  it('lists budget, per-metric parameter and error changes', async () => {
    const ws = await fresh();
    await ws.saveConfig('checkout', config(), { actor: 'alice', now });
    await ws.recordSimulation('checkout', 1, { evidenceHash: EVIDENCE, trials: 100, seed: 1, summary: summary(4, 0.9) }, { actor: 'alice', now });
    await ws.saveConfig('checkout', config((c) => {
      c.budget = { epsilon: 2, delta: 1e-7, accountant: 'rdp' };
      c.description = 'more budget';
      const rev = c.metrics[1]!;
      rev.privacy = { ...rev.privacy, budgetShare: 0.3, mechanism: 'gaussian', maxPartitionsContributed: 2, maxContributionsPerPartition: 3, clamp: { low: 0, high: 50 }, preThreshold: 5, selection: 'gaussian', boundProvenance: 'tuned-on-sample' };
      rev.cadence = 'daily';
      c.metrics = [c.metrics[1]!, { id: 'orders', kind: 'count', privacy: { budgetShare: 0.2, maxPartitionsContributed: 1 } }];
    }), { actor: 'alice', now });
    await ws.recordSimulation('checkout', 2, { evidenceHash: OTHER, trials: 100, seed: 1, summary: { revenue: summary(3, 0.95).revenue!, orders: { rmse: 1, withinShare10: 1, expectedReleasedShare: 1, valueLost: 0 } } }, { actor: 'alice', now });
    const d = diffVersions(await ws.version('checkout', 1), await ws.version('checkout', 2));
    expect(d.sameConfig).toBe(false);
    expect(d.budget).toEqual({ epsilon: { from: 1, to: 2, delta: 1 }, delta: { from: 1e-6, to: 1e-7, delta: 1e-7 - 1e-6 }, accountant: { from: 'pld', to: 'rdp' } });
    expect(d.other).toEqual(['description']);
    expect(d.simulationsCompared).toBe(true);
    expect(d.metrics.map((m) => [m.id, m.change])).toEqual([['revenue', 'changed'], ['orders', 'added'], ['users', 'removed']]);
    const rev = d.metrics[0]!;
    expect(rev.fields.share).toEqual({ from: 0.4, to: 0.3, delta: expect.closeTo(-0.1, 12) });
    expect(rev.fields.epsilon).toEqual({ from: 0.4, to: 0.6, delta: expect.closeTo(0.2, 12) }); // ε_m = share × total ε
    expect(rev.fields.mechanism).toEqual({ from: 'laplace', to: 'gaussian' });
    expect(rev.fields.l0).toEqual({ from: 1, to: 2, delta: 1 });
    expect(rev.fields.linf).toEqual({ from: 1, to: 3, delta: 2 });
    expect(rev.fields.clamp).toEqual({ from: { low: 0, high: 100, mode: 'per-value' }, to: { low: 0, high: 50, mode: 'per-value' } });
    expect(rev.fields.preThreshold).toEqual({ from: 1, to: 5, delta: 4 });
    expect(rev.fields.selection).toEqual({ from: 'laplace', to: 'gaussian' });
    expect(rev.fields.cadence).toEqual({ from: 'one-off', to: 'daily' });
    expect(rev.fields.provenance).toEqual({ from: 'domain-knowledge', to: 'tuned-on-sample' });
    expect(rev.fields.definition).toBeUndefined();
    expect(rev.error).toEqual({
      rmse: { from: 40, to: 30, delta: -10 },
      withinShare10: { from: 0.5, to: 0.5, delta: 0 },
      expectedReleasedShare: { from: 0.9, to: 0.95, delta: expect.closeTo(0.05, 12) },
      valueLost: { from: 0.1, to: 0.1, delta: 0 },
    });
    const added = d.metrics[1]!;
    expect(added.fields).toMatchObject({ kind: { from: null, to: 'count' }, share: { from: null, to: 0.2 }, epsilon: { from: null, to: 0.4 }, l0: { from: null, to: 1 } });
    expect(added.error?.rmse).toEqual({ from: null, to: 1 });
    const removed = d.metrics[2]!;
    expect(removed.fields).toMatchObject({ kind: { from: 'count-distinct', to: null }, share: { from: 0.5, to: null } });
    expect(removed.error?.rmse).toEqual({ from: 4, to: null });
  });

  it('reports no changes between a version and itself, and no error without summaries', async () => {
    const ws = await fresh();
    const { version } = await ws.saveConfig('checkout', config(), { actor: 'alice', now });
    const d = diffVersions(version, version);
    expect(d.sameConfig).toBe(true);
    expect(d.metrics.every((m) => m.change === 'unchanged' && Object.keys(m.fields).length === 0 && m.error === undefined)).toBe(true);
    expect(d.simulationsCompared).toBe(false);
  });
});

describe('simulation evidence', () => {
  it('summarizes a report per metric and hashes it independently of formatting', () => {
    const report = {
      metrics: [{ id: 'users', summary: { cohorts: 10, expectedReleased: { mc: 8, analytic: 8.1 }, withinShare: [{ x: 0.05, mc: 0.5, analytic: 0.5 }, { x: 0.1, mc: 0.7, analytic: 0.72 }], valueLostToSuppression: { mc: 0.02, analytic: 0.02 }, rmse: { mc: 3.5, analytic: 3.4 } } }],
      local: [{ id: 'platform', summary: { rmse: { mc: 0.01, analytic: 0.01 }, coverage: 0.95, withinShare: [{ x: 0.1, mc: null, analytic: 0.9 }] } }],
    };
    expect(summarizeSimulation(report as never)).toEqual({
      users: { rmse: 3.5, withinShare10: 0.7, expectedReleasedShare: 0.8, valueLost: 0.02 },
      platform: { rmse: 0.01, withinShare10: 0.9, expectedReleasedShare: 1, valueLost: 0 },
    });
    expect(evidenceHashOf(JSON.parse(JSON.stringify(report, null, 2)))).toBe(evidenceHashOf(report));
  });
});

describe('atomic writes', () => {
  it('replaces a file whole, and with overwrite: false refuses an existing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-atomic-'));
    const f = join(dir, 'a.json');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    expect(readFileSync(f, 'utf8')).toBe('two');
    await expect(writeFileAtomic(f, 'three', { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('removes its temp file when the rename fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpw-atomic-'));
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target', 'x'), 'keep');
    await expect(writeFileAtomic(join(dir, 'target'), 'content')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('jsonErrorOffset finds the first syntax error', () => {
    expect(jsonErrorOffset('{"a": 1}')).toBe(-1);
    expect(jsonErrorOffset('{"a": x}')).toBe(6);
    expect(jsonErrorOffset('{"a": 1')).toBe(7);
    expect(jsonErrorOffset('[1, 2,]')).toBe(6);
    expect(jsonErrorOffset('{"a": "\\q"}')).toBe(8);
    expect(jsonErrorOffset('{"a": 1} x')).toBe(9);
    expect(jsonErrorOffset('{"a": tru}')).toBe(9);
  });
});
