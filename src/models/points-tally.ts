// The bookkeeping shared by the points models (GRACE, TIMI STEMI, CMR risk score, CMR Mass Score).
// MODELS.md "General rules": a missing input is never assumed normal, so each missing item widens the
// result into a range by the fewest and most points it could have added; a value that is present but
// unusable is said so in a note and counted as missing.
import { noteMaker, type Contribution, type Input, type ModelNote, type NoteSpec } from './types.ts';

/** Notes of a value present but unusable (the item is then missing). */
export const TALLY_NOTE_SPEC = {
  notUsable: ['label', 'value'],
  notYesNo: ['label', 'value'],
} as const satisfies NoteSpec;
const tallyNote = noteMaker(TALLY_NOTE_SPEC);

/** One scored item: its points and the band or rule that gave them. */
export interface Scored {
  points: number;
  band: string;
}

export class PointsTally<K extends string> {
  readonly contributions: Contribution[] = [];
  readonly missing: string[] = [];
  readonly notes: ModelNote[] = [];
  #known = 0;
  #missingMin = 0;
  #missingMax = 0;
  readonly #inputs: Partial<Record<K, Input>>;
  readonly #labels: Partial<Record<K, string>>;

  /** `labels` name the items in words for the notes (a clinician reads them; never the input keys). */
  constructor(inputs: Partial<Record<K, Input>>, labels: Partial<Record<K, string>> = {}) {
    this.#inputs = inputs;
    this.#labels = labels;
  }

  #label(key: K): string {
    return this.#labels[key] ?? key;
  }

  /** A finite number accepted by `ok` (default: ≥ 0); otherwise undefined, with a note if it was given. */
  number(key: K, ok: (v: number) => boolean = (v) => v >= 0): number | undefined {
    const input = this.#inputs[key];
    if (input === undefined) return undefined;
    if (typeof input.value === 'number' && Number.isFinite(input.value) && ok(input.value)) return input.value;
    this.notes.push(tallyNote('notUsable', { label: this.#label(key), value: String(input.value) }));
    return undefined;
  }

  /** A yes/no value; otherwise undefined, with a note if something else was given. */
  boolean(key: K): boolean | undefined {
    const input = this.#inputs[key];
    if (input === undefined) return undefined;
    if (typeof input.value === 'boolean') return input.value;
    this.notes.push(tallyNote('notYesNo', { label: this.#label(key), value: String(input.value) }));
    return undefined;
  }

  /**
   * Scores `item`, or records it as missing: it then names `missingKeys` (an "A or B" item names its
   * unknown parts) and widens the range by the fewest (`points.min`, default 0) and most
   * (`points.max`) points the item could have given.
   */
  add(item: string, scored: Scored | undefined, points: { min?: number; max: number }, missingKeys: readonly string[] = [item]): void {
    if (scored) {
      this.#known += scored.points;
      this.contributions.push({ input: item, points: scored.points, band: scored.band });
    } else {
      this.missing.push(...missingKeys);
      this.#missingMin += points.min ?? 0;
      this.#missingMax += points.max;
    }
  }

  /** Points of the items scored. */
  get known(): number {
    return this.#known;
  }

  /** The score whatever the missing items turn out to be. */
  get range(): { min: number; max: number } {
    return { min: this.#known + this.#missingMin, max: this.#known + this.#missingMax };
  }

  /** The inputs given, for the result's `inputs`. */
  echoed(): Input[] {
    return Object.values<Input | undefined>(this.#inputs).filter((i): i is Input => i !== undefined);
  }
}
