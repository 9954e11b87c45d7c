// The layer rules are enforced by the linter (and by shared/core's tsconfig: lib ES2022, no types).
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/oracles';

const eslint = new ESLint({ cwd: REPO_ROOT });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: `${REPO_ROOT}/${filePath}` });
  return (res?.messages ?? []).map((m) => m.ruleId ?? 'parse');
}

describe('layer rules', () => {
  it('shared/core may not call Math.random or Date.now', async () => {
    expect(await ruleIds('export const x = Math.random();\n', 'shared/core/dp/probe.ts')).toContain('no-restricted-properties');
    expect(await ruleIds('export const t = Date.now();\n', 'shared/core/dp/probe.ts')).toContain('no-restricted-properties');
  });
  it('shared/core may not import Node, Electron or UI modules', async () => {
    expect(await ruleIds("import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'shared/core/probe.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import { app } from 'electron';\nexport const a = app;\n", 'shared/core/probe.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import { x } from '../../node/cli/main';\nexport const y = x;\n", 'shared/core/dp/probe.ts')).toContain('no-restricted-imports');
  });
  it('the same code is allowed outside the core', async () => {
    expect(await ruleIds('export const x = Math.random();\n', 'shared/node/probe.ts')).not.toContain('no-restricted-properties');
  });
  it('the renderer may not import electron or Node services', async () => {
    expect(await ruleIds("import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;\n", 'renderer/probe.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import { main } from '../shared/node/cli/main';\nexport const m = main;\n", 'renderer/probe.ts')).toContain('no-restricted-imports');
  });
});
