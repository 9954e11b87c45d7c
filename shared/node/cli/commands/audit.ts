// `dpw audit verify WORKSPACE`: checks the hash chain of a workspace's audit.log (shared/node/workspace/audit.ts).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIT_FILE, verifyAudit } from '../../workspace/audit';
import { auditCoverage } from '../../workspace/governance';
import { openWorkspace } from '../../workspace/workspace';
import type { Io } from '../args';
import { parse, UsageError } from '../args';

export const auditHelp = `Usage: dpw audit verify WORKSPACE [--json]

Verifies the workspace's audit.log (WORKSPACE is the workspace folder or the log file itself):
every line is JSON with its own hash right, seq counts up from 1 and each line's prev is the hash
of the line before. Prints "audit log OK: N lines, chain intact" and the head hash, or names the
first bad line: an edited, removed, inserted or reordered line, or a torn last line.
  --json   print {"ok","lines","head"} or {"ok","line","reason"}
Exit status: 0 the chain is intact, 1 it is not (or the log is missing), 2 bad arguments.`;

export async function runAudit(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(auditHelp);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'verify') throw new UsageError(`unknown subcommand ${JSON.stringify(sub)} (one of verify)`);
  const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
  if (values.help) {
    io.out(auditHelp);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'WORKSPACE is required (dpw audit verify WORKSPACE)' : `one WORKSPACE only, got ${positionals.length}`);
  const target = positionals[0]!;
  const st = await stat(target).catch(() => null);
  const path = st?.isDirectory() ? join(target, AUDIT_FILE) : target;
  const r = await verifyAudit(path);
  if (values.json) io.out(JSON.stringify(r));
  if (r.ok) {
    // The files must agree with the log too (a version written but not recorded, a hand-edited policy).
    const problems = st?.isDirectory() ? await auditCoverage(await openWorkspace(target)) : [];
    if (problems.length > 0) {
      for (const p of problems) io.err(`dpw audit verify: ${p.file}: ${p.reason}`);
      return 1;
    }
    if (!values.json) io.out(`audit log OK: ${r.lines} lines, chain intact (head ${r.head}); every version file and the policy match their last audit line`);
    return 0;
  }
  io.err(r.line === 0 ? `dpw audit verify: ${AUDIT_FILE}: ${r.reason} (${path})` : `dpw audit verify: ${AUDIT_FILE} line ${r.line}: ${r.reason}`);
  return 1;
}
