import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditLine } from '../../../../shared/node/workspace/audit';
import { appendAudit, auditLineHash, GENESIS_HASH, readAudit, verifyAudit, verifyAuditText, WorkspaceError } from '../../../../shared/node/workspace/audit';

const T0 = Date.parse('2025-03-01T09:00:00Z');

async function makeLog(lines = 5): Promise<{ path: string; text: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'dpw-audit-')), 'audit.log');
  for (let i = 0; i < lines; i++) {
    await appendAudit(path, {
      at: new Date(T0 + i * 60_000),
      actor: i % 2 ? 'bob' : 'alice',
      action: i === 0 ? 'workspace-created' : 'config-saved',
      subject: i === 0 ? { workspace: 'Pilot' } : { analysisId: 'checkout', version: i },
      details: { file: `analyses/checkout/v${i}.json`, n: i, nested: { ok: true, list: [1, 2, 3] } },
    }, { create: i === 0 });
  }
  return { path, text: readFileSync(path, 'utf8') };
}

const linesOf = (text: string): string[] => text.split('\n').slice(0, -1);
const join1 = (lines: string[]): string => `${lines.join('\n')}\n`;

describe('audit log', () => {
  it('verifies an intact chain and reports its head', async () => {
    const { path, text } = await makeLog(5);
    const lines = linesOf(text).map((l) => JSON.parse(l) as AuditLine);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(lines[0]!.prev).toBe(GENESIS_HASH);
    for (let i = 1; i < 5; i++) expect(lines[i]!.prev).toBe(lines[i - 1]!.hash);
    for (const l of lines) expect(auditLineHash(l)).toBe(l.hash);
    expect(await verifyAudit(path)).toEqual({ ok: true, lines: 5, head: lines[4]!.hash });
    expect((await readAudit(path)).map((l) => l.action)).toEqual(['workspace-created', 'config-saved', 'config-saved', 'config-saved', 'config-saved']);
  });

  it('an empty log verifies with 0 lines; a missing one is reported as line 0', async () => {
    expect(verifyAuditText('')).toEqual({ ok: true, lines: 0, head: GENESIS_HASH });
    expect(await verifyAudit(join(tmpdir(), 'no-such-dir-dpw', 'audit.log'))).toEqual({ ok: false, line: 0, reason: 'file not found' });
  });

  it('serialises concurrent appends from one process', async () => {
    const { path } = await makeLog(1);
    await Promise.all(Array.from({ length: 25 }, (_, i) => appendAudit(path, { at: new Date(T0), actor: `actor${i}`, action: 'exported', subject: { n: i }, details: {} })));
    const v = await verifyAudit(path);
    expect(v).toMatchObject({ ok: true, lines: 26 });
  });

  it('editing any field of a middle line names that line', async () => {
    const { text } = await makeLog(5);
    const edits: Record<string, (l: Record<string, unknown>) => void> = {
      seq: (l) => (l.seq = 9),
      at: (l) => (l.at = '2025-03-01T09:02:01.000Z'),
      actor: (l) => (l.actor = 'mallory'),
      action: (l) => (l.action = 'approved'),
      subject: (l) => ((l.subject as Record<string, unknown>).version = 99),
      details: (l) => ((l.details as Record<string, unknown>).n = 7),
      prev: (l) => (l.prev = GENESIS_HASH),
      hash: (l) => (l.hash = `sha256:${'1'.repeat(64)}`),
    };
    for (const [field, edit] of Object.entries(edits)) {
      const lines = linesOf(text);
      const l = JSON.parse(lines[2]!) as Record<string, unknown>;
      edit(l);
      lines[2] = JSON.stringify(l);
      const v = verifyAuditText(join1(lines));
      expect(v, field).toMatchObject({ ok: false, line: 3 });
      expect((v as { reason: string }).reason, field).toMatch(/^hash mismatch: the line was edited/);
    }
  });

  it('an edited line whose hash was recomputed breaks the chain at the next line', async () => {
    const { text } = await makeLog(5);
    const lines = linesOf(text);
    const l = JSON.parse(lines[1]!) as AuditLine;
    const forged = { ...l, actor: 'mallory' };
    lines[1] = JSON.stringify({ ...forged, hash: auditLineHash(forged) });
    expect(verifyAuditText(join1(lines))).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/^prev .* is not the hash of line 2/) });
  });

  it('a removed line is named: the line that now stands in its place', async () => {
    const { text } = await makeLog(5);
    const lines = linesOf(text);
    expect(verifyAuditText(join1([...lines.slice(0, 2), ...lines.slice(3)]))).toEqual({ ok: false, line: 3, reason: 'seq 4 where 3 was expected: a line was removed before it' });
    expect(verifyAuditText(join1(lines.slice(1)))).toMatchObject({ ok: false, line: 1, reason: expect.stringMatching(/removed/) });
    expect(verifyAuditText(join1([lines[0]!, ...lines.slice(3)]))).toMatchObject({ ok: false, line: 2, reason: expect.stringMatching(/^seq 4 where 2 was expected: lines were removed/) });
  });

  it('swapped lines are named at the first of them', async () => {
    const { text } = await makeLog(5);
    const lines = linesOf(text);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    expect(verifyAuditText(join1(lines))).toMatchObject({ ok: false, line: 2, reason: expect.stringMatching(/^seq 3 where 2 was expected/) });
    const again = linesOf(text);
    again.push(again[1]!); // a line repeated at the end
    expect(verifyAuditText(join1(again))).toMatchObject({ ok: false, line: 6, reason: expect.stringMatching(/reordered or repeated/) });
  });

  it('a truncated last line is reported as torn, naming it', async () => {
    const { path, text } = await makeLog(5);
    for (const cut of [1, 10, 80]) {
      const v = verifyAuditText(text.slice(0, text.length - cut));
      expect(v).toMatchObject({ ok: false, line: 5, reason: expect.stringMatching(/^torn final line: \d+ bytes with no terminating newline/) });
    }
    // Appending to a torn log is refused, naming the line, and writes nothing.
    writeFileSync(path, text.slice(0, text.length - 10));
    await expect(appendAudit(path, { at: new Date(T0), actor: 'alice', action: 'exported', subject: {}, details: {} })).rejects.toThrow(/audit\.log line 5: torn final line/);
    expect(readFileSync(path, 'utf8')).toBe(text.slice(0, text.length - 10));
  });

  it('a line that is not JSON, empty or misses a field is named', async () => {
    const { text } = await makeLog(4);
    const lines = linesOf(text);
    expect(verifyAuditText(join1([lines[0]!, '{"seq":2,', ...lines.slice(2)]))).toMatchObject({ ok: false, line: 2, reason: expect.stringMatching(/^not JSON/) });
    expect(verifyAuditText(join1([lines[0]!, '', ...lines.slice(1)]))).toMatchObject({ ok: false, line: 2, reason: 'empty line' });
    const l = JSON.parse(lines[2]!) as Record<string, unknown>;
    delete l.actor;
    expect(verifyAuditText(join1([lines[0]!, lines[1]!, JSON.stringify(l), lines[3]!]))).toMatchObject({ ok: false, line: 3, reason: 'missing field "actor"' });
    expect(verifyAuditText(join1([lines[0]!, '[1,2]']))).toMatchObject({ ok: false, line: 2, reason: 'not a JSON object' });
  });

  it('a log checked out with CRLF line ends still verifies (git autocrlf)', async () => {
    const { text } = await makeLog(3);
    expect(verifyAuditText(text.replace(/\n/g, '\r\n'))).toMatchObject({ ok: true, lines: 3 });
  });

  it('cannot detect lines cut from the end, but the head hash changes', async () => {
    const { text } = await makeLog(4);
    const full = verifyAuditText(text);
    const cut = verifyAuditText(join1(linesOf(text).slice(0, 3)));
    expect(cut).toMatchObject({ ok: true, lines: 3 });
    expect(full.ok && cut.ok && full.head !== cut.head).toBe(true);
  });

  it('refuses a missing log unless asked to create it, and an empty actor', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dpw-audit-')), 'audit.log');
    await expect(appendAudit(path, { at: new Date(T0), actor: 'alice', action: 'exported', subject: {}, details: {} })).rejects.toThrow(WorkspaceError);
    await expect(appendAudit(path, { at: new Date(T0), actor: ' ', action: 'exported', subject: {}, details: {} }, { create: true })).rejects.toThrow(/actor " " must be a non-empty name/);
    await expect(appendAudit(path, { at: 'not a time', actor: 'a', action: 'exported', subject: {}, details: {} }, { create: true })).rejects.toThrow(/audit time "not a time"/);
  });
});
