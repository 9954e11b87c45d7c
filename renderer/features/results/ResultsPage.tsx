// Results: per metric the error decomposition (noise, clipping bias, bounding, suppression), the
// error distribution, error against cohort size, the cohorts most likely to vanish, the SLO share
// (cohorts within ±x%), and one SIMULATED release next to the true values. Every noisy number
// carries its privacy metadata.
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { MetricReport } from '../../../shared/core/simulate/report';
import { decompositionChart, errorDistributionChart, errorVsSizeChart, releaseComparisonChart, sloShareChart, vanishingCohortsTable } from '../../charts/specs';
import { Plot } from '../../charts/Plot';
import { fmt, Notice, pct, PrivacyBadge, Section } from '../../components/common';
import { simulatedRelease } from '../../model/release';
import { useWorkbench } from '../../store';
import type { CompletedRun } from '../../store/types';

function Stat(props: { label: string; value: ReactNode; sub?: ReactNode; testId?: string }): ReactNode {
  return (
    <div className="stat" data-testid={props.testId}>
      <div className="stat-value">{props.value}</div>
      <div className="stat-label">{props.label}</div>
      {props.sub ? <div className="stat-sub">{props.sub}</div> : null}
    </div>
  );
}

/** One plain-language sentence a reviewer can repeat. */
export function accuracySentence(m: MetricReport): string {
  const w = m.summary.withinShare.find((x) => Math.abs(x.x - 0.1) < 1e-9) ?? m.summary.withinShare[0];
  const released = m.summary.expectedReleased.mc;
  const parts = [
    `With ε = ${fmt(m.privacy.epsilon)} and δ = ${m.privacy.delta === 0 ? '0' : m.privacy.delta.toExponential(0)}, about ${fmt(released)} of ${fmt(m.summary.cohorts)} cohorts would be released`,
  ];
  if (w && w.mc !== null) parts.push(`${pct(w.mc, 0)} of all cohorts within ±${pct(w.x, 0)} of the true value`);
  if (m.summary.medianRelativeError !== null) parts.push(`a typical released cohort off by ${pct(m.summary.medianRelativeError)}`);
  return `${parts.join('; ')}.`;
}

