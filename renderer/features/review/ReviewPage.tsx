// Review & export: save the configuration as a version in the workspace, record its simulation
// as evidence, submit it, and let a reviewer approve or reject it with a rationale, against the
// budget ledger and its guardrails; then export the approved version. The diff says what changed
// between versions and the audit trail shows every step. The host's services decide: approval
// and export are refused there when the ledger is over budget or the version is not approved.
import { useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { LedgerView, VersionInfo } from '../../../shared/contracts/ipc';
import { ledgerCalendarChart } from '../../charts/ledger';
import { Plot } from '../../charts/Plot';
import { Busy, fmt, fmtDelta, Notice, pct, Section } from '../../components/common';
import { useWorkbench } from '../../store';
import { currentVersion } from '../../store/governance';

const TARGETS: readonly { id: string; label: string }[] = [
  { id: 'json', label: 'Canonical JSON config' },
  { id: 'yaml', label: 'YAML config' },
  { id: 'bigquery', label: 'BigQuery differential privacy SQL' },
  { id: 'pipelinedp', label: 'PipelineDP (Python)' },
  { id: 'opendp', label: 'OpenDP (Python)' },
  { id: 'tumult', label: 'Tumult Analytics (Python)' },
  { id: 'sheet', label: 'Privacy sheet (HTML)' },
];

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'analysis';

function StatusTag({ status }: { status: string }): ReactNode {
  return <span className={`status status-${status}`} data-testid="version-status">{status}</span>;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as object).sort(([a], [b]) => a.localeCompare(b))) : x));
}

function LedgerPanel({ ledger }: { ledger: LedgerView }): ReactNode {
  const spec = useMemo(() => ledgerCalendarChart(ledger), [ledger]);
  return (
    <div className="ledger" data-testid={`ledger-${ledger.budgetId}`}>
      <div className="row gap">
        <div className="stat">
          <div className="stat-value" data-testid="ledger-spent">ε {fmt(ledger.spent.epsilon)} / {fmt(ledger.limit.epsilon)}</div>
          <div className="stat-label">{ledger.label} · per {ledger.period} · {ledger.accountant}</div>
          <div className="stat-sub">δ {fmtDelta(ledger.spent.delta)} of {fmtDelta(ledger.limit.delta)}</div>
        </div>
        <div className="stat">
          <div className={`stat-value ledger-${ledger.status}`} data-testid="ledger-status">{pct(ledger.usedShare, 0)} used</div>
          <div className="stat-label">{ledger.status === 'over' ? 'over budget' : ledger.status === 'warning' ? 'above 80% of the budget' : 'within budget'}</div>
          <div className="stat-sub">remaining ε {fmt(Math.max(0, ledger.remaining.epsilon))}</div>
        </div>
        <div className="budget-bar grow" title="Share of the period's ε budget spent">
          <div className={`budget-fill ledger-${ledger.status}`} style={{ width: `${Math.min(100, ledger.usedShare * 100)}%` }} />
          <div className="budget-mark" style={{ left: '80%' }} />
        </div>
      </div>
      <Plot testId="calendar-chart" height={260} spec={spec} />
      <table className="table compact">
        <thead><tr><th>Analysis</th><th>Metric</th><th>Cadence</th><th className="num">Releases / {ledger.period}</th><th className="num">ε per release</th></tr></thead>
        <tbody>
          {ledger.entries.flatMap((e) => e.metrics.map((m) => (
            <tr key={`${e.analysisId}-${e.version}-${m.metricId}`}><td>{e.analysisId} v{e.version} <span className="muted small">{e.status}</span></td><td>{m.label}</td><td>{m.cadence}</td><td className="num">{m.releases}</td><td className="num">{fmt(m.epsilonPerRelease)}</td></tr>
          )))}
        </tbody>
      </table>
      {ledger.notes.length ? <ul className="notes">{ledger.notes.map((n, i) => <li key={i}>{n}</li>)}</ul> : null}
    </div>
  );
}

