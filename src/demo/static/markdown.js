// Safe rendering of CDS card `detail` Markdown (CDS Hooks 2.0 §"Card Attributes": detail is
// GitHub-flavoured Markdown). The text is untrusted: it is parsed into a small tree and built with
// DOM APIs (createElement, text nodes), so no part of it is ever interpreted as HTML. Supported:
// paragraphs, ### headings, **bold**, *italic* / _italic_, `code`, "-"/"*"/"1." lists, pipe tables,
// [links](http(s) only), backslash escapes and character references (&lt; &amp; &#39; ...).

const ESCAPABLE = /[!-/:-@[-`{-~]/; // ASCII punctuation (CommonMark §2.4)
const NAMED_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0' };
const TABLE_SEPARATOR = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

/** Parses Markdown into block nodes: { type: 'p'|'heading'|'ul'|'ol'|'table', ... }. Pure (no DOM). */
export function parseMarkdown(source) {
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') { i++; continue; }
    const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      blocks.push({ type: 'heading', level: heading[1].length, children: parseInline(heading[2]) });
      i++;
      continue;
    }
    if (isTableRow(line) && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1])) {
      const header = splitRow(line).map(parseInline);
      const rows = [];
      i += 2;
      while (i < lines.length && isTableRow(lines[i])) {
        const cells = splitRow(lines[i]).map(parseInline);
        // GFM: rows are cut or padded to the header's width.
        while (cells.length < header.length) cells.push([]);
        rows.push(cells.slice(0, header.length));
        i++;
      }
      blocks.push({ type: 'table', header, rows });
      continue;
    }
    const listKind = listItem(line);
    if (listKind) {
      const items = [];
      while (i < lines.length && listItem(lines[i])?.type === listKind.type) {
        items.push(parseInline(listItem(lines[i]).text));
        i++;
      }
      blocks.push({ type: listKind.type, items });
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines, i)) {
      para.push(lines[i].trim());
      i++;
    }
    blocks.push({ type: 'p', children: parseInline(para.join(' ')) });
  }
  return blocks;
}

function startsBlock(lines, i) {
  const line = lines[i];
  return /^ {0,3}#{1,6}\s/.test(line) || listItem(line) !== null ||
    (isTableRow(line) && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]));
}

function listItem(line) {
  const ul = /^ {0,3}[-*+]\s+(.*)$/.exec(line);
  if (ul) return { type: 'ul', text: ul[1] };
  const ol = /^ {0,3}\d{1,9}[.)]\s+(.*)$/.exec(line);
  if (ol) return { type: 'ol', text: ol[1] };
  return null;
}

function isTableRow(line) {
  return /^\s*\|/.test(line);
}

/** Splits `| a | b \| c |` into cells, keeping escaped pipes for the inline parser. */
function splitRow(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells = [];
  let cell = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) { cell += s[i] + s[i + 1]; i++; continue; }
    if (s[i] === '|') { cells.push(cell.trim()); cell = ''; continue; }
    cell += s[i];
  }
  cells.push(cell.trim());
  return cells;
}

/** Inline nodes: { type: 'text', value } | { type: 'strong'|'em', children } | { type: 'code', value } | { type: 'link', href, children }. */
export function parseInline(src) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ type: 'text', value: buf });
    buf = '';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\' && i + 1 < src.length && ESCAPABLE.test(src[i + 1])) {
      buf += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '&') {
      const m = /^&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/.exec(src.slice(i));
      const decoded = m ? decodeEntity(m[1]) : null;
      if (m && decoded !== null) {
        buf += decoded;
        i += m[0].length;
        continue;
      }
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ type: 'code', value: src.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const delim = src[i + 1] === c ? c + c : c;
      const opens = !/\s/.test(src[i + delim.length] ?? ' ') && !(c === '_' && i > 0 && /[\p{L}\p{N}]/u.test(src[i - 1]));
      const close = opens ? findClose(src, i + delim.length, delim) : -1;
      if (close > i + delim.length) {
        flush();
        out.push({ type: delim.length === 2 ? 'strong' : 'em', children: parseInline(src.slice(i + delim.length, close)) });
        i = close + delim.length;
        continue;
      }
      buf += delim;
      i += delim.length;
      continue;
    }
    if (c === '[') {
      const link = parseLink(src, i);
      if (link) {
        flush();
        const href = safeHref(unescapeText(link.url));
        const children = parseInline(link.text);
        if (href) out.push({ type: 'link', href, children });
        else out.push(...children); // unsafe scheme: keep the words, drop the link
        i = link.end;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}

function findClose(src, from, delim) {
  const c = delim[0];
  for (let j = from; j < src.length; j++) {
    if (src[j] === '\\') { j++; continue; }
    if (src[j] === '`') {
      const end = src.indexOf('`', j + 1);
      if (end > j) { j = end; continue; }
    }
    if (!src.startsWith(delim, j)) continue;
    if (delim.length === 1 && src[j + 1] === c) { j++; continue; } // part of a ** / __ run
    if (/\s/.test(src[j - 1])) continue; // a closing delimiter follows text, not space
    if (c === '_' && /[\p{L}\p{N}]/u.test(src[j + delim.length] ?? '')) continue; // snake_case is not emphasis
    return j;
  }
  return -1;
}