function MetricResults(props: { run: CompletedRun; m: MetricReport }): ReactNode {
  const { run, m } = props;
  const release = useMemo(() => simulatedRelease(run.built, run.groupRuns, m.id).slice(0, 25), [run, m.id]);
  const specs = useMemo(() => ({
    decomposition: decompositionChart(m),
    distribution: errorDistributionChart(m),
    vsSize: errorVsSizeChart(m),
    slo: sloShareChart(m),
    release: releaseComparisonChart(release, { valueTitle: m.label ?? m.id }),
  }), [m, release]);
  const vanishing = useMemo(() => vanishingCohortsTable(m, 10), [m]);
  const s = m.summary;
  return (
    <>
      <Section title={m.label ?? m.id} hint={<>{m.kind}{m.by.length ? ` by ${m.by.join(' × ')}` : ''} · <PrivacyBadge epsilon={m.privacy.epsilon} delta={m.privacy.delta} confidence={m.privacy.confidence} /> · {run.report.run.trials.toLocaleString('en-US')} simulated trials, seed {run.report.run.seed}</>} testId="metric-results">
        <p className="sentence" data-testid="accuracy-sentence">{accuracySentence(m)}</p>
        <div className="stats">
          <Stat label="RMSE (simulated)" value={fmt(s.rmse.mc)} sub={<>analytic {fmt(s.rmse.analytic)}</>} testId="stat-rmse" />
          <Stat label="median relative error" value={pct(s.medianRelativeError)} />
          <Stat label="cohorts released" value={`${fmt(s.expectedReleased.mc)} / ${fmt(s.cohorts)}`} sub={<>analytic {fmt(s.expectedReleased.analytic)}</>} />
          <Stat label="value lost to suppression" value={pct(s.valueLostToSuppression.mc)} sub={<>analytic {pct(s.valueLostToSuppression.analytic)}</>} />
          <Stat label={`interval coverage (${Math.round(m.privacy.confidence * 100)}% stated)`} value={pct(s.coverage)} />
        </div>
        {m.exactShortcut ? <p className="hint">Bounds do not bind for {m.exactShortcut}: exact values were used (no clipping or dropped contributions).</p> : null}
        {s.analyticUnreliableCohorts > 0 ? <Notice kind="warn" title="Analytic model unreliable for some cohorts">{s.analyticUnreliableCohorts} cohort(s) have a noisy denominator: trust the simulated numbers there.</Notice> : null}
      </Section>
      <div className="grid-2">
        <Section title="Where the error comes from" hint="Mean squared error by source (analytic), with the simulated total.">
          <Plot testId="chart-decomposition" spec={specs.decomposition} />
        </Section>
        <Section title="Cohorts within ±x% (SLO)" hint="Share of all cohorts released with |relative error| ≤ x; a suppressed cohort counts as not within.">
          <Plot testId="chart-slo" spec={specs.slo} />
        </Section>
        <Section title="Error distribution" hint="Simulated error per cohort: 5th–95th percentile, and the median.">
          <Plot testId="chart-distribution" spec={specs.distribution} />
        </Section>
        <Section title="Error against cohort size" hint="Small cohorts have the largest relative error and are the first to be suppressed.">
          <Plot testId="chart-vs-size" spec={specs.vsSize} />
        </Section>
      </div>
      <div className="grid-2">
        <Section title="Cohorts most likely to vanish" hint="Lowest release probability in the simulation.">
          <table className="table" data-testid="vanishing">
            <thead><tr><th>Cohort</th><th className="num">True value</th><th className="num">P(released)</th></tr></thead>
            <tbody>{vanishing.map((v) => <tr key={v.label}><td>{v.label}</td><td className="num">{fmt(v.trueValue)}</td><td className="num">{pct(v.releaseProbability, 0)}</td></tr>)}</tbody>
          </table>
        </Section>
        <Section title="One simulated release (not real data)" hint={<>Trial 1 of the run, largest cohorts first. Simulated noise from a seeded PRNG: <b>not a release</b>. <PrivacyBadge epsilon={m.privacy.epsilon} delta={m.privacy.delta} /></>}>
          <Plot testId="chart-release" spec={specs.release} />
        </Section>
      </div>
    </>
  );
}

export function ResultsPage(): ReactNode {
  const runs = useWorkbench((s) => s.runs);
  const currentRunId = useWorkbench((s) => s.currentRunId);
  const selectRun = useWorkbench((s) => s.selectRun);
  const run = runs.find((r) => r.id === currentRunId) ?? runs[runs.length - 1];
  const [metricId, setMetricId] = useState<string | null>(null);
  if (!run) return <p className="hint">Run a simulation first.</p>;
  const metric = run.report.metrics.find((m) => m.id === metricId) ?? run.report.metrics[0];
  return (
    <div className="page" data-testid="page-results">
      <Section title="Simulation results" hint={<>{run.report.scale.description}. Errors are conditional on a cohort being released; suppression is reported separately.</>}
        actions={
          <select value={run.id} onChange={(e) => selectRun(Number(e.target.value))} aria-label="Run" data-testid="run-select">
            {runs.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
          </select>
        }>
        <div className="tabs" role="tablist" data-testid="metric-tabs">
          {run.report.metrics.map((m) => (
            <button key={m.id} role="tab" aria-selected={m.id === metric?.id} className={`tab${m.id === metric?.id ? ' active' : ''}`} onClick={() => setMetricId(m.id)} data-testid={`tab-${m.id}`}>{m.label ?? m.id}</button>
          ))}
        </div>
        {run.report.local.length > 0 ? <p className="hint">Local-DP metrics: {run.report.local.map((l) => `${l.label ?? l.id} (local ε ${fmt(l.privacy.localEpsilon)}, frequency RMSE ${fmt(l.summary.rmse.mc)})`).join('; ')}.</p> : null}
      </Section>
      {metric ? <MetricResults run={run} m={metric} /> : null}
      <Section title="Notes from the planner" hint="How the plan was built: budget split, public cohorts, shortcuts.">
        <ul className="notes">{run.report.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>
      </Section>
    </div>
  );
}
