// Data: open a file or a bundled sample; its schema and first rows; the privacy unit; and how much
// each unit contributes (the contribution profile the bounds are chosen from).
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { profileContributions } from '../../../shared/core/data/profile';
import { contributionHistogramChart } from '../../charts/specs';
import { Plot } from '../../charts/Plot';
import { droppedShare } from '../../model/bounds';
import { Busy, errorTitle, fmt, Notice, Section } from '../../components/common';
import { useWorkbench } from '../../store';

function SamplePicker(): ReactNode {
  const samples = useWorkbench((s) => s.samples);
  const openSample = useWorkbench((s) => s.openSample);
  const busy = useWorkbench((s) => s.datasetBusy);
  const [choice, setChoice] = useState<Record<string, string>>({});
  return (
    <div className="sample-grid" data-testid="samples">
      {samples.map((s) => (
        <div className="sample" key={s.id} data-testid={`sample-${s.id}`}>
          <div className="sample-title">{s.title}</div>
          <p className="hint">{s.description}</p>
          {s.configs.length > 0 ? (
            <label className="field">
              <span>Example analysis</span>
              <select value={choice[s.id] ?? s.configs[0]!.id} onChange={(e) => setChoice({ ...choice, [s.id]: e.target.value })}>
                {s.configs.map((c) => <option key={c.id} value={c.id}>{c.title}</option>)}
              </select>
            </label>
          ) : <p className="hint">A starter analysis is made from its columns.</p>}
          <button className="primary" disabled={busy !== null} onClick={() => void openSample(s.id, choice[s.id] ?? s.configs[0]?.id)} data-testid={`open-sample-${s.id}`}>Open sample</button>
        </div>
      ))}
      {samples.length === 0 ? <p className="hint">No bundled samples found.</p> : null}
    </div>
  );
}

/** Loads an analysis config (JSON) for the open dataset: what pipeline teams keep in git. */
function OpenConfig(): ReactNode {
  const dataset = useWorkbench((s) => s.dataset);
  const setConfig = useWorkbench((s) => s.setConfig);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState<string | null>(null);
  const onFile = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    setError(null);
    setLoaded(null);
    let json: unknown;
    try {
      json = JSON.parse(await file.text());
    } catch (e) {
      return setError(`${file.name} is not valid JSON: ${(e as Error).message}`);
    }
    if (setConfig(json)) setLoaded(file.name);
    else setError(`${file.name} is not a valid analysis config:\n${useWorkbench.getState().configError ?? ''}`);
  };
  return (
    <div className="open-config">
      <label className="file-label">
        <span>Open an analysis config (JSON)…</span>
        <input type="file" accept=".json,application/json" disabled={!dataset} onChange={(e) => void onFile(e.target.files?.[0])} data-testid="config-file-input" />
      </label>
      {!dataset ? <span className="muted small">open a dataset first: the config is applied to it</span> : null}
      {loaded ? <span className="muted small" data-testid="config-loaded">{loaded} applied to {dataset?.name}</span> : null}
      {error ? <Notice kind="error" title="Config not applied" testId="config-error">{error}</Notice> : null}
    </div>
  );
}

function OpenFile(): ReactNode {
  const chooseFile = useWorkbench((s) => s.chooseFile);
  const openPath = useWorkbench((s) => s.openPath);
  const busy = useWorkbench((s) => s.datasetBusy);
  const [path, setPath] = useState('');
  return (
    <div className="open-file">
      <button onClick={() => void chooseFile()} disabled={busy !== null} data-testid="choose-file">Open a data file…</button>
      <span className="muted">CSV, TSV, NDJSON, JSON, Parquet or Arrow (gzip too)</span>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); if (path.trim()) void openPath(path.trim()); }}>
        <input type="text" placeholder="…or a path on this machine" value={path} onChange={(e) => setPath(e.target.value)} aria-label="Data file path" data-testid="path-input" />
        <button type="submit" disabled={busy !== null || path.trim() === ''}>Open path</button>
      </form>
    </div>
  );
}

