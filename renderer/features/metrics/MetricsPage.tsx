// Metrics: the catalogue of what the release measures (kind, column, conditions, cohorts) with an
// editor for one metric, and the cohort dimensions metrics group by. The editor works on a draft
// in this screen's state: a refused save keeps the draft as typed, with the reasons beside it.
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { AnalysisConfig, Metric, MetricKind } from '../../../shared/core/config/schema';
import { fmt, Notice, pct, PrivacyBadge, Section } from '../../components/common';
import { usePreview } from '../../model/use-preview';
import { useWorkbench } from '../../store';
import type { ColumnTypes, DimensionDraft, FilterDraft, MetricDraft } from './metric-draft';
import {
  canGroup, describeMetric, dimensionNameFor, draftToDimension, draftToMetric, FILTER_OPS, makeRoomFor, metricsUsingDimension, METRIC_KINDS,
  metricToDraft, newMetricDraft, ratiosReferring, sharesInUse, withKind,
} from './metric-draft';

interface ColumnOption {
  readonly name: string;
  readonly type: string;
}

const isNumeric = (t: string | undefined): boolean => t === 'integer' || t === 'float';
const kindDescription = (k: MetricKind): string => METRIC_KINDS.find((x) => x.kind === k)?.description ?? '';

/** The dataset's columns with their types; without an open dataset, the config's type overrides. */
function useColumns(config: AnalysisConfig | null): { columns: readonly ColumnOption[]; types: ColumnTypes } {
  const dataset = useWorkbench((s) => s.dataset);
  return useMemo(() => {
    const columns: ColumnOption[] = dataset
      ? dataset.columns.map((c) => ({ name: c.name, type: c.type }))
      : Object.entries(config?.dataset.columns ?? {}).map(([name, type]) => ({ name, type }));
    return { columns, types: Object.fromEntries(columns.map((c) => [c.name, c.type])) as ColumnTypes };
  }, [dataset, config]);
}

/** A column select that also offers the current value when the dataset does not list it. */
function ColumnSelect(props: { value: string; columns: readonly ColumnOption[]; onChange: (c: string) => void; filter?: (c: ColumnOption) => boolean; testId?: string; label: string }): ReactNode {
  const shown = props.columns.filter(props.filter ?? (() => true));
  const missing = props.value !== '' && !shown.some((c) => c.name === props.value);
  return (
    <select value={props.value} onChange={(e) => props.onChange(e.target.value)} aria-label={props.label} data-testid={props.testId}>
      <option value="">choose…</option>
      {missing ? <option value={props.value}>{props.value} (not in the data)</option> : null}
      {shown.map((c) => <option key={c.name} value={c.name}>{c.name} ({c.type})</option>)}
    </select>
  );
}

function FilterRows(props: { rows: readonly FilterDraft[]; columns: readonly ColumnOption[]; onChange: (rows: FilterDraft[]) => void; testId: string; minRows?: number; addLabel?: string }): ReactNode {
  const { rows, columns } = props;
  const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
  const set = (i: number, patch: Partial<FilterDraft>): void => props.onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const min = props.minRows ?? 0;
  return (
    <div className="filters" data-testid={props.testId}>
      {rows.map((r, i) => {
        const list = r.op === 'in' || r.op === 'not-in';
        return (
          <div className="row" key={i} data-testid={`${props.testId}-${i}`}>
            <ColumnSelect value={r.column} columns={columns} onChange={(column) => set(i, { column })} label={`condition ${i + 1} column`} testId={`${props.testId}-${i}-column`} />
            <select value={r.op} onChange={(e) => set(i, { op: e.target.value as FilterDraft['op'] })} aria-label={`condition ${i + 1} operator`} data-testid={`${props.testId}-${i}-op`}>
              {FILTER_OPS.map((op) => <option key={op} value={op}>{op}</option>)}
            </select>
            <input type="text" value={r.value} onChange={(e) => set(i, { value: e.target.value })} aria-label={`condition ${i + 1} value`} data-testid={`${props.testId}-${i}-value`}
              placeholder={list ? 'a, b, c' : isNumeric(types[r.column]) ? 'a number' : 'value'} />
            <button className="link" onClick={() => props.onChange(rows.filter((_, j) => j !== i))} disabled={rows.length <= min} aria-label={`remove condition ${i + 1}`} title="Remove this condition">✕</button>
          </div>
        );
      })}
      <button onClick={() => props.onChange([...rows, { column: rows[rows.length - 1]?.column ?? columns.find((c) => c.type === 'string')?.name ?? '', op: '=', value: '' }])} data-testid={`${props.testId}-add`}>
        {props.addLabel ?? '+ condition'}
      </button>
    </div>
  );
}

