// The SMART detail app in a real browser (Debian chromium via playwright-core) against the full app
// with its embedded demo: the demo EHR page → a patient → a card's SMART link → EHR launch (PKCE,
// state, the demo's oidc-provider authorization server, JWT access token at the embedded FHIR server)
// → the detail view, whose numbers must be the card's extension.scores. Also: the CMR report draft
// saved as a DiagnosticReport and read back, a launch without write scope, the app framed by the EHR,
// a confidential client, and the refusals (foreign iss, wrong state, missing PKCE verifier).
// Screenshots go to test-output/smart/ (gitignored); click-to-drawn times are printed.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import type { DiagnosticReport } from 'fhir/r4.js';
import { testConfig, type AppConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freePort } from '../support/free-port.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const SHOTS = join(process.cwd(), 'test-output', 'smart');
const SECRET = 'demo-confidential-secret-0123456789';

jest.setTimeout(120_000);

interface Instance { running: RunningServer; base: string; dataDir: string }

async function start(overrides: Partial<AppConfig> = {}): Promise<Instance> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'smart-browser-'));
  const config = testConfig({ port, host: '127.0.0.1', publicBaseUrl: base, dataDir, demo: true, logLevel: 'silent', hookWorkers: 0, ...overrides });
  return { running: await startServer(config, createLogger('silent')), base, dataDir };
}

let main: Instance;
let browser: Browser;
const timings: Array<{ what: string; ms: number; phases: string }> = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (scripts/install-test-deps.sh)`);
  mkdirSync(SHOTS, { recursive: true });
  main = await start();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await main?.running.close();
  if (main?.dataDir) rmSync(main.dataDir, { recursive: true, force: true });
  if (timings.length > 0) {
    const ms = timings.map((t) => t.ms);
    // Printed on purpose: the issue asks for the click-to-drawn time (target under 1 s on the demo).
    console.log([
      `SMART detail view, click on the card link → view fully drawn (${timings.length} launches): ${Math.min(...ms)}–${Math.max(...ms)} ms`,
      ...timings.map((t) => `  ${t.what}: ${t.ms} ms (${t.phases})`),
    ].join('\n'));
  }
});

interface Problems { list: string[] }

function watch(page: Page, problems: Problems): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.list.push(m.text());
  });
  page.on('pageerror', (e) => problems.list.push(e.message));
}

async function openChart(ctx: BrowserContext, base: string, patientId: string, problems: Problems, settings: { panel?: boolean; write?: boolean } = {}): Promise<Page> {
  const page = await ctx.newPage();
  watch(page, problems);
  await page.goto(`${base}/`);
  await page.waitForSelector('#patients button[data-patient-id]');
  if (settings.panel) await page.check('input[name="smart-open"][value="panel"]');
  if (settings.write === false) await page.uncheck('#smart-write');
  await page.click(`#patients button[data-patient-id="${patientId}"]`);
  await page.waitForSelector(`#chart[data-patient-id="${patientId}"][data-cds-done]`);
  return page;
}

interface CardScore { model: string; value: number; tier?: string }

/** The first card of the service that reports scores, and its extension.scores (kept on the element by the demo). */
async function cardWithScores(page: Page, serviceId: string): Promise<{ uuid: string; scores: CardScore[] }> {
  const cards = await page.locator(`.card-group[data-service="${serviceId}"] article.card[data-scores]`).evaluateAll((els) => els.map((e) => ({
    uuid: e.getAttribute('data-card-uuid') ?? '',
    scores: JSON.parse(e.getAttribute('data-scores') ?? '[]') as CardScore[],
  })));
  expect(cards.length).toBeGreaterThan(0);
  return cards[0]!;
}

