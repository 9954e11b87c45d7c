// The pilot, end to end, as a user does it: load the bundled sample → define a metric → tune the
// budget and bounds → simulate (and cancel one run) → read the results → compare two runs. Shared
// by the browser-host spec and the Electron spec; a screenshot of every screen is saved.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

const LONG = 120_000;

async function shot(page: Page, opts: { screenshotDir: string; prefix: string }, name: string): Promise<void> {
  await page.screenshot({ path: join(opts.screenshotDir, `${opts.prefix}${name}.png`), fullPage: true });
}

/** Waits until a Plotly chart has drawn into the element with this test id. */
async function chartDrawn(page: Page, testId: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"] .main-svg`).first().waitFor({ timeout: 30_000 });
}

async function text(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).first().textContent()) ?? '';
}

export async function runPilotFlow(page: Page, opts: { screenshotDir: string; prefix: string }): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  // --- Data: a bad path gives a readable error, then the bundled sample loads.
  await page.getByTestId('samples').waitFor();
  await page.getByTestId('path-input').fill('no/such/events.csv');
  await page.getByRole('button', { name: 'Open path' }).click();
  await page.getByTestId('dataset-error').waitFor();
  expect(await text(page, 'dataset-error')).toMatch(/events\.csv.*not found|not found.*events\.csv|No such file|does not exist/i);

  await page.getByTestId('open-sample-product-events').click();
  await page.getByTestId('dataset-summary').waitFor({ timeout: LONG });
  expect(await text(page, 'dataset-name')).toContain('product-events.csv');
  expect(await page.getByTestId('schema').locator('tbody tr').count()).toBeGreaterThan(5);
  await chartDrawn(page, 'profile-l0');
  await shot(page, opts, '1-data');

  // --- Metrics: add "events by platform" (count, by platform).
  await page.getByTestId('nav-metrics').click();
  await page.getByTestId('page-metrics').waitFor();
  await page.getByTestId('add-metric').click();
  await page.getByTestId('metric-id').fill('events_by_platform');
  await page.getByTestId('metric-label').fill('Events by platform');
  await page.getByTestId('metric-kind').selectOption('count');
  await page.getByTestId('by-platform').check();
  await page.getByTestId('save-metric').click();
  await page.getByTestId('metric-item-events_by_platform').waitFor();
  await shot(page, opts, '2-metrics');

  // --- Privacy: the analytic preview answers; moving ε changes the expected accuracy.
  await page.getByTestId('nav-privacy').click();
  await page.getByTestId('page-privacy').waitFor();
  const acc = page.getByTestId('acc-active_users_by_country');
  await expect.poll(async () => (await acc.textContent()) ?? '', { timeout: LONG }).toMatch(/%/);
  const before = (await acc.textContent()) ?? '';
  await page.getByTestId('total-epsilon-input').fill('0.5');
  await expect.poll(async () => (await acc.textContent()) ?? '', { timeout: 10_000 }).not.toBe(before);
  const ms = Number(await text(page, 'analytic-ms'));
  expect(ms).toBeGreaterThan(0);
  // A tighter L0 on the new metric is applied and evaluated.
  await page.getByTestId('privacy-row-events_by_platform').click();
  await page.getByTestId('linf-events_by_platform').fill('5');
  await chartDrawn(page, 'bound-linf');
  await page.getByTestId('privacy-row-active_users_by_country').click();
  await chartDrawn(page, 'release-curve');
  await shot(page, opts, '3-privacy');

  // --- Simulate: a long run can be cancelled; then 1,000 trials complete.
  await page.getByTestId('nav-simulate').click();
  await page.getByTestId('page-simulate').waitFor();
  await page.getByTestId('trials').selectOption('10000');
  await page.getByTestId('run-simulation').click();
  await page.getByTestId('sim-progress').waitFor();
  await page.getByTestId('cancel').click();
  await page.getByTestId('sim-cancelled').waitFor({ timeout: 30_000 });
  await page.getByTestId('trials').selectOption('1000');
  await page.getByTestId('run-simulation').click();
  await page.getByTestId('sim-done').waitFor({ timeout: LONG });
  await shot(page, opts, '4-simulate');

  // --- Results: charts, the plain-language sentence, the simulated release, privacy metadata.
  await page.getByTestId('to-results').click();
  await page.getByTestId('page-results').waitFor();
  for (const id of ['chart-decomposition', 'chart-slo', 'chart-distribution', 'chart-vs-size', 'chart-release']) await chartDrawn(page, id);
  expect(await text(page, 'accuracy-sentence')).toMatch(/cohorts would be released/);
  expect(await page.getByTestId('metric-results').getByTestId('privacy-badge').first().textContent()).toMatch(/ε .*δ/);
  expect(await page.locator('[data-testid="chart-release"]').textContent()).toMatch(/Simulated release \(not real data\)/);
  await shot(page, opts, '5-results');

  // --- Compare: a second run at ε 2, both pinned, and an ε sweep with its Pareto front.
  await page.getByTestId('nav-privacy').click();
  await page.getByTestId('total-epsilon-input').fill('2');
  await page.getByTestId('nav-simulate').click();
  await page.getByTestId('run-simulation').click();
  await page.getByTestId('sim-done').waitFor({ timeout: LONG });
  await page.getByTestId('nav-compare').click();
  await page.getByTestId('page-compare').waitFor();
  const pins = page.getByTestId('runs-table').locator('input[type="checkbox"]');
  expect(await pins.count()).toBe(2);
  await pins.nth(0).check();
  await pins.nth(1).check();
  await page.getByTestId('compare-table').waitFor();
  await page.getByTestId('sweep-epsilon').click();
  await chartDrawn(page, 'pareto-chart');
  await shot(page, opts, '6-compare');

  expect(errors, `page errors: ${errors.join('; ')}`).toEqual([]);
}

