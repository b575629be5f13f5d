// GET /cds-services: the discovery document (CDS Hooks 2.0 §"Discovery"), built from the registry.
import type { CdsService } from '../services/types.ts';
import type { CdsServiceDescription } from './types.ts';

export function discoveryDocument(services: readonly CdsService[]): { services: CdsServiceDescription[] } {
  return { services: services.map((s) => s.description) };
}
