// `dpw workspace init|save|status|record|policy`: thin wrappers around shared/node/workspace (the app calls
// the same functions). Exit status: 0 ok, 1 bad workspace, config or data, 2 bad arguments.

import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { SimulationReport } from '../../../core/simulate/report';
import { ConfigError, readConfig } from '../../simulate/service';
import { initWorkspace, openWorkspace, parseJsonText, simulationEvidence, WorkspaceError } from '../../workspace/workspace';
import { saveEvidence } from '../../workspace/governance';
import type { Io } from '../args';
import { integerFlag, parse, requireFlag, UsageError } from '../args';

export const workspaceHelp = `Usage: dpw workspace init DIR --name NAME [--actor A]
       dpw workspace save DIR CONFIG --analysis ID --actor A
       dpw workspace record DIR --analysis ID --version N --report FILE --actor A
       dpw workspace status DIR [--json]
       dpw workspace policy DIR POLICY --actor A

A workspace is a folder a team keeps in git: workspace.json, policy.json, one file per version of
each analysis config (analyses/<id>/v<N>.json), the hash-chained audit.log and the exports.
  init     create a workspace in DIR (the folder is created if needed; --actor defaults to the
           user name)
  save     save CONFIG as the next version (a draft) of analysis ID; an unchanged config makes no
           new version
  record   record FILE, a simulation report of version N (dpw simulate CONFIG --json FILE), as
           its evidence: status simulated; prints the evidence hash a reviewer approves
  status   analyses, versions and statuses, and whether the audit log verifies
  policy   replace the budget policy with the file POLICY (validated; recorded in the audit log):
           budgets per dataset, unit and period, and reservations for later releases
Review: dpw review submit|approve|reject. Audit: dpw audit verify DIR.
Exit status: 0 ok, 1 bad workspace, config or report (one line naming the file), 2 bad arguments.`;

