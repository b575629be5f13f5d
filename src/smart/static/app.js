// The SMART detail view. This page is the redirect URI: it checks the sign-in response against the
// launch this window started (state, PKCE verifier), lets fhirclient complete it, asks this app's
// server for the ServiceDetail (computed there by the services' own code: nothing is scored here),
// and draws it. All text from the server or the EHR is inserted as text, never as HTML.
/* global FHIR, Chart */
performance.mark('app-start');

const WRITE_SCOPE = /^patient\/(DiagnosticReport|\*)\.(c[rud]*s?|write|\*)$/;
const root = document.getElementById('app');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

function refuse(title, reason) {
  root.className = 'refusal';
  root.setAttribute('role', 'alert');
  root.removeAttribute('aria-busy');
  root.dataset.refusal = 'true';
  root.replaceChildren(
    el('h1', { text: title }),
    el('p', { text: reason }),
    el('p', { text: 'Nothing was exchanged for a token. Open the detail view again from the card in the EHR.' }),
  );
  document.body.dataset.state = 'refused';
}

function status(text) {
  const node = document.getElementById('status');
  if (node) node.textContent = text;
}

const num = (x, digits = 2) => {
  if (typeof x !== 'number' || !Number.isFinite(x)) return String(x ?? '—');
  const f = 10 ** digits;
  return String(Math.round(x * f) / f);
};
const UNITS = { a: 'years', 1: '', 'cm2/m2': 'cm²/m²', cm2: 'cm²', 'kg/m2': 'kg/m²', umol: 'µmol', 'umol/L': 'µmol/L', points: 'points' };
const unitText = (u) => (u === undefined ? '' : UNITS[u] ?? u);
const withUnit = (v, u) => `${v}${unitText(u) ? ` ${unitText(u)}` : ''}`;

function valueText(input) {
  const v = typeof input.value === 'number' ? num(input.value) : typeof input.value === 'boolean' ? (input.value ? 'yes' : 'no') : input.value;
  const original = input.original ? ` (recorded ${num(input.original.value)} ${unitText(input.original.unit)})` : '';
  return `${withUnit(v, input.unit)}${original}`;
}

function originText(origin) {
  if (origin.kind === 'fhir') return origin.reference;
  if (origin.kind === 'dicom') {
    // The study and series the archive gave for the object (imaging-reader.ts), then its UIDs.
    const study = [origin.studyDescription && `"${origin.studyDescription}"`, origin.studyDate && `of ${origin.studyDate.slice(0, 10)}`].filter(Boolean).join(' ');
    const series = [origin.seriesDescription && `"${origin.seriesDescription}"`, origin.modality && `(${origin.modality})`].filter(Boolean).join(' ');
    return [
      'DICOM',
      study && `study ${study},`,
      series && `series ${series},`,
      `SOP Instance UID ${origin.sopInstanceUid}`,
      origin.seriesInstanceUid && `(series ${origin.seriesInstanceUid}`,
      origin.studyInstanceUid && `study ${origin.studyInstanceUid})`,
    ].filter(Boolean).join(' ');
  }
  return 'derived';
}

function table(headers, rows, cls) {
  return el('table', { class: cls },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => (c instanceof Node ? el('td', {}, c) : el('td', { text: String(c) })))))));
}

function link(url, text) {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' || u.protocol === 'http:') return el('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer', text });
  } catch { /* not a URL */ }
  return el('span', { text });
}

// ---------- charts (Chart.js, drawn once without animation so the view is complete when marked) ----------

const COLORS = { pos: '#1f4e79', neg: '#2e7d32', band: 'rgba(31, 78, 121, 0.15)' };

