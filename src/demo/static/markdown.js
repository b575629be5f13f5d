// Rendering of CDS card `detail`, which is GitHub-flavoured Markdown (CDS Hooks 2.0 §"Card
// Attributes"), and untrusted. markdown-it parses it with raw HTML off (`html: false`: any tag is text)
// and linkify off (a URL in FHIR text stays text); DOMPurify then keeps only the elements and
// attributes a card needs and hands back DOM nodes, so the page never assigns HTML itself.
// Both libraries are served as they ship from node_modules (src/demo/routes.ts, /demo/vendor/).
import markdownit from '../vendor/markdown-it.mjs';
import DOMPurify from '../vendor/purify.mjs';

/** Only absolute http(s) links; anything else (javascript:, data:, relative) is not a link. */
export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

// GFM tables and strikethrough are in markdown-it's default preset; images are off (a card's picture
// would be fetched from wherever its text said).
const md = markdownit({ html: false, linkify: false, typographer: false }).disable(['image']);
// Every destination is parsed as a link so that the core rule below can keep the words of an unsafe
// one; markdown-it's own check would leave `[text](javascript:...)` on the page as raw Markdown.
md.validateLink = () => true;

md.core.ruler.push('card_detail', (state) => {
  for (const token of state.tokens) {
    // Inside a card the headings sit below the card summary (h3): ### becomes h5, # h4.
    if (token.type === 'heading_open' || token.type === 'heading_close') {
      token.tag = `h${Math.min(6, Math.max(4, Number(token.tag.slice(1)) + 2))}`;
    }
    if (token.type === 'th_open') token.attrSet('scope', 'col');
    if (token.type === 'inline' && token.children) token.children = linksKeptOrUnwrapped(token.children);
  }
});

/** A link with a safe destination opens in a new tab; any other keeps its words and loses the link. */
function linksKeptOrUnwrapped(children) {
  const out = [];
  const open = []; // per link_open: whether it was kept
  for (const child of children) {
    if (child.type === 'link_open') {
      const href = safeHref(child.attrGet('href') ?? '');
      open.push(href !== null);
      if (href === null) continue;
      child.attrSet('href', href);
      child.attrSet('target', '_blank');
      child.attrSet('rel', 'noopener noreferrer');
    } else if (child.type === 'link_close' && !open.pop()) {
      continue;
    }
    out.push(child);
  }
  return out;
}

md.renderer.rules.table_open = () => '<div class="md-table"><table>\n';
md.renderer.rules.table_close = () => '</table></div>\n';

/** What a card detail may contain once rendered: markdown-it's output for GFM, nothing else. */
const PURIFY = {
  ALLOWED_TAGS: [
    'p', 'h4', 'h5', 'h6', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'hr', 'br', 'ul', 'ol', 'li', 'a',
    'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  ALLOWED_ATTR: ['href', 'target', 'rel', 'class', 'scope', 'start'],
  // DOMPurify checks every attribute not named URI-safe against this: href must be http(s), the
  // others are plain words.
  ALLOWED_URI_REGEXP: /^https?:\/\//i,
  ADD_URI_SAFE_ATTR: ['target', 'rel', 'scope', 'start'],
  RETURN_DOM_FRAGMENT: true,
};

/** Renders card Markdown into a DocumentFragment of the page's document. */
export function renderMarkdown(source) {
  return DOMPurify.sanitize(md.render(String(source ?? '')), PURIFY);
}