/**
 * Review and export, after runPilotFlow (its last run is of the current configuration): save a
 * version, record the run as evidence, submit, set a generous budget, approve as another person,
 * export to BigQuery SQL; then tighten the budget and see the same export refused with the
 * numbers; a draft export is still possible and marked DRAFT.
 */
export async function runGovernanceFlow(page: Page, opts: { screenshotDir: string; prefix: string }): Promise<void> {
  await page.getByTestId('nav-review').click();
  await page.getByTestId('page-review').waitFor();
  await page.getByTestId('actor').fill('dana');
  await page.getByTestId('analysis-id').fill('shop-pilot');
  await page.getByTestId('policy-epsilon').fill('100');
  await page.getByTestId('save-policy').click();
  // Hold ε 1 back for later questions: it counts in the ledger like a release.
  await page.getByTestId('reservation-label').fill('ad-hoc questions');
  await page.getByTestId('reservation-epsilon').fill('1');
  await page.getByTestId('add-reservation').click();
  await page.getByTestId('reservations').waitFor();
  await page.getByTestId('save-version').click();
  await page.getByTestId('selected-version').waitFor();
  expect(await text(page, 'selected-version')).toMatch(/shop-pilot v1/);
  await page.getByTestId('record-evidence').click();
  await page.getByTestId('submit-review').click();
  await page.getByTestId('reviewer').fill('rui');
  await page.getByTestId('rationale').fill('Errors within the SLO for the large cohorts; small countries suppressed as expected.');
  await page.getByTestId('ledger-status').first().waitFor();
  await page.getByTestId('approve').click();
  await page.getByTestId('decision').waitFor();
  expect(await text(page, 'decision')).toMatch(/Approved by rui/);

  await page.getByTestId('export-target').selectOption('bigquery');
  await page.getByTestId('export-run').click();
  await page.getByTestId('export-result').waitFor();
  expect(await text(page, 'export-result')).toMatch(/WITH DIFFERENTIAL_PRIVACY/);
  await chartDrawn(page, 'calendar-chart');
  await page.getByTestId('verify-audit').click();
  await expect.poll(async () => text(page, 'audit-status')).toMatch(/Chain intact/);
  await shot(page, opts, '7-review-approved');

  // A tighter budget: the approved version now overspends it; export is refused with the numbers.
  await page.getByTestId('policy-epsilon').fill('0.5');
  await page.getByTestId('save-policy').click();
  await expect.poll(async () => text(page, 'ledger-status')).toMatch(/\d+% used/);
  await page.getByTestId('export-run').click();
  await page.getByTestId('gov-error').waitFor();
  expect(await text(page, 'gov-error')).toMatch(/over|exceed/i);
  expect(await text(page, 'gov-error')).toMatch(/0\.5/);
  await shot(page, opts, '8-review-refused');
  await page.getByTestId('export-draft').check();
  await page.getByTestId('export-run').click();
  await page.getByTestId('export-result').waitFor();
  expect(await text(page, 'export-result')).toMatch(/DRAFT/);

  // A change of parameters makes a new draft version (v1 stays approved); the diff says what changed.
  await page.getByTestId('nav-privacy').click();
  await page.getByTestId('total-epsilon-input').fill('1.5');
  await page.getByTestId('nav-review').click();
  await page.getByTestId('save-version').click();
  await expect.poll(async () => text(page, 'selected-version')).toMatch(/shop-pilot v2/);
  expect(await text(page, 'versions')).toMatch(/v1\s*approved/);
  await page.getByTestId('show-diff').click();
  await page.getByTestId('diff-table').waitFor();
  expect(await text(page, 'diff-table')).toMatch(/total ε\s*2\s*1\.5/);
  await shot(page, opts, '9-review-diff');
}
