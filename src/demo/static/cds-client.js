// The demo EHR's side of CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/), done as an EHR does it:
// discovery, prefetch built from the service's templates, the hook call, and feedback. Every call
// carries a fresh JWT whose `aud` is the URL called (§"Trusting CDS Clients"); the demo server signs
// it (POST demo/token) so the private key never reaches the browser.

/** A failed HTTP call, with a message fit to show to the user. */
export class HttpFailure extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'HttpFailure';
    this.status = status;
  }
}

/** crypto.randomUUID needs a secure context; getRandomValues does not. */
export function uuid() {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const STATUS_TEXT = {
  400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 412: 'Precondition failed',
  413: 'Request too large', 415: 'Unsupported media type', 422: 'Unprocessable', 429: 'Too many requests',
  500: 'Internal server error', 502: 'Bad gateway', 503: 'Service unavailable', 504: 'Gateway timeout',
};

const HINTS = {
  401: 'the service refused the demo EHR\'s JWT',
  412: 'the service could not obtain data it requires',
};

/** Reads a response body as JSON, or throws an HttpFailure with the OperationOutcome's message. */
async function readJson(response, what) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const diagnostics = body?.resourceType === 'OperationOutcome'
      ? body.issue?.map((i) => i.diagnostics ?? i.details?.text ?? i.code).filter(Boolean).join('; ')
      : undefined;
    const detail = diagnostics || HINTS[response.status] || '';
    const label = `HTTP ${response.status} ${STATUS_TEXT[response.status] ?? response.statusText ?? ''}`.trim();
    throw new HttpFailure(response.status, `${what}: ${label}${detail ? ` — ${detail}` : ''}`);
  }
  if (body === null) throw new HttpFailure(response.status, `${what}: the response is not JSON`);
  return body;
}

async function request(url, init, what) {
  let response;
  try {
    response = await fetch(url, { ...init, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new HttpFailure(0, `${what}: network error (${err instanceof Error ? err.message : 'unknown'})`);
  }
  return readJson(response, what);
}

/**
 * Everything the page needs to act as the EHR: the demo config (FHIR server, its token, the
 * service's public base URL) and where to send requests from this page.
 */
export async function loadConfig() {
  const cfg = await request(new URL('demo/config', document.baseURI), {}, 'Loading the demo configuration');
  // Call the service where the page is served from; the JWT audience is always the public URL.
  const sameOrigin = new URL(cfg.publicBaseUrl).origin === location.origin;
  const cdsBase = sameOrigin ? cfg.publicBaseUrl : new URL('.', document.baseURI).href.replace(/\/$/, '');
  const fhirBase = sameOrigin ? cfg.fhirServer : new URL('demo/fhir', document.baseURI).href;
  return { ...cfg, cdsBase, fhirBase };
}

/** A CDS Client JWT for `aud`, signed by the demo server. */
async function clientJwt(aud) {
  const { token } = await request(
    new URL('demo/token', document.baseURI),
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aud }) },
    'Signing the CDS Client JWT',
  );
  return token;
}

/** A call to a CDS endpoint at `path` (below /cds-services) with its own JWT. */
async function cdsCall(cfg, path, init, what) {
  const jwt = await clientJwt(`${cfg.publicBaseUrl}/cds-services${path}`);
  const headers = { accept: 'application/json', authorization: `Bearer ${jwt}`, ...(init.headers ?? {}) };
  return request(`${cfg.cdsBase}/cds-services${path}`, { ...init, headers }, what);
}

/** GET /cds-services (discovery). */
export async function discover(cfg) {
  const doc = await cdsCall(cfg, '', { method: 'GET' }, 'Discovery');
  return Array.isArray(doc.services) ? doc.services : [];
}

/** GET on the demo FHIR server with the EHR's access token. */
export async function fhirGet(cfg, relative) {
  return request(
    `${cfg.fhirBase}/${relative}`,
    { headers: { accept: 'application/fhir+json', authorization: `Bearer ${cfg.accessToken}` } },
    'FHIR read',
  );
}

