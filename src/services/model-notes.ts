// The models' notes in words. A model says what it did as a ModelNote (a key of its NoteSpec and the
// values it names, models/types.ts); the service's card file holds the sentence of each key
// (`modelNotes`), and the score step words the results once, so the cards and the detail view show
// the same text. The schema is built from the models' NoteSpecs: a note a model can make has a text,
// or the start fails naming the missing key.
import { z } from 'zod';
import type { ModelNote, ModelResult, NoteSpec } from '../models/types.ts';
import { fill, phrase, type Template } from './card-wording.ts';

/** A result as the cards and the detail view show it: its notes in words. */
export type Shown<R extends { notes?: unknown }> = Omit<R, 'notes'> & { notes?: string[] };
export type ShownResult = Shown<ModelResult>;

/** The texts of `modelNotes`, by note key. */
export type NoteWording = Readonly<Record<string, Template<string>>>;

/** The schema of a card file's `modelNotes`: one text for each note the given models can make. */
export function modelNotes(...specs: readonly NoteSpec[]): z.ZodType<NoteWording, unknown> {
  const vars = new Map<string, Set<string>>();
  for (const spec of specs) {
    for (const [key, names] of Object.entries(spec)) {
      const set = vars.get(key) ?? new Set<string>();
      for (const n of names) set.add(n);
      vars.set(key, set);
    }
  }
  return z.strictObject(Object.fromEntries([...vars].map(([key, names]) => [key, phrase(...names)])));
}

/** One note in words (`vars` replaces values the service words itself, e.g. a criterion). */
export function noteText(note: ModelNote, wording: NoteWording, vars: Readonly<Record<string, string | number>> = {}): string {
  const text = wording[note.key];
  if (text === undefined) throw new Error(`Card wording: modelNotes has no '${note.key}'`);
  return fill(text, { ...note.vars, ...vars });
}

/** The result with its notes in words (the models put `notes` last; it stays last). */
export function shown<R extends { notes?: readonly ModelNote[] }>(r: R, wording: NoteWording): Shown<R> {
  const { notes, ...rest } = r;
  return notes === undefined ? rest : { ...rest, notes: notes.map((n) => noteText(n, wording)) };
}
