// `dpw ledger WORKSPACE`: the budget ledger of a workspace under its policy: every budget composes
// the latest approved version of each analysis on its data (with the budget's accountant), with
// the remaining budget, a calendar of cumulative ε over the period and the guardrails. The same
// functions as the app's ledger view (shared/node/workspace/governance.ts).

import type { Io } from '../args';
import { integerFlag, parse, UsageError } from '../args';
import { checkVersion, workspaceLedgers } from '../../workspace/governance';
import { openWorkspace } from '../../workspace/workspace';

export const ledgerHelp = `Usage: dpw ledger WORKSPACE [--analysis ID --version N] [--json]

The privacy budget ledger of a workspace (policy.json): for each budget, the composed privacy loss
of every approved analysis released over the budget's period (each metric at its cadence), the
remaining budget, the cumulative ε day by day, and the guardrails (over budget, near budget, bounds
tuned on the sample, device-level units).
  --analysis ID --version N   the ledger as it would be with this version (e.g. one in review)
                              replacing its analysis's approved version
  --json                      {"ok","ledgers":[…],"errors":[…],"warnings":[…]}
Exit status: 0 within budget, 1 a guardrail error (over budget, no policy) or a bad workspace, 2 bad arguments.`;

const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4))));

export async function runLedger(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, analysis: { type: 'string' }, version: { type: 'string' } });
  if (values.help) {
    io.out(ledgerHelp);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'WORKSPACE is required (dpw ledger WORKSPACE)' : `one WORKSPACE only, got ${positionals.length}`);
  const analysis = values.analysis as string | undefined;
  const version = integerFlag(values, 'version', 1);
  if ((analysis === undefined) !== (version === undefined)) throw new UsageError('--analysis and --version go together');
  const ws = await openWorkspace(positionals[0]!);
  const check = analysis !== undefined ? await checkVersion(ws, await ws.version(analysis, version!)) : await workspaceLedgers(ws);
  if (values.json) {
    io.out(JSON.stringify({ ok: check.ok, ledgers: check.ledgers, errors: check.errors, warnings: check.warnings }, null, 2));
  } else {
    for (const l of check.ledgers) {
      io.out(`budget ${l.budgetId} (${l.label}): ε ${fmt(l.spent.epsilon)} of ${fmt(l.limit.epsilon)} per ${l.period} (${Math.round(l.usedShare * 100)}%), δ ${fmt(l.spent.delta)} of ${fmt(l.limit.delta)}, ${l.accountant} accountant: ${l.status}`);
      for (const e of l.entries) {
        io.out(`  ${e.analysisId} v${e.version} (${e.status}): ${e.metrics.map((m) => `${m.metricId} ${m.releases}× ε ${fmt(m.epsilonPerRelease)}`).join(', ')}`);
      }
      const marks = l.calendar.filter((c, i) => i === 0 || c.epsilon !== l.calendar[i - 1]!.epsilon);
      io.out(`  cumulative ε by day: ${marks.map((c) => `day ${c.day}: ${fmt(c.epsilon)}`).join(', ')}`);
    }
    for (const g of check.errors) io.out(`error ${g.code}: ${g.message}`);
    for (const g of check.warnings) io.out(`warning ${g.code}: ${g.message}`);
  }
  return check.ok ? 0 : 1;
}
