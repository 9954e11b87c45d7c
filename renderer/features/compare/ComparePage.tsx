// Compare: the completed runs, pinned ones side by side (best cell of each row marked), and a
// privacy-against-error sweep of the current config over total ε with the analytic model, pinned
// runs placed on the same chart. The measures and Pareto marks are in compare-model.ts.
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { ContributionsResult } from '../../../shared/contracts/ipc';
import type { AnalysisConfig } from '../../../shared/core/config/schema';
import { paretoChart } from '../../charts/specs';
import { Plot } from '../../charts/Plot';
import { fmt, fmtDelta, Notice, pct, PrivacyBadge, Section } from '../../components/common';
import { PreviewModel } from '../../model/preview';
import { useWorkbench } from '../../store';
import type { CompletedRun } from '../../store/types';
import type { ErrorPoint, MeasureId, MetricCell } from './compare-model';
import { compareRows, markPareto, meanMedianRelativeError, MEASURES, runAnalyticError, runSimulatedError, SWEEP_EPSILONS } from './compare-model';

/** The sweep's own model: its caches (ε-independent plan structure, prepared statistics) serve every ε of a sweep. */
const sweepModel = new PreviewModel();
/** The last sweep, kept while the user visits other screens (the stale notice tells when the config moved on). */
let lastSweep: Sweep | null = null;

const ERROR_TITLE = 'mean over metrics of the median relative error (analytic)';
/** The chart's axis is short (Plotly does not wrap it): the title above says the rest. */
const CHART_TITLE = `Privacy against error: ${ERROR_TITLE}`;
const AXIS_TITLE = 'mean median rel. error, %';

interface SweepPoint {
  readonly epsilon: number;
  readonly error: number | null;
  readonly label: string;
  /** Why the model could not evaluate this ε, if it could not. */
  readonly failure: string | null;
}

interface Sweep {
  readonly config: AnalysisConfig;
  readonly contributions: ContributionsResult;
  readonly points: readonly SweepPoint[];
  readonly ms: number;
}

function runSweep(config: AnalysisConfig, contributions: ContributionsResult): Sweep {
  const t0 = performance.now();
  const grid = [...SWEEP_EPSILONS];
  const current = config.budget.epsilon;
  if (!grid.some((e) => Math.abs(e - current) < 1e-12)) grid.push(current);
  grid.sort((a, b) => a - b);
  const points = grid.map((epsilon): SweepPoint => {
    const label = Math.abs(epsilon - current) < 1e-12 ? `current config (ε ${fmt(epsilon)})` : `ε ${fmt(epsilon)}`;
    try {
      const p = sweepModel.evaluate({ ...config, budget: { ...config.budget, epsilon } }, contributions.contributions, contributions.units);
      return { epsilon, error: meanMedianRelativeError(p.metrics), label, failure: null };
    } catch (e) {
      return { epsilon, error: null, label, failure: e instanceof Error ? e.message : String(e) };
    }
  });
  return { config, contributions, points, ms: performance.now() - t0 };
}

