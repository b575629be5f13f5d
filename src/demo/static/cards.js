// Renders CDS cards as an EHR does (CDS Hooks 2.0 §"CDS Service Response" / §"Card Attributes"):
// indicator, summary, Markdown detail, source, links (smart links launched with iss + launch),
// suggestions ("Save to chart" creates the resources, then feedback `accepted`) and override
// reasons (feedback `overridden`). Every text comes from the service and is inserted as text.
import { renderMarkdown, safeHref } from './markdown.js';
import { fhirCreate, registerLaunch, sendFeedback, uuid } from './cds-client.js';

const INDICATOR_LABEL = { info: 'Info', warning: 'Warning', critical: 'Critical' };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-')) node.setAttribute(k, String(v));
    else if (k in node) node[k] = v;
    else node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

/** An anchor opening an http(s) URL in a new tab, or plain text when the URL is not http(s). */
function externalLink(url, label) {
  const href = safeHref(url);
  if (!href) return el('span', { text: label });
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer', text: label });
}

/**
 * SMART launch as an EHR does it (SMART App Launch 2.x, "EHR launch"): the app URL with `iss` (the FHIR
 * server) and an opaque `launch` id the authorization server knows.
 */
export function smartLaunchUrl(url, fhirServer, launch = uuid()) {
  const href = safeHref(url);
  if (!href) return null;
  const u = new URL(href);
  u.searchParams.set('iss', fhirServer);
  u.searchParams.set('launch', launch);
  return u.href;
}

/** Where the demo EHR opens SMART apps (top bar settings): a new tab or the chart's app panel. */
function smartSettings() {
  return {
    mode: document.querySelector('input[name="smart-open"]:checked')?.value === 'panel' ? 'panel' : 'tab',
    allowWrite: document.getElementById('smart-write')?.checked ?? true,
  };
}

/**
 * A click on a card's smart link: register the launch (patient + the link's appContext, CDS Hooks 2.0
 * §"Link"), then open the app with `iss` and `launch`. The tab is opened inside the click (popup
 * rules) and pointed at the app once the launch exists.
 */
async function launchSmartApp(link, ctx, status) {
  performance.mark('smart-link-click');
  const { mode, allowWrite } = smartSettings();
  const win = mode === 'tab' ? window.open('about:blank', '_blank') : null;
  try {
    const context = { patient: ctx.patientId, allowWrite };
    if (typeof link.appContext === 'string') context.appContext = link.appContext;
    const launch = await registerLaunch(context);
    const url = smartLaunchUrl(link.url, ctx.cfg.fhirServer, launch);
    if (!url) throw new Error('the link is not an http(s) URL');
    if (mode === 'panel') {
      const frame = document.getElementById('smart-frame');
      document.getElementById('smart-panel').hidden = false;
      frame.src = url;
    } else if (win) {
      win.opener = null;
      win.location.href = url;
    } else {
      window.open(url, '_blank', 'noopener');
    }
  } catch (err) {
    win?.close();
    setStatus(status, err.message, 'error');
  }
}