function KindFields(props: { draft: MetricDraft; set: (patch: Partial<MetricDraft>) => void; columns: readonly ColumnOption[]; config: AnalysisConfig; previousId: string | null }): ReactNode {
  const { draft: d, set, columns, config } = props;
  switch (d.kind) {
    case 'sum':
    case 'mean':
      return (
        <div className="row gap">
          <label className="field">
            <span>Numeric column</span>
            <ColumnSelect value={d.column} columns={columns} filter={(c) => isNumeric(c.type)} onChange={(column) => set({ column })} label="numeric column" testId="metric-column" />
          </label>
          <label className="field">
            <span>Clamp: lowest value of a row</span>
            <input type="number" step="any" className="num-input" value={d.clampLow} onChange={(e) => set({ clampLow: e.target.value })} data-testid="clamp-low" />
          </label>
          <label className="field">
            <span>Clamp: highest value of a row</span>
            <input type="number" step="any" className="num-input" value={d.clampHigh} onChange={(e) => set({ clampHigh: e.target.value })} placeholder="required" data-testid="clamp-high" />
          </label>
          <span className="hint">Values outside the range are clipped to it; the noise grows with the range. Choose it from domain knowledge, not from this sample.</span>
        </div>
      );
    case 'ratio': {
      const parts = config.metrics.filter((m) => m.kind !== 'ratio' && m.kind !== 'local-frequency' && m.id !== props.previousId);
      const partSelect = (value: string, onChange: (id: string) => void, testId: string, label: string): ReactNode => (
        <select value={value} onChange={(e) => onChange(e.target.value)} aria-label={label} data-testid={testId}>
          <option value="">choose a metric…</option>
          {value !== '' && !parts.some((m) => m.id === value) ? <option value={value}>{value} (not a metric here)</option> : null}
          {parts.map((m) => <option key={m.id} value={m.id}>{m.label ?? m.id}{m.by.length ? ` (by ${m.by.join(' × ')})` : ''}</option>)}
        </select>
      );
      return (
        <div className="row gap">
          <label className="field">
            <span>Numerator</span>
            {/* A ratio's cohorts are its parts' cohorts: take the numerator's grouping. */}
            {partSelect(d.numerator, (numerator) => set({ numerator, by: config.metrics.find((m) => m.id === numerator)?.by ?? d.by }), 'metric-numerator', 'numerator')}
          </label>
          <label className="field">
            <span>Denominator</span>
            {partSelect(d.denominator, (denominator) => set({ denominator }), 'metric-denominator', 'denominator')}
          </label>
          <span className="hint">Both parts must group by the same dimensions as the ratio.</span>
        </div>
      );
    }
    case 'conversion':
      return (
        <div className="grid-2">
          <div>
            <h3>From: units with a row where…</h3>
            <FilterRows rows={d.from} columns={columns} onChange={(from) => set({ from })} testId="conversion-from" minRows={1} />
          </div>
          <div>
            <h3>To: …that also have a row where</h3>
            <FilterRows rows={d.to} columns={columns} onChange={(to) => set({ to })} testId="conversion-to" minRows={1} />
          </div>
        </div>
      );
    case 'funnel':
      return (
        <div data-testid="funnel-steps">
          {d.steps.map((step, i) => (
            <div key={i} style={{ borderLeft: '3px solid var(--line)', paddingLeft: 10, margin: '8px 0' }} data-testid={`funnel-step-${i}`}>
              <div className="row">
                <b>Step {i + 1}</b>
                <span className="muted small">{i === 0 ? 'units with a row where…' : '…that also reached the steps before and have a row where'}</span>
                <button className="link" onClick={() => set({ steps: d.steps.filter((_, j) => j !== i) })} disabled={d.steps.length <= 2} data-testid={`remove-step-${i}`} title={d.steps.length <= 2 ? 'A funnel needs at least two steps' : 'Remove this step'}>Remove step</button>
              </div>
              <FilterRows rows={step} columns={columns} onChange={(rows) => set({ steps: d.steps.map((s, j) => (j === i ? rows : s)) })} testId={`step-${i}`} minRows={1} />
            </div>
          ))}
          <button onClick={() => set({ steps: [...d.steps, [{ column: d.steps[d.steps.length - 1]?.[0]?.column ?? '', op: '=', value: '' }]] })} data-testid="add-step">+ step</button>
        </div>
      );
    case 'local-frequency':
      return (
        <div className="row gap">
          <label className="field">
            <span>Category column</span>
            <ColumnSelect value={d.column} columns={columns} onChange={(column) => set({ column })} label="category column" testId="metric-column" />
          </label>
          <label className="field grow">
            <span>Categories (public list, comma separated)</span>
            <input type="text" value={d.categories} onChange={(e) => set({ categories: e.target.value })} placeholder="ios, android, web" data-testid="metric-categories" />
          </label>
          <label className="field">
            <span>Other values report as (optional)</span>
            <input type="text" value={d.otherCategory} onChange={(e) => set({ otherCategory: e.target.value })} placeholder="one of the categories" data-testid="metric-other-category" />
          </label>
          <label className="field">
            <span>Local ε (per unit)</span>
            <input type="number" min={0} step="any" className="num-input" value={d.localEpsilon} onChange={(e) => set({ localEpsilon: e.target.value })} data-testid="metric-local-epsilon" />
          </label>
          <span className="hint">Each unit reports its most frequent category once, randomized on its own device: no central budget is spent and it cannot be grouped.</span>
        </div>
      );
    default:
      return null;
  }
}

