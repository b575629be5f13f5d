// PS3.19 Native DICOM Model (application/dicom+xml) → the DICOM JSON model (PS3.18 F.2), so an
// archive that answers metadata in XML feeds the same readers. WADO-RS metadata in XML comes as
// multipart/related, one NativeDicomModel per part (PS3.18 8.7.3.5.2); parsed with fast-xml-parser.
import { XMLParser } from 'fast-xml-parser';
import type { DicomDataset, DicomElement } from './dicom-json.ts';

type XmlNode = Record<string, unknown>;
const isNode = (v: unknown): v is XmlNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const textOf = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (isNode(v) && typeof v['#text'] === 'string') return v['#text'];
  return undefined;
};
const byNumber = (a: unknown, b: unknown): number => Number(isNode(a) ? a['@number'] : 0) - Number(isNode(b) ? b['@number'] : 0);

const NUMERIC_VRS = new Set(['FL', 'FD', 'SL', 'SS', 'UL', 'US', 'SV', 'UV', 'DS', 'IS']);

function personName(node: unknown): Record<string, string> {
  if (!isNode(node)) return {};
  const out: Record<string, string> = {};
  for (const group of ['Alphabetic', 'Ideographic', 'Phonetic'] as const) {
    const g = node[group];
    if (!isNode(g)) continue;
    const parts = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix'].map((k) => textOf(g[k]) ?? '');
    out[group] = parts.join('^').replace(/\^+$/, '');
  }
  return out;
}

function element(attr: XmlNode): DicomElement {
  const vr = typeof attr['@vr'] === 'string' ? attr['@vr'] : undefined;
  const el: DicomElement = vr ? { vr } : {};
  if (vr === 'SQ') {
    el.Value = asArray(attr.Item).sort(byNumber).map((it) => (isNode(it) ? dataset(it) : {}));
  } else if (vr === 'PN') {
    el.Value = asArray(attr.PersonName).sort(byNumber).map(personName);
  } else if (attr.Value !== undefined) {
    el.Value = asArray(attr.Value).sort(byNumber).map((v) => {
      const t = textOf(v) ?? '';
      if (vr && NUMERIC_VRS.has(vr)) {
        const n = Number(t);
        return Number.isFinite(n) && t !== '' ? n : t;
      }
      return t;
    });
  }
  const bulk = attr.BulkData;
  if (isNode(bulk) && typeof bulk['@uri'] === 'string') el.BulkDataURI = bulk['@uri'];
  const inline = textOf(attr.InlineBinary);
  if (inline !== undefined) el.InlineBinary = inline;
  if (el.Value?.length === 0) delete el.Value;
  return el;
}

function dataset(node: XmlNode): DicomDataset {
  const out: DicomDataset = {};
  for (const attr of asArray(node.DicomAttribute)) {
    if (!isNode(attr) || typeof attr['@tag'] !== 'string') continue;
    const tag = attr['@tag'].toUpperCase();
    if (!/^[0-9A-F]{8}$/.test(tag)) continue;
    out[tag] = element(attr);
  }
  return out;
}

/** One NativeDicomModel document → one dataset; throws on text that is not such a document. */
export function parseNativeDicomModel(xml: string): DicomDataset {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    isArray: (name) => ['DicomAttribute', 'Value', 'Item', 'PersonName'].includes(name),
  });
  const doc: unknown = parser.parse(xml);
  const root = isNode(doc) ? doc.NativeDicomModel : undefined;
  if (!isNode(root) && root !== '') throw new Error('not a PS3.19 NativeDicomModel document');
  return isNode(root) ? dataset(root) : {};
}

/** Splits a multipart/related body (text) on its boundary; returns each part's body. */
export function multipartTextParts(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  return body
    .split(delimiter)
    .slice(1)
    .filter((part) => !part.startsWith('--'))
    .map((part) => {
      const headerEnd = part.indexOf('\r\n\r\n');
      const content = headerEnd >= 0 ? part.slice(headerEnd + 4) : part;
      return content.replace(/\r\n$/, '');
    });
}
