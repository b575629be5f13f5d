// Child-Pugh score (MODELS.md 3c, [S]): Pugh RNH et al., Br J Surg 1973;60:646–9, with the INR bands
// and the albumin 2.8 g/dL convention of the MSD Manual and Harrison's. Every band is from MODELS.md 3c;
// the DOI of Pugh 1973 (not in MODELS.md) was checked against the paper's record.
import { noteMaker, type Contribution, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';
import { declined, denoise, numeric, present } from './cirrhosis-common.ts';

export const metadata: ModelMetadata = {
  id: 'child-pugh',
  version: '1.0.0',
  title: 'Child-Pugh score',
  citation: 'Pugh RNH et al., Br J Surg 1973;60:646–9 (INR and albumin bands as in the MSD Manual and Harrison\'s)',
  url: 'https://doi.org/10.1002/bjs.1800600817',
  evidence: 'secondary',
  population: 'Patients with cirrhosis',
  notes: [
    'INR bands (< 1.7 / 1.7–2.3 / > 2.3) replace Pugh\'s prothrombin-time bands, by common convention (MSD Manual, Harrison\'s).',
    'Albumin bands use 2.8 g/dL (> 3.5 / 2.8–3.5 / < 2.8); some tables use 3.0 g/dL instead.',
    'Ascites and encephalopathy absent from the record are missing, not "none": a missing input counts 1–3 points and the score is given as a range.',
    'Ascites or encephalopathy recorded without severity or grade counts 2–3 points.',
    'In primary biliary cholangitis and primary sclerosing cholangitis the bilirubin bands are 1–4 / 4–10 / > 10 mg/dL (Pugh\'s modification as quoted by MSD and EASL; MODELS.md 3c).',
  ],
};

/** What a Child-Pugh result may say (worded in cards/cirrhosis-sarcopenia.yaml `modelNotes`). */
export const CHILD_PUGH_NOTE_SPEC = {
  unrecognisedValue: ['name', 'value'],
  cholestaticBands: [],
  childPughRange: ['min', 'max', 'tier', 'missing', 'ungraded'],
} as const satisfies NoteSpec;
const note = noteMaker(CHILD_PUGH_NOTE_SPEC);

export type Ascites = 'none' | 'slight' | 'moderate-severe' | 'present-severity-unknown';
export type Encephalopathy = 'none' | 'grade-1-2' | 'grade-3-4' | 'present-grade-unknown';

export interface ChildPughInputs {
  bilirubin?: Input<number>; // mg/dL
  albumin?: Input<number>; // g/dL
  inr?: Input<number>;
  /** 'none' | 'slight' | 'moderate-severe' | 'present-severity-unknown'; absent = not in the record. */
  ascites?: Input<boolean | string>;
  /** 'none' | 'grade-1-2' | 'grade-3-4' | 'present-grade-unknown'; absent = not in the record. */
  encephalopathy?: Input<boolean | string>;
  /**
   * The condition stating primary biliary cholangitis or primary sclerosing cholangitis, when recorded:
   * the cholestatic bilirubin bands apply. Absent = the standard bands (no PBC/PSC in the record).
   */
  cholestaticDisease?: Input<string>;
}

export type Points = 1 | 2 | 3;
export type ChildPughClass = 'A' | 'B' | 'C';

// Bilirubin mg/dL: < 2 / 2–3 / > 3 (MODELS.md 3c).
export function bilirubinPoints(mgdl: number): Points {
  const x = denoise(mgdl);
  return x < 2 ? 1 : x <= 3 ? 2 : 3;
}

// Bilirubin mg/dL in PBC and PSC: 1–4 / 4–10 / > 10 (MODELS.md 3c [S], Pugh's modification as quoted by
// MSD and EASL); below 1 (the lower end of the first band) scores as the first band.
export function cholestaticBilirubinPoints(mgdl: number): Points {
  const x = denoise(mgdl);
  return x < 4 ? 1 : x <= 10 ? 2 : 3;
}

// Albumin g/dL: > 3.5 / 2.8–3.5 / < 2.8 (MODELS.md 3c; 2.8 convention).
export function albuminPoints(gdl: number): Points {
  const x = denoise(gdl);
  return x > 3.5 ? 1 : x >= 2.8 ? 2 : 3;
}

// INR: < 1.7 / 1.7–2.3 / > 2.3 (MODELS.md 3c).
export function inrPoints(inr: number): Points {
  const x = denoise(inr);
  return x < 1.7 ? 1 : x <= 2.3 ? 2 : 3;
}

// Class A 5–6, B 7–9, C 10–15 (MODELS.md 3c).
export function childPughClass(points: number): ChildPughClass {
  return points <= 6 ? 'A' : points <= 9 ? 'B' : 'C';
}

const LAB_BANDS: Record<'bilirubin' | 'cholestaticBilirubin' | 'albumin' | 'inr', Record<Points, string>> = {
  bilirubin: { 1: '< 2 mg/dL', 2: '2–3 mg/dL', 3: '> 3 mg/dL' },
  cholestaticBilirubin: { 1: '< 4 mg/dL (PBC/PSC bands)', 2: '4–10 mg/dL (PBC/PSC bands)', 3: '> 10 mg/dL (PBC/PSC bands)' },
  albumin: { 1: '> 3.5 g/dL', 2: '2.8–3.5 g/dL', 3: '< 2.8 g/dL' },
  inr: { 1: '< 1.7', 2: '1.7–2.3', 3: '> 2.3' },
};

/** Points (or a 2–3 range when severity/grade is unknown) for each clinical finding code. */
const ASCITES: Record<Ascites, { min: Points; max: Points; band: string }> = {
  'none': { min: 1, max: 1, band: 'none' },
  'slight': { min: 2, max: 2, band: 'slight' },
  'moderate-severe': { min: 3, max: 3, band: 'moderate–severe' },
  'present-severity-unknown': { min: 2, max: 3, band: 'present, severity not recorded' },
};
const ENCEPHALOPATHY: Record<Encephalopathy, { min: Points; max: Points; band: string }> = {
  'none': { min: 1, max: 1, band: 'none' },
  'grade-1-2': { min: 2, max: 2, band: 'grade 1–2' },
  'grade-3-4': { min: 3, max: 3, band: 'grade 3–4' },
  'present-grade-unknown': { min: 2, max: 3, band: 'present, grade not recorded' },
};

interface Scored { min: Points; max: Points; contribution: Contribution }

function scoreLab(name: 'bilirubin' | 'albumin' | 'inr', value: number | undefined, points: (x: number) => Points, bands: Record<Points, string> = LAB_BANDS[name]): Scored | undefined {
  if (value === undefined) return undefined;
  const p = points(value);
  return { min: p, max: p, contribution: { input: name, points: p, band: bands[p] } };
}

function scoreFinding<K extends string>(
  name: string, input: Input<boolean | string> | undefined,
  table: Record<K, { min: Points; max: Points; band: string }>, notes: ModelNote[],
): Scored | undefined {
  if (input === undefined) return undefined;
  const code = input.value;
  if (typeof code !== 'string' || !Object.hasOwn(table, code)) {
    notes.push(note('unrecognisedValue', { name, value: JSON.stringify(code) }));
    return undefined;
  }
  const row = table[code as K];
  const band = row.min === row.max ? row.band : `${row.band}: ${row.min}–${row.max} points`;
  return { min: row.min, max: row.max, contribution: { input: name, points: row.min, band } };
}

export function computeChildPugh(inputs: ChildPughInputs): ModelResult {
  const used = present(inputs.bilirubin, inputs.albumin, inputs.inr, inputs.ascites, inputs.encephalopathy, inputs.cholestaticDisease);
  const notes: ModelNote[] = [];
  const cholestatic = inputs.cholestaticDisease !== undefined;
  if (cholestatic) notes.push(note('cholestaticBands'));
  const parts: Array<[string, Scored | undefined]> = [
    ['bilirubin', cholestatic
      ? scoreLab('bilirubin', numeric(inputs.bilirubin), cholestaticBilirubinPoints, LAB_BANDS.cholestaticBilirubin)
      : scoreLab('bilirubin', numeric(inputs.bilirubin), bilirubinPoints)],
    ['albumin', scoreLab('albumin', numeric(inputs.albumin), albuminPoints)],
    ['inr', scoreLab('inr', numeric(inputs.inr), inrPoints)],
    ['ascites', scoreFinding('ascites', inputs.ascites, ASCITES, notes)],
    ['encephalopathy', scoreFinding('encephalopathy', inputs.encephalopathy, ENCEPHALOPATHY, notes)],
  ];
  const missing = parts.filter(([, s]) => s === undefined).map(([name]) => name);
  if (missing.length === parts.length) return declined(metadata, 'points', missing, used, notes);

  let min = 0;
  let max = 0;
  const contributions: Contribution[] = parts.map(([name, s]) => {
    // A missing input can score anything from 1 to 3: it widens the range, it is never assumed 1.
    min += s?.min ?? 1;
    max += s?.max ?? 3;
    return s?.contribution ?? { input: name, band: 'not recorded: 1–3 points' };
  });
  const low = childPughClass(min);
  const high = childPughClass(max);
  const tier = low === high ? low : `${low}–${high}`;
  const ungraded = parts.filter(([, s]) => s !== undefined && s.max > s.min).length;
  if (max > min) notes.push(note('childPughRange', { min, max, tier, missing: missing.length, ungraded }));

  return {
    model: metadata.id,
    value: min,
    unit: 'points',
    display: String(min),
    tier,
    ...(max > min ? { range: { min, max } } : {}),
    contributions,
    missing,
    inputs: used,
    metadata,
    ...(notes.length > 0 ? { notes } : {}),
  };
}
