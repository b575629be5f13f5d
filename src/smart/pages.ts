// The HTML of the SMART app's pages: the launch page (fhirclient's authorize), the app page (the
// redirect target and the detail view) and the refusal page. Scripts are files (CSP script-src
// 'self'); the server passes settings as data attributes, escaped.

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, head: string, body: string, data: Record<string, string> = {}): string {
  const attrs = Object.entries(data).map(([k, v]) => ` data-${k}="${escape(v)}"`).join('');
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">'
    + `<title>${escape(title)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="static/app.css">${head}</head>`
    + `<body${attrs}>${body}</body></html>`;
}

export interface LaunchSettings {
  clientId: string;
  scope: string;
  redirectUri: string;
  /** Where fhirclient posts the code (this server's token exchange). */
  tokenUri: string;
}

export function launchPage(s: LaunchSettings): string {
  return page(
    'Opening the detail view…',
    // The app page's scripts are fetched while the browser goes through the EHR's authorization.
    '<script src="vendor/fhir-client.js" defer></script><script src="static/launch.js" defer></script>'
      + '<link rel="prefetch" href="vendor/chart.js"><link rel="prefetch" href="static/app.js">',
    '<main class="status-page"><p id="status" role="status">Opening the detail view…</p></main>',
    { 'client-id': s.clientId, scope: s.scope, 'redirect-uri': s.redirectUri, 'token-uri': s.tokenUri },
  );
}

export function appPage(services: ReadonlyArray<{ id: string; title: string }>): string {
  return page(
    'Detail view · Imaging CDS',
    '<script src="vendor/fhir-client.js" defer></script><script src="vendor/chart.js" defer></script><script src="static/app.js" type="module"></script>',
    '<main id="app" aria-busy="true"><p id="status" class="status-page" role="status">Signing in…</p></main>',
    { services: JSON.stringify(services) },
  );
}

/** A launch or sign-in this app refuses, said plainly (no token, no patient data in it). */
export function refusalPage(title: string, reason: string): string {
  return page(
    title,
    '',
    `<main class="refusal" role="alert" data-refusal="true"><h1>${escape(title)}</h1><p>${escape(reason)}</p>`
      + '<p>Nothing was sent to the FHIR server. Open the detail view again from the card in the EHR.</p></main>',
  );
}
