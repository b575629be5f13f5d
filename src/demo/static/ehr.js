// The demo EHR page: a patient list from the demo FHIR server, a chart (banner, problems, results)
// and the CDS cards of every patient-view service, called as an EHR calls them.
import { HttpFailure, callService, discover, fhirGet, loadConfig } from './cds-client.js';
import { renderCard } from './cards.js';

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function showPageError(message) {
  const node = $('page-error');
  node.textContent = message;
  node.hidden = false;
}

// ---------- FHIR display helpers ----------

function patientName(p) {
  const n = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  if (!n) return p.id;
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

function ageOf(birthDate, now = new Date()) {
  if (!birthDate) return undefined;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number);
  let age = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) age--;
  return age;
}

function conceptText(cc) {
  return cc?.text ?? cc?.coding?.find((c) => c.display)?.display ?? cc?.coding?.[0]?.code ?? '';
}

function observationValue(o) {
  if (o.valueQuantity) return `${o.valueQuantity.value ?? ''} ${o.valueQuantity.unit ?? o.valueQuantity.code ?? ''}`.trim();
  if (typeof o.valueBoolean === 'boolean') return o.valueBoolean ? 'yes' : 'no';
  if (typeof o.valueInteger === 'number') return String(o.valueInteger);
  if (o.valueCodeableConcept) return conceptText(o.valueCodeableConcept);
  if (typeof o.valueString === 'string') return o.valueString;
  return '';
}

const shortDate = (iso) => (iso ? iso.slice(0, 10) : '');

const entries = (bundle) => (bundle?.entry ?? []).map((e) => e.resource).filter(Boolean);

// ---------- patient list ----------

async function showPatientList(cfg) {
  const tbody = $('patients');
  try {
    const bundle = await fhirGet(cfg, 'Patient?_count=100');
    const order = Object.keys(cfg.scenarios ?? {});
    const patients = entries(bundle).sort((a, b) => rank(order, a.id) - rank(order, b.id));
    tbody.replaceChildren(...patients.map((p) => patientRow(cfg, p)));
    if (patients.length === 0) tbody.replaceChildren(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No patients.' })));
  } catch (err) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: '5', class: 'error', text: err.message })));
  }
}

function rank(order, id) {
  const i = order.indexOf(id);
  return i < 0 ? order.length : i;
}

function patientRow(cfg, p) {
  const open = el('button', { type: 'button', class: 'btn btn-primary', 'data-patient-id': p.id, text: 'Open chart' });
  open.addEventListener('click', () => { openChart(cfg, p); });
  return el('tr', { 'data-patient-id': p.id },
    el('td', { class: 'patient-name', text: patientName(p) }),
    el('td', { text: p.gender ?? '' }),
    el('td', { text: String(ageOf(p.birthDate) ?? '') }),
    el('td', { class: 'scenario', text: cfg.scenarios?.[p.id] ?? '' }),
    el('td', {}, open));
}

// ---------- chart ----------

let chartGeneration = 0;

async function openChart(cfg, patient) {
  const generation = ++chartGeneration;
  $('patient-list').hidden = true;
  $('chart').hidden = false;
  $('chart').dataset.patientId = patient.id;
  delete $('chart').dataset.cdsDone;
  $('banner-name').textContent = patientName(patient);
  const mrn = patient.identifier?.[0]?.value;
  $('banner-facts').textContent = [
    patient.gender, `${ageOf(patient.birthDate) ?? '?'} y`, patient.birthDate ? `born ${patient.birthDate}` : undefined,
    mrn ? `MRN ${mrn}` : undefined,
  ].filter(Boolean).join(' · ');
  $('banner-scenario').textContent = cfg.scenarios?.[patient.id] ?? '';
  $('problems').replaceChildren();
  $('assessments').replaceChildren();
  $('results').replaceChildren();
  $('cards').replaceChildren();
  $('cds-status').replaceChildren();
  $('no-cards').hidden = true;
  $('cards').setAttribute('aria-busy', 'true');
  closeSmartPanel();

  const current = () => generation === chartGeneration;
  await Promise.all([loadChartData(cfg, patient.id, current), runCds(cfg, patient.id, current)]);
}

