// SMART App Launch 2.x, EHR launch: fhirclient reads `iss` and `launch` from this page's URL, discovers
// the endpoints at {iss}/.well-known/smart-configuration, creates the state and the PKCE S256 pair
// (kept in this window's sessionStorage, so it works in a new tab and in an EHR iframe alike) and
// builds the authorization URL. The code is exchanged by this app's server (POST /smart/token): its
// address replaces the discovered token endpoint in fhirclient's stored state, so a confidential
// client's secret never reaches the browser. The server checked `iss` against its allowlist before
// serving this page.
/* global FHIR */
performance.mark('smart-launch-start');
sessionStorage.setItem('smart-launch-started-at', String(performance.timeOrigin + performance.now()));

const settings = document.body.dataset;

function fail(message) {
  const main = document.querySelector('main');
  main.className = 'refusal';
  main.setAttribute('role', 'alert');
  main.dataset.refusal = 'true';
  const h1 = document.createElement('h1');
  h1.textContent = 'Launch failed';
  const p = document.createElement('p');
  p.textContent = message;
  main.replaceChildren(h1, p);
}

async function launch() {
  const url = await FHIR.oauth2.authorize({
    clientId: settings.clientId,
    scope: settings.scope,
    redirectUri: settings.redirectUri,
    pkceMode: 'required',
    completeInTarget: true,
    noRedirect: true,
  });
  const key = JSON.parse(sessionStorage.getItem('SMART_KEY') ?? 'null');
  const state = key ? JSON.parse(sessionStorage.getItem(key) ?? 'null') : null;
  if (!state || !state.codeVerifier || !state.serverUrl) throw new Error('the launch state could not be stored in this window');
  state.tokenUri = `${settings.tokenUri}?iss=${encodeURIComponent(state.serverUrl)}`;
  sessionStorage.setItem(key, JSON.stringify(state));
  location.href = url;
}

launch().catch((err) => fail(err instanceof Error ? err.message : String(err)));
