// `dpw`: the workbench's command line for pipelines. It parses arguments, reads files and calls
// the same core functions the app calls. Exit codes: 0 ok, 1 bad input data, 2 bad arguments.

import { DpError } from '../../core/errors';
import type { Io } from './args';
import { UsageError } from './args';
import { runCompose, composeHelp } from './commands/compose';
import { runMechanism, mechanismHelp } from './commands/mechanism';
import { runProfile, profileHelp } from './commands/profile';
import { runSelect, selectHelp } from './commands/select';
import { runBench, benchHelp } from './commands/bench';
import { runSimulate, simulateHelp, runSweep, sweepHelp } from './commands/simulate';
import { runWorkspace, workspaceHelp } from './commands/workspace';
import { runAudit, auditHelp } from './commands/audit';
import { runReview, reviewHelp } from './commands/review';
import { WorkspaceError } from '../workspace/audit';
import { runValidate, validateHelp } from './commands/validate';
import { exportHelp, runExport } from './commands/export';
import { ledgerHelp, runLedger } from './commands/ledger';
import { runSchema, schemaHelp } from './commands/schema';

interface Command {
  run: (argv: string[], io: Io) => number | Promise<number>;
  summary: string;
  help: string;
}

const COMMANDS: Record<string, Command> = {
  mechanism: { run: runMechanism, summary: 'noise scale, std and accuracy of one release', help: mechanismHelp },
  compose: { run: runCompose, summary: 'total privacy loss of many releases under an accountant', help: composeHelp },
  select: { run: runSelect, summary: 'threshold and keep probabilities of DP partition selection', help: selectHelp },
  profile: { run: runProfile, summary: 'contribution profile of a data file (L0, L∞, units per cohort, bounds)', help: profileHelp },
  simulate: { run: runSimulate, summary: 'Monte-Carlo simulation of a config on its sample: error per metric and cohort', help: simulateHelp },
  sweep: { run: runSweep, summary: 'privacy-versus-error grid over ε, L0, L∞ and pre-threshold (Pareto data)', help: sweepHelp },
  workspace: { run: runWorkspace, summary: 'a versioned workspace of analysis configs: init, save, record, status', help: workspaceHelp },
  review: { run: runReview, summary: 'submit, approve or reject a version of an analysis in a workspace', help: reviewHelp },
  audit: { run: runAudit, summary: "verify a workspace's hash-chained audit log", help: auditHelp },
  ledger: { run: runLedger, summary: "a workspace's privacy budget ledger: composed loss per period, calendar, guardrails", help: ledgerHelp },
  export: { run: runExport, summary: 'production forms of an analysis: JSON, YAML, BigQuery SQL, PipelineDP, OpenDP, Tumult, privacy sheet', help: exportHelp },
  validate: { run: runValidate, summary: 'check an analysis config: JSON syntax, schema (migrating old versions) and cross-field rules', help: validateHelp },
  schema: { run: runSchema, summary: 'the JSON Schema of the analysis config (--out FILE)', help: schemaHelp },
  bench: { run: runBench, summary: 'the reference Monte-Carlo workload (WORKLOAD.md) with the engine; JSON for compare.sh', help: benchHelp },
};

export const mainHelp = `dpw: DP Workbench command line

Usage: dpw <command> [options]   (dpw <command> --help for its options)

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp);
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`dpw: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`dpw ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof WorkspaceError) {
      // A bad workspace, config or refused review step is bad input data (1); a bad id or name given as an argument is a usage error (2).
      io.err(`dpw ${name}: ${err.message}`);
      return err.code === 'InvalidArgument' ? 2 : 1;
    }
    if (err instanceof DpError) {
      io.err(`dpw ${name}: ${err.message}`);
      return err.code === 'InvalidParameter' ? 2 : 1;
    }
    io.err(`dpw ${name}: internal error: ${(err as Error).message}`);
    return 1;
  }
}
