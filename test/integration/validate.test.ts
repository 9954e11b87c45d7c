import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/core/config/index';
import { canonicalJson } from '../../shared/core/export/canonical';
import { main } from '../../shared/node/cli/main';
import { ANALYSIS_CONFIG_SCHEMA_FILE, analysisConfigSchemaText } from '../../shared/node/cli/commands/schema';
import { REPO_ROOT } from '../helpers/oracles';

async function dpw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

const CONFIGS = resolve(REPO_ROOT, 'sample-data/configs');
const PILOT = join(CONFIGS, 'product-pilot.json'); // schemaVersion 2
const SAAS = join(CONFIGS, 'saas-pilot.json'); // schemaVersion 1
const tmp = mkdtempSync(join(tmpdir(), 'dpw-validate-'));

function writeTmp(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describe('dpw validate', () => {
  it('accepts a current config and names it', async () => {
    const r = await dpw('validate', PILOT);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe('valid: Shop app pilot: users, revenue and conversion, schemaVersion 2');
  });

  it('accepts a v1 config and says it was migrated', async () => {
    const r = await dpw('validate', SAAS);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe('valid: SaaS feature usage pilot by workspace, schemaVersion 2 (migrated from v1)');
  });

  it('--json gives the version, the migration steps and the config hash exports carry', async () => {
    const r = await dpw('validate', SAAS, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ file: SAAS, valid: true, name: 'SaaS feature usage pilot by workspace', schemaVersion: 2, migratedFrom: 1 });
    expect(j.migrations).toHaveLength(1);
    const config = parseConfig(JSON.parse(readFileSync(SAAS, 'utf8')));
    expect(j.configHash).toBe(`sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`);
    expect(JSON.parse((await dpw('validate', PILOT, '--json')).out).migratedFrom).toBeNull();
  });

  it('lists every issue with its JSON path and exits 1', async () => {
    const cfg = JSON.parse(readFileSync(PILOT, 'utf8'));
    cfg.budget.epsilon = -1;
    cfg.metrics[0].by = ['continent'];
    delete cfg.metrics[3].privacy.clamp;
    cfg.metrics[1].privacy.bogus = true;
    const file = writeTmp('issues.json', JSON.stringify(cfg, null, 2));
    const r = await dpw('validate', file);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe(`${file}: invalid analysis config (5 issues):`);
    expect(r.err).toMatch(/^ {2}budget\.epsilon: must be > 0$/m);
    expect(r.err).toMatch(/^ {2}metrics\[0\]\.by\[0\]: unknown dimension "continent"/m);
    expect(r.err).toMatch(/^ {2}metrics\[3\]\.privacy\.clamp: a sum needs a clamp range$/m);
    expect(r.err).toMatch(/^ {2}metrics\[1\]\.privacy: .*bogus/m);
    expect(r.err).toMatch(/^ {2}metrics\[4\]\.denominator: metric "active_users_by_country" groups by \[continent\], not \[country\]$/m);
    const j = JSON.parse((await dpw('validate', file, '--json')).out);
    expect(j.valid).toBe(false);
    expect(j.issues.map((i: { path: string }) => i.path).sort()).toEqual(['budget.epsilon', 'metrics[0].by[0]', 'metrics[1].privacy', 'metrics[3].privacy.clamp', 'metrics[4].denominator'].sort());
  });

  it('a truncated file names the file and where JSON parsing stopped', async () => {
    const text = readFileSync(PILOT, 'utf8');
    const cut = text.slice(0, 500);
    const file = writeTmp('truncated.json', cut);
    const r = await dpw('validate', file);
    expect(r.code).toBe(1);
    const lines = cut.split('\n');
    // V8 reports the end of the text (where the missing rest should have been).
    expect(r.err.trim()).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON at line ${lines.length}, column ${lines[lines.length - 1]!.length + 1} \\(position ${cut.length}\\): \\S`));
    const j = JSON.parse((await dpw('validate', file, '--json')).out);
    expect(j.error).toMatchObject({ kind: 'json', position: cut.length, line: lines.length });
  });

  it('a tampered file points at the offending character', async () => {
    const file = writeTmp('tampered.json', '{\n  "schemaVersion": 2,\n  "name": "x",,\n  "budget": {}\n}\n');
    const r = await dpw('validate', file);
    expect(r.code).toBe(1);
    // The second comma of line 3 is character 38 (0-based), column 15.
    expect(r.err.trim().startsWith(`${file}: not valid JSON at line 3, column 15 (position 38): `)).toBe(true);
  });

  it('an unknown schemaVersion is named', async () => {
    const cfg = JSON.parse(readFileSync(PILOT, 'utf8'));
    cfg.schemaVersion = 7;
    const r = await dpw('validate', writeTmp('v7.json', JSON.stringify(cfg)));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/schemaVersion: unknown schemaVersion 7: this workbench reads versions 1 to 2/);
  });

  it('a missing file exits 1 naming it; missing arguments exit 2', async () => {
    const r = await dpw('validate', join(tmp, 'nope.json'));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`${join(tmp, 'nope.json')}: config file not found`);
    const u = await dpw('validate');
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/CONFIG is required/);
    expect((await dpw('validate', PILOT, SAAS)).code).toBe(2);
    const h = await dpw('validate', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^Usage: dpw validate/);
  });

  it('runs as a real process through bin/dpw.mjs', () => {
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'bin/dpw.mjs'), 'validate', SAAS], { encoding: 'utf8' });
    expect(out.trim()).toBe('valid: SaaS feature usage pilot by workspace, schemaVersion 2 (migrated from v1)');
    const bad = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/dpw.mjs'), 'validate', writeTmp('bad.json', '{"schemaVersion": 2')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.json: not valid JSON at line 1, column 20 \(position 19\)/);
    expect(bad.stderr).not.toMatch(/at .*\.ts:/);
  });
});

describe('dpw schema', () => {
  it('the committed JSON Schema is the one the zod schema generates', () => {
    expect(readFileSync(join(REPO_ROOT, ANALYSIS_CONFIG_SCHEMA_FILE), 'utf8')).toBe(analysisConfigSchemaText());
  });

  it('--out writes the schema; without it the schema is printed', async () => {
    const file = join(tmp, 'schema.json');
    const r = await dpw('schema', '--out', file);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(analysisConfigSchemaText());
    const p = await dpw('schema');
    expect(JSON.parse(p.out)).toEqual(JSON.parse(analysisConfigSchemaText()));
    expect((await dpw('schema', '--out', join(tmp, 'no/such/dir/s.json'))).code).toBe(2);
  });

  it('describes the config from the input side: defaulted fields are optional, metrics a union of kinds', () => {
    const s = JSON.parse(analysisConfigSchemaText());
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.required).toEqual(expect.arrayContaining(['schemaVersion', 'name', 'dataset', 'privacyUnit', 'budget', 'metrics']));
    expect(s.required).not.toContain('dimensions');
    expect(s.properties.budget.required).toEqual(['epsilon', 'delta']);
    expect(JSON.stringify(s.properties.metrics)).toContain('local-frequency');
  });
});

describe('dpw validate: the sample the config names', () => {
  it('names a missing dataset file as an issue at dataset.path (exit 1), unless --no-data-check', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { main } = await import('../../shared/node/cli/main');
    const { REPO_ROOT } = await import('../helpers/oracles');
    const dir = mkdtempSync(join(tmpdir(), 'dpw-validate-data-'));
    const cfg = JSON.parse(readFileSync(join(REPO_ROOT, 'sample-data', 'configs', 'saas-pilot.json'), 'utf8')) as { dataset: { path: string } };
    cfg.dataset.path = 'nowhere/events.csv';
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify(cfg));
    const run = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await main(['validate', ...args], { out: (s: string) => (out += `${s}\n`), err: (s: string) => (err += `${s}\n`) });
      return { code, out, err };
    };
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/dataset\.path: the sample file .*nowhere\/events\.csv does not exist/);
    const skip = await run(file, '--no-data-check');
    expect(skip.code).toBe(0);
  });
});
