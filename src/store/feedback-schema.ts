// The CDS Hooks 2.0 feedback request body (https://cds-hooks.hl7.org/2.0/#feedback):
// `{ feedback: [ { card, outcome, acceptedSuggestions?, overrideReason?, outcomeTimestamp } ] }`.
// Validation is lenient where real clients differ and the data stays meaningful (no `display` on the
// reason Coding, as the HL7 Sandbox sends; `null` for absent optional fields, as Java/.NET
// serialisers send; unknown properties such as `extension` are dropped), and strict where a
// value would corrupt the record (a timestamp without a time zone is not one instant, so it
// cannot be part of the idempotency key).
import { z } from 'zod';

/** Items per request: far above what a clinician produces, low enough to bound one insert. */
export const MAX_FEEDBACK_ITEMS = 100;
const MAX_ID = 128;
const MAX_SYSTEM = 1024;
const MAX_CODE = 256;
const MAX_DISPLAY = 1024;
const MAX_COMMENT = 2000;
const MAX_SUGGESTIONS = 50;

const text = (field: string, max: number) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? `${field} is required` : `${field} must be a string`) })
    .trim()
    .min(1, { error: `${field} must not be empty` })
    .max(max, { error: `${field} must be at most ${max} characters` });

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
      outcomeTimestamp: z.iso.datetime({
        offset: true,
        error: 'outcomeTimestamp must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T09:30:00Z',
      }),
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

export type Coding = z.output<typeof CodingSchema>;
export type FeedbackItem = z.output<typeof FeedbackItemSchema>;
export type FeedbackRequest = z.output<typeof FeedbackRequestSchema>;
