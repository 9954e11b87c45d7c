// The app shell: the pilot's steps in a sidebar, one screen per step, the current dataset and
// budget in the header, errors from the services as readable notices (never a blank screen).
import { Component, useEffect } from 'react';
import type { ErrorInfo, ReactNode } from 'react';
import { getBridge } from '../bridge';
import { Notice, PrivacyBadge } from '../components/common';
import { ComparePage } from '../features/compare/ComparePage';
import { DataPage } from '../features/data/DataPage';
import { MetricsPage } from '../features/metrics/MetricsPage';
import { PrivacyPage } from '../features/privacy/PrivacyPage';
import { ResultsPage } from '../features/results/ResultsPage';
import { ReviewPage } from '../features/review/ReviewPage';
import { SimulatePage } from '../features/simulate/SimulatePage';
import { useWorkbench } from '../store';
import type { Screen } from '../store/types';
import { SCREENS } from '../store/types';

class ErrorBoundary extends Component<{ children: ReactNode; screen: string }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }
  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('screen failed', error, info.componentStack);
  }
  override componentDidUpdate(prev: { screen: string }): void {
    if (prev.screen !== this.props.screen && this.state.error) this.setState({ error: null });
  }
  override render(): ReactNode {
    if (this.state.error) {
      return (
        <Notice kind="error" title="This screen could not be drawn" testId="screen-error">
          {this.state.error.message}. Your analysis is kept: go to another step, or change the last setting.
        </Notice>
      );
    }
    return this.props.children;
  }
}

function Page({ screen }: { screen: Screen }): ReactNode {
  switch (screen) {
    case 'data': return <DataPage />;
    case 'metrics': return <MetricsPage />;
    case 'privacy': return <PrivacyPage />;
    case 'simulate': return <SimulatePage />;
    case 'results': return <ResultsPage />;
    case 'compare': return <ComparePage />;
    case 'review': return <ReviewPage />;
  }
}

function stepReady(screen: Screen, s: ReturnType<typeof useWorkbench.getState>): boolean {
  if (screen === 'data') return true;
  if (screen === 'results') return s.runs.length > 0;
  if (screen === 'compare') return s.runs.length > 0 || s.contributions !== null;
  if (screen === 'review') return true;
  return s.dataset !== null && s.config !== null;
}

export function App(): ReactNode {
  const state = useWorkbench();
  const { screen, setScreen, notice, dismissNotice, dataset, config } = state;
  const loadSamples = useWorkbench((s) => s.loadSamples);
  const ensureContributions = useWorkbench((s) => s.ensureContributions);

  useEffect(() => {
    void loadSamples();
    const off = getBridge().onMenuCommand?.((cmd) => {
      if (cmd === 'open-dataset') void useWorkbench.getState().chooseFile();
      else useWorkbench.getState().setScreen(cmd.slice(3) as Screen);
    });
    return off;
  }, [loadSamples]);

  useEffect(() => {
    void ensureContributions();
  }, [dataset, config, ensureContributions]);

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Pilot steps">
        <div className="brand">
          <span className="brand-mark">ε</span>
          <div>
            <div className="brand-name">DP Workbench</div>
            <div className="brand-sub">privacy pilot, offline</div>
          </div>
        </div>
        <ol className="steps">
          {SCREENS.map((s, i) => {
            const ready = stepReady(s.id, state);
            return (
              <li key={s.id}>
                <button className={`step${screen === s.id ? ' active' : ''}`} disabled={!ready} onClick={() => setScreen(s.id)} data-testid={`nav-${s.id}`} aria-current={screen === s.id ? 'page' : undefined}>
                  <span className="step-n">{i + 1}</span>
                  <span>
                    <span className="step-title">{s.title}</span>
                    <span className="step-hint">{s.hint}</span>
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
        <p className="sidebar-foot">Simulated noise uses a seeded PRNG: results here are for planning, never a real release.</p>
      </nav>
      <main className="main">
        <header className="topbar">
          <div className="topbar-title">
            <h1>{config?.name ?? 'No analysis yet'}</h1>
            <div className="topbar-sub">
              {dataset ? <span data-testid="dataset-name">{dataset.name} · {dataset.rows.toLocaleString('en-US')} rows</span> : <span>Start by loading a sample</span>}
              {config ? <span> · unit: <b>{config.privacyUnit.column}</b> ({config.privacyUnit.kind === 'device' ? 'device: weaker than a person' : 'person'})</span> : null}
            </div>
          </div>
          {config ? (
            <div className="topbar-budget">
              total budget <PrivacyBadge epsilon={config.budget.epsilon} delta={config.budget.delta} title="Total privacy budget of the release (all metrics together)" />
              <span className="muted"> · {config.budget.accountant} accountant</span>
            </div>
          ) : null}
        </header>
        {notice ? <Notice kind={notice.kind} title={notice.title} onDismiss={dismissNotice} testId="app-notice">{notice.message}</Notice> : null}
        <ErrorBoundary screen={screen}>
          <Page screen={screen} />
        </ErrorBoundary>
      </main>
    </div>
  );
}