function BudgetForm(): ReactNode {
  const ws = useWorkbench((s) => s.workspace);
  const saveBudget = useWorkbench((s) => s.saveBudget);
  const b = ws?.budgets[0];
  const [epsilon, setEpsilon] = useState(String(b?.epsilon ?? 10));
  const [delta, setDelta] = useState(String(b?.delta ?? 1e-5));
  const [period, setPeriod] = useState<'day' | 'week' | 'month' | 'quarter'>(b?.period ?? 'month');
  const [accountant, setAccountant] = useState(b?.accountant ?? 'pld');
  useEffect(() => {
    if (b) {
      setEpsilon(String(b.epsilon));
      setDelta(String(b.delta));
      setPeriod(b.period);
      setAccountant(b.accountant);
    }
  }, [b]);
  return (
    <form className="row gap" onSubmit={(e) => { e.preventDefault(); void saveBudget({ epsilon: Number(epsilon), delta: Number(delta), period, accountant, unit: 'user' }); }}>
      <label className="field"><span>Budget ε per person</span><input type="number" step="any" min="0" value={epsilon} onChange={(e) => setEpsilon(e.target.value)} data-testid="policy-epsilon" /></label>
      <label className="field"><span>δ</span><input type="number" step="any" min="0" value={delta} onChange={(e) => setDelta(e.target.value)} data-testid="policy-delta" style={{ width: 120 }} /></label>
      <label className="field"><span>per</span>
        <select value={period} onChange={(e) => setPeriod(e.target.value as typeof period)} data-testid="policy-period">
          <option value="day">day</option><option value="week">week</option><option value="month">month</option><option value="quarter">quarter</option>
        </select>
      </label>
      <label className="field"><span>Accountant</span>
        <select value={accountant} onChange={(e) => setAccountant(e.target.value)}>
          <option value="basic">basic</option><option value="zcdp">zCDP</option><option value="pld">PLD (tightest)</option>
        </select>
      </label>
      <div className="field"><span>&nbsp;</span><button type="submit" data-testid="save-policy">{b ? 'Update the budget' : 'Set the budget'}</button></div>
    </form>
  );
}

/** Budget held back for later releases (ad-hoc questions): counted in every ledger of the budget. */
function Reservations(): ReactNode {
  const ws = useWorkbench((s) => s.workspace);
  const save = useWorkbench((s) => s.saveReservations);
  const [label, setLabel] = useState('');
  const [epsilon, setEpsilon] = useState('0.5');
  if (!ws || ws.budgets.length === 0) return null;
  const current = ws.reservations.map((r) => ({ id: r.id, label: r.label, epsilon: r.epsilon, delta: r.delta }));
  const add = (): void => {
    const e = Number(epsilon);
    if (!label.trim() || !(e > 0)) return;
    const id = `r${Date.now().toString(36)}`;
    void save([...current, { id, label: label.trim(), epsilon: e, delta: 0 }]);
    setLabel('');
  };
  return (
    <div className="reservations">
      <h3>Reserved for later releases</h3>
      {current.length > 0 ? (
        <table className="table compact" data-testid="reservations">
          <thead><tr><th>Reservation</th><th className="num">ε</th><th /></tr></thead>
          <tbody>{current.map((r) => <tr key={r.id}><td>{r.label}</td><td className="num">{fmt(r.epsilon)}</td><td><button className="link" onClick={() => void save(current.filter((x) => x.id !== r.id))}>Release it</button></td></tr>)}</tbody>
        </table>
      ) : <p className="hint">Nothing reserved: the whole budget is available to analyses.</p>}
      <div className="row gap">
        <label className="field grow"><span>What for</span><input type="text" value={label} onChange={(e) => setLabel(e.target.value)} placeholder="ad-hoc questions from the product team" data-testid="reservation-label" /></label>
        <label className="field"><span>ε</span><input type="number" step="any" min="0" value={epsilon} onChange={(e) => setEpsilon(e.target.value)} data-testid="reservation-epsilon" /></label>
        <div className="field"><span>&nbsp;</span><button onClick={add} disabled={!label.trim()} data-testid="add-reservation">Reserve</button></div>
      </div>
    </div>
  );
}

