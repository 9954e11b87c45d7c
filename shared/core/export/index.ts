// Exports of an analysis config: the config itself (JSON, YAML), engine code that adds the noise
// the workbench simulated (BigQuery SQL, PipelineDP, OpenDP, Tumult) and a privacy sheet for
// reviewers. Pure: the date, the hashes and the approval come in through ExportContext. Every
// output carries the analysis id, version, config hash and approval, and a draft is marked DRAFT
// and never claims approval.

import type { AnalysisConfig } from '../config/schema';
import { DpError } from '../errors';
import { exportBigQuery } from './bigquery';
import type { ExportContext } from './common';
import { exportJson, exportYaml } from './document';
import { exportOpenDp } from './opendp';
import { exportPipelineDp } from './pipelinedp';
import { exportSheet } from './sheet';
import { exportTumult } from './tumult';

export type { ExportApproval, ExportContext } from './common';
export { DRAFT_BANNER, DRAFT_STATUS, defaultTable } from './common';
export { canonicalize, canonicalJson } from './canonical';
export { EXPORT_DOCUMENT_SCHEMA, exportDocument } from './document';
export type { ExportDocument } from './document';
export { releasePlan } from './release-plan';
export type { GroupSelectionPlan, MetricRelease, ReleaseGroup, ReleasePart, ReleasePlan } from './release-plan';

export type ExportTarget = 'json' | 'yaml' | 'bigquery' | 'pipelinedp' | 'opendp' | 'tumult' | 'sheet';

export const EXPORT_TARGETS: readonly ExportTarget[] = ['json', 'yaml', 'bigquery', 'pipelinedp', 'opendp', 'tumult', 'sheet'];

export interface ExportedFile {
  readonly filename: string;
  readonly mediaType: string;
  readonly content: string;
}

const TARGETS: Record<ExportTarget, { suffix: string; mediaType: string; run: (c: AnalysisConfig, ctx: ExportContext) => string }> = {
  json: { suffix: '.config.json', mediaType: 'application/json', run: exportJson },
  yaml: { suffix: '.config.yaml', mediaType: 'application/yaml', run: exportYaml },
  bigquery: { suffix: '.bigquery.sql', mediaType: 'application/sql', run: exportBigQuery },
  pipelinedp: { suffix: '.pipelinedp.py', mediaType: 'text/x-python', run: exportPipelineDp },
  opendp: { suffix: '.opendp.py', mediaType: 'text/x-python', run: exportOpenDp },
  tumult: { suffix: '.tumult.py', mediaType: 'text/x-python', run: exportTumult },
  sheet: { suffix: '.privacy-sheet.html', mediaType: 'text/html', run: exportSheet },
};

/** A file-name stem from the analysis id and version: "shop pilot", 3 → "shop-pilot-v3" (plus "-DRAFT" for drafts). */
export function exportStem(ctx: Pick<ExportContext, 'analysisId' | 'version' | 'approved'>): string {
  const id = ctx.analysisId.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'analysis';
  return `${id}-v${ctx.version}${ctx.approved ? '' : '-DRAFT'}`;
}

/** One export of a validated config (see the module comment); throws DpError for an unknown target or an approval without details. */
export function exportConfig(target: ExportTarget, config: AnalysisConfig, ctx: ExportContext): ExportedFile {
  const t = (TARGETS as Partial<Record<string, (typeof TARGETS)[ExportTarget]>>)[target];
  if (!t) throw new DpError('InvalidParameter', `export target ${JSON.stringify(target)} is not one of ${EXPORT_TARGETS.join(', ')}`);
  if (!Number.isInteger(ctx.version) || ctx.version < 0) throw new DpError('InvalidParameter', `export version (${ctx.version}) must be an integer >= 0`);
  return { filename: `${exportStem(ctx)}${t.suffix}`, mediaType: t.mediaType, content: t.run(config, ctx) };
}
