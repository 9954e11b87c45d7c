// Privacy: the total budget and each metric's share (lock/hold re-balances the rest), ε on a log
// slider, δ, the accountant; per metric the mechanism, bounds (L0, L∞, clamp) over the data's
// contribution histograms, and the cohort threshold over the release-probability curve. The
// analytic accuracy beside every control updates as it moves.
import { useDeferredValue, useMemo } from 'react';
import type { ReactNode } from 'react';
import type { CentralMetric, MetricPrivacy } from '../../../shared/core/config/schema';
import { profileContributions } from '../../../shared/core/data/profile';
import { contributionHistogramChart, releaseCurveChart } from '../../charts/specs';
import { Plot } from '../../charts/Plot';
import { fmt, fmtDelta, Notice, pct, PrivacyBadge, Section } from '../../components/common';
import { droppedShare } from '../../model/bounds';
import { keepProbabilityOf } from '../../model/release-curve';
import type { Preview, PreviewMetric } from '../../model/preview';
import { usePreview } from '../../model/use-preview';
import { useWorkbench } from '../../store';

const EPS_MIN = 0.01;
const EPS_MAX = 20;

/** ε rounded for display and storage: 3 significant digits. */
const roundEps = (x: number): number => Number(x.toPrecision(3));

export function EpsilonSlider(props: { value: number; onChange: (eps: number) => void; testId?: string }): ReactNode {
  const v = Math.log10(Math.min(EPS_MAX, Math.max(EPS_MIN, props.value)));
  return (
    <div className="eps-slider">
      <span className="end">← more private</span>
      <input type="range" min={Math.log10(EPS_MIN)} max={Math.log10(EPS_MAX)} step={0.01} value={v}
        onChange={(e) => props.onChange(roundEps(10 ** Number(e.target.value)))} aria-label="epsilon (log scale)" data-testid={props.testId} />
      <span className="end">more accurate →</span>
      <input type="number" className="num-input" min={EPS_MIN} step="any" value={props.value}
        onChange={(e) => { const x = Number(e.target.value); if (x > 0 && Number.isFinite(x)) props.onChange(x); }} aria-label="epsilon" data-testid={props.testId ? `${props.testId}-input` : undefined} />
    </div>
  );
}

function Budget(): ReactNode {
  const config = useWorkbench((s) => s.config)!;
  const setBudget = useWorkbench((s) => s.setBudget);
  const spent = config.metrics.reduce((s, m) => s + (m.kind === 'ratio' || m.kind === 'local-frequency' ? 0 : m.privacy.budgetShare), 0);
  return (
    <div className="budget">
      <label className="field grow">
        <span>Total ε for this release (all metrics together)</span>
        <EpsilonSlider value={config.budget.epsilon} onChange={(epsilon) => setBudget({ epsilon })} testId="total-epsilon" />
      </label>
      <label className="field">
        <span>Total δ</span>
        <select value={String(config.budget.delta)} onChange={(e) => setBudget({ delta: Number(e.target.value) })} data-testid="total-delta">
          {[...new Set([0, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, config.budget.delta])].sort((a, b) => a - b).map((d) => <option key={d} value={String(d)}>{d === 0 ? '0 (pure ε-DP)' : fmtDelta(d)}</option>)}
        </select>
      </label>
      <label className="field">
        <span>Accountant (for the ledger)</span>
        <select value={config.budget.accountant} onChange={(e) => setBudget({ accountant: e.target.value as typeof config.budget.accountant })}>
          <option value="basic">basic composition</option>
          <option value="advanced">advanced composition</option>
          <option value="zcdp">zCDP</option>
          <option value="rdp">Rényi DP</option>
          <option value="pld">privacy loss distributions (tightest)</option>
        </select>
      </label>
      <div className="field">
        <span>Shares allocated</span>
        <b data-testid="shares-total">{pct(spent, 0)}</b>
        <span className="muted">{spent < 0.999 ? `${pct(1 - spent, 0)} held in reserve` : 'whole budget in use'}</span>
      </div>
    </div>
  );
}

function num(v: string, min: number): number | null {
  const x = Number(v);
  return Number.isFinite(x) && x >= min ? x : null;
}

