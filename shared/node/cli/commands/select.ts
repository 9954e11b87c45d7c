// `dpw select`: threshold and keep probabilities of DP partition selection.

import { makePartitionSelection, SELECTION_STRATEGIES } from '../../../core/dp/partition-selection';
import type { Io } from '../args';
import { choiceFlag, integerFlag, numberFlag, parse, requireFlag, UsageError } from '../args';

export const selectHelp = `Usage: dpw select --strategy ${SELECTION_STRATEGIES.join('|')} --epsilon E --delta D --max-partitions K [--pre-threshold N] --units 10,20,30 [--json]

DP partition selection (Desfontaines et al. 2022) for units contributing to at most K partitions.
  --units LIST       unit counts n to evaluate, comma-separated
  --pre-threshold N  partitions with fewer than N units are never kept (default 1: none)
  --json             print {"threshold": number|null, "keep_probability": [...]}
The threshold applies to the noisy unit count (laplace, gaussian); optimal has none.`;

export function runSelect(argv: string[], io: Io): number {
  const { values } = parse(argv, {
    strategy: { type: 'string' }, epsilon: { type: 'string' }, delta: { type: 'string' }, 'max-partitions': { type: 'string' },
    'pre-threshold': { type: 'string' }, units: { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(selectHelp);
    return 0;
  }
  const strategy = requireFlag(choiceFlag(values, 'strategy', SELECTION_STRATEGIES), 'strategy', `is required (one of ${SELECTION_STRATEGIES.join(', ')})`);
  const epsilon = requireFlag(numberFlag(values, 'epsilon', 'positive'), 'epsilon');
  const delta = requireFlag(numberFlag(values, 'delta', 'open-unit'), 'delta', 'is required (partition selection needs delta > 0)');
  const k = requireFlag(integerFlag(values, 'max-partitions', 1), 'max-partitions');
  const pre = integerFlag(values, 'pre-threshold', 1, 1)!;
  const rawUnits = requireFlag(values.units as string | undefined, 'units', 'is required (comma-separated unit counts)');
  const units = rawUnits.split(',').map((s) => {
    const v = Number(s.trim());
    if (s.trim() === '' || !Number.isSafeInteger(v) || v < 0) throw new UsageError(`--units ${JSON.stringify(rawUnits)}: ${JSON.stringify(s)} is not an integer >= 0`);
    return v;
  });
  const sel = makePartitionSelection({ strategy, epsilon, delta, maxPartitionsContributed: k, preThreshold: pre });
  const result = { threshold: sel.threshold, keep_probability: units.map((n) => sel.keepProbability(n)) };
  if (values.json) io.out(JSON.stringify(result));
  else {
    io.out(`${strategy} selection, epsilon ${epsilon}, delta ${delta}, max partitions ${k}, pre-threshold ${pre}`);
    io.out(`threshold: ${sel.threshold === null ? 'none (optimal rule)' : sel.threshold}`);
    for (let i = 0; i < units.length; i++) io.out(`  n = ${units[i]}: P(keep) = ${result.keep_probability[i]}`);
  }
  return 0;
}
