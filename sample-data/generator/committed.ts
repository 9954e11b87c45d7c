// The files committed under sample-data/, each with the generator arguments that made it.
// `npm run sample-data -- --committed` regenerates them all; the tests check they still match.

import type { ShapeName } from './shapes';
import type { SampleFormat } from './write';

export interface CommittedFile {
  /** Path relative to sample-data/. */
  readonly file: string;
  readonly shape: ShapeName;
  readonly rows: number;
  readonly seed: number;
  readonly format: SampleFormat;
}

export const DEFAULT_SEED = 1;

export const COMMITTED_FILES: readonly CommittedFile[] = [
  { file: 'product-events.csv', shape: 'product', rows: 50_000, seed: DEFAULT_SEED, format: 'csv' },
  { file: 'product-events.parquet', shape: 'product', rows: 50_000, seed: DEFAULT_SEED, format: 'parquet' },
  { file: 'product-events-head.ndjson', shape: 'product', rows: 2_000, seed: DEFAULT_SEED, format: 'ndjson' },
  { file: 'saas-usage.csv', shape: 'saas', rows: 30_000, seed: DEFAULT_SEED, format: 'csv' },
];
