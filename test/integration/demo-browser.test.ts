// The demo EHR in a real browser (Debian chromium via playwright-core) against the FULL app
// (src/server.ts startServer: JWT auth, real services, store, embedded FHIR server): the page calls
// the CDS services as an EHR does, renders the cards safely, saves a suggestion to the chart and
// sends feedback.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import type { Bundle, RiskAssessment } from 'fhir/r4.js';
import { testConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freePort } from '../support/free-port.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const CIRRHOSIS = 'cirrhosis-sarcopenia';
const IHD = 'cmr-ihd-macce';
const MASS = 'cmr-cardiac-mass';

jest.setTimeout(120_000);

let running: RunningServer;
let browser: Browser;
let base: string;
let dataDir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (scripts/install-test-deps.sh)`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = mkdtempSync(join(tmpdir(), 'demo-browser-'));
  const config = testConfig({ port, host: '127.0.0.1', publicBaseUrl: base, dataDir, demo: true, logLevel: 'silent' });
  running = await startServer(config, createLogger('silent'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface OpenedPage {
  page: Page;
  /** Console errors and CSP violations seen by the page. */
  problems: string[];
}

async function openEhr(): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    // A failed CDS call is logged by the browser as a resource error; the page shows it itself.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${base}/`);
  await page.waitForSelector('#patients button[data-patient-id]');
  return { page, problems };
}

async function openChart(page: Page, patientId: string, mode: 'send' | 'none' = 'send'): Promise<void> {
  if (!(await page.isVisible('#patient-list'))) await page.click('#back');
  await page.check(`input[name="prefetch-mode"][value="${mode}"]`);
  await page.click(`#patients button[data-patient-id="${patientId}"]`);
  await page.waitForSelector(`#chart[data-patient-id="${patientId}"][data-cds-done]`);
}

const cardsOf = (page: Page, serviceId: string) => page.locator(`.card-group[data-service="${serviceId}"] article.card`);

async function serviceStatus(page: Page, serviceId: string): Promise<{ text: string; error: boolean }> {
  const line = page.locator(`#cds-status li[data-service="${serviceId}"]`);
  return { text: (await line.textContent()) ?? '', error: ((await line.getAttribute('class')) ?? '').includes('error') };
}

async function fhirSearch<T>(path: string): Promise<T> {
  const config = await (await fetch(`${base}/demo/config`)).json() as { accessToken: string };
  const res = await fetch(`${base}/demo/fhir/${path}`, { headers: { authorization: `Bearer ${config.accessToken}` } });
  return (await res.json()) as T;
}

