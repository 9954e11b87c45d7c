// The contract every accountant meets: ε at a given δ and δ at a given ε for a list of events.

import type { DpEvent } from './events';

export type AccountantName = 'basic' | 'advanced' | 'zcdp' | 'rdp' | 'pld';

export interface PrivacyGuarantee {
  readonly epsilon: number;
  readonly delta: number;
}

export interface Accountant {
  readonly name: AccountantName;
  /** Smallest ε this accountant can certify for the composition at total δ. Infinity if none. */
  epsilonAt(events: readonly DpEvent[], delta: number): number;
  /** Smallest total δ this accountant can certify for the composition at ε (1 if none). */
  deltaAt(events: readonly DpEvent[], epsilon: number): number;
}