/** Click the card's smart link and time it to the drawn view (the EHR page's mark, the app's marks). */
async function launchFromCard(page: Page, uuid: string, what: string, mode: 'tab' | 'panel' = 'tab'): Promise<Page | Frame> {
  const link = page.locator(`article.card[data-card-uuid="${uuid}"] a.smart-link`);
  let app: Page | Frame;
  if (mode === 'tab') {
    const [opened] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
    app = opened;
  } else {
    await link.click();
    const handle = await page.waitForSelector('#smart-frame[src]');
    app = (await handle.contentFrame())!;
  }
  await app.waitForSelector('body[data-state]', { timeout: 30_000 });
  const state = await app.getAttribute('body', 'data-state');
  if (state !== 'drawn') throw new Error(`the app did not draw the view: ${await app.locator('main').textContent()}`);
  const clickedAt = await page.evaluate(() => performance.timeOrigin + (performance.getEntriesByName('smart-link-click').at(-1)?.startTime ?? Number.NaN));
  const t = await app.evaluate(() => (window as unknown as { smartTimings: Record<string, number> }).smartTimings);
  const ms = Math.round(t.drawnAt! - clickedAt);
  expect(ms).toBeGreaterThan(0);
  const phase = (a: number | undefined, b: number | undefined): number => Math.round((b ?? Number.NaN) - (a ?? Number.NaN));
  timings.push({
    what,
    ms,
    phases: `to launch page ${phase(clickedAt, t.launchStartedAt)}, authorize → app ${phase(t.launchStartedAt, t.appStartedAt)}, token ${phase(t.appStartedAt, t.tokenReadyAt)}, detail ${phase(t.tokenReadyAt, t.detailFetchedAt)}, draw ${phase(t.detailFetchedAt, t.drawnAt)}`,
  });
  return app;
}

/**
 * Every score of the card is in the view with the same value and tier, computed by the same code; the
 * scores made of points or terms have their contributions drawn.
 */
async function expectSameNumbers(app: Page | Frame, scores: CardScore[]): Promise<void> {
  expect(scores.length).toBeGreaterThan(0);
  for (const s of scores) {
    const section = app.locator(`section.result[data-model="${s.model}"]`);
    expect(await section.count()).toBe(1);
    expect(Number(await section.getAttribute('data-value'))).toBeCloseTo(s.value, 9);
    expect(await section.getAttribute('data-on-card')).toBe('true');
    expect(Number(await section.getAttribute('data-card-value'))).toBeCloseTo(s.value, 2);
    if (s.tier !== undefined) expect(await section.locator('[data-field="tier"]').textContent()).toBe(s.tier);
    // Contributions drawn by Chart.js wherever the model reports them; every input has its origin.
    const contributions = await section.getAttribute('data-contributions');
    expect(await section.locator('figure[data-chart="contributions"] canvas').count()).toBe(contributions === 'none' ? 0 : 1);
    const origins = await section.locator('table.inputs tbody tr td:nth-child(4)').allTextContents();
    expect(origins.length).toBeGreaterThan(0);
    for (const o of origins) expect(o).toMatch(/^(Observation|Condition|Procedure|Patient|Encounter)\/[A-Za-z0-9\-.]+$|^derived$|^DICOM /);
  }
}

