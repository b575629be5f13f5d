// Single CMR markers with published prognostic weight after myocardial infarction (MODELS.md 1d).
// Each finding carries its own threshold, weight and source; nothing is combined into a score.
// Rules kept from MODELS.md: the echo GLS cut-off (Ersbøll, −14 %) is NOT applied to CMR GLS, and
// native T1 / T2 are flagged only against a site reference range, never an invented cut-off.
// The thresholds and weights are data (MARKER_RULES: named, with the value, comparison and source);
// a finding names its rule, which text of the rule states it, and the values that text shows: the
// sentences are in the card file (cards/cmr-ihd-macce.yaml `markerRules`).
import { metadata as cmrRiskScoreMetadata } from './cmr-risk-score.ts';
import { noteMaker, type Evidence, type Input, type ModelId, type ModelMetadata, type ModelNote, type NoteSpec } from './types.ts';

const pubmed = (terms: string): string =>
  `https://pubmed.ncbi.nlm.nih.gov/?term=${encodeURIComponent(terms).replace(/%20/g, '+')}`;

interface Source {
  citation: string;
  /** DOI link where MODELS.md gives a DOI, else a PubMed search (no guessed DOIs). */
  url?: string;
  evidence: Evidence | 'site-reference';
}

// Citations as written in MODELS.md 1d; all [P].
export const SOURCES = {
  stone: { citation: 'Stone GW et al., J Am Coll Cardiol 2016;67:1674–83', url: pubmed('Stone GW J Am Coll Cardiol 2016 67 1674'), evidence: 'primary' },
  bulluck: {
    citation: 'Stiermaier/Eitel score as described in Bulluck H et al., JACC Cardiovasc Imaging 2022;15:431–440',
    url: pubmed('Bulluck H JACC Cardiovasc Imaging 2022 15 431'),
    evidence: 'primary',
  },
  bonanad: { citation: 'Bonanad C … Bodi V', url: pubmed('Bonanad C Bodi V infarct size ejection fraction cardiac magnetic resonance'), evidence: 'primary' },
  deWaha: {
    citation: 'de Waha S et al., Eur Heart J 2017;38:3502–3510, doi:10.1093/eurheartj/ehx414',
    url: 'https://doi.org/10.1093/eurheartj/ehx414',
    evidence: 'primary',
  },
  marcosGarces: { citation: cmrRiskScoreMetadata.citation, url: cmrRiskScoreMetadata.url, evidence: 'primary' },
  laStrain: { citation: 'Radiology 2020;296:299–309', url: pubmed('left atrial reservoir strain myocardial infarction Radiology 2020 296 299'), evidence: 'primary' },
  ersboll: { citation: 'Ersbøll M et al. (echocardiography)', url: pubmed('Ersbøll global longitudinal strain acute myocardial infarction'), evidence: 'primary' },
  haemorrhage: { citation: 'Int J Cardiol 2013;167:2047–54', url: pubmed('intramyocardial haemorrhage Int J Cardiol 2013 167 2047'), evidence: 'primary' },
  site: { citation: 'Site reference range (configuration); no published universal cut-off', evidence: 'site-reference' },
} as const satisfies Record<string, Source>;

export const metadata: ModelMetadata = {
  id: 'cmr-markers',
  version: '1.0.0',
  title: 'Single CMR markers with published prognostic weight after myocardial infarction',
  citation: [SOURCES.stone, SOURCES.bulluck, SOURCES.deWaha, SOURCES.laStrain, SOURCES.haemorrhage]
    .map((s) => s.citation)
    .join('; '),
  url: SOURCES.bulluck.url,
  evidence: 'primary',
  population: 'Adults after myocardial infarction with a CMR',
  notes: ['Each finding names its own source; the findings are not combined into a score.'],
};

export interface ReferenceRange {
  low: number;
  high: number;
}

export interface SiteReferenceRanges {
  /** native T1 of normal myocardium at this site and field strength, ms */
  nativeT1?: ReferenceRange;
  /** T2 of normal myocardium at this site, ms */
  t2?: ReferenceRange;
}