/** The name recorded when --actor is not given (init only). */
function defaultActor(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function positionals(got: string[], names: string[], usage: string): string[] {
  if (got.length < names.length) throw new UsageError(`${names[got.length]} is required (${usage})`);
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])} (${usage})`);
  return got;
}

const short = (h: string): string => `${h.slice(0, 19)}…`;

async function init(argv: string[], io: Io): Promise<number> {
  const { values, positionals: pos } = parse(argv, { name: { type: 'string' }, actor: { type: 'string' } });
  const [dir] = positionals(pos, ['DIR'], 'dpw workspace init DIR --name NAME');
  const name = requireFlag(values.name as string | undefined, 'name', 'is required (the workspace name)');
  const ws = await initWorkspace(dir!, { name, actor: (values.actor as string | undefined) ?? defaultActor() });
  io.out(`created workspace ${JSON.stringify(ws.meta.name)} in ${ws.dir}`);
  return 0;
}

async function save(argv: string[], io: Io): Promise<number> {
  const { values, positionals: pos } = parse(argv, { analysis: { type: 'string' }, actor: { type: 'string' } });
  const [dir, configPath] = positionals(pos, ['DIR', 'CONFIG'], 'dpw workspace save DIR CONFIG --analysis ID --actor A');
  const analysis = requireFlag(values.analysis as string | undefined, 'analysis', 'is required (the analysis id)');
  const actor = requireFlag(values.actor as string | undefined, 'actor', 'is required (who saves the version)');
  const ws = await openWorkspace(dir!);
  let config: unknown;
  try {
    config = readConfig(configPath!);
  } catch (e) {
    if (e instanceof ConfigError) throw new WorkspaceError('InvalidConfig', e.message);
    throw e;
  }
  const { version: v, created } = await ws.saveConfig(analysis, config, { actor });
  io.out(created
    ? `analysis ${v.analysisId} v${v.version} saved (draft${v.parent ? `, parent v${v.parent}` : ''}), config ${v.configHash}`
    : `analysis ${v.analysisId}: config unchanged, v${v.version} (${v.status}) already has config ${v.configHash}`);
  return 0;
}

async function record(argv: string[], io: Io): Promise<number> {
  const { values, positionals: pos } = parse(argv, { analysis: { type: 'string' }, version: { type: 'string' }, report: { type: 'string' }, actor: { type: 'string' } });
  const [dir] = positionals(pos, ['DIR'], 'dpw workspace record DIR --analysis ID --version N --report FILE --actor A');
  const analysis = requireFlag(values.analysis as string | undefined, 'analysis', 'is required (the analysis id)');
  const version = requireFlag(integerFlag(values, 'version', 1), 'version', 'is required (the version number)');
  const reportPath = requireFlag(values.report as string | undefined, 'report', 'is required (a report of dpw simulate --json)');
  const actor = requireFlag(values.actor as string | undefined, 'actor', 'is required (who ran the simulation)');
  const ws = await openWorkspace(dir!);
  const text = await readFile(reportPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new WorkspaceError('NotFound', `${reportPath}: ${e.code === 'ENOENT' ? 'file not found' : `cannot read the file (${e.code ?? e.message})`}`);
  });
  const report = parseJsonText(text, reportPath) as Partial<SimulationReport>;
  if (report.format !== 'dpw-simulation' || !report.run || !Array.isArray(report.metrics)) {
    throw new WorkspaceError('Corrupt', `${reportPath}: not a simulation report (format ${JSON.stringify(report.format)}; write one with dpw simulate CONFIG --json FILE)`);
  }
  const evidence = simulationEvidence(report as SimulationReport);
  const v = await ws.recordSimulation(analysis, version, evidence, { actor });
  await saveEvidence(ws, analysis, version, report);
  io.out(`analysis ${v.analysisId} v${v.version} simulated (${evidence.trials} trials, seed ${String(evidence.seed)}), evidence ${evidence.evidenceHash}`);
  return 0;
}

async function status(argv: string[], io: Io): Promise<number> {
  const { values, positionals: pos } = parse(argv, { json: { type: 'boolean' } });
  const [dir] = positionals(pos, ['DIR'], 'dpw workspace status DIR [--json]');
  const ws = await openWorkspace(dir!);
  const analyses = await ws.status();
  const audit = await ws.verifyAudit();
  if (values.json) {
    io.out(JSON.stringify({ dir: ws.dir, name: ws.meta.name, createdAt: ws.meta.createdAt, analyses, audit }));
    return 0;
  }
  io.out(`workspace ${JSON.stringify(ws.meta.name)} (${ws.dir}): ${analyses.length} ${analyses.length === 1 ? 'analysis' : 'analyses'}; ${audit.ok ? `audit log OK (${audit.lines} lines)` : `audit.log line ${audit.line}: ${audit.reason}`}`);
  for (const a of analyses) {
    io.out(`  ${a.analysisId}`);
    for (const v of a.versions) io.out(`    v${String(v.version).padEnd(3)} ${v.status.padEnd(9)}  ${v.createdAt}  ${v.createdBy}  ${short(v.configHash)}`);
  }
  return 0;
}

async function policy(argv: string[], io: Io): Promise<number> {
  const { values, positionals: pos } = parse(argv, { actor: { type: 'string' } });
  const [dir, file] = positionals(pos, ['DIR', 'POLICY'], 'dpw workspace policy DIR POLICY --actor A');
  const actor = requireFlag(values.actor as string | undefined, 'actor', 'is required (who changes the budget policy)');
  const ws = await openWorkspace(dir!);
  let text: string;
  try {
    text = await readFile(file!, 'utf8');
  } catch (e) {
    throw new WorkspaceError('NotFound', `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
  }
  const p = await ws.savePolicy(parseJsonText(text, file!), { actor });
  io.out(`policy of ${ws.meta.name}: ${p.budgets.map((b) => `${b.id} ε ${b.epsilon} δ ${b.delta} per ${b.unit} per ${b.period} (${b.accountant})`).join('; ')}${p.reservations.length ? `; ${p.reservations.length} reservation(s)` : ''}`);
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = { init, save, record, status, policy };

export async function runWorkspace(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.out(workspaceHelp);
    return sub === undefined ? 2 : 0;
  }
  const run = SUBCOMMANDS[sub];
  if (!run) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)} (one of ${Object.keys(SUBCOMMANDS).join(', ')})`);
  return run(rest, io);
}
