// Canonical URLs of this project's conformance resources (profiles/). example.org is reserved
// (RFC 2606), so these never collide with a real terminology.
export const CANONICAL_BASE = 'https://fhir.imaging-cds.example.org';
/** Local codes with no standard equivalent (infarct size, MVO, L3 SMI, mass features, ...). */
export const PROJECT_CODESYSTEM = `${CANONICAL_BASE}/CodeSystem/imaging-cds`;
/** Identifiers of the scoring models (RiskAssessment.method). */
export const MODEL_CODESYSTEM = `${CANONICAL_BASE}/CodeSystem/cds-models`;
/** Reasons a clinician may give for overriding a card (CDS Hooks overrideReasons). */
export const OVERRIDE_REASON_CODESYSTEM = `${CANONICAL_BASE}/CodeSystem/override-reasons`;
/** Topics for card.source.topic. */
export const CARD_TOPIC_CODESYSTEM = `${CANONICAL_BASE}/CodeSystem/card-topics`;

export const valueSetUrl = (name: string): string => `${CANONICAL_BASE}/ValueSet/${name}`;
export const structureDefinitionUrl = (name: string): string => `${CANONICAL_BASE}/StructureDefinition/${name}`;

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const UCUM = 'http://unitsofmeasure.org';
