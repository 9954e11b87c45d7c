// Loads the trusted oracle values (../shared/oracles/public.json beside the repo, or DPW_ORACLES).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ORACLES_PATH = process.env.DPW_ORACLES ?? resolve(REPO_ROOT, '../shared/oracles/public.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

let cache: Json | undefined;

export function loadOracles(): Json {
  if (cache) return cache;
  if (!existsSync(ORACLES_PATH)) {
    throw new Error(`oracle file not found at ${ORACLES_PATH}: put the handbook folder ../shared beside the repo or set DPW_ORACLES`);
  }
  cache = JSON.parse(readFileSync(ORACLES_PATH, 'utf8'));
  return cache;
}

/** |actual − expected| <= rel·|expected| (+ abs). */
export function closeTo(actual: number, expected: number, tol: { rel?: number; abs?: number }): boolean {
  const bound = (tol.rel ?? 0) * Math.abs(expected) + (tol.abs ?? 0);
  return Math.abs(actual - expected) <= bound;
}
