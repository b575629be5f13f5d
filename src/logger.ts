// Structured logs (pino). Rule (DESIGN.md, Security): never a JWT, an access token, a patient
// name or identifier. We log route patterns, status, timings and hookInstance only; the redact
// list is a second line of defence for fields that must never appear even by accident.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: [
        'authorization', '*.authorization', 'headers.authorization', 'token', '*.token',
        'access_token', '*.access_token', 'fhirAuthorization', '*.fhirAuthorization',
        'patientId', '*.patientId', 'name', '*.name', 'prefetch', '*.prefetch',
      ],
      censor: '[redacted]',
    },
  }, destination);
}
