// End-to-end harness: builds the renderer, starts the browser host the way `npm start -- --browser`
// does (a child process, its printed URL parsed), and launches Debian's Chromium with
// playwright-core (never a downloaded browser: none can be fetched here).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SCREENSHOTS = join(ROOT, 'test', 'e2e', 'screenshots');
export const CHROMIUM = process.env['DPW_CHROMIUM'] ?? '/usr/bin/chromium';

/** Why the browser specs cannot run here, or null. In CI a missing Chromium is a failure, not a skip. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const reason = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env['CI']) throw new Error(`e2e: ${reason}; .ci/run installs it`);
  return reason;
}

export async function buildRenderer(): Promise<void> {
  if (process.env['DPW_E2E_NO_BUILD'] && existsSync(join(ROOT, '.cache', 'renderer', 'index.html'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
}

export interface RunningHost {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `node bin/start.mjs --browser --no-build` with PORT=0; resolves on its "DP Workbench: URL" line. */
export async function startHost(extraEnv: Record<string, string> = {}): Promise<RunningHost> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'start.mjs'), '--browser', '--no-build'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the browser host printed no URL within 60 s:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /DP Workbench: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the browser host exited (${code}):\n${out}`));
    });
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token')!,
    child,
    output: () => out,
    stop: () => new Promise<void>((ok) => {
      if (child.exitCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGTERM');
    }),
  };
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Debian Chromium with the flags this machine needs (no sandbox as root, no background networking). */
export async function launchChromium(): Promise<LaunchedBrowser> {
  // Playwright gives launch() a fresh, empty profile of its own (the --user-data-dir flag is refused).
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  return {
    browser,
    context,
    close: async () => {
      await context.close();
      await browser.close();
    },
  };
}