function ReviewActions({ v }: { v: VersionInfo }): ReactNode {
  const runs = useWorkbench((s) => s.runs);
  const ledger = useWorkbench((s) => s.ledger);
  const recordEvidence = useWorkbench((s) => s.recordEvidence);
  const submit = useWorkbench((s) => s.submitForReview);
  const decide = useWorkbench((s) => s.decide);
  const [reviewer, setReviewer] = useState('');
  const [rationale, setRationale] = useState('');
  const matching = runs.filter((r) => canonical(r.config) === canonical(v.config));
  const blocked = ledger !== null && !ledger.ok;
  if (v.status === 'draft') {
    return (
      <div>
        <p className="hint">A reviewer approves on evidence: record a simulation of exactly this configuration.</p>
        {matching.length === 0 ? <Notice kind="warn" title="No simulation of this exact configuration">Run one on the Simulate screen (the configuration must not change after saving), then record it here.</Notice> : (
          <button className="primary" onClick={() => void recordEvidence(matching[matching.length - 1]!.id)} data-testid="record-evidence">Record {matching[matching.length - 1]!.label} as evidence</button>
        )}
      </div>
    );
  }
  if (v.status === 'simulated') {
    return (
      <div>
        <p className="hint">Evidence on record: <code>{v.simulation?.evidenceHash.slice(0, 23)}…</code> ({v.simulation?.trials} trials, seed {v.simulation?.seed}).</p>
        <button className="primary" onClick={() => void submit()} data-testid="submit-review">Submit for review</button>
      </div>
    );
  }
  if (v.status === 'in-review') {
    return (
      <div className="review-form">
        <p className="hint">Submitted by {v.review?.submittedBy} · evidence <code>{v.simulation?.evidenceHash.slice(0, 23)}…</code>. The reviewer must be someone else; the rationale is kept in the version and the audit trail.</p>
        <div className="row gap">
          <label className="field"><span>Reviewer</span><input type="text" value={reviewer} onChange={(e) => setReviewer(e.target.value)} data-testid="reviewer" /></label>
          <label className="field grow"><span>Rationale</span><textarea rows={2} value={rationale} onChange={(e) => setRationale(e.target.value)} data-testid="rationale" /></label>
        </div>
        {blocked ? <Notice kind="error" title="Approval is refused while the ledger is over budget">See the guardrails above.</Notice> : null}
        <div className="row gap">
          <button className="primary" disabled={!reviewer.trim() || !rationale.trim()} onClick={() => void decide('approved', reviewer.trim(), rationale.trim())} data-testid="approve">Approve</button>
          <button disabled={!reviewer.trim() || !rationale.trim()} onClick={() => void decide('rejected', reviewer.trim(), rationale.trim())} data-testid="reject">Reject</button>
        </div>
      </div>
    );
  }
  return (
    <p className="hint" data-testid="decision">
      {v.status === 'approved' ? 'Approved' : 'Rejected'} by <b>{v.review?.reviewer}</b> on {v.review?.decidedAt?.slice(0, 19).replace('T', ' ')}: “{v.review?.rationale}”. This version is immutable: any change makes a new draft.
    </p>
  );
}

function ExportPanel({ v }: { v: VersionInfo }): ReactNode {
  const runExport = useWorkbench((s) => s.runExport);
  const last = useWorkbench((s) => s.lastExport);
  const [target, setTarget] = useState('bigquery');
  const [draft, setDraft] = useState(false);
  return (
    <div>
      <div className="row gap">
        <label className="field"><span>Target</span>
          <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="export-target">
            {TARGETS.map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}
          </select>
        </label>
        <label className="field"><span>&nbsp;</span><span><input type="checkbox" checked={draft} onChange={(e) => setDraft(e.target.checked)} data-testid="export-draft" /> draft (marked DRAFT, not approved)</span></label>
        <div className="field"><span>&nbsp;</span><button className="primary" onClick={() => void runExport(target, draft)} data-testid="export-run">Export v{v.version}</button></div>
      </div>
      {last ? (
        <div data-testid="export-result">
          <p className="hint">Wrote <code>{last.path}</code>{last.draft ? ' (DRAFT)' : ''}.</p>
          <pre className="export-preview">{last.content.slice(0, 5000)}{last.content.length > 5000 ? '\n…' : ''}</pre>
        </div>
      ) : null}
    </div>
  );
}