function AccuracyLine(props: { metric: Metric }): ReactNode {
  const { preview, error } = usePreview();
  const busy = useWorkbench((s) => s.contributionsBusy);
  const m = props.metric;
  if (m.kind === 'local-frequency') {
    return <p className="hint" data-testid="metric-accuracy">Local DP: each unit’s answer is randomized with ε {fmt(m.privacy.localEpsilon)} on its device; no central budget. Its error is simulated on the Simulate screen.</p>;
  }
  const p = preview?.metrics.find((x) => x.id === m.id);
  if (!p) return <p className="hint" data-testid="metric-accuracy">{error ? `The expected accuracy cannot be computed: ${error}` : busy ? 'Reading contributions…' : 'The expected accuracy appears once the data for this metric is read.'}</p>;
  const within = p.withinShare.find((w) => Math.abs(w.x - 0.1) < 1e-9) ?? p.withinShare[0];
  return (
    <p className="hint" data-testid="metric-accuracy">
      Expected accuracy (analytic, as saved): <b>±{fmt(p.halfWidth)}</b> noise ({Math.round(p.confidence * 100)}%) · {pct(p.medianRelativeError)} median relative error · {pct(within?.share)} of cohorts within ±{pct(within?.x, 0)} · {fmt(p.expectedReleased)} / {fmt(p.cohorts)} cohorts released{' '}
      <PrivacyBadge epsilon={p.epsilon} delta={p.delta} confidence={p.confidence} />
    </p>
  );
}

interface EditorState {
  /** The metric being edited (null: a new one). */
  readonly previousId: string | null;
  readonly draft: MetricDraft;
  /** The draft as it was opened, to tell unsaved changes. */
  readonly base: string;
}

const open = (previousId: string | null, draft: MetricDraft): EditorState => ({ previousId, draft, base: JSON.stringify(draft) });

