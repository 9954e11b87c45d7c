// The workspace's audit trail (issue 7, "Audit trail"): `audit.log`, one JSON object per line,
// append-only and hash-chained. Each line carries the hash of the line before it (`prev`) and its
// own `hash` = sha256 of the canonical JSON of the line without `hash`, so an edited, removed,
// inserted or reordered line breaks the chain at that line and verifyAudit names it. The chain
// cannot show that lines were cut from the end: compare `head` with a hash kept elsewhere (a commit
// message, the export) for that.

import { createHash } from 'node:crypto';
import { readFile, open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { canonicalJson } from '../../core/export/canonical';
import { appendLineDurable, serialised } from './atomic';

// ---------------------------------------------------------------------------------------------
// Hashes. The canonical JSON is the exporters' (core/export/canonical.ts), so a configHash in a
// version file, an export and the audit log are the same number for the same config. It is part
// of the file formats: changing it would break every recorded hash.

/** 'sha256:<64 hex digits>' of the given bytes (a string is hashed as UTF-8). */
export function sha256(content: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** 'sha256:<hex>' of the canonical JSON of a JSON value. */
export function canonicalHash(value: unknown): string {
  return sha256(canonicalJson(value));
}

export const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------------------------
// Errors of the workspace services (here, the lowest module that throws them).

export type WorkspaceErrorCode =
  /** A workspace, analysis, version or file that does not exist. */
  | 'NotFound'
  /** A file that is not JSON, not of its schema, or a version folder with a gap. */
  | 'Corrupt'
  /** A file whose recorded hash does not match its content, or a broken audit chain. */
  | 'Tampered'
  | 'InvalidConfig'
  | 'InvalidPolicy'
  /** A bad argument of a service call (an empty actor, a bad hash, an unknown decision). */
  | 'InvalidArgument'
  /** A write to an approved or rejected version, or a workspace created twice. */
  | 'Immutable'
  /** A review step out of order (submitting a draft, approving a version not in review). */
  | 'InvalidTransition'
  /** The evidence named by the reviewer is not the simulation on record. */
  | 'EvidenceMismatch'
  /** The reviewer submitted the version themselves. */
  | 'SelfReview';

/** An error of the workspace services; the message is one line naming the file and the value. */
export class WorkspaceError extends Error {
  readonly code: WorkspaceErrorCode;
  /** The file concerned, relative to the workspace folder where it is one of its files. */
  readonly file?: string;
  constructor(code: WorkspaceErrorCode, message: string, file?: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'WorkspaceError';
    this.code = code;
    if (file !== undefined) this.file = file;
  }
}

// ---------------------------------------------------------------------------------------------
// Lines

export const AUDIT_FILE = 'audit.log';
/** `prev` of the first line. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

export const AUDIT_ACTIONS = ['workspace-created', 'config-saved', 'simulation-recorded', 'review-submitted', 'approved', 'rejected', 'exported', 'policy-changed'] as const;
/** The actions the workbench writes; other tools may add their own. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number] | (string & {});
/** What a line is about, such as { analysisId: 'checkout', version: 3 } or { file: 'policy.json' }. */
export type AuditSubject = Readonly<Record<string, string | number>>;

export interface AuditEntry {
  /** The time of the event: a Date (from the caller's clock) or an ISO string. */
  readonly at: Date | string;
  readonly actor: string;
  readonly action: AuditAction;
  readonly subject: AuditSubject;
  /** JSON data: hashes, rationale, file names. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditLine {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: AuditAction;
  readonly subject: AuditSubject;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prev: string;
  readonly hash: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly lines: number; /** hash of the last line (GENESIS_HASH if empty) */ readonly head: string }
  | { readonly ok: false; /** 1-based line, 0 for the file as a whole */ readonly line: number; readonly reason: string };

const FIELDS = ['seq', 'at', 'actor', 'action', 'subject', 'details', 'prev', 'hash'] as const;

/** The hash of a line: sha256 of the canonical JSON of every field but `hash`. */
export function auditLineHash(line: Omit<AuditLine, 'hash'>): string {
  const { seq, at, actor, action, subject, details, prev } = line;
  return sha256(canonicalJson({ seq, at, actor, action, subject, details, prev }));
}

const short = (h: string): string => `${h.slice(0, 19)}…`;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks one line on its own (shape and own hash); returns the reason it is bad, or the line. */
function checkLine(raw: string): AuditLine | string {
  if (raw.trim() === '') return 'empty line';
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    return `not JSON (${(e as Error).message.split('\n')[0]})`;
  }
  if (!isPlainObject(v)) return 'not a JSON object';
  for (const f of FIELDS) if (!(f in v)) return `missing field "${f}"`;
  for (const k of Object.keys(v)) if (!(FIELDS as readonly string[]).includes(k)) return `unexpected field ${JSON.stringify(k)}`;
  if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 1) return `seq ${JSON.stringify(v.seq)} is not an integer >= 1`;
  if (typeof v.at !== 'string' || Number.isNaN(Date.parse(v.at))) return `at ${JSON.stringify(v.at)} is not an ISO time`;
  if (typeof v.actor !== 'string' || v.actor.trim() === '') return `actor ${JSON.stringify(v.actor)} is not a non-empty string`;
  if (typeof v.action !== 'string' || v.action.trim() === '') return `action ${JSON.stringify(v.action)} is not a non-empty string`;
  if (!isPlainObject(v.subject)) return 'subject is not an object';
  if (!isPlainObject(v.details)) return 'details is not an object';
  if (typeof v.prev !== 'string' || !HASH_PATTERN.test(v.prev)) return `prev ${JSON.stringify(v.prev)} is not a sha256: hash`;
  if (typeof v.hash !== 'string' || !HASH_PATTERN.test(v.hash)) return `hash ${JSON.stringify(v.hash)} is not a sha256: hash`;
  const line = v as unknown as AuditLine;
  const computed = auditLineHash(line);
  if (computed !== line.hash) return `hash mismatch: the line was edited (recorded ${short(line.hash)}, computed ${short(computed)})`;
  return line;
}