function MetricRow(props: { m: CentralMetric; p: PreviewMetric | undefined; selected: boolean }): ReactNode {
  const { m, p } = props;
  const setShare = useWorkbench((s) => s.setShare);
  const setPrivacy = useWorkbench((s) => s.setPrivacy);
  const toggleLock = useWorkbench((s) => s.toggleLock);
  const locked = useWorkbench((s) => s.locked[m.id] === true);
  const select = useWorkbench((s) => s.selectMetric);
  const isRatio = m.kind === 'ratio';
  const set = (patch: Partial<MetricPrivacy>): void => setPrivacy(m.id, patch);
  const within10 = p?.withinShare.find((w) => Math.abs(w.x - 0.1) < 1e-9) ?? p?.withinShare[0];
  return (
    <tr className={props.selected ? 'selected' : ''} data-testid={`privacy-row-${m.id}`} onClick={() => select(m.id)}>
      <td>
        <div className="metric-name">{m.label ?? m.id}</div>
        <div className="muted small">{m.kind}{m.by.length ? ` by ${m.by.join(' × ')}` : ''}</div>
      </td>
      <td className="share-cell">
        {isRatio ? <span className="muted small">from its parts</span> : (
          <div className="row">
            <input type="range" min={0.001} max={1} step={0.001} value={m.privacy.budgetShare} disabled={locked} onChange={(e) => setShare(m.id, Number(e.target.value))} aria-label={`budget share of ${m.id}`} data-testid={`share-${m.id}`} />
            <span className="num small">{pct(m.privacy.budgetShare, 0)}</span>
            <button className={`lock${locked ? ' on' : ''}`} title={locked ? 'Held: other shares move around it' : 'Hold this share when others move'} onClick={(e) => { e.stopPropagation(); toggleLock(m.id); }} aria-pressed={locked} data-testid={`lock-${m.id}`}>{locked ? 'held' : 'hold'}</button>
          </div>
        )}
        {p ? <PrivacyBadge epsilon={p.epsilon} delta={p.delta} /> : null}
      </td>
      <td>
        {isRatio ? null : (
          <select value={m.privacy.mechanism} onChange={(e) => set({ mechanism: e.target.value as MetricPrivacy['mechanism'] })} aria-label={`mechanism of ${m.id}`}>
            <option value="laplace">Laplace</option>
            <option value="gaussian">Gaussian</option>
            <option value="discrete-laplace">discrete Laplace</option>
            <option value="discrete-gaussian">discrete Gaussian</option>
          </select>
        )}
      </td>
      <td>
        {isRatio ? null : (
          <div className="bounds">
            <label title="L0: cohorts one unit may contribute to">L0 <input type="number" min={1} step={1} value={m.privacy.maxPartitionsContributed} onChange={(e) => { const x = num(e.target.value, 1); if (x) set({ maxPartitionsContributed: Math.round(x) }); }} data-testid={`l0-${m.id}`} /></label>
            <label title="L∞: rows per unit per cohort">L∞ <input type="number" min={1} step={1} value={m.privacy.maxContributionsPerPartition} onChange={(e) => { const x = num(e.target.value, 1); if (x) set({ maxContributionsPerPartition: Math.round(x) }); }} data-testid={`linf-${m.id}`} /></label>
            {m.privacy.clamp ? (
              <label title="Clamp range of each value">clamp <input type="number" step="any" value={m.privacy.clamp.low} onChange={(e) => { const x = Number(e.target.value); if (Number.isFinite(x) && x <= m.privacy.clamp!.high) set({ clamp: { ...m.privacy.clamp!, low: x } }); }} /> – <input type="number" step="any" value={m.privacy.clamp.high} onChange={(e) => { const x = Number(e.target.value); if (Number.isFinite(x) && x >= m.privacy.clamp!.low) set({ clamp: { ...m.privacy.clamp!, high: x } }); }} data-testid={`clamp-high-${m.id}`} /></label>
            ) : null}
          </div>
        )}
      </td>
      <td>
        {isRatio ? null : (
          <div className="bounds">
            <select value={m.privacy.selection} onChange={(e) => set({ selection: e.target.value as MetricPrivacy['selection'] })} aria-label={`cohort selection of ${m.id}`}>
              <option value="laplace">Laplace threshold</option>
              <option value="gaussian">Gaussian threshold</option>
              <option value="optimal">optimal selection</option>
              <option value="public">public cohort list</option>
            </select>
            <label title="Pre-threshold k: cohorts with fewer units are never released">k <input type="number" min={1} step={1} value={m.privacy.preThreshold} onChange={(e) => { const x = num(e.target.value, 1); if (x) set({ preThreshold: Math.round(x) }); }} data-testid={`k-${m.id}`} /></label>
          </div>
        )}
      </td>
      <td className="num" data-testid={`acc-${m.id}`}>
        {p ? (
          <>
            <div title={`± half-width of the noise at ${Math.round(p.confidence * 100)}% confidence`}><b>±{fmt(p.halfWidth)}</b> <span className="muted small">noise ({Math.round(p.confidence * 100)}%)</span></div>
            <div title="Typical relative error of a released cohort: median over cohorts, weighted by release probability, of the relative root-mean-square error (noise, clipping, bounding)">{pct(p.medianRelativeError)}{p.unreliableCohorts > 0 ? <span className="warn-mark" title={`${p.unreliableCohorts} cohort(s) have a noisy denominator: this analytic figure understates the error; simulate to see it`}> †</span> : null} <span className="muted small">typical rel. error (released)</span></div>
            <div>{pct(within10?.share)} <span className="muted small">cohorts within ±{pct(within10?.x, 0)}</span></div>
            <div>{fmt(p.expectedReleased)} / {fmt(p.cohorts)} <span className="muted small">cohorts released</span></div>
          </>
        ) : <span className="muted">…</span>}
      </td>
    </tr>
  );
}