function MetricEditor(props: { config: AnalysisConfig; state: EditorState; onChange: (d: MetricDraft) => void; onSaved: () => void; columns: readonly ColumnOption[]; types: ColumnTypes }): ReactNode {
  const { config, state, columns, types } = props;
  const d = state.draft;
  const upsertMetric = useWorkbench((s) => s.upsertMetric);
  const setConfig = useWorkbench((s) => s.setConfig);
  const selectMetric = useWorkbench((s) => s.selectMetric);
  const configError = useWorkbench((s) => s.configError);
  // A refused save: the draft's own problems, or the config's (with a way to make room in the budget when that is the reason).
  const [problems, setProblems] = useState<{ draft: readonly string[] } | { config: true; room: { metric: Metric; config: AnalysisConfig } | null } | null>(null);
  const set = (patch: Partial<MetricDraft>): void => props.onChange({ ...d, ...patch });
  const parsed = useMemo(() => draftToMetric(d, types), [d, types]);
  const dirty = JSON.stringify(d) !== state.base;
  const saved = state.previousId !== null ? config.metrics.find((m) => m.id === state.previousId) : undefined;

  const save = (): void => {
    if (!parsed.ok) {
      setProblems({ draft: parsed.errors });
      return;
    }
    if (upsertMetric(parsed.metric, state.previousId ?? undefined)) {
      setProblems(null);
      props.onSaved();
    } else {
      const room = makeRoomFor(config, parsed.metric, state.previousId ?? undefined, useWorkbench.getState().locked);
      setProblems({ config: true, room: room ? { metric: parsed.metric, config: room } : null });
    }
  };
  const makeRoom = (room: { metric: Metric; config: AnalysisConfig }): void => {
    if (!setConfig(room.config)) return setProblems({ config: true, room: null });
    selectMetric(room.metric.id);
    setProblems(null);
    props.onSaved();
  };
  const otherShares = sharesInUse({ ...config, metrics: config.metrics.filter((m) => m.id !== state.previousId) });
  const toggleBy = (name: string, on: boolean): void => set({ by: on ? [...d.by, name] : d.by.filter((b) => b !== name) });

  return (
    <div data-testid="metric-editor">
      <div className="row gap">
        <label className="field">
          <span>Id (used in exports and by ratios)</span>
          <input type="text" value={d.id} onChange={(e) => set({ id: e.target.value })} data-testid="metric-id" />
        </label>
        <label className="field grow">
          <span>Label (what a reader sees)</span>
          <input type="text" value={d.label} onChange={(e) => set({ label: e.target.value })} placeholder={d.id} data-testid="metric-label" />
        </label>
      </div>
      <label className="field">
        <span>Kind</span>
        <select value={d.kind} onChange={(e) => props.onChange(withKind(d, e.target.value as MetricKind, types))} style={{ width: '100%' }} data-testid="metric-kind">
          {METRIC_KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.kind} — {k.description}</option>)}
        </select>
      </label>
      <p className="hint">{d.kind}: {kindDescription(d.kind)}.</p>
      <KindFields draft={d} set={set} columns={columns} config={config} previousId={state.previousId} />

      {canGroup(d.kind) ? (
        <fieldset className="field radio" data-testid="metric-by">
          <legend>Group by (cohorts)</legend>
          {config.dimensions.length === 0 ? <span className="muted small">No dimensions yet: add one under “Cohorts (dimensions)” below. Without one the metric is a single overall value.</span> : null}
          <div className="row gap">
            {config.dimensions.map((dim) => (
              <label key={dim.name}>
                <input type="checkbox" checked={d.by.includes(dim.name)} onChange={(e) => toggleBy(dim.name, e.target.checked)} data-testid={`by-${dim.name}`} /> {dim.name}
              </label>
            ))}
          </div>
        </fieldset>
      ) : null}

      <h3>Only rows where (optional)</h3>
      <FilterRows rows={d.filters} columns={columns} onChange={(filters) => set({ filters })} testId="metric-filters" addLabel="+ filter" />

      {d.kind !== 'local-frequency' && d.kind !== 'ratio' ? (
        <div className="row gap">
          <label className="field">
            <span>Share of the total budget</span>
            <input type="number" min={0.001} max={1} step={0.01} className="num-input" value={d.budgetShare} onChange={(e) => set({ budgetShare: e.target.value })} data-testid="metric-share" />
          </label>
          <span className="hint" data-testid="metric-share-left">
            {otherShares >= 1 - 1e-9 ? 'The other metrics use the whole budget. ' : `The other metrics use ${pct(otherShares, 0)} of the budget; ${pct(1 - otherShares, 0)} is free. `}
            {state.previousId === null
              ? 'A new metric starts with L0 = 1 cohort and L∞ = 1 row per unit; tune noise, bounds and thresholds on the Privacy screen.'
              : 'Noise, bounds and thresholds are tuned on the Privacy screen.'}
          </span>
        </div>
      ) : null}

      {parsed.ok ? <p className="sentence" data-testid="metric-sentence">{describeMetric(parsed.metric, config)}</p> : null}

      {problems && 'draft' in problems ? (
        <Notice kind="error" title="The metric was not saved" testId="metric-error">
          {problems.draft.map((e) => <div key={e}>{e}</div>)}
        </Notice>
      ) : null}
      {problems && 'config' in problems && configError ? (
        <Notice kind="error" title="The metric was not saved: the config would not be valid" testId="metric-error">
          {configError.split('\n').map((e) => <div key={e}>{e}</div>)}
          {problems.room ? (
            <div className="row gap">
              <button className="primary" onClick={() => makeRoom(problems.room!)} data-testid="make-room">Make room</button>
              <span className="small">Saves it and shrinks the other (unlocked) metrics’ shares in proportion, so all shares add up to the whole budget.</span>
            </div>
          ) : null}
        </Notice>
      ) : null}

      <div className="row gap">
        <button className="primary" onClick={save} data-testid="save-metric">Save metric</button>
        {dirty ? <span className="muted small" data-testid="metric-unsaved">Unsaved changes</span> : null}
        {state.previousId !== null && dirty && saved ? <button className="link" onClick={() => { setProblems(null); props.onChange(metricToDraft(saved)); }}>Revert</button> : null}
      </div>
      {saved ? <AccuracyLine metric={saved} /> : null}
    </div>
  );
}

