import fc from 'fast-check';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { md, table } from '../../../src/services/markdown.ts';

/** A real GFM renderer, letting raw HTML through so that any that md() let pass would show. */
const render = (markdown: string): string => micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()], allowDangerousHtml: true });
/** Visible text of rendered HTML: tags dropped, the entities micromark writes decoded. */
const visibleText = (html: string): string =>
  html.replace(/<[^>]*>/g, '').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const tags = (html: string): string[] => [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase());

describe('md (untrusted text in card detail)', () => {
  test.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['**bold** _it_ `code`', '\\*\\*bold\\*\\* \\_it\\_ \\`code\\`'],
    ['[click](javascript:alert(1))', '\\[click\\](javascript:alert(1))'],
    // The URL is escaped too: a GFM renderer would otherwise link it (issue 11).
    ['![img](http://x/y.png)', '!\\[img\\](http\\://x/y.png)'],
    ['a | b', 'a \\| b'],
    ['line1\nline2\r\n# heading', 'line1 line2 # heading'],
    ['a & b', 'a &amp; b'],
    ['see https://evil.example/x and WWW.evil.example', 'see https\\://evil.example/x and WWW\\.evil.example'],
    ['mail dr.who@evil.example', 'mail dr.who\\@evil.example'],
    ['# not a heading', '\\# not a heading'],
    ['- not a list', '\\- not a list'],
    ['12. not a list', '12\\. not a list'],
    ['---', '\\---'],
    ['    not code  ', 'not code'],
  ])('escapes %j', (input, expected) => {
    expect(md(input)).toBe(expected);
  });

  test('keeps plain clinical text readable', () => {
    expect(md('MELD 3.0 (secondary): 90-day mortality 6.7 %')).toBe('MELD 3.0 (secondary): 90-day mortality 6.7 %');
    expect(md('-18 %')).toBe('-18 %');
    expect(md('mg/dL')).toBe('mg/dL');
  });

  test('table builds a GFM table', () => {
    expect(table(['A', 'B'], [['1', '2']])).toBe('| A | B |\n| --- | --- |\n| 1 | 2 |');
  });
});

// Property-based, with a real GFM renderer (micromark + its GFM extension, as GitHub renders): in
// every place the cards put untrusted text, no link, no image and no raw HTML comes out, and the
// reader sees the text as it was (whitespace runs aside).
describe('md under a real GFM renderer (fast-check)', () => {
  const hostile = fc.constantFrom(
    'http://evil.example/x', 'https://evil.example', 'HTTPS://EVIL.EXAMPLE/a?b=c&d=e', 'www.evil.example', 'WwW.evil.example/x',
    'dr.who@evil.example', 'mailto:a@b.example', 'xmpp:a@b.example', '<https://evil.example>', '<a@b.example>',
    '<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '<!-- x -->', '&lt;b&gt;', '&#60;b&#62;', '[x](https://evil.example)',
    '![x](https://evil.example/i.png)', '[x]: https://evil.example', '[^1]', '**', '__', '~~', '`', '```', '~~~', '|', '\\', '#', '# ',
    '- ', '+ ', '1. ', '1) ', '> ', '---', '***', '    ', '\n', '\r\n', '\t', ' ', 'javascript:alert(1)', 'ftp://evil.example',
    '(', ')', '!', '*', '_', '[', ']', '=', ':', '//', '.', '@', 'www', 'http', ':/', 'a', '7', 'µmol/L', '\u00a0', 'é', '😀',
  );
  const untrusted = fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.oneof(hostile, fc.string({ maxLength: 6 })), { maxLength: 12 }).map((parts) => parts.join('')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  );
  // The places the services put md() output (cards.ts, card-kit.ts).
  const contexts: Array<[string, (x: string) => string, string[]]> = [
    ['a paragraph', (x) => `Text: ${x}`, ['p']],
    ['a list item', (x) => `- ${x} (needed by MELD)`, ['ul', 'li']],
    ['a table cell', (x) => table(['Input', 'Value'], [[x, '1']]), ['table', 'thead', 'tbody', 'tr', 'th', 'td']],
    ['emphasis', (x) => `_${x}_`, ['p', 'em']],
  ];

  test.each(contexts)('in %s: no link, image or raw HTML; the text reads as it was', (_name, place, allowed) => {
    fc.assert(fc.property(untrusted, (s) => {
      const html = render(place(md(s)));
      expect(html).not.toMatch(/<a\b|<img\b|<script\b|<!--/i);
      for (const t of tags(html)) expect(allowed).toContain(t);
      const normalised = s.replace(/[\r\n\t]+/g, ' ').replace(/\u0000/g, '\ufffd').trim();
      if (normalised.length > 0) expect(visibleText(html).replace(/\s+/g, ' ')).toContain(normalised.replace(/\s+/g, ' '));
    }), { numRuns: 400 });
  });
});
