// `dpw review submit|approve|reject`: the review workflow of a workspace version, as thin wrappers
// around Workspace.submitForReview and Workspace.decide (shared/node/workspace/workspace.ts).

import { decideWithGuardrails } from '../../workspace/governance';
import { openWorkspace } from '../../workspace/workspace';
import type { Io } from '../args';
import { integerFlag, parse, requireFlag, UsageError } from '../args';

export const reviewHelp = `Usage: dpw review submit DIR --analysis ID --version N --actor NAME
       dpw review approve DIR --analysis ID --version N --reviewer NAME --rationale TEXT --evidence HASH
       dpw review reject DIR --analysis ID --version N --reviewer NAME --rationale TEXT --evidence HASH

The review of a version of an analysis in workspace DIR: draft → simulated (dpw workspace record)
→ in-review (submit) → approved | rejected. A decision needs a rationale and the evidence hash of
the simulation on record (dpw workspace status DIR --json shows it); the person who submitted a
version cannot approve it. Decided versions are immutable.
  --actor NAME      who submits (--reviewer is accepted as the same flag)
  --reviewer NAME   who decides (--actor is accepted as the same flag)
Exit status: 0 ok, 1 refused (wrong status, evidence mismatch, self-approval, bad workspace), 2 bad arguments.`;

export async function runReview(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(reviewHelp);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'submit' && sub !== 'approve' && sub !== 'reject') throw new UsageError(`unknown subcommand ${JSON.stringify(sub)} (one of submit, approve, reject)`);
  const { values, positionals } = parse(rest, {
    analysis: { type: 'string' }, version: { type: 'string' }, actor: { type: 'string' }, reviewer: { type: 'string' },
    rationale: { type: 'string' }, evidence: { type: 'string' },
  });
  if (values.help) {
    io.out(reviewHelp);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? `DIR is required (dpw review ${sub} DIR ...)` : `one DIR only, got ${positionals.length}`);
  const analysis = requireFlag(values.analysis as string | undefined, 'analysis', 'is required (the analysis id)');
  const version = requireFlag(integerFlag(values, 'version', 1), 'version', 'is required (the version number)');
  if (values.actor !== undefined && values.reviewer !== undefined && values.actor !== values.reviewer) throw new UsageError('--actor and --reviewer name the same person: give one of them');
  const who = (values.reviewer ?? values.actor) as string | undefined;
  const ws = await openWorkspace(positionals[0]!);
  if (sub === 'submit') {
    const v = await ws.submitForReview(analysis, version, { actor: requireFlag(who, 'actor', 'is required (who submits)') });
    io.out(`analysis ${v.analysisId} v${v.version} submitted for review by ${v.review!.submittedBy}; evidence ${v.simulation!.evidenceHash}`);
    return 0;
  }
  const reviewer = requireFlag(who, 'reviewer', 'is required (who decides)');
  const rationale = requireFlag(values.rationale as string | undefined, 'rationale', 'is required (why)');
  const evidenceHash = requireFlag(values.evidence as string | undefined, 'evidence', 'is required (the evidence hash of the simulation on record)');
  // Approval goes through the same guardrails as the app's (over budget, no policy → refused).
  const v = await decideWithGuardrails(ws, analysis, version, { reviewer, rationale, evidenceHash, decision: sub === 'approve' ? 'approved' : 'rejected' });
  io.out(`analysis ${v.analysisId} v${v.version} ${v.status} by ${reviewer}`);
  return 0;
}
