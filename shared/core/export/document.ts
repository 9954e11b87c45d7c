// The config as a document (JSON or YAML) with its export metadata beside it: what a pipeline or a
// later workbench reads back with validateConfig.

import { stringify } from 'yaml';
import type { AnalysisConfig } from '../config/schema';
import { canonicalize, canonicalJson } from './canonical';
import type { ExportContext } from './common';
import { approvalOf, commentBlock, DRAFT_STATUS, headerLines } from './common';

/** Identifies the export envelope (a name, not a fetchable address). */
export const EXPORT_DOCUMENT_SCHEMA = 'urn:dp-workbench:analysis-export:v1';

export interface ExportDocument {
  readonly $schema: string;
  readonly export: {
    readonly analysisId: string;
    readonly version: number;
    readonly status: string;
    readonly approval: { readonly reviewer: string; readonly rationale: string; readonly at: string; readonly evidenceHash: string } | null;
    readonly configHash: string;
    readonly generatedAt: string;
    readonly workbenchVersion: string;
  };
  readonly config: unknown;
}

export function exportDocument(config: AnalysisConfig, ctx: ExportContext): ExportDocument {
  const a = approvalOf(ctx);
  return {
    $schema: EXPORT_DOCUMENT_SCHEMA,
    export: {
      analysisId: ctx.analysisId,
      version: ctx.version,
      status: a ? 'APPROVED' : DRAFT_STATUS,
      approval: a ? { reviewer: a.reviewer, rationale: a.rationale, at: a.at, evidenceHash: a.evidenceHash } : null,
      configHash: ctx.configHash,
      generatedAt: ctx.generatedAt,
      workbenchVersion: ctx.workbenchVersion,
    },
    config: canonicalize(config),
  };
}

/** Canonical JSON of the export document (keys sorted, so "$schema" leads and "config" precedes "export"). */
export function exportJson(config: AnalysisConfig, ctx: ExportContext): string {
  return canonicalJson(exportDocument(config, ctx));
}

/** The same document as YAML, with the header as comment lines. */
export function exportYaml(config: AnalysisConfig, ctx: ExportContext): string {
  const doc = canonicalize(exportDocument(config, ctx));
  const body = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  return `${commentBlock(headerLines(config, ctx, 'DP analysis config'), '#')}\n${body}`;
}
