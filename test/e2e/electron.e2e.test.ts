// The desktop app end to end: the real Electron main process, preload and renderer driven through
// Playwright's _electron, running the same pilot flow as the browser-host spec. Skipped (with the
// reason printed) where Electron's binary is not installed, as on machines that block its download.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';
import type { ElectronApplication, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleElectron, electronBinary } from '../../electron/bundle.mjs';
import { runPilotFlow } from './flow';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SCREENSHOTS = join(ROOT, 'test', 'e2e', 'screenshots');
const binary = electronBinary(ROOT);

if (binary.path === null) console.log(`electron e2e skipped: ${binary.reason}`);

describe.skipIf(binary.path === null)('Electron app', () => {
  let app: ElectronApplication | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, '.cache', 'renderer', 'index.html'))) {
      const { build } = await import('vite');
      await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts') });
    }
    await bundleElectron(ROOT);
    app = await _electron.launch({
      executablePath: binary.path ?? undefined,
      args: [join('.cache', 'electron', 'main.cjs')],
      cwd: ROOT,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('opens one window titled DP Workbench on the app:// origin', async () => {
    expect(page.url()).toMatch(/^app:\/\/workbench\//);
    expect(await page.title()).toBe('DP Workbench');
  });

  it('gives the page no Node: no require, no process, and only the named bridge methods', async () => {
    const globals = await page.evaluate(() => {
      const g = globalThis as unknown as Record<string, unknown>;
      const bridge = g['workbench'] as Record<string, unknown> | undefined;
      return {
        require: typeof g['require'],
        process: typeof g['process'],
        module: typeof g['module'],
        bridgeKeys: bridge ? Object.keys(bridge).sort() : null,
      };
    });
    expect(globals.require).toBe('undefined');
    expect(globals.process).toBe('undefined');
    expect(globals.module).toBe('undefined');
    expect(globals.bridgeKeys).toEqual(['appInfo', 'cancel', 'chooseDataset', 'listSamples', 'loadContributions', 'onMenuCommand', 'openDataset']);
  });

  it('answers the bridge as the electron host', async () => {
    const info = await page.evaluate(async () => {
      const bridge = (globalThis as unknown as Record<string, { appInfo(): Promise<{ host: string }> }>)['workbench'];
      return bridge?.appInfo();
    });
    expect(info?.host).toBe('electron');
  });

  it('refuses to navigate away from the app', async () => {
    const before = page.url();
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com';
    });
    // A navigation that was let through would have replaced the URL by now.
    await page.waitForTimeout(1_000);
    expect(page.url()).toBe(before);
  });

  it('runs the pilot flow', async () => {
    await runPilotFlow(page, { screenshotDir: SCREENSHOTS, prefix: 'electron-' });
  }, 600_000);
});
