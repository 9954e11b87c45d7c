// Small shared pieces: privacy metadata badges, number formatting, notices, busy bars.
import type { ReactNode } from 'react';

/** Compact number: 1234 → "1,234", 0.01234 → "0.0123", 1.2e6 → "1.2M". */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toPrecision(digits)}M`;
  if (a >= 1e4) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a === 0) return '0';
  return Number(x.toPrecision(digits)).toString();
}

export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

export function fmtDelta(d: number): string {
  return d === 0 ? '0' : d.toExponential(1).replace('.0e', 'e').replace('e-', 'e−');
}

/** The privacy metadata every noisy number carries: ε, δ and the confidence level of its interval. */
export function PrivacyBadge(props: { epsilon: number; delta: number; confidence?: number; title?: string }): ReactNode {
  return (
    <span className="privacy-badge" title={props.title ?? 'Privacy parameters of this number (and the confidence level of its error interval)'} data-testid="privacy-badge">
      ε {fmt(props.epsilon, 3)} · δ {fmtDelta(props.delta)}
      {props.confidence !== undefined ? ` · ${Math.round(props.confidence * 100)}% CI` : ''}
    </span>
  );
}

export function Notice(props: { kind: 'error' | 'info' | 'warn'; title?: string; children: ReactNode; onDismiss?: () => void; testId?: string }): ReactNode {
  return (
    <div className={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'} data-testid={props.testId}>
      <div>
        {props.title ? <strong>{props.title}</strong> : null}
        <div className="notice-body">{props.children}</div>
      </div>
      {props.onDismiss ? <button className="link" onClick={props.onDismiss} aria-label="Dismiss">✕</button> : null}
    </div>
  );
}

export function Busy(props: { label: string; fraction?: number | null; onCancel?: () => void; testId?: string }): ReactNode {
  const f = props.fraction;
  return (
    <div className="busy" data-testid={props.testId ?? 'busy'}>
      <div className="busy-label">{props.label}</div>
      <div className={`progress${f === null || f === undefined ? ' indeterminate' : ''}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={f === null || f === undefined ? undefined : Math.round(f * 100)}>
        <div className="progress-fill" style={{ width: f === null || f === undefined ? '30%' : `${Math.round(f * 100)}%` }} />
      </div>
      {props.onCancel ? <button onClick={props.onCancel} data-testid="cancel">Cancel</button> : null}
    </div>
  );
}

export function Section(props: { title: string; hint?: ReactNode; children: ReactNode; actions?: ReactNode; testId?: string }): ReactNode {
  return (
    <section className="card" data-testid={props.testId}>
      <header className="card-head">
        <div>
          <h2>{props.title}</h2>
          {props.hint ? <p className="hint">{props.hint}</p> : null}
        </div>
        {props.actions ? <div className="card-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

/** Plain-language words for an error code from the services. */
export function errorTitle(code: string): string {
  switch (code) {
    case 'DataError': return 'The data file could not be read';
    case 'ConfigError': return 'The analysis config is not valid';
    case 'InvalidParameter': return 'A parameter is out of range';
    case 'NotFound': return 'Not found';
    case 'Cancelled': return 'Cancelled';
    case 'Forbidden': return 'The host refused the request';
    case 'NotSupported': return 'Not supported here';
    default: return 'Something went wrong';
  }
}
