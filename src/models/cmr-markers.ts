// Single CMR markers with published prognostic weight after myocardial infarction (MODELS.md 1d).
// Each finding carries its own threshold, weight and source; nothing is combined into a score.
// Rules kept from MODELS.md: the echo GLS cut-off (Ersbøll, −14 %) is NOT applied to CMR GLS, and
// native T1 / T2 are flagged only against a site reference range, never an invented cut-off.
import { metadata as cmrRiskScoreMetadata } from './cmr-risk-score.ts';
import type { Evidence, Input, ModelMetadata } from './types.ts';

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

export type CmrMarker =
  | 'infarctSize' | 'infarctSizeWithLvef' | 'mvo' | 'lvef' | 'laReservoirStrain' | 'lvGls' | 'haemorrhage' | 'nativeT1' | 't2';

export interface CmrMarkerFinding {
  marker: CmrMarker;
  inputs: Input[];
  /** threshold: flagged by a published cut-off; continuous: a published weight per unit (flagged null);
   * no-threshold: value shown without a cut-off; reference-range: against the site range. */
  kind: 'threshold' | 'continuous' | 'combination' | 'no-threshold' | 'reference-range';
  /** true = adverse / outside range; false = not; null = no threshold applies or cannot be decided. */
  flagged: boolean | null;
  threshold: string;
  statement: string;
  citation: string;
  url?: string;
  evidence: Evidence | 'site-reference';
}

export interface CmrMarkerAssessment {
  model: string;
  findings: CmrMarkerFinding[];
  /** markers not measured (never assumed normal) */
  missing: string[];
  inputs: Input[];
  metadata: ModelMetadata;
  notes: string[];
}

type Finding = Omit<CmrMarkerFinding, 'citation' | 'url' | 'evidence'>;
const withSource = (f: Finding, s: Source): CmrMarkerFinding => ({
  ...f,
  citation: s.citation,
  ...(s.url ? { url: s.url } : {}),
  evidence: s.evidence,
});

/** Input names in words, for the notes. */
const LABELS: Record<keyof CmrMarkerInputs, string> = {
  infarctSize: 'infarct size', mvo: 'MVO', lvef: 'LVEF', laReservoirStrain: 'LA reservoir strain', lvGls: 'LV GLS',
  haemorrhage: 'intramyocardial haemorrhage', haemorrhageSegments: 'haemorrhage segments', nativeT1: 'native T1', t2: 'T2',
};