/**
 * Verifies the text of an audit log: every line well-formed, its hash right, seq counting up from
 * 1 and prev equal to the previous line's hash. Names the first bad line. A final line with no
 * newline is reported as torn (an interrupted write), whatever it holds.
 */
export function verifyAuditText(text: string): AuditVerification {
  const parts = text.split('\n');
  const complete = text === '' || text.endsWith('\n');
  const n = complete ? parts.length - 1 : parts.length;
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const k = i + 1;
    const raw = parts[i]!;
    if (!complete && i === n - 1) {
      return { ok: false, line: k, reason: `torn final line: ${Buffer.byteLength(raw)} bytes with no terminating newline (an interrupted write)` };
    }
    const line = checkLine(raw);
    if (typeof line === 'string') return { ok: false, line: k, reason: line };
    if (line.seq > k) return { ok: false, line: k, reason: `seq ${line.seq} where ${k} was expected: ${line.seq - k === 1 ? 'a line was' : 'lines were'} removed before it` };
    if (line.seq < k) return { ok: false, line: k, reason: `seq ${line.seq} where ${k} was expected: lines were reordered or repeated` };
    if (line.prev !== prev) return { ok: false, line: k, reason: `prev ${short(line.prev)} is not the hash of line ${k - 1} (${short(prev)}): a line was removed, inserted or reordered` };
    prev = line.hash;
  }
  return { ok: true, lines: n, head: prev };
}