export interface CmrMarkerInputs {
  /** LGE infarct size, % of LV mass */
  infarctSize?: Input<number>;
  /** microvascular obstruction, % of LV mass */
  mvo?: Input<number>;
  /** LVEF, % */
  lvef?: Input<number>;
  /** LA reservoir strain, % */
  laReservoirStrain?: Input<number>;
  /** LV global longitudinal strain by CMR, % (negative) */
  lvGls?: Input<number>;
  /** intramyocardial haemorrhage present */
  haemorrhage?: Input<boolean>;
  /** number of segments with intramyocardial haemorrhage */
  haemorrhageSegments?: Input<number>;
  /** native T1, ms */
  nativeT1?: Input<number>;
  /** T2, ms */
  t2?: Input<number>;
}

export const CMR_MARKERS = [
  'infarctSize', 'infarctSizeWithLvef', 'mvo', 'lvef', 'laReservoirStrain', 'lvGls', 'haemorrhage', 'nativeT1', 't2',
] as const;
export type CmrMarker = (typeof CMR_MARKERS)[number];

/** How a measured value is compared with a published cut-off. */
export type Comparison = '>=' | '>' | '<=' | '<';

const compare = (v: number, c: Comparison, cutoff: number): boolean =>
  c === '>=' ? v >= cutoff : c === '>' ? v > cutoff : c === '<=' ? v <= cutoff : v < cutoff;

/** Hazard ratios as the papers print them (two decimals: 1.20, not 1.2). */
const hr = (x: number): string => x.toFixed(2);

/**
 * The published thresholds and weights (MODELS.md 1d), in the order the card lists them. Each rule
 * has the texts its findings use (cards/cmr-ihd-macce.yaml `markerRules.<id>`), the values they show,
 * and its source (SOURCES).
 */
export const MARKER_RULES = [
  { id: 'infarctSizeAdverse', marker: 'infarctSize', kind: 'threshold', form: 'cutoff', input: 'infarctSize', comparison: '>=', cutoff: 19,
    source: 'bulluck', texts: ['threshold', 'adverse', 'notAdverse'], vars: ['value', 'cutoff'] },
  { id: 'infarctSizeWeight', marker: 'infarctSize', kind: 'continuous', form: 'weight', input: 'infarctSize', per: 5, hrDeath: 1.19,
    hrHeartFailure: 1.2, source: 'stone', texts: ['threshold', 'shown'], vars: ['value', 'per', 'hrDeath', 'hrHeartFailure'] },
  { id: 'infarctSizeWithLvef', marker: 'infarctSizeWithLvef', kind: 'combination', form: 'both',
    infarctSize: { comparison: '>', cutoff: 30 }, lvef: { comparison: '<', cutoff: 40 }, eventsPercent: 30, source: 'bonanad',
    texts: ['threshold', 'adverse', 'notAdverse', 'noLvef', 'noInfarctSize'], vars: ['infarctSize', 'lvef', 'infarctCutoff', 'lvefCutoff', 'events'] },
  { id: 'mvoAdverse', marker: 'mvo', kind: 'threshold', form: 'cutoff', input: 'mvo', comparison: '>', cutoff: 1.4, source: 'bulluck',
    texts: ['threshold', 'adverse', 'notAdverse'], vars: ['value', 'cutoff'] },
  { id: 'mvoWeight', marker: 'mvo', kind: 'continuous', form: 'weight', input: 'mvo', per: 1, hrDeath: 1.14, hrHeartFailure: 1.08,
    source: 'deWaha', texts: ['threshold', 'shown'], vars: ['value', 'per', 'hrDeath', 'hrHeartFailure'] },
  { id: 'lvefAdverse', marker: 'lvef', kind: 'threshold', form: 'cutoff', input: 'lvef', comparison: '<=', cutoff: 47, source: 'bulluck',
    texts: ['threshold', 'adverse', 'notAdverse'], vars: ['value', 'cutoff'] },
  // The CMR risk score's LVEF item: 3 points below 40 % (Marcos-Garcés 2022).
  { id: 'lvefCmrRiskScore', marker: 'lvef', kind: 'threshold', form: 'cutoff', input: 'lvef', comparison: '<', cutoff: 40, points: 3,
    source: 'marcosGarces', texts: ['threshold', 'adverse', 'notAdverse'], vars: ['value', 'cutoff', 'points'] },
  { id: 'laStrainAdverse', marker: 'laReservoirStrain', kind: 'threshold', form: 'cutoff', input: 'laReservoirStrain', comparison: '<=',
    cutoff: 22, hrPerUnit: 0.84, source: 'laStrain', texts: ['threshold', 'adverse', 'notAdverse'], vars: ['value', 'cutoff', 'hr'] },
  // MODELS.md 1d: the −14 % cut-off (HR 3.21) is from echocardiography; no verified CMR cut-off.
  { id: 'lvGlsNoCmrThreshold', marker: 'lvGls', kind: 'no-threshold', form: 'echo-only', input: 'lvGls', echoCutoff: -14, echoHr: 3.21,
    source: 'ersboll', texts: ['threshold', 'shown'], vars: ['value', 'echoCutoff', 'hr'] },
  { id: 'haemorrhageWeight', marker: 'haemorrhage', kind: 'threshold', form: 'segments', hrPerSegment: 1.17, source: 'haemorrhage',
    texts: ['threshold', 'conflict', 'absent', 'presentSegments', 'presentNoSegments'], vars: ['hr', 'present', 'segments'] },
  { id: 'nativeT1SiteRange', marker: 'nativeT1', kind: 'reference-range', form: 'site-range', input: 'nativeT1', source: 'site',
    texts: ['threshold', 'thresholdNone', 'outside', 'within', 'noRange'], vars: ['value', 'low', 'high'] },
  { id: 't2SiteRange', marker: 't2', kind: 'reference-range', form: 'site-range', input: 't2', source: 'site',
    texts: ['threshold', 'thresholdNone', 'outside', 'within', 'noRange'], vars: ['value', 'low', 'high'] },
] as const satisfies readonly MarkerRuleShape[];