async function loadChartData(cfg, patientId, current) {
  try {
    const id = encodeURIComponent(patientId);
    // `subject=Patient/<id>` rather than `patient=<id>`: same result, and much faster on the
    // in-memory demo server (its `patient` parameter resolves every reference).
    const subject = `subject=Patient/${id}`;
    const [obs, conditions, procedures, assessments] = await Promise.all([
      fhirGet(cfg, `Observation?${subject}&_sort=-date&_count=200`),
      fhirGet(cfg, `Condition?${subject}&_count=100`),
      fhirGet(cfg, `Procedure?${subject}&_count=100`),
      fhirGet(cfg, `RiskAssessment?${subject}&_count=100`),
    ]);
    if (!current()) return;
    const problems = [
      ...entries(conditions).map((c) => el('li', {},
        el('span', { text: conceptText(c.code) }),
        el('span', { class: 'muted', text: ` since ${shortDate(c.onsetDateTime ?? c.recordedDate)}` }),
        c.severity ? el('span', { class: 'muted', text: ` (${conceptText(c.severity)})` }) : null)),
      ...entries(procedures).map((p) => el('li', {},
        el('span', { text: conceptText(p.code) }),
        el('span', { class: 'muted', text: ` ${shortDate(p.performedDateTime)}` }))),
    ];
    $('problems').replaceChildren(...(problems.length > 0 ? problems : [el('li', { class: 'muted', text: 'None recorded' })]));
    const saved = entries(assessments).map((ra) => el('li', { 'data-resource-id': ra.id ?? '' },
      el('span', { text: ra.note?.[0]?.text ?? conceptText(ra.method) }),
      el('span', { class: 'muted', text: ` ${shortDate(ra.occurrenceDateTime)}` })));
    $('assessments').replaceChildren(...(saved.length > 0 ? saved : [el('li', { class: 'muted', text: 'None' })]));
    const rows = entries(obs).filter((o) => !o.hasMember).map((o) => {
      const high = o.interpretation?.some((i) => i.coding?.some((c) => c.code === 'H'));
      return el('tr', {},
        el('td', { text: shortDate(o.effectiveDateTime) }),
        el('td', { text: conceptText(o.code) }),
        el('td', { class: high ? 'flag-high' : '', text: `${observationValue(o)}${high ? ' (H)' : ''}` }));
    });
    $('results').replaceChildren(...rows);
  } catch (err) {
    if (current()) $('problems').replaceChildren(el('li', { class: 'error', text: err.message }));
  }
}

function statusLine(text, kind) {
  return el('li', { class: kind ? `cds-status--${kind}` : '', text });
}

async function runCds(cfg, patientId, current) {
  const sendPrefetch = document.querySelector('input[name="prefetch-mode"]:checked')?.value !== 'none';
  const context = { userId: 'Practitioner/demo', patientId };
  let services;
  try {
    services = (await discover(cfg)).filter((s) => s.hook === 'patient-view');
  } catch (err) {
    if (current()) {
      $('cds-status').append(statusLine(err.message, 'error'));
      $('cards').removeAttribute('aria-busy');
      $('chart').dataset.cdsDone = 'true';
    }
    return;
  }
  const cache = new Map();
  let total = 0;
  await Promise.all(services.map(async (service) => {
    const line = statusLine(`${service.title || service.id}: calling…`, 'busy');
    line.dataset.service = service.id;
    $('cds-status').append(line);
    const group = el('div', { class: 'card-group', 'data-service': service.id });
    $('cards').append(group);
    try {
      const cards = await callService(cfg, service, context, { sendPrefetch, cache });
      if (!current()) return;
      total += cards.length;
      line.textContent = `${service.title || service.id}: ${cards.length === 0 ? 'no cards' : `${cards.length} card${cards.length > 1 ? 's' : ''}`}`;
      line.className = 'cds-status--ok';
      group.append(...cards.map((card) => renderCard(card, { cfg, serviceId: service.id, patientId, onSaved: () => { loadChartData(cfg, patientId, current); } })));
    } catch (err) {
      if (!current()) return;
      line.textContent = err instanceof HttpFailure ? err.message : `${service.title || service.id}: ${err.message}`;
      line.className = 'cds-status--error';
    }
  }));
  if (!current()) return;
  $('no-cards').hidden = total > 0;
  $('cards').removeAttribute('aria-busy');
  $('chart').dataset.cdsDone = 'true';
}

// ---------- SMART app panel (the app framed by the EHR) ----------

function closeSmartPanel() {
  $('smart-panel').hidden = true;
  $('smart-frame').removeAttribute('src');
}

// ---------- start ----------

async function main() {
  $('smart-panel-close').addEventListener('click', closeSmartPanel);
  $('back').addEventListener('click', () => {
    chartGeneration++;
    closeSmartPanel();
    $('chart').hidden = true;
    delete $('chart').dataset.cdsDone;
    $('patient-list').hidden = false;
  });
  let cfg;
  try {
    cfg = await loadConfig();
  } catch (err) {
    showPageError(err.message);
    return;
  }
  showImagingStatus(cfg.imaging);
  await showPatientList(cfg);
}

/** Whether the demo reads imaging, and if not exactly why and how to enable it (server.ts). */
function showImagingStatus(imaging) {
  const p = $('imaging-status');
  if (!imaging) return;
  if (imaging.state === 'demo-archive') {
    p.textContent = `Imaging: the demo patients' CMR reports (DICOM SR) and CT muscle segmentations (DICOM SEG) are read from a private Orthanc on this machine (${imaging.instances} instances).`;
  } else if (imaging.state === 'configured') {
    p.textContent = 'Imaging: read from the DICOMweb archive configured in DICOMWEB_URL.';
  } else {
    p.classList.add('off');
    p.textContent = `Imaging is off in this demo: ${imaging.reason}. ${imaging.howToEnable} Until then the cards use the FHIR data alone.`;
  }
  p.hidden = false;
}

main();