function RunsTable(props: { runs: readonly CompletedRun[] }): ReactNode {
  const togglePin = useWorkbench((s) => s.togglePin);
  const selectRun = useWorkbench((s) => s.selectRun);
  const setScreen = useWorkbench((s) => s.setScreen);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="runs-table">
        <thead>
          <tr>
            <th>Pin</th><th>Run</th><th>ε total</th><th className="num">Trials</th><th>Seed</th>
            <th className="num" title="Mean over metrics of the median relative error over released cohorts (Monte-Carlo)">Simulated error</th>
            <th className="num">Time</th><th />
          </tr>
        </thead>
        <tbody>
          {props.runs.map((r) => (
            <tr key={r.id} className={r.pinned ? 'selected' : ''} data-testid={`run-${r.id}`}>
              <td><input type="checkbox" checked={r.pinned} onChange={() => togglePin(r.id)} aria-label={`pin ${r.label}`} data-testid={`pin-${r.id}`} /></td>
              <td>
                <div className="metric-name">{r.label}</div>
                <div className="muted small">{r.report.metrics.length} metric(s){r.report.local.length ? ` + ${r.report.local.length} local` : ''} · {r.report.scale.description}</div>
              </td>
              <td><PrivacyBadge epsilon={r.config.budget.epsilon} delta={r.config.budget.delta} title="Total privacy parameters of this run's release" /></td>
              <td className="num">{fmt(r.report.run.trials)}</td>
              <td><code>{r.report.run.seed}</code></td>
              <td className="num">{pct(runSimulatedError(r.report))}</td>
              <td className="num">{fmt(r.ms / 1000, 2)} s</td>
              <td><button className="link" onClick={() => { selectRun(r.id); setScreen('results'); }}>Results</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CellValue(props: { c: MetricCell | null; id: MeasureId }): ReactNode {
  const { c } = props;
  if (!c) return <span className="muted">not in run</span>;
  switch (props.id) {
    case 'epsilon': return <PrivacyBadge epsilon={c.epsilon} delta={c.delta} title="Privacy parameters this metric spends in this run" />;
    case 'rmse': return <>{fmt(c.rmse)}</>;
    case 'medianRelativeError': return <>{pct(c.medianRelativeError)}</>;
    case 'within': return <>{pct(c.within)}</>;
    case 'released': return <>{fmt(c.released)} / {fmt(c.cohorts)}</>;
    case 'valueLost': return <>{pct(c.valueLost)}</>;
  }
}

function CompareTable(props: { runs: readonly CompletedRun[] }): ReactNode {
  const { runs } = props;
  const rows = useMemo(() => compareRows(runs.map((r) => r.report)), [runs]);
  return (
    <div className="table-wrap scroll-x">
      <table className="table" data-testid="compare-table">
        <thead>
          <tr>
            <th>Metric</th><th>Measure</th>
            {runs.map((r) => (
              <th key={r.id} className="num">
                <div>{r.label}</div>
                <div className="muted small">ε {fmt(r.config.budget.epsilon)} · δ {fmtDelta(r.config.budget.delta)} · {fmt(r.report.run.trials)} trials</div>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={`${row.metricId}:${row.measure.id}`} data-testid={`compare-${row.metricId}-${row.measure.id}`}>
              {i === 0 || rows[i - 1]!.metricId !== row.metricId ? (
                <td rowSpan={MEASURES.length}>
                  <div className="metric-name">{row.label}</div>
                  <div className="muted small"><code>{row.metricId}</code></div>
                </td>
              ) : null}
              <td className="small" title={row.measure.hint}>{row.measure.title}</td>
              {row.cells.map((c, j) => (
                <td key={runs[j]!.id} className={`num${row.best[j] ? ' best' : ''}`} title={row.best[j] ? `best of the compared runs (${row.measure.better} is better)` : undefined} data-best={row.best[j] ? 'true' : undefined}>
                  <CellValue c={c} id={row.measure.id} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SweepSection(props: { pinned: readonly CompletedRun[] }): ReactNode {
  const config = useWorkbench((s) => s.config);
  const contributions = useWorkbench((s) => s.contributions);
  const key = useWorkbench((s) => s.contributionsKey);
  const busy = useWorkbench((s) => s.contributionsBusy);
  const [sweep, setSweepState] = useState<Sweep | null>(() => (lastSweep && config && lastSweep.config.dataset.path === config.dataset.path ? lastSweep : null));
  const setSweep = (next: Sweep): void => {
    lastSweep = next;
    setSweepState(next);
  };
  const [sweeping, setSweeping] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  // As usePreview: contributions of an older data definition are not swept.
  const ready = config !== null && contributions !== null && key !== null
    && config.metrics.every((m) => m.kind === 'ratio' || m.kind === 'local-frequency' || contributions.contributions[m.id] !== undefined);

  const start = (): void => {
    if (!ready || sweeping || config === null || contributions === null) return;
    setSweeping(true);
    setFailure(null);
    // Let the button show "Sweeping…" before the (synchronous) evaluations run.
    setTimeout(() => {
      try {
        setSweep(runSweep(config, contributions));
      } catch (e) {
        setFailure(e instanceof Error ? e.message : String(e));
      } finally {
        setSweeping(false);
      }
    }, 0);
  };

  const points = useMemo(() => {
    const all: ErrorPoint[] = (sweep?.points ?? []).map((p) => ({ epsilon: p.epsilon, error: p.error, label: p.label }));
    for (const r of props.pinned) all.push({ epsilon: r.config.budget.epsilon, error: runAnalyticError(r.report), label: r.label, pinned: true });
    return markPareto(all);
  }, [sweep, props.pinned]);
  // The chart in percent, as the table (the specs draw the number they are given).
  const spec = useMemo(() => paretoChart(points.map((p) => ({ ...p, error: p.error * 100 })), { title: CHART_TITLE, errorTitle: AXIS_TITLE }), [points]);
  const stale = sweep !== null && (sweep.config !== config || sweep.contributions !== contributions);
  const failures = sweep?.points.filter((p) => p.failure !== null) ?? [];

  return (
    <Section title="Privacy against error" testId="sweep"
      hint={<>The current config at total ε {SWEEP_EPSILONS.map((e) => fmt(e)).join(', ')} (every metric keeps its share, bounds and thresholds), with the analytic model; pinned runs are starred at their own settings. Error: {ERROR_TITLE}; local-DP metrics are not included.</>}
      actions={<button className="primary" onClick={start} disabled={!ready || sweeping} style={{ whiteSpace: 'nowrap' }} data-testid="sweep-epsilon">{sweeping ? 'Sweeping…' : 'Sweep ε'}</button>}>
      {!ready ? <p className="hint">{busy ? 'Reading contributions…' : config ? 'The sweep needs the data of every metric: it is read when the config changes.' : 'Load a dataset first.'}</p> : null}
      {failure ? <Notice kind="error" title="The sweep failed" testId="sweep-error">{failure}</Notice> : null}
      {failures.length > 0 ? (
        <Notice kind="warn" title="Some ε values could not be evaluated">{failures.map((p) => <div key={p.epsilon}>ε {fmt(p.epsilon)}: {p.failure}</div>)}</Notice>
      ) : null}
      {stale ? <Notice kind="info" title="The config has changed since this sweep">Sweep again to see the current settings.</Notice> : null}
      {points.length > 0 ? (
        <>
          <Plot testId="pareto-chart" spec={spec} height={440} />
          <div className="table-wrap">
            <table className="table compact" data-testid="sweep-table">
              <thead><tr><th>Setting</th><th className="num">ε total</th><th className="num">Error</th><th>Pareto-optimal</th></tr></thead>
              <tbody>
                {points.map((p, i) => (
                  <tr key={`${p.label}:${i}`}>
                    <td>{p.pinned ? '★ ' : ''}{p.label}</td>
                    <td className="num">{fmt(p.epsilon)}</td>
                    <td className="num">{pct(Number.isFinite(p.error) ? p.error : null)}</td>
                    <td>{p.pareto ? '✓' : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {sweep ? <p className="muted small">Swept in <span data-testid="sweep-ms">{sweep.ms.toFixed(0)}</span> ms. A setting is Pareto-optimal when no other has both a lower or equal ε and a lower or equal error (one strictly lower).</p> : null}
        </>
      ) : ready ? <p className="hint">Press “Sweep ε” to see how the error grows as ε gets smaller.</p> : null}
    </Section>
  );
}

export function ComparePage(): ReactNode {
  const runs = useWorkbench((s) => s.runs);
  const setScreen = useWorkbench((s) => s.setScreen);
  const pinned = useMemo(() => runs.filter((r) => r.pinned), [runs]);
  return (
    <div className="page" data-testid="page-compare">
      <Notice kind="info" title="For privacy reviewers">
        Lower ε means stronger privacy: the release reveals less about any one unit, and its numbers carry more noise.
        Every error here is an estimate, from the analytic model or a Monte-Carlo simulation on the sample, not a guarantee for the production release.
        The simulations draw their noise from a seeded pseudo-random generator so runs can be repeated; that generator is not fit to add noise to a real release.
      </Notice>
      <Section title="Runs" hint="Every completed simulation of this session. Pin runs to compare them side by side and to star them on the chart below."
        actions={runs.length === 0 ? <button onClick={() => setScreen('simulate')}>Go to Simulate</button> : undefined}>
        {runs.length === 0 ? <p className="hint">No runs yet: simulate a configuration first. The ε sweep below needs no run.</p> : <RunsTable runs={runs} />}
      </Section>
      {pinned.length > 0 ? (
        <Section title="Pinned runs side by side" hint={<>Simulated (Monte-Carlo) numbers per metric; the best value of each row is <span className="best">marked</span>{pinned.length < 2 ? ' once two or more runs are pinned' : ''}.</>}>
          <CompareTable runs={pinned} />
        </Section>
      ) : null}
      <SweepSection pinned={pinned} />
    </div>
  );
}