/** The measured inputs a rule reads (the haemorrhage inputs are read by their own rule). */
type Measured = 'infarctSize' | 'mvo' | 'lvef' | 'laReservoirStrain' | 'lvGls' | 'nativeT1' | 't2';
interface Bound { comparison: Comparison; cutoff: number }

type MarkerRuleShape = {
  id: string;
  marker: CmrMarker;
  kind: CmrMarkerFinding['kind'];
  source: keyof typeof SOURCES;
  /** The texts of the rule in the card file, and the values they may show. */
  texts: readonly string[];
  vars: readonly string[];
} & (
  | ({ form: 'cutoff'; input: Measured; points?: number; hrPerUnit?: number } & Bound)
  | { form: 'weight'; input: Measured; per: number; hrDeath: number; hrHeartFailure: number }
  | { form: 'both'; infarctSize: Bound; lvef: Bound; eventsPercent: number }
  | { form: 'echo-only'; input: Measured; echoCutoff: number; echoHr: number }
  | { form: 'segments'; hrPerSegment: number }
  | { form: 'site-range'; input: 'nativeT1' | 't2' }
);

export type MarkerRule = (typeof MARKER_RULES)[number];
export type MarkerRuleId = MarkerRule['id'];

export interface CmrMarkerFinding {
  marker: CmrMarker;
  /** The rule of MARKER_RULES that gave the finding. */
  rule: MarkerRuleId;
  inputs: Input[];
  /** threshold: flagged by a published cut-off; continuous: a published weight per unit (flagged null);
   * no-threshold: value shown without a cut-off; reference-range: against the site range. */
  kind: 'threshold' | 'continuous' | 'combination' | 'no-threshold' | 'reference-range';
  /** true = adverse / outside range; false = not; null = no threshold applies or cannot be decided. */
  flagged: boolean | null;
  /** The rule's text that states the threshold, and the one that states the finding. */
  thresholdText: string;
  statementText: string;
  /** The values those texts show. */
  vars: Record<string, string | number>;
  citation: string;
  url?: string;
  evidence: Evidence | 'site-reference';
}