function MetricDetail(props: { m: CentralMetric; preview: Preview | null }): ReactNode {
  // Charts follow the controls at low priority (useDeferredValue): the accuracy numbers first.
  const m = useDeferredValue(props.m);
  const preview = useDeferredValue(props.preview);
  const contributions = useWorkbench((s) => s.contributions);
  const setPrivacy = useWorkbench((s) => s.setPrivacy);
  const c = m.kind === 'ratio' ? undefined : contributions?.contributions[m.id];
  const l0 = m.kind === 'ratio' ? undefined : m.privacy.maxPartitionsContributed;
  const linf = m.kind === 'ratio' ? undefined : m.privacy.maxContributionsPerPartition;
  // The config's own bounds are evaluated exactly, besides the powers of two.
  const profile = useMemo(() => (c ? profileContributions(c, { bounds: { l0: l0 !== undefined ? [l0] : [], linf: linf !== undefined ? [linf] : [] } }) : null), [c, l0, linf]);
  if (m.kind === 'ratio') return <p className="hint">A ratio is computed from its numerator and denominator: tune those.</p>;
  if (!profile) return <p className="hint">Reading contributions…</p>;
  const pr = m.privacy;
  const dropAt = droppedShare;
  const loc = preview?.built.metricIndex[m.id];
  const group = loc ? preview!.built.plans[loc.plan] : undefined;
  const sel = group?.selection ?? null;
  const units = group?.plan.selection.kind !== 'public' && group ? (group.plan.selection as { units?: Float64Array }).units : undefined;
  let curve: ReactNode;
  if (!group) curve = null;
  else if (group.publicPartitions || !sel) curve = <Notice kind="info" title="Public cohorts">Every cohort of [{m.by.join(', ') || 'overall'}] is on a public list: all are released, no threshold is needed.</Notice>;
  else {
    let keep: ((n: number) => number) | null = null;
    try {
      keep = keepProbabilityOf(sel);
    } catch {
      keep = null;
    }
    curve = keep ? (
      <>
        <p className="hint">
          Cohorts are kept by <b>{sel.strategy}</b> selection{sel.sharedWith ? ` on the noisy count of ${sel.sharedWith}` : ''} (ε {fmt(sel.epsilon)}, δ {fmtDelta(sel.delta)}{sel.threshold !== null ? `, threshold ${fmt(sel.threshold)} units` : ''}).
          Dots: the sample&apos;s {fmt(units?.length ?? 0)} cohorts at their unit counts.
        </p>
        <Plot testId="release-curve" spec={releaseCurveChart({ keepProbability: keep, cohortUnits: units ? Array.from(units) : [], cohortLabels: group.partitions.keys.map((k) => k.map((v) => v ?? '∅').join(' / ')), preThreshold: sel.preThreshold })} />
      </>
    ) : null;
  }
  return (
    <div className="grid-2" data-testid="metric-detail">
      <div>
        <h3>Bounds over the data</h3>
        <Plot testId="bound-l0" height={240} spec={contributionHistogramChart(profile.l0.histogram, { title: `L0 = ${pr.maxPartitionsContributed}: cohorts per unit`, xTitle: 'cohorts a unit contributes to', integerValues: true, bound: pr.maxPartitionsContributed, ...(dropAt(profile.candidates.l0, pr.maxPartitionsContributed) !== undefined ? { droppedShare: dropAt(profile.candidates.l0, pr.maxPartitionsContributed)! } : {}) })} />
        <Plot testId="bound-linf" height={240} spec={contributionHistogramChart(profile.linf.histogram, { title: `L∞ = ${pr.maxContributionsPerPartition}: rows per unit per cohort`, xTitle: 'rows of one unit in one cohort', integerValues: true, bound: pr.maxContributionsPerPartition, ...(dropAt(profile.candidates.linf, pr.maxContributionsPerPartition) !== undefined ? { droppedShare: dropAt(profile.candidates.linf, pr.maxContributionsPerPartition)! } : {}) })} />
        {pr.clamp && profile.rowValues ? (
          <Plot testId="bound-clamp" height={240} spec={contributionHistogramChart(profile.rowValues.histogram, { title: `Clamp [${fmt(pr.clamp.low)}, ${fmt(pr.clamp.high)}]: values`, xTitle: '|value| of a row', bound: pr.clamp.high, droppedLabel: 'of value clipped', ...(dropAt(profile.candidates.clampPerValue, pr.clamp.high, 'value') !== undefined ? { droppedShare: dropAt(profile.candidates.clampPerValue, pr.clamp.high, 'value')! } : {}) })} />
        ) : null}
        <label className="field">
          <span>Where do these bounds come from? (the reviewer sees this)</span>
          <select value={pr.boundProvenance ?? ''} onChange={(e) => setPrivacy(m.id, e.target.value ? { boundProvenance: e.target.value as NonNullable<MetricPrivacy['boundProvenance']> } : {})} data-testid={`provenance-${m.id}`}>
            <option value="">not stated</option>
            <option value="domain-knowledge">domain knowledge</option>
            <option value="public-data">public or older data</option>
            <option value="dp-estimate">a DP estimate</option>
            <option value="tuned-on-sample">tuned on this sample (flagged for review)</option>
          </select>
        </label>
      </div>
      <div>
        <h3>Cohort threshold</h3>
        {curve}
      </div>
    </div>
  );
}