describe('launched from the cards of the demo EHR (new tab)', () => {
  let ctx: BrowserContext;
  const problems: Problems = { list: [] };
  beforeAll(async () => { ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } }); });
  afterAll(async () => { await ctx.close(); });
  afterEach(() => { expect(problems.list).toEqual([]); problems.list.length = 0; });

  test('cirrhosis-sarcopenia: MELD card → the same scores, the MELD 3.0 trend and the band table as observed waitlist mortality', async () => {
    const page = await openChart(ctx, main.base, 'demo-cirrhosis-compensated', problems);
    const card = await cardWithScores(page, 'cirrhosis-sarcopenia');
    expect(card.scores.map((s) => s.model)).toContain('meld-3.0');
    const app = await launchFromCard(page, card.uuid, 'cirrhosis-sarcopenia (tab)') as Page;
    watch(app, problems);
    await expectSameNumbers(app, card.scores);
    expect(await app.locator('section.result[data-model="meld-3.0"]').getAttribute('data-contributions')).toBe('term');
    // MELD 3.0 recomputed at each lab date by the same model: three complete lab dates in the demo record.
    const trend = app.locator('figure[data-trend="meld-3.0"] canvas');
    expect(await trend.count()).toBe(1);
    const bands = app.locator('[data-model-card="meld-3.0"] [data-bands]');
    expect(await bands.locator('caption').textContent()).toBe('observed waitlist mortality by band');
    expect(await bands.locator('tr.current td').first().textContent()).toBe('≤9');
    expect(await app.locator('[data-model-card="meld-3.0"] [data-field="evidence"]').textContent()).toMatch(/^\[S\]/);
    // No report draft for a liver service; no patient name anywhere in the view.
    expect(await app.locator('[data-section="report"]').count()).toBe(0);
    expect(await app.locator('body').textContent()).not.toMatch(/Henrik|Sample/);
    await app.screenshot({ path: join(SHOTS, 'cirrhosis-sarcopenia.png'), fullPage: true });
    await app.close();
    await page.close();
  });

  test('cmr-ihd-macce: STEMI card → CMR risk score, GRACE and TIMI as on the card; the report draft edited, saved and read back', async () => {
    const page = await openChart(ctx, main.base, 'demo-stemi-high-risk', problems);
    const card = await cardWithScores(page, 'cmr-ihd-macce');
    expect(card.scores.map((s) => s.model).sort()).toEqual(['cmr-risk-score', 'grace-in-hospital', 'timi-stemi']);
    const app = await launchFromCard(page, card.uuid, 'cmr-ihd-macce (tab)') as Page;
    watch(app, problems);
    await expectSameNumbers(app, card.scores);
    expect(await app.locator('[data-section="findings"] tbody tr').count()).toBeGreaterThan(3);

    const report = app.locator('[data-section="report"]');
    expect(await report.getAttribute('data-writable')).toBe('true');
    const rv = await report.locator('textarea[data-report-section="rv"]').inputValue();
    expect(rv).toBe('RV ejection fraction: not assessed');
    expect(await report.locator('textarea[data-report-section="lv"]').inputValue()).toMatch(/LV ejection fraction: 35 % \(\d{4}-\d\d-\d\d; Observation\/demo-stemi-high-risk-cmr-lvef\)/);
    const impression = report.locator('textarea[data-report-section="impression"]');
    expect(await impression.inputValue()).toMatch(/CMR risk score after STEMI \(MACE\): 8 points, high/);
    await impression.fill('Large anterior infarct with microvascular obstruction; LVEF 35 %. Reviewed by the demo clinician.');
    await report.locator('[data-action="save-report"]').click();
    const status = report.locator('.report-status[data-saved-id]');
    await status.waitFor();
    expect(await status.getAttribute('data-read-back')).toBe('identical');
    const id = await status.getAttribute('data-saved-id');

    // Read back from the FHIR server as the EHR sees it.
    const cfg = await (await fetch(`${main.base}/demo/config`)).json() as { accessToken: string };
    const res = await fetch(`${main.base}/demo/fhir/DiagnosticReport/${id}`, { headers: { authorization: `Bearer ${cfg.accessToken}` } });
    const dr = await res.json() as DiagnosticReport;
    expect(dr).toMatchObject({
      resourceType: 'DiagnosticReport', status: 'preliminary',
      subject: { reference: 'Patient/demo-stemi-high-risk' },
      code: { coding: [{ system: 'http://loinc.org', code: '24748-6' }] },
      conclusion: 'Large anterior infarct with microvascular obstruction; LVEF 35 %. Reviewed by the demo clinician.',
    });
    expect(dr.result?.map((r) => r.reference)).toContain('Observation/demo-stemi-high-risk-cmr-lvef');
    const text = Buffer.from(dr.presentedForm?.[0]?.data ?? '', 'base64').toString('utf8');
    expect(text).toContain('Reviewed by the demo clinician.');
    expect(text).toContain('RV ejection fraction: not assessed');
    await app.screenshot({ path: join(SHOTS, 'cmr-ihd-macce.png'), fullPage: true });
    await app.close();
    await page.close();
  });

  test('cmr-cardiac-mass: mass card → the CMR Mass Score as on the card; thrombus features; a mass section in the report', async () => {
    const page = await openChart(ctx, main.base, 'demo-mass-malignant', problems);
    const card = await cardWithScores(page, 'cmr-cardiac-mass');
    const app = await launchFromCard(page, card.uuid, 'cmr-cardiac-mass (tab)') as Page;
    watch(app, problems);
    await expectSameNumbers(app, card.scores);
    expect(await app.locator('[data-section="findings"] tbody tr').count()).toBeGreaterThan(0);
    const mass = await app.locator('textarea[data-report-section="mass"]').inputValue();
    expect(mass).toMatch(/^Location: right atrium \(/m);
    expect(mass).toMatch(/^Infiltration: present/m);
    await app.screenshot({ path: join(SHOTS, 'cmr-cardiac-mass.png'), fullPage: true });
    await app.close();
    await page.close();
  });

  test('an EHR that refuses write scopes: the report is offered as text to copy, nothing is saved', async () => {
    const page = await openChart(ctx, main.base, 'demo-chronic-ihd', problems, { write: false });
    const uuid = await page.locator('.card-group[data-service="cmr-ihd-macce"] article.card').first().getAttribute('data-card-uuid');
    const app = await launchFromCard(page, uuid!, 'cmr-ihd-macce, read-only launch (tab)') as Page;
    watch(app, problems);
    const report = app.locator('[data-section="report"]');
    expect(await report.getAttribute('data-writable')).toBe('false');
    expect(await report.locator('[data-action="save-report"]').count()).toBe(0);
    expect(await report.locator('[data-no-write]').count()).toBe(1);
    const copy = await report.locator('textarea[data-report-copy]').inputValue();
    expect(copy).toMatch(/^Cardiac magnetic resonance report \(draft\)/);
    expect(copy).toContain('Comparison: earlier CMR results on ');
    // The LVEF trend: two CMRs in the record.
    expect(await app.locator('figure[data-trend="lvef"] canvas').count()).toBe(1);
    await app.close();
    await page.close();
  });
});