function Schema(): ReactNode {
  const ds = useWorkbench((s) => s.dataset)!;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="schema">
        <thead><tr><th>Column</th><th>Type</th><th className="num">Distinct (≈)</th><th className="num">Missing</th><th>Examples</th></tr></thead>
        <tbody>
          {ds.columns.map((c) => (
            <tr key={c.name}>
              <td><code>{c.name}</code>{ds.unitCandidates[0] === c.name ? <span className="tag">unit?</span> : null}</td>
              <td>{c.type}</td>
              <td className="num">{fmt(c.distinct)}</td>
              <td className="num">{fmt(c.nulls)}</td>
              <td className="muted ellipsis">{c.examples.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Preview(): ReactNode {
  const ds = useWorkbench((s) => s.dataset)!;
  return (
    <div className="table-wrap scroll-x">
      <table className="table compact" data-testid="preview">
        <thead><tr>{ds.columns.map((c) => <th key={c.name}>{c.name}</th>)}</tr></thead>
        <tbody>
          {ds.preview.map((row, i) => <tr key={i}>{row.map((v, j) => <td key={j}>{v === null ? <span className="muted">∅</span> : String(v)}</td>)}</tr>)}
        </tbody>
      </table>
    </div>
  );
}

function Unit(): ReactNode {
  const ds = useWorkbench((s) => s.dataset)!;
  const config = useWorkbench((s) => s.config);
  const setUnit = useWorkbench((s) => s.setUnit);
  if (!config) return null;
  const options = [...new Set([...ds.unitCandidates, ...ds.columns.map((c) => c.name)])];
  return (
    <div className="row gap">
      <label className="field">
        <span>Privacy unit column</span>
        <select value={config.privacyUnit.column} onChange={(e) => setUnit(e.target.value, config.privacyUnit.kind)} data-testid="unit-column">
          {options.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      </label>
      <fieldset className="field radio">
        <legend>The unit is</legend>
        <label><input type="radio" checked={config.privacyUnit.kind === 'user'} onChange={() => setUnit(config.privacyUnit.column, 'user')} /> a person (user)</label>
        <label><input type="radio" checked={config.privacyUnit.kind === 'device'} onChange={() => setUnit(config.privacyUnit.column, 'device')} /> a device (weaker: a person with several devices is protected less)</label>
      </fieldset>
    </div>
  );
}

function Profile(): ReactNode {
  const config = useWorkbench((s) => s.config);
  const contributions = useWorkbench((s) => s.contributions);
  const busy = useWorkbench((s) => s.contributionsBusy);
  const error = useWorkbench((s) => s.contributionsError);
  // Rows per unit tell most about L∞: a count grouped by a cohort first, then any grouped metric.
  const has = (id: string): boolean => contributions?.contributions[id] !== undefined;
  const metric = config?.metrics.find((m) => has(m.id) && m.kind === 'count' && m.by.length > 0)
    ?? config?.metrics.find((m) => has(m.id) && m.by.length > 0)
    ?? config?.metrics.find((m) => has(m.id));
  const profile = useMemo(() => {
    const c = metric ? contributions?.contributions[metric.id] : undefined;
    const p = metric && metric.kind !== 'local-frequency' && metric.kind !== 'ratio' ? metric.privacy : undefined;
    return c ? profileContributions(c, p ? { bounds: { l0: [p.maxPartitionsContributed], linf: [p.maxContributionsPerPartition] } } : {}) : null;
  }, [metric, contributions]);
  if (error) return <Notice kind="error" title={errorTitle(error.code)} testId="contributions-error">{error.message}</Notice>;
  if (busy && !profile) return <Busy label="Reading contributions per unit…" />;
  if (!profile || !metric || !config) return <p className="hint">Define a metric to see how much each unit contributes.</p>;
  const l0 = metric.kind !== 'local-frequency' ? metric.privacy.maxPartitionsContributed : undefined;
  const linf = metric.kind !== 'local-frequency' ? metric.privacy.maxContributionsPerPartition : undefined;
  const dropAt = (cands: Parameters<typeof droppedShare>[0], b: number | undefined): number | undefined => droppedShare(cands, b);
  return (
    <div>
      <p className="hint">
        Metric <b>{metric.label ?? metric.id}</b>: {fmt(profile.units)} units, {fmt(profile.partitions)} cohorts, {fmt(profile.rows)} rows.
        Median unit is in {fmt(profile.l0.quantiles['0.5'])} cohort(s) (99th percentile {fmt(profile.l0.quantiles['0.99'])}, max {fmt(profile.l0.max)}).
      </p>
      <div className="grid-2">
        <Plot testId="profile-l0" spec={contributionHistogramChart(profile.l0.histogram, { title: 'Cohorts per unit (L0)', xTitle: 'cohorts a unit appears in', integerValues: true, ...(l0 !== undefined ? { bound: l0 } : {}), ...(dropAt(profile.candidates.l0, l0) !== undefined ? { droppedShare: dropAt(profile.candidates.l0, l0)! } : {}) })} />
        <Plot testId="profile-linf" spec={contributionHistogramChart(profile.linf.histogram, { title: 'Rows per unit per cohort (L∞)', xTitle: 'rows of one unit in one cohort', integerValues: true, ...(linf !== undefined ? { bound: linf } : {}), ...(dropAt(profile.candidates.linf, linf) !== undefined ? { droppedShare: dropAt(profile.candidates.linf, linf)! } : {}) })} />
      </div>
    </div>
  );
}

export function DataPage(): ReactNode {
  const dataset = useWorkbench((s) => s.dataset);
  const busy = useWorkbench((s) => s.datasetBusy);
  const error = useWorkbench((s) => s.datasetError);
  const cancel = useWorkbench((s) => s.cancelDataset);
  const setScreen = useWorkbench((s) => s.setScreen);
  return (
    <div className="page" data-testid="page-data">
      <Section title="Load a sample of your event data" hint="Pilot offline on a sample: nothing leaves this machine.">
        <OpenFile />
        {busy ? <Busy label={busy} onCancel={cancel} testId="dataset-busy" /> : null}
        {error ? <Notice kind="error" title={errorTitle(error.code)} testId="dataset-error">{error.message}</Notice> : null}
        <h3>Bundled samples</h3>
        <SamplePicker />
      </Section>
      {dataset ? (
        <>
          <Section title={`${dataset.name}`} hint={`${dataset.format.toUpperCase()} · ${dataset.rows.toLocaleString('en-US')} rows · ${dataset.columns.length} columns · read in ${fmt(dataset.loadMs / 1000, 2)} s`} testId="dataset-summary"
            actions={<button className="primary" onClick={() => setScreen('metrics')} data-testid="to-metrics">Next: metrics →</button>}>
            {dataset.warnings.length > 0 ? <Notice kind="warn" title="Warnings">{dataset.warnings.join(' · ')}</Notice> : null}
            <Unit />
            <OpenConfig />
            <h3>Columns</h3>
            <Schema />
            <h3>First rows</h3>
            <Preview />
          </Section>
          <Section title="Contribution profile" hint="How much one unit contributes: the bounds (L0, L∞, clamp) cut the tail of these histograms, and the noise scales with them.">
            <Profile />
          </Section>
        </>
      ) : null}
    </div>
  );
}