export function PrivacyPage(): ReactNode {
  const config = useWorkbench((s) => s.config);
  const selected = useWorkbench((s) => s.selectedMetricId);
  const busy = useWorkbench((s) => s.contributionsBusy);
  const cError = useWorkbench((s) => s.contributionsError);
  const configError = useWorkbench((s) => s.configError);
  const setScreen = useWorkbench((s) => s.setScreen);
  const { preview, error } = usePreview();
  if (!config) return <p className="hint">Load a dataset first.</p>;
  const central = config.metrics.filter((m): m is CentralMetric => m.kind !== 'local-frequency');
  const sel = central.find((m) => m.id === selected) ?? central[0];
  return (
    <div className="page" data-testid="page-privacy">
      <Section title="Privacy budget" hint="ε bounds how much the release can reveal about any one unit; δ is the small chance that bound fails. Shares split the budget between metrics (basic composition)."
        actions={<button className="primary" onClick={() => setScreen('simulate')} data-testid="to-simulate">Next: simulate →</button>}>
        <Budget />
        {configError ? <Notice kind="error" title="That change was not applied">{configError}</Notice> : null}
      </Section>
      <Section title="Metrics: noise, bounds and thresholds" hint={<>Accuracy is the <b>analytic</b> model († where a noisy denominator makes it unreliable), recomputed as you move a control{preview ? <> (last update <span data-testid="analytic-ms">{preview.ms.toFixed(1)}</span> ms)</> : null}. Simulate to check it.</>}>
        {cError ? <Notice kind="error" title="Contributions could not be read">{cError.message}</Notice> : null}
        {error ? <Notice kind="error" title="These settings cannot be evaluated" testId="preview-error">{error}</Notice> : null}
        {busy && !preview ? <p className="hint">Reading contributions…</p> : null}
        <div className="table-wrap tall">
          <table className="table privacy-table">
            <thead><tr><th>Metric</th><th>Budget share</th><th>Noise</th><th>Contribution bounds</th><th>Cohort selection</th><th className="num">Expected accuracy</th></tr></thead>
            <tbody>
              {central.map((m) => <MetricRow key={m.id} m={m} p={preview?.metrics.find((x) => x.id === m.id)} selected={m.id === sel?.id} />)}
            </tbody>
          </table>
        </div>
        {config.metrics.some((m) => m.kind === 'local-frequency') ? <p className="hint">Local-DP metrics (randomized response on each device) spend no central budget; their ε is set on the Metrics screen.</p> : null}
      </Section>
      {sel ? (
        <Section title={`${sel.label ?? sel.id}: bounds and threshold`} hint="Click a metric row above to inspect it.">
          <MetricDetail m={sel} preview={preview} />
        </Section>
      ) : null}
    </div>
  );
}
