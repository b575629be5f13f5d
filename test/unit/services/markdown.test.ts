import { md, table } from '../../../src/services/markdown.ts';

describe('md (untrusted text in card detail)', () => {
  test.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['**bold** _it_ `code`', '\\*\\*bold\\*\\* \\_it\\_ \\`code\\`'],
    ['[click](javascript:alert(1))', '\\[click\\](javascript:alert(1))'],
    ['![img](http://x/y.png)', '!\\[img\\](http://x/y.png)'],
    ['a | b', 'a \\| b'],
    ['line1\nline2\r\n# heading', 'line1 line2 # heading'],
    ['a & b', 'a &amp; b'],
  ])('escapes %j', (input, expected) => {
    expect(md(input)).toBe(expected);
  });

  test('keeps plain clinical text readable', () => {
    expect(md('MELD 3.0 (secondary): 90-day mortality 6.7 %')).toBe('MELD 3.0 (secondary): 90-day mortality 6.7 %');
  });

  test('table builds a GFM table', () => {
    expect(table(['A', 'B'], [['1', '2']])).toBe('| A | B |\n| --- | --- |\n| 1 | 2 |');
  });
});
