// The 4-week window of every sample and seasonal sampling of timestamps within it.

import type { Rng } from '../../shared/core/rng';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Monday 2 September 2024, 00:00 UTC. */
export const WINDOW_START_MS = Date.UTC(2024, 8, 2);
export const WINDOW_DAYS = 28;
/** Exclusive end: Monday 30 September 2024, 00:00 UTC. */
export const WINDOW_END_MS = WINDOW_START_MS + WINDOW_DAYS * DAY_MS;

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let cachedDay = NaN;
let cachedPrefix = '';

/** ISO 8601 UTC with whole seconds: 2024-09-02T13:45:12Z (the date part is cached per day). */
export function isoSeconds(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  const sec = Math.floor((ms - day * DAY_MS) / 1000);
  return cachedPrefix + TWO_DIGITS[Math.floor(sec / 3600)]! + ':' + TWO_DIGITS[Math.floor(sec / 60) % 60]! + ':' + TWO_DIGITS[sec % 60]! + 'Z';
}

/** Day of week of a UTC-shifted instant, Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday). */
export function dayOfWeek(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 3) % 7;
}

/**
 * Seasonal activity: a weight per local weekday (Monday first) and per local hour. Timestamps are
 * drawn by rejection sampling against weekday × hour, in the local time of the unit's zone.
 */
export interface Seasonality {
  readonly weekday: readonly number[];
  readonly hour: readonly number[];
}

export function makeSeasonality(weekday: readonly number[], hour: (h: number) => number): Seasonality & { readonly max: number } {
  if (weekday.length !== 7) throw new RangeError('weekday needs 7 weights, Monday first');
  const hours = Array.from({ length: 24 }, (_, h) => hour(h + 0.5));
  return { weekday, hour: hours, max: Math.max(...weekday) * Math.max(...hours) };
}

/**
 * A timestamp (ms, whole seconds) in [from, to) with density proportional to the weekday and hour
 * weights in local time (UTC + offsetHours).
 */
export function sampleSeasonalTime(rng: Rng, from: number, to: number, offsetHours: number, s: Seasonality & { readonly max: number }): number {
  const span = to - from;
  const offset = offsetHours * HOUR_MS;
  for (let i = 0; i < 1000; i++) {
    const t = from + Math.floor(rng.nextDouble() * span / 1000) * 1000;
    const local = t + offset;
    const w = s.weekday[dayOfWeek(local)]! * s.hour[Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)]!;
    if (rng.nextDouble() * s.max < w) return t;
  }
  return from + Math.floor(rng.nextDouble() * span / 1000) * 1000;
}