function parseLink(src, start) {
  let depth = 0;
  let j = start;
  for (; j < src.length; j++) {
    if (src[j] === '\\') { j++; continue; }
    if (src[j] === '[') depth++;
    if (src[j] === ']' && --depth === 0) break;
  }
  if (j >= src.length || src[j + 1] !== '(') return null;
  // The destination ends at the ')' that balances its '(' (CommonMark §6.3), escapes skipped.
  let close = j + 2;
  for (let parens = 0; close < src.length; close++) {
    if (src[close] === '\\') { close++; continue; }
    if (src[close] === '(') parens++;
    if (src[close] === ')' && parens-- === 0) break;
  }
  if (close >= src.length) return null;
  const url = src.slice(j + 2, close).trim();
  if (url === '' || /\s/.test(url)) return null;
  return { text: src.slice(start + 1, j), url, end: close + 1 };
}

function decodeEntity(name) {
  if (name[0] === '#') {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(code);
  }
  return Object.prototype.hasOwnProperty.call(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : null;
}

/** Backslash escapes and character references in a link destination. */
function unescapeText(s) {
  return parseInline(s).map((n) => (n.type === 'text' || n.type === 'code' ? n.value : '')).join('');
}

/** Only absolute http(s) links; anything else (javascript:, data:, relative) is not a link. */
export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Renders Markdown into a DocumentFragment built only from elements and text nodes. */
export function renderMarkdown(source, doc = document) {
  const fragment = doc.createDocumentFragment();
  for (const block of parseMarkdown(source)) fragment.append(renderBlock(block, doc));
  return fragment;
}

function renderBlock(block, doc) {
  switch (block.type) {
    case 'heading': {
      // Inside a card the headings sit below the card summary (h3): ### becomes h5, # h4.
      const el = doc.createElement(`h${Math.min(6, Math.max(4, block.level + 2))}`);
      appendInline(el, block.children, doc);
      return el;
    }
    case 'ul':
    case 'ol': {
      const el = doc.createElement(block.type);
      for (const item of block.items) {
        const li = doc.createElement('li');
        appendInline(li, item, doc);
        el.append(li);
      }
      return el;
    }
    case 'table': {
      const wrap = doc.createElement('div');
      wrap.className = 'md-table';
      const table = doc.createElement('table');
      const thead = doc.createElement('thead');
      const headRow = doc.createElement('tr');
      for (const cell of block.header) {
        const th = doc.createElement('th');
        th.scope = 'col';
        appendInline(th, cell, doc);
        headRow.append(th);
      }
      thead.append(headRow);
      const tbody = doc.createElement('tbody');
      for (const row of block.rows) {
        const tr = doc.createElement('tr');
        for (const cell of row) {
          const td = doc.createElement('td');
          appendInline(td, cell, doc);
          tr.append(td);
        }
        tbody.append(tr);
      }
      table.append(thead, tbody);
      wrap.append(table);
      return wrap;
    }
    default: {
      const p = doc.createElement('p');
      appendInline(p, block.children, doc);
      return p;
    }
  }
}

function appendInline(parent, nodes, doc) {
  for (const node of nodes) {
    if (node.type === 'text') {
      parent.append(doc.createTextNode(node.value));
    } else if (node.type === 'code') {
      const el = doc.createElement('code');
      el.textContent = node.value;
      parent.append(el);
    } else if (node.type === 'link') {
      const a = doc.createElement('a');
      a.href = node.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      appendInline(a, node.children, doc);
      parent.append(a);
    } else {
      const el = doc.createElement(node.type === 'strong' ? 'strong' : 'em');
      appendInline(el, node.children, doc);
      parent.append(el);
    }
  }
}
