// The workbench in Debian's Chromium through the browser host (`npm start -- --browser`): the full
// pilot on the bundled sample, and the host's security: a request without the token, a foreign
// Origin or Host is refused; the page's CSP blocks inline script and form posts elsewhere.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaunchedBrowser, RunningHost } from './harness';
import { buildRenderer, chromiumMissing, launchChromium, SCREENSHOTS, startHost } from './harness';
import { runGovernanceFlow, runPilotFlow } from './flow';

const missing = chromiumMissing();
if (missing) console.log(`browser e2e skipped: ${missing}`);

describe.skipIf(missing !== null)('DP Workbench in Chromium through the browser host', () => {
  let host: RunningHost;
  let browser: LaunchedBrowser;
  let page: Page;

  beforeAll(async () => {
    await buildRenderer();
    host = await startHost({ DPW_WORKSPACE: mkdtempSync(join(tmpdir(), 'dpw-e2e-workspace-')) });
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(host.url);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('runs the whole pilot (load, define a metric, tune, simulate, read results, compare), then approve → export and a refused over-budget export', async () => {
    // The token was exchanged for a cookie and dropped from the address bar.
    expect(new URL(page.url()).search).toBe('');
    try {
      await runPilotFlow(page, { screenshotDir: SCREENSHOTS, prefix: 'browser-' });
      await runGovernanceFlow(page, { screenshotDir: SCREENSHOTS, prefix: 'browser-' });
    } catch (e) {
      await page.screenshot({ path: `${SCREENSHOTS}/browser-failure.png`, fullPage: true });
      throw e;
    }
  }, 600_000);

  it('refuses requests without the token, from a foreign Origin or to a foreign Host', async () => {
    const plain = await fetch(`${host.origin}/`);
    expect(plain.status).toBe(401);
    const asset = await fetch(`${host.origin}/index.html`);
    expect(asset.status).toBe(401);
    const api = await fetch(`${host.origin}/api/wb:samples-list`, { method: 'POST' });
    expect(api.status).toBe(401);
    // The cookie alone does not open the API: it needs the header a cross-site page cannot set.
    const cookieOnly = await fetch(`${host.origin}/api/wb:samples-list`, { method: 'POST', headers: { Cookie: `dpw_token=${host.token}` } });
    expect(cookieOnly.status).toBe(401);
    const wrong = await fetch(`${host.origin}/?token=${'0'.repeat(64)}`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const foreign = await fetch(`${host.origin}/api/wb:samples-list`, { method: 'POST', headers: { 'X-DPW-Token': host.token, Origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    const { request } = await import('node:http');
    const status = await new Promise<number>((ok, fail) => {
      const u = new URL(host.origin);
      const req = request({ host: '127.0.0.1', port: Number(u.port), path: '/', headers: { Host: 'evil.example', 'X-DPW-Token': host.token } }, (res) => ok(res.statusCode ?? 0));
      req.on('error', fail);
      req.end();
    });
    expect(status).toBe(421);
    const ok = await fetch(`${host.origin}/api/wb:app-info`, { method: 'POST', headers: { 'X-DPW-Token': host.token } });
    expect(ok.status).toBe(200);
  });

  it('keeps the page on its origin: CSP blocks inline script and form posts elsewhere, no external links', async () => {
    const before = page.url();
    const violations = await page.evaluate(async () => {
      const seen: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.appendChild(s);
      const form = document.createElement('form');
      form.action = 'https://example.com/steal';
      form.method = 'post';
      document.body.appendChild(form);
      form.submit();
      await new Promise((r) => setTimeout(r, 500));
      return { seen, inlineRan: (window as unknown as { __inlineRan?: boolean }).__inlineRan === true };
    });
    expect(violations.inlineRan).toBe(false);
    expect(violations.seen).toEqual(expect.arrayContaining(['script-src-elem', 'form-action']));
    expect(page.url()).toBe(before);
    const external = await page.locator('a[href^="http"]').count();
    expect(external).toBe(0);
  });
});
