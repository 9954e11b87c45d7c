// Budget shares with lock/hold: moving one metric's share re-balances the other unlocked metrics
// in proportion to their shares, so the total the config spends stays where it was (a reserve
// held back for later questions is kept). Pure; the Privacy screen calls it.

/** Smallest share a metric can be pushed down to (a share must be > 0). */
export const MIN_SHARE = 0.001;

export interface ShareChange {
  readonly shares: Readonly<Record<string, number>>;
  /** The share actually set (clamped so the others stay >= MIN_SHARE and the total <= 1). */
  readonly applied: number;
}

/**
 * Sets `id`'s share to `target` and re-balances the unlocked others so the total is unchanged.
 * With no unlocked other, the total changes instead, up to 1.
 */
export function rebalanceShares(shares: Readonly<Record<string, number>>, locked: ReadonlySet<string>, id: string, target: number): ShareChange {
  const ids = Object.keys(shares);
  if (!ids.includes(id)) throw new Error(`unknown metric ${id}`);
  const total = ids.reduce((s, k) => s + shares[k]!, 0);
  const lockedSum = ids.filter((k) => k !== id && locked.has(k)).reduce((s, k) => s + shares[k]!, 0);
  const free = ids.filter((k) => k !== id && !locked.has(k));
  if (free.length === 0) {
    const max = Math.max(MIN_SHARE, 1 - lockedSum);
    const applied = Math.min(max, Math.max(MIN_SHARE, target));
    return { shares: { ...shares, [id]: applied }, applied };
  }
  const budget = Math.min(1, total);
  const max = budget - lockedSum - free.length * MIN_SHARE;
  const applied = Math.min(Math.max(MIN_SHARE, max), Math.max(MIN_SHARE, target));
  const rest = Math.max(free.length * MIN_SHARE, budget - lockedSum - applied);
  const freeSum = free.reduce((s, k) => s + shares[k]!, 0);
  const next: Record<string, number> = { ...shares, [id]: applied };
  // Spread `rest` over the free metrics in proportion to their shares, none below MIN_SHARE.
  const weights = free.map((k) => (freeSum > 0 ? shares[k]! / freeSum : 1 / free.length));
  const spare = rest - free.length * MIN_SHARE;
  free.forEach((k, i) => {
    next[k] = MIN_SHARE + spare * weights[i]!;
  });
  return { shares: next, applied };
}
