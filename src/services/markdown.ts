// Card `detail` is GitHub-flavoured Markdown rendered by the EHR (CDS Hooks 2.0 §"Card Attributes").
// Any text that came from FHIR (display strings, notes, units) is untrusted: escape it so it can
// neither inject HTML nor change the Markdown structure (links, tables, emphasis, lists, headings),
// and so that a GFM renderer does not turn a bare URL or e-mail address in it into a link
// (GFM §6.9 "Autolinks (extension)": `www.`, `http://`, `https://` and `x@y.z` are linked without
// any markup). Every escape is a CommonMark backslash escape or an entity: the text reads the same.

// Characters that can start emphasis, code, links/images, tables, strikethrough, raw HTML or an
// e-mail autolink.
const MARKDOWN_SPECIAL = /[\\`*_\[\]|<>&~@]/g;
const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };
// Block markers act only at the start of a line; every escaped value sits inside a table cell, after
// a list marker or after other text, and never spans lines. After a list marker a heading (`# x`),
// a nested list (`- x`, `1. x`) or a thematic break (`---`) would still start: escape those.
const BLOCK_START = /^(?:#{1,6}(?=\s|$)|[-+](?=[\s-]|$)|\d{1,9}[.)](?=\s|$))/;

// Most values (numbers, codes, dates, unit strings) need none of this: test once, copy nothing.
const NEEDS_ESCAPE = /[\r\n\t\\`*_\[\]|<>&~@]|:\/\/|www\.|^\s|\s$|^(?:#{1,6}(?:\s|$)|[-+](?:[\s-]|$)|\d{1,9}[.)](?:\s|$))/i;

export function md(text: string | number | boolean | undefined | null): string {
  if (text === undefined || text === null) return '';
  const s = String(text);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s
    .replace(/[\r\n\t]+/g, ' ')
    // Leading spaces would make an indented code block after a list marker; a trailing one would
    // keep a surrounding `_…_` from closing.
    .trim()
    .replace(MARKDOWN_SPECIAL, (c) => ENTITIES[c] ?? `\\${c}`)
    // Bare URLs: `http\://` and `www\.` are no longer the literal text the autolink extension looks for.
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/(www)\./gi, '$1\\.')
    .replace(BLOCK_START, (m) => `${m.slice(0, -1)}\\${m.slice(-1)}`);
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
