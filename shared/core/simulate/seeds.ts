// Seeds of a run's parts, shared by the CLI's service and the renderer so that one seed gives the
// same results in both: plan group g draws from `${seed}:${g}`, local-DP metric id from `${seed}:local:${id}`.
import type { Seed } from '../rng';

/** The seed of plan group g of a run with `seed` (so that groups draw independent streams). */
export function groupSeed(seed: Seed, group: number): string {
  return `${String(seed)}:${group}`;
}

/** The seed of local-DP metric `id` of a run with `seed`. */
export function localSeed(seed: Seed, id: string): string {
  return `${String(seed)}:local:${id}`;
}