function MetricList(props: { config: AnalysisConfig; activeId: string | null; onSelect: (id: string) => void; onDelete: (m: Metric) => void }): ReactNode {
  const { config } = props;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="metric-list">
        <thead><tr><th>Metric</th><th>Kind</th><th>By</th><th /></tr></thead>
        <tbody>
          {config.metrics.map((m) => (
            <tr key={m.id} className={m.id === props.activeId ? 'selected' : ''} onClick={() => props.onSelect(m.id)} style={{ cursor: 'pointer' }} data-testid={`metric-item-${m.id}`} aria-selected={m.id === props.activeId}>
              <td>
                <div className="metric-name">{m.label ?? m.id}</div>
                <div className="muted small"><code>{m.id}</code></div>
              </td>
              <td title={kindDescription(m.kind)}>{m.kind}</td>
              <td>{m.by.length ? m.by.join(' × ') : <span className="muted">overall</span>}</td>
              <td className="num">
                <button className="link" onClick={(e) => { e.stopPropagation(); props.onDelete(m); }} aria-label={`delete ${m.id}`} title="Delete this metric" data-testid={`delete-metric-${m.id}`}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const emptyDimension: DimensionDraft = { name: '', column: '', bucket: '', publicValues: '' };

function Dimensions(props: { config: AnalysisConfig; columns: readonly ColumnOption[]; types: ColumnTypes }): ReactNode {
  const { config, columns, types } = props;
  const setConfig = useWorkbench((s) => s.setConfig);
  const configError = useWorkbench((s) => s.configError);
  const [draft, setDraft] = useState<DimensionDraft>(emptyDimension);
  const [problems, setProblems] = useState<{ draft: readonly string[] } | { config: true } | null>(null);
  const isTimestamp = types[draft.column] === 'timestamp';
  const autoName = draft.column ? dimensionNameFor(draft.column, isTimestamp ? draft.bucket || 'day' : '') : '';

  const add = (): void => {
    const r = draftToDimension({ ...draft, name: draft.name.trim() || autoName, bucket: isTimestamp ? draft.bucket : '' }, types);
    if (!r.ok) return setProblems({ draft: r.errors });
    if (setConfig({ ...config, dimensions: [...config.dimensions, r.dimension] })) {
      setProblems(null);
      setDraft(emptyDimension);
    } else setProblems({ config: true });
  };
  const remove = (name: string): void => {
    if (setConfig({ ...config, dimensions: config.dimensions.filter((d) => d.name !== name) })) setProblems(null);
    else setProblems({ config: true });
  };

  return (
    <>
      <div className="table-wrap">
        <table className="table" data-testid="dimension-list">
          <thead><tr><th>Name</th><th>Column</th><th>Bucket</th><th className="num">Public values</th><th>Used by</th><th /></tr></thead>
          <tbody>
            {config.dimensions.map((d) => {
              const users = metricsUsingDimension(config, d.name);
              return (
                <tr key={d.name} data-testid={`dimension-${d.name}`}>
                  <td><b>{d.name}</b></td>
                  <td><code>{d.column}</code></td>
                  <td>{d.bucket ?? <span className="muted">–</span>}</td>
                  <td className="num" title={d.publicValues ? 'Cohorts on a public list are released without a threshold' : 'Cohorts are selected privately (a threshold)'}>{d.publicValues ? d.publicValues.length : <span className="muted">none</span>}</td>
                  <td className="small">{users.length ? users.join(', ') : <span className="muted">no metric</span>}</td>
                  <td className="num">
                    <button className="link" disabled={users.length > 0} onClick={() => remove(d.name)} title={users.length ? `Used by ${users.join(', ')}: ungroup those first` : 'Remove this dimension'} data-testid={`remove-dimension-${d.name}`}>Remove</button>
                  </td>
                </tr>
              );
            })}
            {config.dimensions.length === 0 ? <tr><td colSpan={6} className="muted">No dimensions: every metric is one overall value.</td></tr> : null}
          </tbody>
        </table>
      </div>
      <h3>Add a dimension</h3>
      <div className="row gap" data-testid="add-dimension-form">
        <label className="field">
          <span>Column</span>
          <ColumnSelect value={draft.column} columns={columns} filter={(c) => c.name !== config.privacyUnit.column && c.type !== 'other'} onChange={(column) => setDraft({ ...draft, column, bucket: types[column] === 'timestamp' ? draft.bucket || 'day' : '' })} label="dimension column" testId="dimension-column" />
        </label>
        {isTimestamp ? (
          <label className="field">
            <span>Time bucket</span>
            <select value={draft.bucket || 'day'} onChange={(e) => setDraft({ ...draft, bucket: e.target.value as 'day' | 'week' })} data-testid="dimension-bucket">
              <option value="day">day</option>
              <option value="week">week</option>
            </select>
          </label>
        ) : null}
        <label className="field">
          <span>Name (used in “group by”)</span>
          <input type="text" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} placeholder={autoName || 'name'} data-testid="dimension-name" />
        </label>
        <label className="field grow">
          <span>Public values (optional, comma separated)</span>
          <input type="text" value={draft.publicValues} onChange={(e) => setDraft({ ...draft, publicValues: e.target.value })} placeholder={isTimestamp ? '2024-09-02, 2024-09-03' : 'ios, android, web'} data-testid="dimension-public" />
        </label>
        <button onClick={add} disabled={draft.column === ''} data-testid="add-dimension">Add dimension</button>
      </div>
      <p className="hint">With a public list, every listed cohort is released (empty ones too) and no threshold is spent on choosing them; list only values known without looking at the data.</p>
      {problems && 'draft' in problems ? <Notice kind="error" title="The dimension was not added" testId="dimension-error">{problems.draft.map((e) => <div key={e}>{e}</div>)}</Notice> : null}
      {problems && 'config' in problems && configError ? <Notice kind="error" title="That change was not applied" testId="dimension-error">{configError.split('\n').map((e) => <div key={e}>{e}</div>)}</Notice> : null}
    </>
  );
}

export function MetricsPage(): ReactNode {
  const config = useWorkbench((s) => s.config);
  const selectedId = useWorkbench((s) => s.selectedMetricId);
  const selectMetric = useWorkbench((s) => s.selectMetric);
  const removeMetric = useWorkbench((s) => s.removeMetric);
  const setScreen = useWorkbench((s) => s.setScreen);
  const { columns, types } = useColumns(config);
  // null: the editor shows the selected metric as saved; set once the user edits or adds one.
  const [edit, setEdit] = useState<EditorState | null>(null);
  const [deleteRefused, setDeleteRefused] = useState<string | null>(null);
  if (!config) return <p className="hint">Load a dataset first.</p>;

  const selected = config.metrics.find((m) => m.id === selectedId) ?? config.metrics[0];
  const live = edit && (edit.previousId === null || config.metrics.some((m) => m.id === edit.previousId)) ? edit : null;
  const state: EditorState | null = live ?? (selected ? open(selected.id, metricToDraft(selected)) : null);
  const dirty = live !== null && JSON.stringify(live.draft) !== live.base;
  const leave = (): boolean => !dirty || window.confirm('Discard the unsaved changes to this metric?');

  const onSelect = (id: string): void => {
    if (state?.previousId === id || !leave()) return;
    selectMetric(id);
    setEdit(null);
  };
  const onAdd = (): void => {
    if (!leave()) return;
    setEdit(open(null, newMetricDraft(config, types)));
  };
  const onDelete = (m: Metric): void => {
    const refs = ratiosReferring(config, m.id);
    if (refs.length > 0) return setDeleteRefused(`${m.id} is the numerator or denominator of ${refs.join(', ')}: delete or change those first.`);
    if (config.metrics.length <= 1) return setDeleteRefused('An analysis needs at least one metric: add another before deleting this one.');
    if (!window.confirm(`Delete the metric “${m.label ?? m.id}”?`)) return;
    setDeleteRefused(null);
    removeMetric(m.id);
    if (useWorkbench.getState().config?.metrics.some((x) => x.id === m.id)) setDeleteRefused(useWorkbench.getState().configError ?? `${m.id} could not be deleted.`);
    else if (edit?.previousId === m.id) setEdit(null);
  };

  return (
    <div className="page" data-testid="page-metrics">
      <Section title="Metrics" hint="What the release measures. Each metric is computed per cohort of the dimensions it groups by, and spends a share of the privacy budget."
        actions={<button className="primary" onClick={() => setScreen('privacy')} style={{ whiteSpace: 'nowrap' }} data-testid="to-privacy">Next: privacy →</button>}>
        <div className="grid-2">
          <div>
            <MetricList config={config} activeId={state?.previousId ?? null} onSelect={onSelect} onDelete={onDelete} />
            <div className="row gap">
              <button onClick={onAdd} data-testid="add-metric">Add metric</button>
              {state?.previousId === null ? <span className="muted small">Editing a new metric</span> : null}
            </div>
            {deleteRefused ? <Notice kind="error" title="Not deleted" onDismiss={() => setDeleteRefused(null)} testId="delete-error">{deleteRefused}</Notice> : null}
          </div>
          <div>
            <h3>{state?.previousId === null ? 'New metric' : `Edit ${state ? (config.metrics.find((m) => m.id === state.previousId)?.label ?? state.previousId) : ''}`}</h3>
            {state ? (
              <MetricEditor key={state.previousId ?? `new:${state.base}`} config={config} state={state} columns={columns} types={types}
                onChange={(draft) => setEdit({ ...state, draft })} onSaved={() => setEdit(null)} />
            ) : <p className="hint">No metric yet: add one.</p>}
          </div>
        </div>
      </Section>
      <Section title="Cohorts (dimensions)" hint="The columns metrics can group by. A cohort is one value (or one day or week) of the dimensions a metric groups by; small cohorts are suppressed unless their values are public." testId="dimensions">
        <Dimensions config={config} columns={columns} types={types} />
      </Section>
    </div>
  );
}