export interface CmrMarkerAssessment {
  model: ModelId;
  findings: CmrMarkerFinding[];
  /** markers not measured (never assumed normal) */
  missing: string[];
  inputs: Input[];
  metadata: ModelMetadata;
  notes: ModelNote[];
}

/** What an assessment may say besides its findings (worded in cards/cmr-ihd-macce.yaml `modelNotes`). */
export const CMR_MARKERS_NOTE_SPEC = {
  notUsable: ['label', 'value'],
  notYesNo: ['label', 'value'],
  invalidSiteRange: ['label', 'low', 'high'],
} as const satisfies NoteSpec;
const note = noteMaker(CMR_MARKERS_NOTE_SPEC);

/** Input names in words, for the notes. */
const LABELS: Record<keyof CmrMarkerInputs, string> = {
  infarctSize: 'infarct size', mvo: 'MVO', lvef: 'LVEF', laReservoirStrain: 'LA reservoir strain', lvGls: 'LV GLS',
  haemorrhage: 'intramyocardial haemorrhage', haemorrhageSegments: 'haemorrhage segments', nativeT1: 'native T1', t2: 'T2',
};
/** The measurements of the site reference ranges, as the notes name them. */
const RANGE_LABELS = { nativeT1: 'Native T1', t2: 'T2' } as const;

