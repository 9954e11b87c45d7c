// One error class for the core, with a closed set of codes and messages that name the value
// (OpenDP style: "epsilon (-1) must be > 0"). Process boundaries turn it into { code, message }.

export type DpErrorCode =
  | 'InvalidParameter'
  | 'InvalidEvent'
  | 'NotSupported'
  | 'NumericalFailure';

export class DpError extends Error {
  readonly code: DpErrorCode;
  constructor(code: DpErrorCode, message: string) {
    super(message);
    this.name = 'DpError';
    this.code = code;
  }
}

function fmt(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'missing';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function invalid(name: string, value: unknown, rule: string): DpError {
  return new DpError('InvalidParameter', `${name} (${fmt(value)}) ${rule}`);
}

/** A finite number > 0. */
export function requirePositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(name, value, 'must be a finite number > 0');
  }
  return value;
}

/** A finite number >= 0. */
export function requireNonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(name, value, 'must be a finite number >= 0');
  }
  return value;
}

/** A probability strictly inside (0, 1). */
export function requireOpenUnit(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw invalid(name, value, 'must be in the open interval (0, 1)');
  }
  return value;
}

/** A probability in [0, 1). */
export function requireDelta(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw invalid(name, value, 'must be in [0, 1)');
  }
  return value;
}

/** An integer >= min. */
export function requireInteger(name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(name, value, `must be an integer >= ${min}`);
  }
  return value;
}

/** A finite number (any sign). */
export function requireFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(name, value, 'must be a finite number');
  }
  return value;
}
