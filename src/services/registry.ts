// The registry of CDS services: discovery and routing are built from this list. Each service
// declares itself next to its code (services/<id>/index.ts).
import type { CdsService } from './types.ts';
import { cirrhosisSarcopenia } from './cirrhosis-sarcopenia/index.ts';
import { cmrCardiacMass } from './cmr-cardiac-mass/index.ts';
import { cmrIhdMacce } from './cmr-ihd-macce/index.ts';

/** Call after initTerminology(): prefetch templates are built from the loaded ValueSets. */
export function allServices(): CdsService[] {
  return [cirrhosisSarcopenia(), cmrIhdMacce(), cmrCardiacMass()];
}
