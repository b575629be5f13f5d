// Card `detail` is GitHub-flavoured Markdown rendered by the EHR (CDS Hooks 2.0 §"Card Attributes").
// Any text that came from FHIR (display strings, notes, units) is untrusted: escape it so it can
// neither inject HTML nor change the Markdown structure (links, tables, emphasis).

// Characters that can start emphasis, code, links/images, tables, strikethrough or raw HTML. Block
// markers (#, -, +, digits.) only act at the start of a line, and every escaped value is placed
// inside a table cell or after a list marker, never at a line start.
const MARKDOWN_SPECIAL = /[\\`*_\[\]|<>&~]/g;
const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };

// Most values (numbers, codes, dates, unit strings) contain none of these: test once, copy nothing.
const NEEDS_ESCAPE = /[\r\n\t\\`*_\[\]|<>&~]/;

export function md(text: string | number | boolean | undefined | null): string {
  if (text === undefined || text === null) return '';
  const s = String(text);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(MARKDOWN_SPECIAL, (c) => ENTITIES[c] ?? `\\${c}`);
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
