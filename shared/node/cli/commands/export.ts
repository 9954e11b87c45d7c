// `dpw export CONFIG --target T --out FILE`: the production forms of an analysis. CONFIG is either a
// version file of a workspace (WORKSPACE/analyses/<id>/v<N>.json): exported as approved only when
// that version is approved and the workspace's ledger is within budget; or a plain config file,
// which is never approved. Anything not approved exits 1 unless --draft, and then every output is
// marked DRAFT. The app's export goes through the same function (workspace/governance.ts).

import { readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { validateConfig } from '../../../core/config/index';
import { exportConfig, EXPORT_TARGETS } from '../../../core/export/index';
import type { ExportTarget } from '../../../core/export/index';
import { writeFileAtomic } from '../../workspace/atomic';
import { sha256, WorkspaceError } from '../../workspace/audit';
import { renderVersionExport } from '../../workspace/governance';
import { openWorkspace } from '../../workspace/workspace';
import type { Io } from '../args';
import { choiceFlag, parse, requireFlag, UsageError } from '../args';
import { configHash, jsonSyntaxError } from './validate';

export const exportHelp = `Usage: dpw export CONFIG --target ${EXPORT_TARGETS.join('|')} --out FILE [--draft] [--actor NAME]

Writes one production form of an analysis: the canonical JSON config, YAML, BigQuery differential
privacy SQL, a PipelineDP, OpenDP or Tumult Analytics script, or a privacy sheet (HTML). Each
carries the analysis id, version, config hash and approval.
  CONFIG     a workspace version file (WORKSPACE/analyses/ID/vN.json): approved versions within
             the workspace's budget export as approved (the export is recorded in the audit trail);
             or a plain analysis config file, which is not approved
  --draft    export anyway, every output marked DRAFT — not approved
  --actor    who exports (recorded in the workspace's audit trail; default $USER)
Exit status: 0 written, 1 not approved / over budget / invalid config (nothing written), 2 bad arguments.`;

function readJson(path: string): unknown {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new WorkspaceError('NotFound', `${path}: is a folder, not a config file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof WorkspaceError) throw e;
    throw new WorkspaceError('NotFound', `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const s = jsonSyntaxError(text, e as Error);
    throw new WorkspaceError('Corrupt', `${path}: not valid JSON at line ${s.line}, column ${s.column}: ${s.message}`);
  }
}

function workbenchVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function runExport(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { target: { type: 'string' }, out: { type: 'string' }, draft: { type: 'boolean' }, actor: { type: 'string' } });
  if (values.help) {
    io.out(exportHelp);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'CONFIG is required' : `one CONFIG only, got ${positionals.length}`);
  const target = requireFlag(choiceFlag(values, 'target', EXPORT_TARGETS as readonly ExportTarget[]), '--target');
  const out = requireFlag(values.out as string | undefined, '--out');
  const draft = values.draft === true;
  const actor = (values.actor as string | undefined) ?? process.env['USER'] ?? 'cli';
  const file = resolve(positionals[0]!);
  const json = readJson(file);
  const version = workbenchVersion();
  let content: string;
  let isDraft: boolean;
  let record: (() => Promise<void>) | null = null;
  const isVersionFile = json !== null && typeof json === 'object' && 'analysisId' in json && 'config' in json && basename(dirname(dirname(file))) === 'analyses';
  if (isVersionFile) {
    const ws = await openWorkspace(dirname(dirname(dirname(file))));
    const { analysisId, version: n } = json as unknown as { analysisId: string; version: number };
    const v = await ws.version(analysisId, n);
    const r = await renderVersionExport(ws, v, { target, draft, actor, workbenchVersion: version });
    content = r.content;
    isDraft = r.draft;
    record = async () => {
      await ws.recordExport(analysisId, n, target, resolve(out), sha256(content), { actor, draft: isDraft });
    };
  } else {
    const v = validateConfig(json);
    if (!v.ok) throw new WorkspaceError('InvalidConfig', `${file}: invalid analysis config: ${v.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    if (!draft) throw new WorkspaceError('InvalidTransition', `${file} is a plain config, not an approved version of a workspace: approve it in a workspace (dpw workspace save, dpw review …) and export that version, or export with --draft (marked DRAFT)`);
    const name = basename(file).replace(/\.json$/i, '');
    content = exportConfig(target, v.config, { analysisId: name, version: 0, approved: false, configHash: configHash(v.config), generatedAt: new Date().toISOString(), workbenchVersion: version }).content;
    isDraft = true;
  }
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFileAtomic(resolve(out), content);
  if (record) await record();
  io.out(`wrote ${out} (${target}${isDraft ? ', DRAFT — not approved' : ', approved'})`);
  return 0;
}
