// ALBI score and grade — Johnson PJ et al., J Clin Oncol 2015;33:550–8, doi:10.1200/JCO.2014.57.9151.
// Formula and grade cut-offs from MODELS.md 3d ([S]); the DOI was checked against the PubMed record.
import { noteMaker, type Input, type ModelMetadata, type ModelResult, type NoteSpec } from './types.ts';
import { declined, fmt, numeric, present } from './cirrhosis-common.ts';

export const metadata: ModelMetadata = {
  id: 'albi',
  version: '1.0.0',
  title: 'ALBI (albumin-bilirubin) grade',
  citation: 'Johnson PJ et al., J Clin Oncol 2015;33:550–8',
  url: 'https://doi.org/10.1200/JCO.2014.57.9151',
  evidence: 'secondary',
  population: 'Patients with hepatocellular carcinoma (derivation); also used in chronic liver disease',
  notes: [
    'ALBI = 0.66 × log10(bilirubin µmol/L) − 0.085 × albumin (g/L); grade 1 ≤ −2.60, grade 2 > −2.60 to ≤ −1.39, grade 3 > −1.39.',
    'Inputs arrive in mg/dL and g/dL and are converted here: bilirubin × 17.1 = µmol/L, albumin × 10 = g/L.',
    'The grade is taken from the unrounded score; the display has two decimals.',
  ],
};

// Unit factors (MODELS.md general rules: bilirubin µmol/L ÷ 17.1 = mg/dL; albumin g/L ÷ 10 = g/dL).
export const BILIRUBIN_UMOL_PER_MGDL = 17.1;
export const ALBUMIN_GL_PER_GDL = 10;
// Coefficients and grade cut-offs (MODELS.md 3d).
const BILI = 0.66;
const ALB = -0.085;
const GRADE_1_MAX = -2.6;
const GRADE_2_MAX = -1.39;

/** ALBI linear predictor from SI units (bilirubin µmol/L, albumin g/L). */
export function albiScore(bilirubinUmolL: number, albuminGL: number): number {
  return BILI * Math.log10(bilirubinUmolL) + ALB * albuminGL;
}

/** Grade 1 ≤ −2.60; 2 > −2.60 to ≤ −1.39; 3 > −1.39. */
export function albiGrade(score: number): 1 | 2 | 3 {
  return score <= GRADE_1_MAX ? 1 : score <= GRADE_2_MAX ? 2 : 3;
}

/** What an ALBI result may say (worded in cards/cirrhosis-sarcopenia.yaml `modelNotes`). */
export const ALBI_NOTE_SPEC = {
  bilirubinNotPositive: ['bilirubin'],
  converted: ['biliMgdl', 'biliUmol', 'albGdl', 'albGl'],
} as const satisfies NoteSpec;
const note = noteMaker(ALBI_NOTE_SPEC);

export interface AlbiInputs {
  bilirubin?: Input<number>; // mg/dL
  albumin?: Input<number>; // g/dL
}

export function computeAlbi(inputs: AlbiInputs): ModelResult {
  const used = present(inputs.bilirubin, inputs.albumin);
  const biliMgdl = numeric(inputs.bilirubin);
  const albGdl = numeric(inputs.albumin);
  const missing = [...(biliMgdl === undefined ? ['bilirubin'] : []), ...(albGdl === undefined ? ['albumin'] : [])];
  if (biliMgdl === undefined || albGdl === undefined) return declined(metadata, '1', missing, used);
  if (biliMgdl <= 0) {
    return declined(metadata, '1', [], used, [note('bilirubinNotPositive', { bilirubin: fmt(biliMgdl) })]);
  }

  const bili = biliMgdl * BILIRUBIN_UMOL_PER_MGDL;
  const alb = albGdl * ALBUMIN_GL_PER_GDL;
  const biliTerm = BILI * Math.log10(bili);
  const albTerm = ALB * alb;
  const value = biliTerm + albTerm;
  return {
    model: metadata.id,
    value,
    unit: '1',
    display: value.toFixed(2),
    tier: `grade ${albiGrade(value)}`,
    contributions: [
      { input: 'bilirubin', term: biliTerm, band: `${fmt(bili)} µmol/L` },
      { input: 'albumin', term: albTerm, band: `${fmt(alb)} g/L` },
    ],
    missing,
    inputs: used,
    metadata,
    notes: [note('converted', { biliMgdl: fmt(biliMgdl), biliUmol: fmt(bili), albGdl: fmt(albGdl), albGl: fmt(alb) })],
  };
}
