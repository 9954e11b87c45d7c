// The share of the data a bound drops, read from a contribution profile's candidates. L0 and L∞
// are evaluated exactly at the config's own bounds (profileContributions' `bounds` option); a
// clamp is read at the largest power-of-two candidate <= the bound, which overstates what it clips.
import type { BoundCandidate } from '../../shared/core/data/profile';

export function droppedShare(candidates: readonly BoundCandidate[] | undefined, bound: number | undefined, field: 'rows' | 'value' = 'rows'): number | undefined {
  if (!candidates || candidates.length === 0 || bound === undefined) return undefined;
  const below = candidates.filter((c) => c.bound <= bound).pop();
  return (below ?? candidates[0]!)[field];
}
