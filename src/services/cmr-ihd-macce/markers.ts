// The single CMR markers in words. The model (models/cmr-markers.ts) names for each finding its rule of
// MARKER_RULES, which of the rule's texts states the threshold and the finding, and the values they
// show; the card file holds the texts (`markerRules.<rule>.<text>`), built into a schema from the same
// table, so every text a finding can name exists or the start fails.
import { z } from 'zod';
import { MARKER_RULES, type CmrMarkerAssessment, type CmrMarkerFinding } from '../../models/cmr-markers.ts';
import { fill, phrase, type Template } from '../card-wording.ts';
import { noteText, type NoteWording } from '../model-notes.ts';

export type MarkerRuleWording = Readonly<Record<string, Readonly<Record<string, Template<string>>>>>;

/** The schema of `markerRules`: for each rule of MARKER_RULES, its texts with the values they may show. */
export function markerRules(): z.ZodType<MarkerRuleWording, unknown> {
  return z.strictObject(Object.fromEntries(MARKER_RULES.map((r) => [
    r.id,
    z.strictObject(Object.fromEntries(r.texts.map((t) => [t, phrase(...r.vars)]))),
  ])));
}

export interface WordedFinding extends Omit<CmrMarkerFinding, 'thresholdText' | 'statementText' | 'vars'> {
  threshold: string;
  statement: string;
}

export interface WordedMarkers extends Omit<CmrMarkerAssessment, 'findings' | 'notes'> {
  findings: WordedFinding[];
  notes: string[];
}

export function wordMarkers(m: CmrMarkerAssessment, w: { markerRules: MarkerRuleWording; modelNotes: NoteWording }): WordedMarkers {
  const text = (f: CmrMarkerFinding, key: string): string => {
    const t = w.markerRules[f.rule]?.[key];
    if (t === undefined) throw new Error(`cards/cmr-ihd-macce.yaml: markerRules.${f.rule} has no '${key}'`);
    return fill(t, f.vars);
  };
  return {
    ...m,
    findings: m.findings.map((f) => {
      const { thresholdText: _t, statementText: _s, vars: _v, ...rest } = f;
      return { ...rest, threshold: text(f, f.thresholdText), statement: text(f, f.statementText) };
    }),
    notes: m.notes.map((n) => noteText(n, w.modelNotes)),
  };
}
