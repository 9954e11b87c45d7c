// `dpw compose`: total privacy loss of a list of releases under a chosen accountant.

import { readFileSync } from 'node:fs';
import { ACCOUNTANT_NAMES, getAccountant } from '../../../core/dp/accounting/index';
import type { DpEvent } from '../../../core/dp/accounting/events';
import type { Io } from '../args';
import { choiceFlag, numberFlag, parse, requireFlag, UsageError } from '../args';

export const composeHelp = `Usage: dpw compose --events FILE --accountant ${ACCOUNTANT_NAMES.join('|')} (--delta D | --epsilon E) [--json]

Composes the releases in FILE, a JSON array of events such as
  [{"kind":"laplace","epsilon":0.1,"count":10},{"kind":"gaussian","sigma":5,"count":50},
   {"kind":"discrete-laplace","epsilon":0.1,"count":10}]
Event kinds: laplace (epsilon | scale), gaussian (sigma), discrete-laplace (epsilon | scale),
discrete-gaussian (sigma), randomized-response (epsilon, categories), epsilon-delta (epsilon, delta),
zcdp (rho), composed (events). "sensitivity" defaults to 1, "count" to 1.
  --delta D    print the epsilon certified at total delta D
  --epsilon E  print the total delta certified at epsilon E
  --json       print {"epsilon","delta"}
For advanced composition, --delta is the slack delta' of the theorem (plus any delta the events carry).`;

export function runCompose(argv: string[], io: Io): number {
  const { values } = parse(argv, {
    events: { type: 'string' }, accountant: { type: 'string' }, delta: { type: 'string' }, epsilon: { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(composeHelp);
    return 0;
  }
  const file = requireFlag(values.events as string | undefined, 'events', 'is required (a JSON file of events)');
  const accName = requireFlag(choiceFlag(values, 'accountant', ACCOUNTANT_NAMES), 'accountant', `is required (one of ${ACCOUNTANT_NAMES.join(', ')})`);
  const delta = values.delta !== undefined ? numberFlag(values, 'delta', 'nonneg') : undefined;
  const epsilon = values.epsilon !== undefined ? numberFlag(values, 'epsilon', 'nonneg') : undefined;
  if ((delta === undefined) === (epsilon === undefined)) throw new UsageError('give exactly one of --delta D or --epsilon E');
  if (delta !== undefined && delta >= 1) throw new UsageError(`--delta ${JSON.stringify(values.delta)}: must be < 1`);

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--events ${JSON.stringify(file)}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--events ${JSON.stringify(file)}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(events)) throw new UsageError(`--events ${JSON.stringify(file)}: must hold a JSON array of events`);

  const acc = getAccountant(accName);
  const result = delta !== undefined
    ? { epsilon: acc.epsilonAt(events as DpEvent[], delta), delta }
    : { epsilon: epsilon!, delta: acc.deltaAt(events as DpEvent[], epsilon!) };
  if (values.json) io.out(JSON.stringify(result));
  else io.out(`${accName}: epsilon ${result.epsilon}, delta ${result.delta}`);
  return 0;
}
