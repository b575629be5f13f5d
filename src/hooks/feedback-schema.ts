// The CDS Hooks 2.0 feedback request body (https://cds-hooks.hl7.org/2.0/#feedback):
// `{ feedback: [ { card, outcome, acceptedSuggestions?, overrideReason?, outcomeTimestamp } ] }`.
// Validation is lenient where real clients differ and the data stays meaningful (no `display` on the
// reason Coding, as the HL7 Sandbox sends; `null` for absent optional fields, as Java/.NET
// serialisers send; unknown properties such as `extension` are dropped), and strict where a
// value would corrupt the record (a timestamp without a time zone is not one instant, so it
// cannot be part of the idempotency key).
//
// Every value this schema accepts, PostgreSQL and PGlite store (test/integration/store.test.ts runs
// each case on both): what they refuse is a 400 here, never a 500 from the INSERT. Both refuse
//   - a timestamptz in year 0000 (22008: the proleptic year 0 does not exist for PostgreSQL),
//   - a UTC offset beyond ±15:59 (22009 "time zone displacement out of range", e.g. -23:59),
//   - NUL in text (22021), and in jsonb NUL or a lone UTF-16 surrogate (22P05, 22P02);
// a lone surrogate in text is silently replaced by U+FFFD, so it is refused too (the stored reason
// would not be the one sent). Dates such as 02-30 and hours 24 or seconds 60, which zod refuses
// while PostgreSQL reads them, stay refused: they are not ISO 8601 instants of one meaning.
import { z } from 'zod';

/** Items per request: far above what a clinician produces, low enough to bound one insert. */
export const MAX_FEEDBACK_ITEMS = 100;
const MAX_ID = 128;
const MAX_SYSTEM = 1024;
const MAX_CODE = 256;
const MAX_DISPLAY = 1024;
const MAX_COMMENT = 2000;
const MAX_SUGGESTIONS = 50;

// With the `u` flag a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate.
const NUL_OR_LONE_SURROGATE = /\u0000|\p{Cs}/u;

const text = (field: string, max: number) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? `${field} is required` : `${field} must be a string`) })
    .trim()
    .min(1, { error: `${field} must not be empty` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .refine((s) => !NUL_OR_LONE_SURROGATE.test(s), { error: `${field} must be valid Unicode text without NUL characters` });


/** PostgreSQL's timestamptz reads UTC offsets up to ±15:59 (src/include/datatype/timestamp.h, MAX_TZDISP_HOUR). */
const MAX_OFFSET_HOURS = 15;
const TIMESTAMP_MESSAGE = 'outcomeTimestamp must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T09:30:00Z';

/** An ISO 8601 instant that both databases read as the same instant (see the header). */
const instant = z.iso
  .datetime({ offset: true, error: TIMESTAMP_MESSAGE })
  .refine((s) => !s.startsWith('0000'), { error: 'outcomeTimestamp must be in year 0001 or later' })
  .refine((s) => {
    const offset = /([+-])(\d{2}):?(\d{2})$/.exec(s);
    return !offset || Number(offset[2]) <= MAX_OFFSET_HOURS;
  }, { error: `outcomeTimestamp must have a UTC offset within ±${MAX_OFFSET_HOURS}:59` });

/** Absent and `null` both mean "not given"; the parsed value is then `undefined`. */
const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((v): z.output<T> | undefined => v ?? undefined);

// Card uuids and suggestion ids come back from our own responses; a conservative character set
// keeps hostile strings out of logs and reports without rejecting any uuid spelling.
const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const id = (field: string) =>
  text(field, MAX_ID).regex(ID_PATTERN, { error: `${field} may contain only letters, digits, '.', '_', ':' and '-'` });

export const CodingSchema = z.object(
  {
    system: optional(text('system', MAX_SYSTEM)),
    // The code is what reports group by: a reason without one says nothing.
    code: text('code', MAX_CODE),
    display: optional(text('display', MAX_DISPLAY)),
  },
  { error: 'must be a Coding object' },
);

export const OverrideReasonSchema = z.object(
  {
    reason: optional(CodingSchema),
    userComment: optional(text('userComment', MAX_COMMENT)),
  },
  { error: 'must be an object with reason and/or userComment' },
);

export const FeedbackItemSchema = z
  .object(
    {
      card: id('card'),
      outcome: z.enum(['accepted', 'overridden'], { error: "outcome must be 'accepted' or 'overridden'" }),
      acceptedSuggestions: optional(
        z
          .array(z.object({ id: id('id') }, { error: 'must be an object with an id' }), {
            error: 'acceptedSuggestions must be an array',
          })
          .max(MAX_SUGGESTIONS, { error: `acceptedSuggestions may hold at most ${MAX_SUGGESTIONS} entries` }),
      ),
      overrideReason: optional(OverrideReasonSchema),
      outcomeTimestamp: instant,
    },
    { error: 'each feedback item must be an object' },
  )
  .superRefine((item, ctx) => {
    // Contradictions point at a client bug; storing them would skew the override rates.
    // (The spec says acceptedSuggestions is "required for accepted outcomes"; it is not enforced:
    // a card without suggestions can still be acknowledged as accepted by some EHRs.)
    if (item.outcome === 'overridden' && item.acceptedSuggestions && item.acceptedSuggestions.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['acceptedSuggestions'], message: "acceptedSuggestions is only allowed when outcome is 'accepted'" });
    }
    if (item.outcome === 'accepted' && item.overrideReason) {
      ctx.addIssue({ code: 'custom', path: ['overrideReason'], message: "overrideReason is only allowed when outcome is 'overridden'" });
    }
  });

export const FeedbackRequestSchema = z.object(
  {
    feedback: z
      .array(FeedbackItemSchema, { error: 'feedback must be an array' })
      .min(1, { error: 'feedback must contain at least one item' })
      .max(MAX_FEEDBACK_ITEMS, { error: `feedback may contain at most ${MAX_FEEDBACK_ITEMS} items per request` }),
  },
  { error: 'the body must be a JSON object with a feedback array' },
);

export interface FeedbackClock {
  now: () => Date;
  /** JWT_CLOCK_SKEW_S: the skew tolerated between the client's clock and ours. */
  clockSkewS: number;
}

/**
 * The request schema as the route applies it: also refuses an outcomeTimestamp later than now plus
 * the clock skew. The latest outcome of a card is the one with the latest timestamp, so a timestamp
 * in 2099 would make that outcome the card's last word forever, whatever the clinician does next.
 */
export function feedbackRequestSchema(clock: FeedbackClock) {
  return FeedbackRequestSchema.superRefine((body, ctx) => {
    const latest = clock.now().getTime() + clock.clockSkewS * 1000;
    body.feedback.forEach((item, i) => {
      if (Date.parse(item.outcomeTimestamp) > latest) {
        ctx.addIssue({
          code: 'custom',
          path: ['feedback', i, 'outcomeTimestamp'],
          message: `outcomeTimestamp is in the future (more than ${clock.clockSkewS} s ahead of this server's clock)`,
        });
      }
    });
  });
}

export type Coding = z.output<typeof CodingSchema>;
export type FeedbackItem = z.output<typeof FeedbackItemSchema>;
export type FeedbackRequest = z.output<typeof FeedbackRequestSchema>;