/** POST (create) on the demo FHIR server. */
export async function fhirCreate(cfg, resource) {
  return request(
    `${cfg.fhirBase}/${encodeURIComponent(resource.resourceType)}`,
    {
      method: 'POST',
      headers: {
        accept: 'application/fhir+json',
        'content-type': 'application/fhir+json',
        authorization: `Bearer ${cfg.accessToken}`,
      },
      body: JSON.stringify(resource),
    },
    `Saving ${resource.resourceType}`,
  );
}

/**
 * Fills the prefetch tokens of one template (§"Prefetch tokens"). Returns null when a token cannot
 * be filled: the key is then left out and the service fetches the data itself.
 */
export function fillTemplate(template, context) {
  const values = {
    'context.patientId': context.patientId,
    'context.userId': context.userId,
    'context.encounterId': context.encounterId,
    userPractitionerId: context.userId?.startsWith('Practitioner/') ? context.userId.slice('Practitioner/'.length) : undefined,
  };
  let unfilled = false;
  const filled = template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_m, name) => {
    const v = values[name];
    if (typeof v !== 'string' || v === '') {
      unfilled = true;
      return '';
    }
    // FHIR ids and references ([A-Za-z0-9-.]{1,64}, 'Practitioner/<id>') are URL-safe as they are.
    return /^[A-Za-z0-9\-./]+$/.test(v) ? v : encodeURIComponent(v);
  });
  return unfilled ? null : filled;
}

/**
 * Prefetch for one service: each template filled and read from the FHIR server, the result
 * (searchset Bundle or resource) sent as is. A key whose read fails is left out. `cache` shares
 * reads between the services of one chart opening.
 */
export async function buildPrefetch(cfg, templates, context, cache) {
  const prefetch = {};
  await Promise.all(Object.entries(templates ?? {}).map(async ([key, template]) => {
    const query = fillTemplate(template, context);
    if (query === null) return;
    if (!cache.has(query)) cache.set(query, fhirGet(cfg, query).catch(() => undefined));
    const result = await cache.get(query);
    if (result !== undefined) prefetch[key] = result;
  }));
  return prefetch;
}

/** POST /cds-services/{id} for the patient-view hook. */
export async function callService(cfg, service, context, { sendPrefetch, cache }) {
  const body = {
    hook: 'patient-view',
    hookInstance: uuid(),
    fhirServer: cfg.fhirServer,
    fhirAuthorization: {
      access_token: cfg.accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'patient/*.rs',
      subject: 'demo-ehr',
      // Patient-scoped access: the patient in context (CDS Hooks 2.0 §"Passing the Access Token").
      patient: context.patientId,
    },
    context,
  };
  if (sendPrefetch && service.prefetch) body.prefetch = await buildPrefetch(cfg, service.prefetch, context, cache);
  const response = await cdsCall(
    cfg,
    `/${encodeURIComponent(service.id)}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    service.title || service.id,
  );
  return Array.isArray(response.cards) ? response.cards : [];
}

/** POST /cds-services/{id}/feedback with one feedback item (§"Feedback"). */
export async function sendFeedback(cfg, serviceId, item) {
  return cdsCall(
    cfg,
    `/${encodeURIComponent(serviceId)}/feedback`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feedback: [{ ...item, outcomeTimestamp: new Date().toISOString() }] }),
    },
    'Feedback',
  );
}

/**
 * The EHR side of a SMART EHR launch: register the launch context (patient, the card link's
 * appContext, whether the app may write) with the demo authorization server; it answers the opaque
 * `launch` id the app URL carries.
 */
export async function registerLaunch(context) {
  const body = await request(new URL('demo/launch', document.baseURI), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(context),
  }, 'Registering the SMART launch');
  return body.launch;
}