export function ReviewPage(): ReactNode {
  const config = useWorkbench((s) => s.config);
  const ws = useWorkbench((s) => s.workspace);
  const actor = useWorkbench((s) => s.actor);
  const setActor = useWorkbench((s) => s.setActor);
  const loadWorkspace = useWorkbench((s) => s.loadWorkspace);
  const saveVersion = useWorkbench((s) => s.saveVersion);
  const selectVersion = useWorkbench((s) => s.selectVersion);
  const selected = useWorkbench((s) => s.selected);
  const ledger = useWorkbench((s) => s.ledger);
  const diff = useWorkbench((s) => s.diff);
  const loadDiff = useWorkbench((s) => s.loadDiff);
  const audit = useWorkbench((s) => s.audit);
  const loadAudit = useWorkbench((s) => s.loadAudit);
  const busy = useWorkbench((s) => s.govBusy);
  const error = useWorkbench((s) => s.govError);
  const v = useWorkbench((s) => currentVersion(s));
  // A new version goes to the analysis being reviewed, else one named after the config.
  const [analysisId, setAnalysisId] = useState(() => selected?.analysisId ?? slug(config?.name ?? 'analysis'));
  useEffect(() => {
    void loadWorkspace();
  }, [loadWorkspace]);
  const versions = ws?.analyses.flatMap((a) => a.versions.map((x) => x)) ?? [];
  return (
    <div className="page" data-testid="page-review">
      <Section title="Workspace" hint={<>Versions, the budget policy, the audit trail and exports live in <code data-testid="workspace-dir">{ws?.dir ?? '…'}</code>: a folder a team can keep in git.</>}>
        <div className="row gap">
          <label className="field"><span>Your name (recorded with every change)</span><input type="text" value={actor} onChange={(e) => setActor(e.target.value)} data-testid="actor" /></label>
          <label className="field"><span>Analysis id</span><input type="text" value={analysisId} onChange={(e) => setAnalysisId(e.target.value)} data-testid="analysis-id" /></label>
          <div className="field"><span>&nbsp;</span><button className="primary" disabled={!config} onClick={() => void saveVersion(analysisId)} data-testid="save-version">Save the current configuration as a version</button></div>
        </div>
        {busy ? <Busy label={busy} /> : null}
        {error ? <Notice kind="error" title="Refused" testId="gov-error">{error}</Notice> : null}
        <div className="table-wrap">
          <table className="table" data-testid="versions">
            <thead><tr><th>Analysis</th><th>Version</th><th>Status</th><th>Saved</th><th>Config hash</th><th>Evidence</th><th>Decision</th></tr></thead>
            <tbody>
              {versions.map((x) => (
                <tr key={`${x.analysisId}-${x.version}`} className={selected?.analysisId === x.analysisId && selected.version === x.version ? 'selected' : ''} onClick={() => void selectVersion(x.analysisId, x.version)} data-testid={`version-${x.analysisId}-${x.version}`} style={{ cursor: 'pointer' }}>
                  <td>{x.analysisId}</td><td>v{x.version}</td><td><StatusTag status={x.status} /></td><td>{x.createdAt.slice(0, 16).replace('T', ' ')} · {x.createdBy}</td>
                  <td><code className="small">{x.configHash.slice(0, 19)}…</code></td><td>{x.simulation ? `${x.simulation.trials} trials` : '–'}</td>
                  <td>{x.review?.decision ? `${x.review.decision} by ${x.review.reviewer}` : x.status === 'in-review' ? `submitted by ${x.review?.submittedBy}` : '–'}</td>
                </tr>
              ))}
              {versions.length === 0 ? <tr><td colSpan={7} className="muted">No versions yet: save the current configuration.</td></tr> : null}
            </tbody>
          </table>
        </div>
      </Section>

      <Section title="Budget policy" hint="The privacy budget per person and period that every approved analysis on this data composes into (with the chosen accountant).">
        <BudgetForm />
        <Reservations />
      </Section>

      {v ? (
        <>
          <Section title={`${v.analysisId} v${v.version}: ${v.config.name}`} hint={<>Status <StatusTag status={v.status} /> · total ε {v.config.budget.epsilon}, δ {fmtDelta(v.config.budget.delta)} per release · config hash <code className="small">{v.configHash}</code></>} testId="selected-version">
            {ledger ? (
              <>
                <div data-testid="guardrails">
                  {ledger.guardrails.filter((g) => g.level === 'error').map((g, i) => <Notice key={`e${i}`} kind="error" title={`Guardrail: ${g.code}`}>{g.message}</Notice>)}
                  {ledger.guardrails.filter((g) => g.level === 'warning').map((g, i) => <Notice key={`w${i}`} kind="warn" title={`For the reviewer: ${g.code}`}>{g.message}</Notice>)}
                  {ledger.guardrails.length === 0 ? <Notice kind="info" title="Guardrails">Within budget; every bound has a stated provenance.</Notice> : null}
                </div>
                {ledger.ledgers.map((l) => <LedgerPanel key={l.budgetId} ledger={l} />)}
              </>
            ) : null}
            <h3>Review</h3>
            <ReviewActions v={v} />
          </Section>
          {v.parent !== null ? (
            <Section title="What changed" hint={`Between v${v.parent} and v${v.version}.`} actions={<button onClick={() => void loadDiff(v.parent!, v.version)} data-testid="show-diff">Show the diff</button>}>
              {diff ? (
                <table className="table compact" data-testid="diff-table">
                  <thead><tr><th>Where</th><th>What</th><th>Before</th><th>After</th></tr></thead>
                  <tbody>{diff.map((d, i) => <tr key={i}><td>{d.scope}</td><td>{d.field}</td><td>{d.before}</td><td>{d.after}</td></tr>)}</tbody>
                </table>
              ) : null}
            </Section>
          ) : null}
          <Section title="Export" hint="Approved versions leave as production configs; anything else only as a draft marked DRAFT. Exports over budget are refused.">
            <ExportPanel v={v} />
          </Section>
        </>
      ) : null}

      <Section title="Audit trail" hint="Append-only and hash-chained: editing, removing or reordering a line breaks the chain." actions={<button onClick={() => void loadAudit()} data-testid="verify-audit">Verify</button>}>
        {audit ? (
          <>
            <Notice kind={audit.ok ? 'info' : 'error'} title={audit.ok ? `Chain intact: ${audit.lines} lines` : audit.firstBad?.line === 0 ? 'The files do not match the audit log' : `Chain broken at line ${audit.firstBad?.line}`} testId="audit-status">{audit.ok ? 'Every line links to the one before it, and every version file and the policy are as last recorded.' : audit.firstBad?.reason}</Notice>
            <div className="table-wrap">
              <table className="table compact" data-testid="audit-table">
                <thead><tr><th className="num">#</th><th>When</th><th>Who</th><th>Action</th><th>Subject</th><th>Hash</th></tr></thead>
                <tbody>{audit.entries.map((e) => <tr key={e.seq}><td className="num">{e.seq}</td><td>{e.at.slice(0, 19).replace('T', ' ')}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.subject}</td><td><code className="small">{e.hash.slice(0, 15)}…</code></td></tr>)}</tbody>
              </table>
            </div>
          </>
        ) : null}
      </Section>
    </div>
  );
}