describe('framed by the EHR (panel in the chart)', () => {
  test('the app runs in the EHR iframe and shows the card\'s numbers', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const problems: Problems = { list: [] };
    const page = await openChart(ctx, main.base, 'demo-stemi-high-risk', problems, { panel: true });
    const card = await cardWithScores(page, 'cmr-ihd-macce');
    const frame = await launchFromCard(page, card.uuid, 'cmr-ihd-macce (iframe)', 'panel');
    await expectSameNumbers(frame, card.scores);
    await page.locator('#smart-panel').screenshot({ path: join(SHOTS, 'iframe.png') });
    expect(problems.list).toEqual([]);
    await ctx.close();
  });
});

describe('refused launches', () => {
  let ctx: BrowserContext;
  beforeAll(async () => { ctx = await browser.newContext(); });
  afterAll(async () => { await ctx.close(); });

  async function registerLaunch(base: string): Promise<string> {
    const res = await fetch(`${base}/demo/launch`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patient: 'demo-cirrhosis-decompensated', appContext: '{"s":"liver-prognosis","v":{}}' }),
    });
    return ((await res.json()) as { launch: string }).launch;
  }

  /**
   * Runs a launch in `page` up to the redirect back to the app; the app's script is held back on that
   * load (so nothing is exchanged) and the callback URL returned.
   */
  async function holdCallback(page: Page, base: string): Promise<string> {
    await page.route('**/smart/static/app.js', (route) => route.abort());
    await page.goto(`${base}/smart/launch?iss=${encodeURIComponent(`${base}/demo/fhir`)}&launch=${await registerLaunch(base)}`);
    await page.waitForURL(/\/smart\/app\?.*code=/, { timeout: 20_000 });
    await page.unroute('**/smart/static/app.js');
    return page.url();
  }

  function tokenRequests(page: Page): string[] {
    const seen: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/token')) seen.push(r.url()); });
    return seen;
  }

  test('a foreign iss: a clear page, and nothing is fetched from it', async () => {
    const page = await ctx.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(main.base)) foreign.push(r.url()); });
    const res = await page.goto(`${main.base}/smart/launch?iss=${encodeURIComponent('https://evil.example/fhir')}&launch=abc`);
    expect(res?.status()).toBe(403);
    expect(await page.locator('[data-refusal] h1').textContent()).toBe('Launch refused');
    expect(await page.locator('[data-refusal]').textContent()).toMatch(/not one this service is configured to trust/);
    expect(foreign).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'refused-foreign-iss.png') });
    await page.close();
  });

  test('a wrong state: refused before any token request', async () => {
    const page = await ctx.newPage();
    const callback = new URL(await holdCallback(page, main.base));
    const tokens = tokenRequests(page);
    callback.searchParams.set('state', 'not-the-state-of-this-launch');
    await page.goto(callback.href);
    await page.waitForSelector('[data-refusal]');
    expect(await page.locator('[data-refusal] h1').textContent()).toBe('Sign-in refused: wrong state');
    expect(tokens).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'refused-wrong-state.png') });
    await page.close();
  });

  test('a missing PKCE verifier: refused before any token request; the server refuses such a token request too', async () => {
    const page = await ctx.newPage();
    const callback = await holdCallback(page, main.base);
    const tokens = tokenRequests(page);
    await page.evaluate(() => {
      const key = JSON.parse(sessionStorage.getItem('SMART_KEY') ?? 'null') as string;
      const state = JSON.parse(sessionStorage.getItem(key) ?? '{}') as Record<string, unknown>;
      delete state.codeVerifier;
      sessionStorage.setItem(key, JSON.stringify(state));
    });
    await page.goto(callback);
    await page.waitForSelector('[data-refusal]');
    expect(await page.locator('[data-refusal] h1').textContent()).toBe('Sign-in refused: no PKCE verifier');
    expect(tokens).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'refused-missing-verifier.png') });
    // The same code sent to the token exchange without a verifier is refused by the server as well.
    const code = new URL(callback).searchParams.get('code') ?? '';
    const res = await fetch(`${main.base}/smart/token?iss=${encodeURIComponent(`${main.base}/demo/fhir`)}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${main.base}/smart/app`, client_id: 'imaging-cds-detail' }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/PKCE/);
    await page.close();
  });
});