function renderLinks(card, ctx, status) {
  const links = (card.links ?? []).map((link) => {
    if (link.type === 'smart') {
      const href = smartLaunchUrl(link.url, ctx.cfg.fhirServer);
      if (!href) return el('span', { text: link.label });
      const a = el('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'smart-link', text: link.label });
      a.addEventListener('click', (event) => {
        event.preventDefault();
        launchSmartApp(link, ctx, status);
      });
      return el('li', {}, a);
    }
    return el('li', {}, externalLink(link.url, link.label));
  });
  return links.length > 0 ? el('ul', { class: 'card-links' }, ...links) : null;
}

function setStatus(node, text, kind) {
  node.textContent = text;
  node.className = `card-status${kind ? ` card-status--${kind}` : ''}`;
}

function renderSuggestions(card, ctx, status, controls) {
  const suggestions = card.suggestions ?? [];
  if (suggestions.length === 0) return null;
  const group = el('div', { class: 'card-suggestions', role: 'group', 'aria-label': 'Suggestions' });
  for (const suggestion of suggestions) {
    const button = el('button', {
      type: 'button',
      class: suggestion.isRecommended ? 'btn btn-primary' : 'btn',
      text: suggestion.label,
    });
    button.addEventListener('click', async () => {
      controls.forEach((c) => { c.disabled = true; });
      setStatus(status, 'Saving…', 'busy');
      try {
        const saved = [];
        for (const action of suggestion.actions ?? []) {
          // The demo EHR carries out `create` actions; others are shown but not applied.
          if (action.type === 'create' && action.resource) {
            const created = await fhirCreate(ctx.cfg, action.resource);
            saved.push(`${created.resourceType}/${created.id}`);
          }
        }
        const feedback = { card: card.uuid, outcome: 'accepted' };
        if (suggestion.uuid) feedback.acceptedSuggestions = [{ id: suggestion.uuid }];
        await sendFeedback(ctx.cfg, ctx.serviceId, feedback);
        setStatus(status, saved.length > 0 ? `Saved to chart: ${saved.join(', ')}` : `Accepted: ${suggestion.label}`, 'ok');
        ctx.onSaved?.();
      } catch (err) {
        setStatus(status, err.message, 'error');
        controls.forEach((c) => { c.disabled = false; });
      }
    });
    controls.push(button);
    group.append(button);
  }
  return group;
}

function renderOverride(card, ctx, status, article, controls) {
  const reasons = card.overrideReasons ?? [];
  const id = `override-${card.uuid}`;
  const select = el('select', { id, class: 'override-reason', 'aria-label': 'Reason for dismissing' },
    el('option', { value: '', text: reasons.length > 0 ? 'Reason for dismissing…' : 'No reason' }),
    ...reasons.map((r, i) => el('option', { value: String(i), text: r.display ?? r.code })));
  const comment = el('input', { type: 'text', class: 'override-comment', placeholder: 'Comment (optional)', maxLength: 500, 'aria-label': 'Comment' });
  const button = el('button', { type: 'button', class: 'btn btn-quiet', text: 'Dismiss' });
  button.addEventListener('click', async () => {
    controls.forEach((c) => { c.disabled = true; });
    setStatus(status, 'Sending…', 'busy');
    const reason = select.value === '' ? undefined : reasons[Number(select.value)];
    const feedback = { card: card.uuid, outcome: 'overridden' };
    if (reason) {
      feedback.overrideReason = { reason };
      if (comment.value.trim()) feedback.overrideReason.userComment = comment.value.trim();
    }
    try {
      await sendFeedback(ctx.cfg, ctx.serviceId, feedback);
      article.classList.add('card--dismissed');
      setStatus(status, reason ? `Dismissed: ${reason.display ?? reason.code}` : 'Dismissed', 'ok');
    } catch (err) {
      setStatus(status, err.message, 'error');
      controls.forEach((c) => { c.disabled = false; });
    }
  });
  controls.push(select, comment, button);
  return el('div', { class: 'card-override' }, select, comment, button);
}

/** One card; `ctx` = { cfg, serviceId, patientId, onSaved }. */
export function renderCard(card, ctx) {
  const indicator = INDICATOR_LABEL[card.indicator] ? card.indicator : 'info';
  const article = el('article', {
    class: `card card--${indicator}`,
    'data-indicator': indicator,
    'data-card-uuid': card.uuid,
    'data-service': ctx.serviceId,
  });
  // Machine-readable scores (DESIGN.md, extension.scores) kept on the element for integrators' tests.
  const scores = Array.isArray(card.extension?.scores) ? card.extension.scores : [];
  if (scores.length > 0) {
    article.dataset.scores = JSON.stringify(scores.map((x) => ({
      model: x.model, value: x.value, tier: x.tier, missing: Array.isArray(x.missing) ? x.missing : [],
    })));
  }
  const header = el('header', { class: 'card-header' },
    el('span', { class: `badge badge--${indicator}`, text: INDICATOR_LABEL[indicator] }),
    el('h3', { class: 'card-summary', text: card.summary ?? '' }));
  article.append(header);

  if (card.detail) {
    const body = el('div', { class: 'card-detail md' });
    body.append(renderMarkdown(card.detail));
    article.append(el('details', { class: 'card-details' }, el('summary', { text: 'Details' }), body));
  }

  const source = card.source ?? {};
  if (source.label) {
    article.append(el('p', { class: 'card-source' }, 'Source: ',
      source.url ? externalLink(source.url, source.label) : el('span', { text: source.label })));
  }
  const status = el('p', { class: 'card-status', role: 'status', 'aria-live': 'polite' });
  const links = renderLinks(card, ctx, status);
  if (links) article.append(links);

  const controls = [];
  const actions = el('div', { class: 'card-actions' });
  const suggestions = renderSuggestions(card, ctx, status, controls);
  if (suggestions) actions.append(suggestions);
  actions.append(renderOverride(card, ctx, status, article, controls));
  article.append(actions, status);
  return article;
}