export function assessCmrMarkers(inputs: CmrMarkerInputs, ranges: SiteReferenceRanges = {}): CmrMarkerAssessment {
  const findings: CmrMarkerFinding[] = [];
  const notes: ModelNote[] = [];
  const add = (r: MarkerRule, f: Pick<CmrMarkerFinding, 'inputs' | 'flagged' | 'thresholdText' | 'statementText' | 'vars'>): void => {
    const s: Source = SOURCES[r.source];
    findings.push({
      marker: r.marker, rule: r.id, kind: r.kind, ...f,
      citation: s.citation, ...(s.url ? { url: s.url } : {}), evidence: s.evidence,
    });
  };

  const num = (key: keyof CmrMarkerInputs, ok: (v: number) => boolean): { v: number; input: Input<number> } | undefined => {
    const input = inputs[key];
    if (input === undefined) return undefined;
    if (typeof input.value === 'number' && Number.isFinite(input.value) && ok(input.value)) {
      return { v: input.value, input: input as Input<number> };
    }
    notes.push(note('notUsable', { label: LABELS[key], value: String(input.value) }));
    return undefined;
  };
  const percent = (v: number) => v >= 0 && v <= 100;

  const measured = {
    infarctSize: num('infarctSize', percent),
    mvo: num('mvo', percent),
    lvef: num('lvef', percent),
    laReservoirStrain: num('laReservoirStrain', (v) => v >= 0),
    lvGls: num('lvGls', () => true),
    nativeT1: num('nativeT1', (v) => v > 0),
    t2: num('t2', (v) => v > 0),
  };
  const hmSegments = num('haemorrhageSegments', (v) => Number.isInteger(v) && v >= 0 && v <= 17);
  const hmInput = inputs.haemorrhage;
  const hmFlag = typeof hmInput?.value === 'boolean' ? hmInput.value : undefined;
  if (hmInput !== undefined && hmFlag === undefined) notes.push(note('notYesNo', { label: 'haemorrhage', value: String(hmInput.value) }));

  for (const r of MARKER_RULES) {
    switch (r.form) {
      case 'segments': {
        if (hmFlag === undefined && !hmSegments) break;
        const bySegments = hmSegments ? hmSegments.v > 0 : undefined;
        const conflict = hmFlag !== undefined && bySegments !== undefined && hmFlag !== bySegments;
        const present = conflict ? null : (hmFlag ?? bySegments)!;
        add(r, {
          inputs: [...(hmFlag !== undefined && hmInput ? [hmInput] : []), ...(hmSegments ? [hmSegments.input] : [])],
          flagged: present,
          thresholdText: 'threshold',
          statementText: present === null ? 'conflict' : !present ? 'absent' : hmSegments ? 'presentSegments' : 'presentNoSegments',
          vars: { hr: hr(r.hrPerSegment), present: String(hmFlag), segments: hmSegments?.v ?? '' },
        });
        break;
      }
      case 'cutoff': {
        const m = measured[r.input];
        if (!m) break;
        const flagged = compare(m.v, r.comparison, r.cutoff);
        add(r, {
          inputs: [m.input], flagged, thresholdText: 'threshold', statementText: flagged ? 'adverse' : 'notAdverse',
          vars: { value: m.v, cutoff: r.cutoff, ...('points' in r ? { points: r.points } : {}), ...('hrPerUnit' in r ? { hr: hr(r.hrPerUnit) } : {}) },
        });
        break;
      }
      case 'weight': {
        const m = measured[r.input];
        if (!m) break;
        add(r, {
          inputs: [m.input], flagged: null, thresholdText: 'threshold', statementText: 'shown',
          vars: { value: m.v, per: r.per, hrDeath: hr(r.hrDeath), hrHeartFailure: hr(r.hrHeartFailure) },
        });
        break;
      }
      case 'both': {
        // Bonanad: both conditions needed; one known-false condition decides "not flagged" on its own.
        const is = measured.infarctSize;
        const ef = measured.lvef;
        if (!is && !ef) break;
        const bigInfarct = is ? compare(is.v, r.infarctSize.comparison, r.infarctSize.cutoff) : undefined;
        const lowEf = ef ? compare(ef.v, r.lvef.comparison, r.lvef.cutoff) : undefined;
        const flagged = bigInfarct === false || lowEf === false ? false : bigInfarct && lowEf ? true : null;
        add(r, {
          inputs: [is?.input, ef?.input].filter((i): i is Input<number> => i !== undefined),
          flagged,
          thresholdText: 'threshold',
          statementText: flagged === true ? 'adverse' : flagged === false ? 'notAdverse' : is ? 'noLvef' : 'noInfarctSize',
          vars: {
            infarctSize: is?.v ?? '', lvef: ef?.v ?? '', infarctCutoff: r.infarctSize.cutoff, lvefCutoff: r.lvef.cutoff, events: r.eventsPercent,
          },
        });
        break;
      }
      case 'echo-only': {
        const m = measured[r.input];
        if (!m) break;
        add(r, {
          inputs: [m.input], flagged: null, thresholdText: 'threshold', statementText: 'shown',
          // The echo cut-off with its minus sign (U+2212) as printed.
          vars: { value: m.v, echoCutoff: `\u2212${Math.abs(r.echoCutoff)}`, hr: hr(r.echoHr) },
        });
        break;
      }
      case 'site-range': {
        const m = measured[r.input];
        if (!m) break;
        const range = ranges[r.input];
        const valid = range !== undefined && Number.isFinite(range.low) && Number.isFinite(range.high) && range.low <= range.high;
        if (range !== undefined && !valid) notes.push(note('invalidSiteRange', { label: RANGE_LABELS[r.input], low: range.low, high: range.high }));
        const flagged = valid ? m.v < range.low || m.v > range.high : null;
        add(r, {
          inputs: [m.input],
          flagged,
          thresholdText: valid ? 'threshold' : 'thresholdNone',
          statementText: !valid ? 'noRange' : flagged ? 'outside' : 'within',
          vars: { value: m.v, low: valid ? range.low : '', high: valid ? range.high : '' },
        });
        break;
      }
    }
  }

  const missing = [
    measured.infarctSize ? undefined : 'infarctSize',
    measured.mvo ? undefined : 'mvo',
    measured.lvef ? undefined : 'lvef',
    measured.laReservoirStrain ? undefined : 'laReservoirStrain',
    measured.lvGls ? undefined : 'lvGls',
    hmFlag !== undefined || hmSegments ? undefined : 'haemorrhage',
    measured.nativeT1 ? undefined : 'nativeT1',
    measured.t2 ? undefined : 't2',
  ].filter((k): k is string => k !== undefined);

  return {
    model: metadata.id,
    findings,
    missing,
    inputs: Object.values(inputs).filter((i): i is Input => i !== undefined),
    metadata,
    notes,
  };
}