function contributionChart(result, explanation, labels) {
  const kind = explanation.contributionKind;
  if (kind === 'none' || result.contributions.length === 0) return null;
  // Two-line labels (input, then the band or rule that applied), so long bands are not cut.
  const rows = result.contributions.map((c) => ({
    label: c.band ? [labels[c.input] ?? c.input, c.band] : labels[c.input] ?? c.input,
    value: kind === 'points' ? c.points ?? 0 : c.term ?? 0,
  }));
  const canvas = el('canvas', { role: 'img', 'aria-label': `Contribution of each input to ${result.metadata.title}` });
  const box = el('div', { class: 'chart-box', style: undefined }, canvas);
  box.style.height = `${Math.max(120, rows.length * 40 + 50)}px`;
  const figure = el('figure', { class: 'chart contrib', 'data-chart': 'contributions' },
    el('figcaption', { text: kind === 'points' ? 'Points from each input' : 'Term of each input (the score is their sum)' }), box);
  queueChart(() => new Chart(canvas, {
    type: 'bar',
    data: { labels: rows.map((r) => r.label), datasets: [{ data: rows.map((r) => r.value), backgroundColor: rows.map((r) => (r.value >= 0 ? COLORS.pos : COLORS.neg)) }] },
    options: {
      indexAxis: 'y', animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${num(c.raw)} ${kind === 'points' ? 'points' : ''}` } } },
      // Every input named (Chart.js would skip labels it finds crowded).
      scales: { x: { title: { display: true, text: kind === 'points' ? 'points' : 'term' } }, y: { ticks: { autoSkip: false } } },
    },
  }));
  return figure;
}

function trendChart(trend) {
  const canvas = el('canvas', { role: 'img', 'aria-label': trend.label });
  const box = el('div', { class: 'chart-box' }, canvas);
  box.style.height = '220px';
  const pts = trend.points.map((p) => ({ x: Date.parse(p.date), y: p.value, min: p.min, max: p.max }));
  const hasRange = pts.some((p) => p.min !== undefined);
  const datasets = [{ label: trend.label, data: pts.map((p) => ({ x: p.x, y: p.y })), borderColor: COLORS.pos, backgroundColor: COLORS.pos, pointRadius: 4, tension: 0 }];
  if (hasRange) {
    datasets.push(
      { label: 'range (upper)', data: pts.map((p) => ({ x: p.x, y: p.max ?? p.y })), borderWidth: 0, pointRadius: 0, fill: '+1', backgroundColor: COLORS.band },
      { label: 'range (lower)', data: pts.map((p) => ({ x: p.x, y: p.min ?? p.y })), borderWidth: 0, pointRadius: 0, fill: false },
    );
  }
  queueChart(() => new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { type: 'linear', ticks: { callback: (v) => new Date(v).toISOString().slice(0, 10), maxTicksLimit: 6 } },
        y: { title: { display: true, text: unitText(trend.unit) || trend.unit } },
      },
    },
  }));
  return el('figure', { class: 'chart trend', 'data-chart': 'trend', 'data-trend': trend.id }, el('figcaption', { text: trend.label }), box);
}

const pendingCharts = [];
function queueChart(draw) {
  pendingCharts.push(draw);
}

// ---------- the view ----------

function resultSection(result, explanation, detail) {
  const labels = detail.labels;
  const value = result.value === null ? 'not calculated' : withUnit(result.display ?? num(result.value), result.unit);
  const head = el('header', { class: 'result-head' },
    el('h2', { text: result.metadata.title }),
    el('p', { class: 'result-value' },
      el('span', { class: 'value', 'data-field': 'value', text: value }),
      result.tier ? el('span', { class: 'tier', 'data-field': 'tier', text: result.tier }) : null,
      explanation.onCard ? el('span', { class: 'badge', text: 'on the card' }) : null),
    result.probability !== undefined && result.outcome
      ? el('p', { class: 'probability', text: `Estimated ${result.outcome}: ${num(result.probability * 100, 1)} %` }) : null,
    explanation.range ? el('p', { class: 'range', 'data-field': 'range', text: explanation.range }) : null,
    explanation.differs ? el('p', { class: 'differs', role: 'note', text: explanation.differs }) : null);

  const inputs = result.inputs.length > 0
    ? table(['Input', 'Value', 'Date', 'Origin'], uniqueBy(result.inputs, (i) => i.name).map((i) => [labels[i.name] ?? i.name, valueText(i), i.date ? i.date.slice(0, 10) : '—', originText(i.origin)]), 'inputs')
    : el('p', { class: 'muted', text: 'No input was found in the record.' });
  const missing = explanation.missing.length > 0
    ? el('div', { class: 'missing' }, el('h3', { text: 'Missing, and what it could change' }),
      el('ul', {}, ...explanation.missing.map((m) => el('li', { 'data-missing': m.name }, el('strong', { text: m.label }), ` — ${m.reason}`))))
    : null;
  const notes = (result.notes ?? []).length > 0 ? el('ul', { class: 'notes' }, ...result.notes.map((n) => el('li', { text: n }))) : null;
  const chart = contributionChart(result, explanation, labels);
  return el('section', {
    class: 'result', 'data-model': result.model, 'data-value': result.value ?? '', 'data-on-card': String(explanation.onCard),
    'data-card-value': explanation.cardValue ?? '', 'data-contributions': explanation.contributionKind,
  }, head,
  el('div', { class: 'result-body' },
    el('div', {}, el('h3', { text: 'Inputs' }), inputs, missing, notes),
    chart ? el('div', {}, el('h3', { text: 'Contributions' }), chart) : null),
  el('p', { class: 'model-link' }, el('a', { href: `#model-${result.metadata.id}`, text: `Model card: ${result.metadata.title}` })));
}

function uniqueBy(xs, key) {
  const seen = new Set();
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
}

function findingsSection(findings) {
  if (findings.length === 0) return null;
  return el('section', { class: 'findings', 'data-section': 'findings' }, el('h2', { text: 'Findings' }),
    table(['Finding', 'Statement', 'Threshold', 'State', 'Source'], findings.map((f) => [
      f.label, f.statement, f.threshold ?? '—', f.state, f.url ? link(f.url, f.citation) : f.citation,
    ]), 'findings-table'));
}

function trendsSection(trends) {
  const shown = trends.filter((t) => t.points.length > 0);
  if (shown.length === 0) return null;
  // A single value is not a trend: it is said, not plotted.
  const single = (t) => el('p', { 'data-trend': t.id }, el('strong', { text: `${t.label}: ` }),
    `one value in the record, ${withUnit(num(t.points[0].value), t.unit)} on ${t.points[0].date.slice(0, 10)}.`);
  return el('section', { class: 'trends', 'data-section': 'trends' }, el('h2', { text: 'Over time' }),
    ...shown.map((t) => el('div', { class: 'trend-block' }, t.points.length > 1 ? trendChart(t) : single(t), el('p', { class: 'muted', text: t.note }),
      el('details', {}, el('summary', { text: 'Values' }),
        table(['Date', 'Value', 'Range', 'Source'], t.points.map((p) => [
          p.date.slice(0, 10), withUnit(num(p.value), t.unit), p.min !== undefined ? `${num(p.min)}–${num(p.max)}` : '—', p.sources.join(', '),
        ]), 'trend-table')))));
}

function modelCardsSection(cards) {
  return el('section', { class: 'model-cards', 'data-section': 'model-cards' }, el('h2', { text: 'Model cards' }),
    ...cards.map((m) => el('article', { class: 'model-card', id: `model-${m.id}`, 'data-model-card': m.id },
      el('h3', { text: `${m.title} (version ${m.version})` }),
      el('dl', {},
        el('dt', { text: 'Intended population' }), el('dd', { text: m.population }),
        el('dt', { text: 'Source' }), el('dd', {}, link(m.url, m.citation)),
        el('dt', { text: 'Evidence' }), el('dd', { 'data-field': 'evidence', text: m.evidenceLabel }),
        m.limitations.length > 0 ? el('dt', { text: 'Limitations and conventions' }) : null,
        m.limitations.length > 0 ? el('dd', {}, el('ul', {}, ...m.limitations.map((l) => el('li', { text: l })))) : null),
      m.bands ? bandTable(m.bands) : null)));
}

function bandTable(b) {
  const t = table(['Band', b.label], b.rows.map((r) => [r.band, r.value]), 'bands');
  t.prepend(el('caption', { text: b.label }));
  for (const row of t.querySelectorAll('tbody tr')) if (row.firstChild?.textContent === b.current) row.classList.add('current');
  return el('div', { class: 'band-table', 'data-bands': 'true' }, t, el('p', { class: 'muted', text: b.caveat }), el('p', { class: 'muted', text: `Source: ${b.source}` }));
}

// ---------- CMR report draft ----------

function canWrite(scope) {
  return String(scope ?? '').split(/\s+/).some((s) => WRITE_SCOPE.test(s));
}

function utf8Base64(text) {
  const bytes = new TextEncoder().encode(text);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function base64Utf8(data) {
  const s = atob(data);
  return new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0)));
}

function reportSection(report, client, scope) {
  const writable = canWrite(scope);
  const areas = report.sections.map((s) => {
    const area = el('textarea', { id: `report-${s.key}`, 'data-report-section': s.key, rows: String(Math.max(2, s.text.split('\n').length + 1)) });
    area.value = s.text;
    const print = el('pre', { class: 'print-only', text: s.text });
    area.addEventListener('input', () => { print.textContent = area.value; });
    return { section: s, area, block: el('div', { class: 'report-section' }, el('label', { for: `report-${s.key}`, text: s.title }), area, print) };
  });
  const fullText = () => [report.title, ...areas.map(({ section, area }) => `${section.title}\n${area.value}`)].join('\n\n');
  const statusLine = el('p', { class: 'report-status', role: 'status', 'aria-live': 'polite' });
  const actions = el('div', { class: 'report-actions' });
  let savedId;
  if (writable) {
    const save = el('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'save-report', text: 'Save to the EHR as a preliminary report' });
    save.addEventListener('click', async () => {
      save.disabled = true;
      statusLine.textContent = 'Saving…';
      try {
        const text = fullText();
        const resource = structuredClone(report.resource);
        resource.issued = new Date().toISOString();
        const impression = areas.find((a) => a.section.key === 'impression');
        if (impression) resource.conclusion = impression.area.value;
        resource.presentedForm = [{ contentType: 'text/plain; charset=utf-8', language: 'en', title: report.title, data: utf8Base64(text) }];
        let saved;
        if (savedId) {
          resource.id = savedId;
          saved = await client.update(resource);
        } else {
          saved = await client.create(resource);
        }
        savedId = saved.id;
        // Read back from the EHR: what is stored is what the clinician wrote.
        const back = await client.request(`DiagnosticReport/${encodeURIComponent(savedId)}`);
        const same = back.presentedForm?.[0]?.data && base64Utf8(back.presentedForm[0].data) === text;
        statusLine.textContent = `Saved as DiagnosticReport/${savedId} (status ${back.status})${same ? '; read back from the EHR: identical.' : '; read back from the EHR: DIFFERENT, check the record.'}`;
        statusLine.dataset.savedId = savedId;
        statusLine.dataset.readBack = same ? 'identical' : 'different';
      } catch (err) {
        statusLine.textContent = `Not saved: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        save.disabled = false;
      }
    });
    actions.append(save);
  } else {
    const copy = el('button', { type: 'button', class: 'btn', 'data-action': 'copy-report', text: 'Copy the report text' });
    const out = el('textarea', { class: 'report-copy', readonly: 'readonly', rows: '12', 'aria-label': 'Report text to copy', 'data-report-copy': 'true' });
    const refresh = () => { out.value = fullText(); };
    refresh();
    for (const { area } of areas) area.addEventListener('input', refresh);
    copy.addEventListener('click', async () => {
      refresh();
      out.select();
      try {
        await navigator.clipboard.writeText(out.value);
        statusLine.textContent = 'Copied.';
      } catch {
        statusLine.textContent = 'Select the text and copy it (the browser did not allow copying).';
      }
    });
    actions.append(el('p', { class: 'notice', 'data-no-write': 'true', text: 'The EHR did not grant this app write access (patient/DiagnosticReport.c): copy the text into the report instead.' }), copy, out);
  }
  return el('section', { class: 'report', 'data-section': 'report', 'data-writable': String(writable) },
    el('h2', { text: report.title }),
    el('p', { class: 'muted', text: `${report.guideline}. Values not measured are stated as "${report.notAssessed}". Edit before saving.` }),
    ...areas.map((a) => a.block), actions, statusLine);
}

// ---------- page ----------

function render(detail, client, scope) {
  root.removeAttribute('aria-busy');
  const cardResults = detail.results.filter((_, i) => detail.explanations[i].onCard);
  const header = el('header', { class: 'view-head' },
    el('h1', { text: detail.title }),
    el('p', { class: 'muted', text: `Computed ${detail.generatedAt.replace('T', ' ').slice(0, 16)} UTC from the EHR's FHIR server by the same models as the cards${detail.topic ? ` · opened from the card "${detail.topic}"` : ''}.` }),
    el('nav', { class: 'no-print' }, el('button', { type: 'button', class: 'btn', 'data-action': 'print', text: 'Print' })));
  header.querySelector('[data-action="print"]').addEventListener('click', () => window.print());
  const notes = detail.notes.length > 0 ? el('section', { class: 'notes-block' }, el('ul', {}, ...detail.notes.map((n) => el('li', { text: n })))) : null;
  const ordered = [...cardResults, ...detail.results.filter((r) => !cardResults.includes(r))];
  const results = ordered.map((r) => resultSection(r, detail.explanations[detail.results.indexOf(r)], detail));
  root.replaceChildren(header, notes ?? '', el('div', { class: 'results' }, ...results), findingsSection(detail.findings) ?? '', trendsSection(detail.trends) ?? '',
    detail.report ? reportSection(detail.report, client, scope) : '', modelCardsSection(detail.modelCards));
  for (const draw of pendingCharts.splice(0)) draw();
  document.body.dataset.serviceId = detail.serviceId;
}

function readStoredState(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

async function loadDetail(client, extra = {}) {
  const tr = client.state.tokenResponse ?? {};
  const body = { iss: client.state.serverUrl, patient: tr.patient, ...(tr.encounter ? { encounter: tr.encounter } : {}), ...(typeof tr.appContext === 'string' ? { appContext: tr.appContext } : {}), ...extra };
  const res = await fetch('api/detail', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tr.access_token}` },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json?.issue?.[0]?.diagnostics ?? `HTTP ${res.status}`);
  return json;
}

function chooser(client, scope) {
  const services = JSON.parse(document.body.dataset.services ?? '[]');
  root.removeAttribute('aria-busy');
  root.replaceChildren(el('h1', { text: 'Detail view' }), el('p', { text: 'Opened without a card: choose the service.' }),
    ...services.map((s) => {
      const b = el('button', { type: 'button', class: 'btn', text: s.title });
      b.addEventListener('click', async () => render(await loadDetail(client, { serviceId: s.id }), client, scope));
      return b;
    }));
}

async function main() {
  const params = new URLSearchParams(location.search);
  const error = params.get('error');
  if (error) {
    refuse('Sign-in refused', `The EHR's authorization server refused the sign-in (${error}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}).`);
    return;
  }
  const code = params.get('code');
  const state = params.get('state');
  if (code !== null) {
    // OAuth 2.0 §10.12 / SMART: the response must answer a request this window made.
    const stored = state ? readStoredState(state) : null;
    if (!stored || typeof stored !== 'object' || stored.key !== state) {
      refuse('Sign-in refused: wrong state', 'This sign-in response does not answer a launch started in this browser window (its state parameter is unknown or was already used), so it may not come from your EHR.');
      return;
    }
    if (!stored.codeVerifier) {
      refuse('Sign-in refused: no PKCE verifier', 'The PKCE code verifier of this launch is missing, so the code cannot be exchanged safely (SMART App Launch 2.x requires PKCE).');
      return;
    }
  }
  let client;
  try {
    client = await FHIR.oauth2.ready();
  } catch (err) {
    refuse('Sign-in failed', err instanceof Error ? err.message : String(err));
    return;
  }
  performance.mark('token-ready');
  const tr = client.state.tokenResponse ?? {};
  if (!tr.access_token || !tr.patient) {
    refuse('Sign-in incomplete', 'The EHR gave no access token or no patient in context.');
    return;
  }
  status('Computing the detail view…');
  if (typeof tr.appContext !== 'string') {
    chooser(client, tr.scope);
    return;
  }
  let detail;
  try {
    detail = await loadDetail(client);
  } catch (err) {
    refuse('Detail view unavailable', err instanceof Error ? err.message : String(err));
    return;
  }
  performance.mark('detail-fetched');
  render(detail, client, tr.scope);
  performance.mark('detail-drawn');
  const startedAt = Number(sessionStorage.getItem('smart-launch-started-at'));
  window.smartTimings = {
    launchStartedAt: Number.isFinite(startedAt) ? startedAt : undefined,
    appStartedAt: performance.timeOrigin + performance.getEntriesByName('app-start')[0].startTime,
    tokenReadyAt: performance.timeOrigin + performance.getEntriesByName('token-ready')[0].startTime,
    detailFetchedAt: performance.timeOrigin + performance.getEntriesByName('detail-fetched')[0].startTime,
    drawnAt: performance.timeOrigin + performance.getEntriesByName('detail-drawn')[0].startTime,
  };
  document.body.dataset.state = 'drawn';
}

main();
