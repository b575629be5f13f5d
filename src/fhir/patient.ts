// Facts derived from the Patient resource. Pure.

/**
 * Completed years from a FHIR `date` (YYYY, YYYY-MM or YYYY-MM-DD) to `at`; a partial date counts from
 * its first day. undefined for an unparseable date or one after `at`.
 */
export function ageInYears(birthDate: string, at: Date): number | undefined {
  if (typeof birthDate !== 'string') return undefined; // FHIR JSON from outside (fuzzing tests)
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(birthDate);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1)];
  let age = at.getUTCFullYear() - y;
  if (at.getUTCMonth() + 1 < mo || (at.getUTCMonth() + 1 === mo && at.getUTCDate() < d)) age -= 1;
  return age >= 0 ? age : undefined;
}
