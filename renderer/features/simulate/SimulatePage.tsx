// Simulate: trials and seed, a progress bar with cancel, partial results as they converge (next to
// the analytic model), then on to the results.
import type { ReactNode } from 'react';
import { Busy, fmt, Notice, PrivacyBadge, Section } from '../../components/common';
import { usePreview } from '../../model/use-preview';
import { useWorkbench } from '../../store';
import { workerCount } from '../../store/simulation';

export function SimulatePage(): ReactNode {
  const config = useWorkbench((s) => s.config);
  const contributions = useWorkbench((s) => s.contributions);
  const trials = useWorkbench((s) => s.trials);
  const seed = useWorkbench((s) => s.seed);
  const setTrials = useWorkbench((s) => s.setTrials);
  const setSeed = useWorkbench((s) => s.setSeed);
  const status = useWorkbench((s) => s.simStatus);
  const progress = useWorkbench((s) => s.simProgress);
  const partial = useWorkbench((s) => s.simPartial);
  const error = useWorkbench((s) => s.simError);
  const start = useWorkbench((s) => s.startSimulation);
  const cancel = useWorkbench((s) => s.cancelSimulation);
  const runs = useWorkbench((s) => s.runs);
  const setScreen = useWorkbench((s) => s.setScreen);
  const busy = useWorkbench((s) => s.contributionsBusy);
  const { preview, error: previewError } = usePreview();
  if (!config) return <p className="hint">Load a dataset first.</p>;
  const running = status === 'running';
  const last = runs[runs.length - 1];
  return (
    <div className="page" data-testid="page-simulate">
      <Section title="Monte-Carlo simulation" hint={<>Each trial runs the whole release on the sample: contribution bounding, noise, cohort selection, post-processing. Noise comes from a fast <b>seeded</b> PRNG (xoshiro128**): right for planning, never for a real release.</>}>
        <div className="row gap">
          <label className="field">
            <span>Trials</span>
            <select value={String(trials)} onChange={(e) => setTrials(Number(e.target.value))} disabled={running} data-testid="trials">
              {[...new Set([100, 500, 1000, 2000, 5000, 10000, trials])].sort((a, b) => a - b).map((n) => <option key={n} value={n}>{n.toLocaleString('en-US')}</option>)}
            </select>
          </label>
          <label className="field">
            <span>Seed (same seed, same results)</span>
            <input type="text" value={seed} onChange={(e) => setSeed(e.target.value)} disabled={running} data-testid="seed" />
          </label>
          <div className="field">
            <span>&nbsp;</span>
            <button className="primary" onClick={() => void start()} disabled={running || !contributions || busy || preview === null} data-testid="run-simulation">Run {trials.toLocaleString('en-US')} trials</button>
          </div>
          <div className="field">
            <span>&nbsp;</span>
            <span className="muted">{workerCount()} worker{workerCount() > 1 ? 's' : ''} · total <PrivacyBadge epsilon={config.budget.epsilon} delta={config.budget.delta} /></span>
          </div>
        </div>
        {previewError ? <Notice kind="error" title="These settings cannot be simulated">{previewError}</Notice> : null}
        {running && progress ? (
          <Busy label={`Trial ${progress.trialsDone.toLocaleString('en-US')} of ${progress.trialCount.toLocaleString('en-US')}${progress.groups > 1 ? ` (cohort grouping ${progress.group + 1} of ${progress.groups})` : ''}`} fraction={progress.trialCount > 0 ? progress.trialsDone / progress.trialCount : null} onCancel={cancel} testId="sim-progress" />
        ) : null}
        {status === 'cancelled' ? <Notice kind="info" title="Simulation cancelled" testId="sim-cancelled">No results were kept from the cancelled run. Run again when ready.</Notice> : null}
        {status === 'error' && error ? <Notice kind="error" title="The simulation failed" testId="sim-error">{error}</Notice> : null}
        {status === 'done' && last ? (
          <Notice kind="info" title={`${last.label} finished in ${fmt(last.ms / 1000, 2)} s`} testId="sim-done">
            <button className="primary" onClick={() => setScreen('results')} data-testid="to-results">See the results →</button>
          </Notice>
        ) : null}
      </Section>
      <Section title={running ? 'Results so far (they converge as trials accumulate)' : 'Expected error per metric'} hint="Root-mean-square error over all cohorts (a suppressed cohort counts its whole true value): the Monte-Carlo estimate beside the analytic model. † the analytic model is unreliable for this metric (a noisy denominator makes the ratio heavy-tailed): trust the simulation.">
        <table className="table" data-testid="partial-table">
          <thead><tr><th>Metric</th><th>Privacy</th><th className="num">Analytic RMSE</th><th className="num">Simulated RMSE</th><th className="num">Trials</th></tr></thead>
          <tbody>
            {(preview?.metrics ?? []).map((p) => {
              const row = partial?.find((r) => r.metricId === p.id);
              const done = last && !running ? last.report.metrics.find((m) => m.id === p.id) : undefined;
              return (
                <tr key={p.id}>
                  <td>{p.label}</td>
                  <td><PrivacyBadge epsilon={p.epsilon} delta={p.delta} confidence={p.confidence} /></td>
                  <td className="num" title={p.unreliableCohorts > 0 ? `${p.unreliableCohorts} cohort(s) have a noisy denominator: the delta method understates the error` : undefined}>{fmt(p.rmse)}{p.unreliableCohorts > 0 ? <span className="warn-mark" data-testid={`unreliable-${p.id}`}> †</span> : null}</td>
                  <td className="num">{running ? fmt(row?.rmse) : fmt(done?.summary.rmse.mc)}</td>
                  <td className="num">{running ? fmt(row?.trialsDone) : done ? fmt(last!.report.run.trials) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