export function assessCmrMarkers(inputs: CmrMarkerInputs, ranges: SiteReferenceRanges = {}): CmrMarkerAssessment {
  const findings: CmrMarkerFinding[] = [];
  const notes: string[] = [];

  const num = (key: keyof CmrMarkerInputs, ok: (v: number) => boolean): { v: number; input: Input<number> } | undefined => {
    const input = inputs[key];
    if (input === undefined) return undefined;
    if (typeof input.value === 'number' && Number.isFinite(input.value) && ok(input.value)) {
      return { v: input.value, input: input as Input<number> };
    }
    notes.push(`${LABELS[key]}: value ${String(input.value)} is not usable; treated as missing.`);
    return undefined;
  };
  const percent = (v: number) => v >= 0 && v <= 100;

  const is = num('infarctSize', percent);
  const mvo = num('mvo', percent);
  const ef = num('lvef', percent);
  const la = num('laReservoirStrain', (v) => v >= 0);
  const gls = num('lvGls', () => true);
  const hmSegments = num('haemorrhageSegments', (v) => Number.isInteger(v) && v >= 0 && v <= 17);
  const t1 = num('nativeT1', (v) => v > 0);
  const t2 = num('t2', (v) => v > 0);
  const hmInput = inputs.haemorrhage;
  const hmFlag = typeof hmInput?.value === 'boolean' ? hmInput.value : undefined;
  if (hmInput !== undefined && hmFlag === undefined) notes.push(`haemorrhage: value ${String(hmInput.value)} is not yes/no; treated as missing.`);

  if (is) {
    const flagged = is.v >= 19;
    findings.push(
      withSource(
        {
          marker: 'infarctSize',
          inputs: [is.input],
          kind: 'threshold',
          flagged,
          threshold: 'infarct size ≥ 19 % LV',
          statement: flagged
            ? `Infarct size ${is.v} % LV: at or above the 19 % adverse threshold.`
            : `Infarct size ${is.v} % LV: below the 19 % adverse threshold.`,
        },
        SOURCES.bulluck,
      ),
      withSource(
        {
          marker: 'infarctSize',
          inputs: [is.input],
          kind: 'continuous',
          flagged: null,
          threshold: 'none (weight per +5 % absolute infarct size)',
          statement: `Infarct size ${is.v} % LV. Each +5 % absolute: all-cause death HR 1.19, heart-failure hospitalisation HR 1.20.`,
        },
        SOURCES.stone,
      ),
    );
  }

  // Bonanad: both conditions needed; one known-false condition decides "not flagged" on its own.
  if (is || ef) {
    const bigInfarct = is ? is.v > 30 : undefined;
    const lowEf = ef ? ef.v < 40 : undefined;
    const flagged = bigInfarct === false || lowEf === false ? false : bigInfarct && lowEf ? true : null;
    const statement =
      flagged === true
        ? `Infarct size ${is!.v} % LV > 30 % with LVEF ${ef!.v} % < 40 %: 30 % events.`
        : flagged === false
          ? 'Not infarct size > 30 % with LVEF < 40 % (the combination with 30 % events).'
          : `Infarct size > 30 % with LVEF < 40 % (30 % events) cannot be assessed: ${is ? 'LVEF' : 'infarct size'} missing.`;
    findings.push(
      withSource(
        {
          marker: 'infarctSizeWithLvef',
          inputs: [is?.input, ef?.input].filter((i): i is Input<number> => i !== undefined),
          kind: 'combination',
          flagged,
          threshold: 'infarct size > 30 % LV and LVEF < 40 %',
          statement,
        },
        SOURCES.bonanad,
      ),
    );
  }

  if (mvo) {
    const flagged = mvo.v > 1.4;
    findings.push(
      withSource(
        {
          marker: 'mvo',
          inputs: [mvo.input],
          kind: 'threshold',
          flagged,
          threshold: 'MVO > 1.4 % LV',
          statement: flagged
            ? `MVO ${mvo.v} % LV: above the 1.4 % adverse threshold.`
            : `MVO ${mvo.v} % LV: not above the 1.4 % adverse threshold.`,
        },
        SOURCES.bulluck,
      ),
      withSource(
        {
          marker: 'mvo',
          inputs: [mvo.input],
          kind: 'continuous',
          flagged: null,
          threshold: 'none (weight per +1 % LV)',
          statement: `MVO ${mvo.v} % LV. Each +1 %: death HR 1.14, heart-failure hospitalisation HR 1.08.`,
        },
        SOURCES.deWaha,
      ),
    );
  }

  if (ef) {
    const le47 = ef.v <= 47;
    const lt40 = ef.v < 40;
    findings.push(
      withSource(
        {
          marker: 'lvef',
          inputs: [ef.input],
          kind: 'threshold',
          flagged: le47,
          threshold: 'LVEF ≤ 47 %',
          statement: le47 ? `LVEF ${ef.v} %: at or below 47 % (adverse).` : `LVEF ${ef.v} %: above 47 %.`,
        },
        SOURCES.bulluck,
      ),
      withSource(
        {
          marker: 'lvef',
          inputs: [ef.input],
          kind: 'threshold',
          flagged: lt40,
          threshold: 'LVEF < 40 %',
          statement: lt40
            ? `LVEF ${ef.v} %: below 40 % (3 points in the CMR risk score).`
            : `LVEF ${ef.v} %: not below 40 %.`,
        },
        SOURCES.marcosGarces,
      ),
    );
  }

  if (la) {
    const flagged = la.v <= 22;
    findings.push(
      withSource(
        {
          marker: 'laReservoirStrain',
          inputs: [la.input],
          kind: 'threshold',
          flagged,
          threshold: 'LA reservoir strain ≤ 22 %',
          statement: `LA reservoir strain ${la.v} %: ${flagged ? 'at or below' : 'above'} 22 %${flagged ? ' (adverse)' : ''}. HR 0.84 per unit (%) higher strain.`,
        },
        SOURCES.laStrain,
      ),
    );
  }

  if (gls) {
    // MODELS.md 1d: the −14 % cut-off (HR 3.21) is from echocardiography; no verified CMR cut-off.
    findings.push(
      withSource(
        {
          marker: 'lvGls',
          inputs: [gls.input],
          kind: 'no-threshold',
          flagged: null,
          threshold: 'none verified for CMR',
          statement: `LV GLS ${gls.v} % by CMR. No verified CMR cut-off; the −14 % threshold (HR 3.21) is from echocardiography and is not applied.`,
        },
        SOURCES.ersboll,
      ),
    );
  }

  if (hmFlag !== undefined || hmSegments) {
    const bySegments = hmSegments ? hmSegments.v > 0 : undefined;
    const conflict = hmFlag !== undefined && bySegments !== undefined && hmFlag !== bySegments;
    const present = conflict ? null : (hmFlag ?? bySegments)!;
    const statement =
      present === null
        ? `Intramyocardial haemorrhage inputs disagree (present: ${String(hmFlag)}, segments: ${hmSegments!.v}).`
        : !present
          ? 'No intramyocardial haemorrhage.'
          : hmSegments
            ? `Intramyocardial haemorrhage in ${hmSegments.v} segment(s): HR 1.17 per affected segment.`
            : 'Intramyocardial haemorrhage present (number of segments not given): HR 1.17 per affected segment.';
    findings.push(
      withSource(
        {
          marker: 'haemorrhage',
          inputs: [...(hmFlag !== undefined && hmInput ? [hmInput] : []), ...(hmSegments ? [hmSegments.input] : [])],
          kind: 'threshold',
          flagged: present,
          threshold: 'any intramyocardial haemorrhage (HR 1.17 per affected segment)',
          statement,
        },
        SOURCES.haemorrhage,
      ),
    );
  }

  const mapping = (marker: 'nativeT1' | 't2', label: string, m: { v: number; input: Input<number> } | undefined): void => {
    if (!m) return;
    const range = ranges[marker];
    const valid = range !== undefined && Number.isFinite(range.low) && Number.isFinite(range.high) && range.low <= range.high;
    if (range !== undefined && !valid) notes.push(`${label}: site reference range ${range.low}–${range.high} ms is invalid; ignored.`);
    const flagged = valid ? m.v < range.low || m.v > range.high : null;
    const statement = !valid
      ? `${label} ${m.v} ms. No published universal cut-off and no site reference range configured: not flagged.`
      : flagged
        ? `${label} ${m.v} ms: outside the site reference range ${range.low}–${range.high} ms.`
        : `${label} ${m.v} ms: within the site reference range ${range.low}–${range.high} ms.`;
    findings.push(
      withSource(
        {
          marker,
          inputs: [m.input],
          kind: 'reference-range',
          flagged,
          threshold: valid ? `site reference range ${range.low}–${range.high} ms` : 'none (no site reference range)',
          statement,
        },
        SOURCES.site,
      ),
    );
  };
  mapping('nativeT1', 'Native T1', t1);
  mapping('t2', 'T2', t2);

  const missing = [
    is ? undefined : 'infarctSize',
    mvo ? undefined : 'mvo',
    ef ? undefined : 'lvef',
    la ? undefined : 'laReservoirStrain',
    gls ? undefined : 'lvGls',
    hmFlag !== undefined || hmSegments ? undefined : 'haemorrhage',
    t1 ? undefined : 'nativeT1',
    t2 ? undefined : 't2',
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