async function overrideRates(serviceId: string): Promise<Array<{ accepted: number; overridden: number; topReasons: Array<{ code: string; display?: string }> }>> {
  const url = `${base}/cds-services/${serviceId}/feedback/override-rates`;
  const tokenRes = await fetch(`${base}/demo/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aud: url }),
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { rates: Awaited<ReturnType<typeof overrideRates>> }).rates;
}

test('lists the demo patients with name, sex, age and scenario', async () => {
  const { page, problems } = await openEhr();
  const rows = page.locator('#patients tr[data-patient-id]');
  expect(await rows.count()).toBe(12);
  const row = page.locator('#patients tr[data-patient-id="demo-cirrhosis-decompensated"]');
  expect(await row.locator('td').nth(0).textContent()).toBe('Greta Example');
  expect(await row.locator('td').nth(1).textContent()).toBe('female');
  expect(await row.locator('td').nth(2).textContent()).toBe('58');
  expect(await row.locator('td').nth(3).textContent()).toMatch(/Decompensated cirrhosis/);
  expect(problems).toEqual([]);
  await page.close();
});

test('decompensated cirrhosis: MELD card rendered safely, Save to chart, dismiss with a reason', async () => {
  const { page, problems } = await openEhr();
  await openChart(page, 'demo-cirrhosis-decompensated');

  expect(await serviceStatus(page, CIRRHOSIS)).toMatchObject({ error: false });
  const meldCard = cardsOf(page, CIRRHOSIS).filter({ has: page.locator('.card-summary', { hasText: 'MELD' }) }).first();
  await meldCard.waitFor();
  // MELD 3.0 ≈ 28.8 (band 20–29) and Child-Pugh C: a warning (cards/cirrhosis-sarcopenia.yaml).
  expect(await meldCard.getAttribute('data-indicator')).toBe('warning');
  expect(await meldCard.locator('.badge').textContent()).toBe('Warning');
  expect(await meldCard.locator('.card-summary').textContent()).toMatch(/MELD 3\.0 29\b/);

  // Detail: Markdown rendered to HTML (tables, headings), no raw Markdown or HTML left over.
  await meldCard.locator('details > summary').click();
  const detail = meldCard.locator('.card-detail');
  expect(await detail.locator('table').count()).toBeGreaterThan(0);
  expect(await detail.locator('th').first().textContent()).toBeTruthy();
  expect(await detail.locator('h4, h5, h6').count()).toBeGreaterThan(0);
  const detailText = (await detail.textContent()) ?? '';
  expect(detailText).not.toContain('**');
  expect(detailText).not.toMatch(/\\[.\-()]/); // backslash escapes are resolved
  expect(detailText).not.toMatch(/&(lt|gt|amp|quot|#39);/);
  expect(detailText).not.toMatch(/\|\s*---/);
  expect(await detail.locator('script, img, iframe, [onerror], [onclick]').count()).toBe(0);

  // Source linked to its paper; the SMART link launches with iss and launch.
  const source = meldCard.locator('.card-source a');
  expect(await source.getAttribute('href')).toMatch(/^https:\/\//);
  const smart = meldCard.locator('a.smart-link');
  if ((await smart.count()) > 0) {
    const href = new URL((await smart.getAttribute('href'))!);
    expect(href.searchParams.get('iss')).toBe(`${base}/demo/fhir`);
    expect(href.searchParams.get('launch')).toMatch(/^[0-9a-f-]{36}$/);
  }

  // Save to chart: the RiskAssessments are created on the FHIR server, feedback `accepted` is sent.
  await meldCard.getByRole('button', { name: 'Save to chart' }).click();
  const status = meldCard.locator('.card-status');
  await page.waitForFunction(
    (el) => el !== null && /Saved to chart|HTTP/.test(el.textContent ?? ''),
    await status.elementHandle(),
  );
  expect(await status.textContent()).toMatch(/^Saved to chart: RiskAssessment\//);
  await page.locator('#assessments li[data-resource-id]').first().waitFor();
  const saved = await fhirSearch<Bundle>('RiskAssessment?subject=Patient/demo-cirrhosis-decompensated');
  const methods = (saved.entry ?? []).map((e) => (e.resource as RiskAssessment).method?.coding?.[0]?.code);
  expect(methods).toContain('meld-3.0');

  // Dismiss the other card (sarcopenia) with a coded override reason and a comment.
  const meldUuid = await meldCard.getAttribute('data-card-uuid');
  const otherUuid = (await cardsOf(page, CIRRHOSIS).evaluateAll(
    (cards, skip) => cards.map((c) => c.getAttribute('data-card-uuid')).filter((u) => u !== skip),
    meldUuid,
  ))[0];
  expect(otherUuid).toBeTruthy();
  const other = page.locator(`article.card[data-card-uuid="${otherUuid}"]`);
  const select = other.locator('select.override-reason');
  const reasonLabel = (await select.locator('option').nth(1).textContent()) ?? '';
  await select.selectOption({ index: 1 });
  await other.locator('input.override-comment').fill('Discussed at the liver MDT');
  await other.getByRole('button', { name: 'Dismiss' }).click();
  await other.locator('.card-status--ok, .card-status--error').waitFor();
  expect(await other.locator('.card-status').textContent()).toBe(`Dismissed: ${reasonLabel}`);
  expect(await other.getAttribute('class')).toMatch(/card--dismissed/);

  // Both feedback items reached the store (read back as a CDS committee would, with a JWT).
  const rates = await overrideRates(CIRRHOSIS);
  expect(rates.reduce((n, r) => n + r.accepted, 0)).toBeGreaterThanOrEqual(1);
  expect(rates.reduce((n, r) => n + r.overridden, 0)).toBeGreaterThanOrEqual(1);
  expect(rates.flatMap((r) => r.topReasons.map((t) => t.display))).toContain(reasonLabel);

  expect(problems).toEqual([]);
  await page.close();
});

test('without prefetch the service reads the FHIR server itself and shows the same MELD', async () => {
  const { page, problems } = await openEhr();
  await openChart(page, 'demo-cirrhosis-decompensated', 'none');
  expect(await serviceStatus(page, CIRRHOSIS)).toMatchObject({ error: false });
  const summaries = await cardsOf(page, CIRRHOSIS).locator('.card-summary').allTextContents();
  expect(summaries.some((s) => /MELD 3\.0 29\b/.test(s))).toBe(true);
  expect(problems).toEqual([]);
  await page.close();
});

test('a patient without cirrhosis gets no cirrhosis card', async () => {
  const { page, problems } = await openEhr();
  await openChart(page, 'demo-no-liver-disease');
  const status = await serviceStatus(page, CIRRHOSIS);
  expect(status.error).toBe(false);
  expect(status.text).toMatch(/no cards/);
  expect(await cardsOf(page, CIRRHOSIS).count()).toBe(0);
  expect(problems).toEqual([]);
  await page.close();
});

test('cirrhosis with missing labs: one card that says what is missing', async () => {
  const { page } = await openEhr();
  await openChart(page, 'demo-cirrhosis-missing-labs');
  const cards = cardsOf(page, CIRRHOSIS);
  expect(await cards.count()).toBe(1);
  const summary = (await cards.first().locator('.card-summary').textContent()) ?? '';
  expect(summary).toMatch(/needs|missing/i);
  expect(summary).toMatch(/INR/);
  expect(summary).toMatch(/Creatinine/i);
  expect(await cards.first().getAttribute('data-indicator')).toBe('info');
  await page.close();
});

test('every demo patient opens without a failed CDS call, with the same cards with and without prefetch', async () => {
  const { page, problems } = await openEhr();
  const ids = await page.locator('#patients tr[data-patient-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-patient-id') ?? ''));
  const summaries = () => page.locator('article.card').evaluateAll((cards) => cards
    .map((c) => `${c.getAttribute('data-service')}|${c.getAttribute('data-indicator')}|${c.querySelector('.card-summary')?.textContent}`)
    .sort());
  for (const id of ids) {
    await openChart(page, id, 'send');
    const errors = await page.locator('#cds-status li.cds-status--error').allTextContents();
    expect({ id, errors }).toEqual({ id, errors: [] });
    const withPrefetch = await summaries();
    await openChart(page, id, 'none');
    const fetched = await summaries();
    expect({ id, cards: fetched }).toEqual({ id, cards: withPrefetch });
  }
  expect(problems).toEqual([]);
  await page.close();
});

test('a refused JWT is shown as HTTP 401 in the chart', async () => {
  const { page } = await openEhr();
  // The demo signer is replaced by one that hands out a JWT signed by nobody the service trusts.
  await page.route('**/demo/token', (route) => route.fulfill({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ token: 'eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl' }),
  }));
  await openChart(page, 'demo-cirrhosis-decompensated');
  const errors = await page.locator('#cds-status li.cds-status--error').allTextContents();
  expect(errors).toEqual([expect.stringMatching(/^Discovery: HTTP 401 Unauthorized — the service refused the demo EHR's JWT$/)]);
  expect(await page.locator('article.card').count()).toBe(0);
  await page.close();
});

test('a 412 from the service (no prefetch, no FHIR server) is shown with its message', async () => {
  const { page } = await openEhr();
  // An EHR that sends neither prefetch nor fhirServer: the service cannot get its required data.
  await page.route(`**/cds-services/${CIRRHOSIS}`, async (route) => {
    const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
    delete body.fhirServer;
    delete body.fhirAuthorization;
    delete body.prefetch;
    await route.continue({ postData: JSON.stringify(body) });
  });
  await openChart(page, 'demo-cirrhosis-decompensated', 'none');
  const status = await serviceStatus(page, CIRRHOSIS);
  expect(status.error).toBe(true);
  expect(status.text).toMatch(/HTTP 412 Precondition failed — \S/);
  expect(await cardsOf(page, CIRRHOSIS).count()).toBe(0);
  await page.close();
});

test('a JWT for another endpoint is refused by the service', async () => {
  const { page } = await openEhr();
  // The page's own client, with a JWT for the wrong audience (discovery token sent to a service).
  const result = await page.evaluate(async () => {
    const { token } = await (await fetch('demo/token', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aud: `${location.origin}/cds-services` }),
    })).json() as { token: string };
    const res = await fetch('cds-services/cirrhosis-sarcopenia', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}',
    });
    return res.status;
  });
  expect(result).toBe(401);
  await page.close();
});

test('the Markdown renderer never turns card text into markup', async () => {
  const { page } = await openEhr();
  const out = await page.evaluate(async () => {
    const { renderMarkdown } = await import(`${location.origin}/demo/static/markdown.js` as string) as {
      renderMarkdown: (s: string) => DocumentFragment;
    };
    const div = document.createElement('div');
    div.append(renderMarkdown([
      '### Title <img src=x onerror="window.__x=1">',
      '',
      '<script>window.__x=2</script> **bold** and *it* and `code <b>`',
      '',
      '- [click](javascript:window.__x=3) and [ok](https://example.org/a_(b))',
      '- &lt;b&gt;escaped&lt;/b&gt; \\*not italic\\*',
      '',
      '| a | b \\| c |',
      '| --- | --- |',
      '| <i>x</i> | [d](data:text/html,hi) |',
    ].join('\n')));
    return {
      html: div.innerHTML,
      elements: Array.from(div.querySelectorAll('*')).map((e) => e.tagName.toLowerCase()).sort(),
      links: Array.from(div.querySelectorAll('a')).map((a) => a.getAttribute('href')),
      x: (window as unknown as { __x?: number }).__x,
    };
  });
  expect(out.x).toBeUndefined();
  expect(new Set(out.elements)).toEqual(new Set(['h5', 'p', 'strong', 'em', 'code', 'ul', 'li', 'a', 'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td']));
  expect(out.links).toEqual(['https://example.org/a_(b)']);
  expect(out.html).toContain('&lt;script&gt;');
  expect(out.html).toContain('<code>code &lt;b&gt;</code>');
  expect(out.html).toContain('&lt;b&gt;escaped&lt;/b&gt; *not italic*');
  expect(out.html).toContain('<th scope="col">b | c</th>');
  await page.close();
});

/** What the card renderer may produce (src/demo/static/markdown.js), element by element. */
const RENDERED_TAGS = new Set(['p', 'h4', 'h5', 'h6', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'hr', 'br', 'ul', 'ol', 'li', 'a', 'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const RENDERED_ATTRIBUTES = new Set(['href', 'target', 'rel', 'class', 'scope', 'start']);

interface Rendered {
  tags: string[];
  attributes: string[];
  links: Array<{ href: string | null; target: string | null; rel: string | null }>;
  text: string;
  x: unknown;
}

/** Renders each source with the page's own renderer; what came out, per source. */
async function renderInPage(page: Page, sources: string[]): Promise<Rendered[]> {
  return page.evaluate(async (all) => {
    const { renderMarkdown } = await import(`${location.origin}/demo/static/markdown.js` as string) as {
      renderMarkdown: (s: string) => DocumentFragment;
    };
    return all.map((source) => {
      const div = document.createElement('div');
      div.append(renderMarkdown(source));
      const elements = Array.from(div.querySelectorAll('*'));
      return {
        tags: elements.map((e) => e.tagName.toLowerCase()),
        attributes: elements.flatMap((e) => e.getAttributeNames()),
        links: Array.from(div.querySelectorAll('a')).map((a) => ({ href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel') })),
        text: div.textContent ?? '',
        x: (window as unknown as { __x?: unknown }).__x,
      };
    });
  }, sources);
}

test('card Markdown: raw HTML, autolinks, bare URLs, images and unsafe link schemes never become markup', async () => {
  const { page, problems } = await openEhr();
  const cases = [
    '<div onclick="window.__x=1">block html</div>',
    'inline <span onmouseover="window.__x=2">html</span> and <!-- comment -->',
    '<javascript:window.__x=3> and <https://example.org/auto>',
    'bare https://evil.example/x and www.evil.example and dr.who@evil.example stay text',
    '![pic](https://evil.example/i.png) and ![pic2][r]\n\n[r]: https://evil.example/j.png',
    '[ref][bad]\n\n[bad]: javascript:window.__x=4',
    '[entity](jav&#x61;script:window.__x=5) [spaced](  javascript:window.__x=6 ) [vb](vbscript:msgbox) [file](file:///etc/passwd)',
    '[relative](/demo/config) [protocol-relative](//evil.example/x)',
    '```html\n<script>window.__x=7</script>\n```',
    '| left | right |\n| :--- | ---: |\n| <b>1</b> | [x](https://example.org/t "title") |',
  ];
  const out = await renderInPage(page, cases);
  for (const r of out) {
    expect(r.x).toBeUndefined();
    for (const t of r.tags) expect(RENDERED_TAGS).toContain(t);
    for (const a of r.attributes) expect(RENDERED_ATTRIBUTES).toContain(a);
  }
  const [blockHtml, inlineHtml, autolinks, bare, images, reference, schemes, relative, fence, table] = out as [Rendered, Rendered, Rendered, Rendered, Rendered, Rendered, Rendered, Rendered, Rendered, Rendered];
  expect(blockHtml.text).toContain('<div onclick="window.__x=1">block html</div>');
  expect(inlineHtml.text).toContain('<span onmouseover="window.__x=2">html</span> and <!-- comment -->');
  expect(autolinks.links).toEqual([{ href: 'https://example.org/auto', target: '_blank', rel: 'noopener noreferrer' }]);
  expect(autolinks.text).toContain('javascript:window.__x=3');
  expect(bare.links).toEqual([]); // linkify is off: a URL in FHIR text is never a link
  expect(images.tags).not.toContain('img');
  expect(images.links.map((l) => l.href)).toEqual(['https://evil.example/i.png', 'https://evil.example/j.png']);
  expect(reference.links).toEqual([]);
  expect(reference.text).toContain('ref');
  expect(schemes.links).toEqual([]);
  expect(schemes.text.trim()).toBe('entity spaced vb file');
  expect(relative.links).toEqual([]);
  expect(relative.text.trim()).toBe('relative protocol-relative');
  expect(fence.tags).toEqual(['pre', 'code']);
  expect(fence.text).toContain('<script>window.__x=7</script>');
  expect(table.tags).toEqual(expect.arrayContaining(['table', 'th', 'td', 'a']));
  expect(table.links).toEqual([{ href: 'https://example.org/t', target: '_blank', rel: 'noopener noreferrer' }]);
  expect(table.text).toContain('<b>1</b>');
  expect(problems).toEqual([]);
  await page.close();
});

// Property-based, in the page: whatever the text, the renderer gives only the allowed elements and
// attributes, every link is an absolute http(s) URL opening in a new tab, and no script runs.
test('card Markdown under generated hostile text (fast-check): allowed elements only, http(s) links only', async () => {
  const { page, problems } = await openEhr();
  const piece = fc.constantFrom(
    '<', '>', '</', '<script>', '<img src=x onerror=window.__x=1>', '<a href="javascript:window.__x=2">', '<svg onload=window.__x=3>',
    '<iframe src=javascript:window.__x=4>', '<!--', '-->', '<![CDATA[', '&lt;', '&#60;', '&#x6A;', '&colon;', 'javascript:', 'JaVaScRiPt:',
    'data:text/html,', 'vbscript:', 'https://example.org/', 'http://x', '//x', 'www.x.example', 'a@b.example', '[', ']', '(', ')', '![', '][',
    ']: ', '"', "'", '`', '```', '~~~', '**', '__', '*', '_', '~~', '|', '| --- |', '\n', '\n\n', '    ', '\t', '#', '### ', '- ', '1. ',
    '> ', '---', '\\', 'x', ' ', 'é', '😀', '\u0000', '\u2028',
  );
  const seed = Math.floor(Math.random() * 2 ** 31); // named in every failure, to replay it
  const sources = fc.sample(fc.array(fc.oneof({ weight: 4, arbitrary: piece }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), { maxLength: 24 })
    .map((parts) => parts.join('')), { numRuns: 400, seed });
  const out = await renderInPage(page, sources);
  out.forEach((r, i) => {
    const where = { seed, source: sources[i] };
    expect({ ...where, x: r.x }).toEqual({ ...where, x: undefined });
    for (const t of r.tags) expect({ ...where, tag: RENDERED_TAGS.has(t) ? 'allowed' : t }).toEqual({ ...where, tag: 'allowed' });
    for (const a of r.attributes) expect({ ...where, attribute: RENDERED_ATTRIBUTES.has(a) ? 'allowed' : a }).toEqual({ ...where, attribute: 'allowed' });
    for (const l of r.links) {
      expect({ ...where, ...l }).toEqual({ ...where, href: expect.stringMatching(/^https?:\/\//), target: '_blank', rel: 'noopener noreferrer' });
    }
  });
  expect(problems).toEqual([]);
  await page.close();
});

interface CardScores {
  indicator: string;
  summary: string;
  scores: Array<{ model: string; value: number; tier?: string; missing: string[] }>;
}

async function cardsWithScores(page: Page, serviceId: string): Promise<CardScores[]> {
  return cardsOf(page, serviceId).evaluateAll((cards) => cards.map((c) => ({
    indicator: c.getAttribute('data-indicator') ?? '',
    summary: c.querySelector('.card-summary')?.textContent ?? '',
    scores: JSON.parse(c.getAttribute('data-scores') ?? '[]') as CardScores['scores'],
  })));
}

const score = (cards: CardScores[], model: string) => cards.flatMap((c) => c.scores).find((s) => s.model === model);

// Expected values from MODELS.md §1 and the demo data (src/demo/patients/ischemic.ts).
describe('cmr-ihd-macce in the demo EHR', () => {
  test('STEMI with high CMR risk: CMR risk score 8 (high), GRACE 188, TIMI 7', async () => {
    const { page, problems } = await openEhr();
    await openChart(page, 'demo-stemi-high-risk');
    const cards = await cardsWithScores(page, IHD);
    expect(cards.length).toBeGreaterThan(0);
    expect(score(cards, 'cmr-risk-score')).toMatchObject({ value: 8, tier: 'high', missing: [] });
    expect(score(cards, 'grace-in-hospital')?.value).toBe(188);
    expect(score(cards, 'timi-stemi')?.value).toBe(7);
    expect(cards.some((c) => c.indicator !== 'info')).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('STEMI with missing inputs: no complete CMR risk score, the missing inputs are named', async () => {
    const { page } = await openEhr();
    await openChart(page, 'demo-stemi-missing-inputs');
    const cards = await cardsWithScores(page, IHD);
    expect(cards.length).toBeGreaterThan(0);
    const cmr = score(cards, 'cmr-risk-score');
    if (cmr) expect(cmr.missing.length).toBeGreaterThan(0);
    expect(cards.map((c) => c.summary).join(' ')).toMatch(/LVEF|missing|needs|unknown/i);
    await page.close();
  });

  test('NSTEMI: GRACE 218 with the NSTE-ACS bands, high, a warning card (issue 10)', async () => {
    const { page, problems } = await openEhr();
    await openChart(page, 'demo-nstemi');
    const cards = await cardsWithScores(page, IHD);
    expect(score(cards, 'grace-in-hospital')).toMatchObject({ value: 218, tier: 'high', missing: [] });
    expect(score(cards, 'timi-stemi')).toBeUndefined();
    expect(cards.find((c) => c.scores.length > 0)?.indicator).toBe('warning');
    expect(problems).toEqual([]);
    await page.close();
  });

  test('chronic IHD (MI 3 years ago) gets no acute-MI score', async () => {
    const { page } = await openEhr();
    await openChart(page, 'demo-chronic-ihd');
    const cards = await cardsWithScores(page, IHD);
    expect(score(cards, 'cmr-risk-score')).toBeUndefined();
    expect(score(cards, 'grace-in-hospital')).toBeUndefined();
    await page.close();
  });

  test('no IHD card for the cirrhosis patient', async () => {
    const { page } = await openEhr();
    await openChart(page, 'demo-cirrhosis-decompensated');
    expect(await cardsOf(page, IHD).count()).toBe(0);
    await page.close();
  });
});

// Expected values from MODELS.md §3c and the demo data (src/demo/patients/cirrhosis.ts).
test('primary biliary cholangitis: Child-Pugh 6 (A) with the PBC/PSC bilirubin bands, said on the card (issue 10)', async () => {
  const { page, problems } = await openEhr();
  await openChart(page, 'demo-cirrhosis-pbc');
  const cards = await cardsWithScores(page, CIRRHOSIS);
  expect(score(cards, 'child-pugh')).toMatchObject({ value: 6, tier: 'A', missing: [] });
  expect(cards[0]?.summary).toMatch(/Child-Pugh A \(6\)/);
  const card = cardsOf(page, CIRRHOSIS).first();
  await card.locator('details > summary').click();
  expect(await card.locator('.card-detail').textContent()).toContain('Bilirubin bands for primary biliary cholangitis or primary sclerosing cholangitis: 1–4 / 4–10 / > 10 mg/dL');
  expect(problems).toEqual([]);
  await page.close();
});

// Expected values from MODELS.md §2 and the demo data (src/demo/patients/cardiac-mass.ts).
describe('cmr-cardiac-mass in the demo EHR', () => {
  test('likely malignant mass: CMR Mass Score 7 (≥ 5)', async () => {
    const { page, problems } = await openEhr();
    await openChart(page, 'demo-mass-malignant');
    const cards = await cardsWithScores(page, MASS);
    expect(score(cards, 'cmr-mass-score')).toMatchObject({ value: 7, missing: [] });
    expect(cards.some((c) => c.indicator !== 'info')).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('likely thrombus: the card says so', async () => {
    const { page } = await openEhr();
    await openChart(page, 'demo-mass-thrombus');
    const cards = await cardsWithScores(page, MASS);
    expect(cards.map((c) => c.summary).join(' ')).toMatch(/thromb/i);
    const mass = score(cards, 'cmr-mass-score');
    if (mass) expect(mass.value).toBeLessThan(5);
    await page.close();
  });

  test('mass with features missing: the score is not reported as complete', async () => {
    const { page } = await openEhr();
    await openChart(page, 'demo-mass-missing-features');
    const cards = await cardsWithScores(page, MASS);
    expect(cards.length).toBeGreaterThan(0);
    const mass = score(cards, 'cmr-mass-score');
    if (mass) expect(mass.missing.length).toBeGreaterThan(0);
    await page.close();
  });

  test('no mass card for the STEMI patient', async () => {
    const { page } = await openEhr();
    await openChart(page, 'demo-stemi-high-risk');
    expect(await cardsOf(page, MASS).count()).toBe(0);
    await page.close();
  });
});
