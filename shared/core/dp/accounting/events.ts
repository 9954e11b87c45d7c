// Privacy events: plain serialisable data describing what was released (dp_accounting's DpEvent
// idea). Accountants interpret them; events know nothing about accounting. Sensitivity is 1 unless
// an event says otherwise; `count` is the number of identical releases (default 1).

import { DpError, requireDelta, requireInteger, requirePositive } from '../../errors';

export type DpEvent =
  /** Laplace noise: give `epsilon` (then scale = sensitivity/epsilon) or `scale`. */
  | { kind: 'laplace'; epsilon?: number; scale?: number; sensitivity?: number; count?: number }
  /** Gaussian noise with standard deviation `sigma`; `sensitivity` is the L2 sensitivity. */
  | { kind: 'gaussian'; sigma: number; sensitivity?: number; count?: number }
  /** Discrete Laplace (two-sided geometric) with P(k) ∝ exp(−|k|/scale); or `epsilon` (scale = sensitivity/epsilon). Integer sensitivity. */
  | { kind: 'discrete-laplace'; epsilon?: number; scale?: number; sensitivity?: number; count?: number }
  /** Discrete Gaussian N_Z(0, sigma²) (Canonne, Kamath, Steinke 2020); integer L2 sensitivity. */
  | { kind: 'discrete-gaussian'; sigma: number; sensitivity?: number; count?: number }
  /** k-ary randomized response with parameter epsilon (local DP, replace-one neighbours). */
  | { kind: 'randomized-response'; epsilon: number; categories: number; count?: number }
  /** Any (epsilon, delta)-DP mechanism, e.g. DP partition selection. */
  | { kind: 'epsilon-delta'; epsilon: number; delta?: number; count?: number }
  /** A mechanism known to be rho-zCDP. */
  | { kind: 'zcdp'; rho: number; count?: number }
  /** Several events released together, repeated `count` times. */
  | { kind: 'composed'; events: DpEvent[]; count?: number };

export type DpEventKind = DpEvent['kind'];

/** A single-release event with every parameter resolved (sensitivity applied). */
export type BaseEvent =
  | { kind: 'laplace'; scale: number; sensitivity: number }
  | { kind: 'gaussian'; sigma: number; sensitivity: number }
  | { kind: 'discrete-laplace'; scale: number; sensitivity: number }
  | { kind: 'discrete-gaussian'; sigma: number; sensitivity: number }
  | { kind: 'randomized-response'; epsilon: number; categories: number }
  | { kind: 'epsilon-delta'; epsilon: number; delta: number }
  | { kind: 'zcdp'; rho: number };

/** A resolved event and how many times it is released. */
export interface CountedEvent {
  readonly event: BaseEvent;
  readonly count: number;
}

function at(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

function resolveOne(e: DpEvent, path: string): BaseEvent {
  switch (e.kind) {
    case 'laplace':
    case 'discrete-laplace': {
      const sensitivity = e.sensitivity === undefined ? 1 : requirePositive(at(path, 'sensitivity'), e.sensitivity);
      if (e.kind === 'discrete-laplace') requireInteger(at(path, 'sensitivity'), sensitivity, 1);
      let scale: number;
      if (e.scale !== undefined && e.epsilon !== undefined) {
        throw new DpError('InvalidEvent', `${path || 'event'} gives both epsilon and scale; give one`);
      } else if (e.scale !== undefined) scale = requirePositive(at(path, 'scale'), e.scale);
      else if (e.epsilon !== undefined) scale = sensitivity / requirePositive(at(path, 'epsilon'), e.epsilon);
      else throw new DpError('InvalidEvent', `${path || 'event'} (${e.kind}) needs epsilon or scale`);
      return { kind: e.kind, scale, sensitivity };
    }
    case 'gaussian':
    case 'discrete-gaussian': {
      const sensitivity = e.sensitivity === undefined ? 1 : requirePositive(at(path, 'sensitivity'), e.sensitivity);
      if (e.kind === 'discrete-gaussian') requireInteger(at(path, 'sensitivity'), sensitivity, 1);
      return { kind: e.kind, sigma: requirePositive(at(path, 'sigma'), e.sigma), sensitivity };
    }
    case 'randomized-response':
      return {
        kind: 'randomized-response',
        epsilon: requirePositive(at(path, 'epsilon'), e.epsilon),
        categories: requireInteger(at(path, 'categories'), e.categories, 2),
      };
    case 'epsilon-delta':
      return {
        kind: 'epsilon-delta',
        epsilon: requirePositiveOrZero(at(path, 'epsilon'), e.epsilon),
        delta: e.delta === undefined ? 0 : requireDelta(at(path, 'delta'), e.delta),
      };
    case 'zcdp':
      return { kind: 'zcdp', rho: requirePositive(at(path, 'rho'), e.rho) };
    default:
      throw new DpError('InvalidEvent', `${path || 'event'}.kind (${JSON.stringify((e as { kind?: unknown }).kind)}) is not a known event kind`);
  }
}

function requirePositiveOrZero(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new DpError('InvalidParameter', `${name} (${String(v)}) must be a finite number >= 0`);
  }
  return v;
}

function eventKey(e: BaseEvent): string {
  return JSON.stringify(e);
}

/**
 * Flattens events into distinct base events with multiplicities (identical releases are grouped,
 * so accountants can use fast self-composition). Validates every field and names the bad one.
 */
export function flattenEvents(events: readonly DpEvent[]): CountedEvent[] {
  if (!Array.isArray(events)) throw new DpError('InvalidEvent', 'events must be an array');
  const groups = new Map<string, { event: BaseEvent; count: number }>();
  const visit = (list: readonly DpEvent[], mult: number, prefix: string): void => {
    list.forEach((e, i) => {
      const path = `${prefix}[${i}]`;
      if (typeof e !== 'object' || e === null) throw new DpError('InvalidEvent', `${path} must be an object`);
      const count = e.count === undefined ? 1 : requireInteger(`${path}.count`, e.count, 0);
      if (e.kind === 'composed') {
        if (!Array.isArray(e.events)) throw new DpError('InvalidEvent', `${path}.events must be an array`);
        visit(e.events, mult * count, `${path}.events`);
        return;
      }
      const base = resolveOne(e, path);
      if (count * mult === 0) return;
      const key = eventKey(base);
      const g = groups.get(key);
      if (g) g.count += count * mult;
      else groups.set(key, { event: base, count: count * mult });
    });
  };
  visit(events, 1, 'events');
  return [...groups.values()];
}
