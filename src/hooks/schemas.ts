// Request body schemas (CDS Hooks 2.0 "HTTP Request"). Only the envelope is validated here:
// prefetch resources are FHIR and are read defensively by the fhir/ extractors.
import { z } from 'zod';

const id = z.string().min(1).max(256);

export const FhirAuthorizationSchema = z.object({
  access_token: z.string().min(1).max(8192),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().nonnegative(),
  scope: z.string().max(4096),
  subject: z.string().max(1024),
  patient: z.string().max(256).optional(),
});

export const CdsRequestSchema = z
  .object({
    hook: z.string().min(1).max(128),
    hookInstance: z.string().min(1).max(128),
    fhirServer: z.url().max(2048).optional(),
    fhirAuthorization: FhirAuthorizationSchema.optional(),
    context: z.looseObject({ userId: id, patientId: id, encounterId: id.optional() }),
    prefetch: z.record(z.string().max(128), z.unknown()).optional(),
  })
  // CDS Hooks 2.0: "If fhirAuthorization is present, fhirServer SHALL also be present".
  .refine((r) => r.fhirAuthorization === undefined || r.fhirServer !== undefined, {
    message: 'fhirServer is required when fhirAuthorization is given',
    path: ['fhirServer'],
  });

/** A readable, bounded summary of schema problems for the 400 response (no values echoed). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}