/** Verifies the audit log at `path` (see verifyAuditText); a missing file is reported as line 0. */
export async function verifyAudit(path: string): Promise<AuditVerification> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, line: 0, reason: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? (e as Error).message})` };
  }
  return verifyAuditText(text);
}

/** The lines of a verified audit log; throws WorkspaceError('Tampered') naming the first bad line. */
export async function readAudit(path: string): Promise<AuditLine[]> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new WorkspaceError('NotFound', `${basename(path)}: ${e.code === 'ENOENT' ? 'file not found' : `cannot read the file (${e.code ?? e.message})`}`, AUDIT_FILE);
  });
  const v = verifyAuditText(text);
  if (!v.ok) throw new WorkspaceError('Tampered', `${basename(path)} line ${v.line}: ${v.reason}`, AUDIT_FILE);
  return text.split('\n').slice(0, v.lines).map((l) => JSON.parse(l) as AuditLine);
}

// ---------------------------------------------------------------------------------------------
// Appending

/**
 * The seq and hash of the last line, read from the end of the file (GENESIS_HASH and 0 for an
 * empty log). Throws WorkspaceError naming the line when the last line is torn or bad, and
 * NotFound when the file is missing: callers check this before a write they will audit.
 */
export async function auditHead(path: string): Promise<{ seq: number; hash: string }> {
  if (!(await stat(path).then(() => true, () => false))) throw new WorkspaceError('NotFound', `${basename(path)}: file not found (the audit trail of the workspace is missing)`, AUDIT_FILE);
  return lastLine(path);
}

async function lastLine(path: string): Promise<{ seq: number; hash: string }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return { seq: 0, hash: GENESIS_HASH };
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      if (buf[buf.length - 1] !== 0x0a) break; // torn: let the full verification name it
      const from = buf.lastIndexOf(0x0a, buf.length - 2);
      if (from < 0 && start > 0) continue; // the last line is longer than the window
      const line = checkLine(buf.subarray(from + 1, buf.length - 1).toString('utf8'));
      if (typeof line === 'string') break;
      return { seq: line.seq, hash: line.hash };
    }
  } finally {
    await fh.close();
  }
  const v = verifyAuditText(await readFile(path, 'utf8'));
  throw new WorkspaceError('Tampered', v.ok ? `${basename(path)}: the last line cannot be read` : `${basename(path)} line ${v.line}: ${v.reason}; nothing was appended`, AUDIT_FILE);
}

export interface AppendOptions {
  /** Create the log if it does not exist (only when a workspace is created); default false. */
  readonly create?: boolean;
}

function toIso(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new WorkspaceError('InvalidArgument', `audit time ${JSON.stringify(String(at))} is not a valid time`);
  return d.toISOString();
}

/**
 * Appends one line to the audit log and returns it. Concurrent calls for the same file are
 * serialised; a log whose last line is bad (edited, torn) is refused, naming the line.
 */
export async function appendAudit(path: string, entry: AuditEntry, opts: AppendOptions = {}): Promise<AuditLine> {
  if (typeof entry.actor !== 'string' || entry.actor.trim() === '') throw new WorkspaceError('InvalidArgument', `actor ${JSON.stringify(entry.actor)} must be a non-empty name`);
  if (typeof entry.action !== 'string' || entry.action.trim() === '') throw new WorkspaceError('InvalidArgument', `action ${JSON.stringify(entry.action)} must be a non-empty string`);
  const at = toIso(entry.at);
  // Appends run one after another per file (within this process), so seq and prev never race.
  return serialised(`audit:${resolve(path)}`, async () => {
    const exists = await stat(path).then(() => true, () => false);
    if (!exists && !opts.create) throw new WorkspaceError('NotFound', `${basename(path)}: file not found (the audit trail of the workspace is missing)`, AUDIT_FILE);
    const last = exists ? await lastLine(path) : { seq: 0, hash: GENESIS_HASH };
    const body = { seq: last.seq + 1, at, actor: entry.actor, action: entry.action, subject: { ...entry.subject }, details: { ...entry.details }, prev: last.hash };
    const line: AuditLine = { ...body, hash: auditLineHash(body) };
    // Written in field order for people reading the log; the hash does not depend on it.
    await appendLineDurable(path, JSON.stringify(line));
    return line;
  });
}