describe('a confidential client (SMART_CLIENT_SECRET)', () => {
  test('launches end to end; the secret never reaches the browser', async () => {
    const instance = await start({ smartClientSecret: SECRET });
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const bodies: string[] = [];
    ctx.on('response', async (r) => {
      if (/\/(smart|demo)\//.test(r.url()) && !r.url().includes('/vendor/')) bodies.push(await r.text().catch(() => ''));
    });
    try {
      const problems: Problems = { list: [] };
      const page = await openChart(ctx, instance.base, 'demo-mass-malignant', problems);
      const card = await cardWithScores(page, 'cmr-cardiac-mass');
      const app = await launchFromCard(page, card.uuid, 'cmr-cardiac-mass, confidential client (tab)') as Page;
      await expectSameNumbers(app, card.scores);
      const storage = await app.evaluate(() => JSON.stringify({ ...sessionStorage }));
      expect(storage).not.toContain(SECRET);
      expect(bodies.some((b) => b.includes(SECRET))).toBe(false);
      // The authorization server does require the client's authentication: without it, no token.
      const res = await fetch(`${instance.base}/demo/auth/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: `${instance.base}/smart/app`, client_id: 'imaging-cds-detail', code_verifier: 'a'.repeat(43) }),
      });
      expect(res.status).toBe(401);
      expect(problems.list).toEqual([]);
    } finally {
      await ctx.close();
      await instance.running.close();
      rmSync(instance.dataDir, { recursive: true, force: true });
    }
  });
});
