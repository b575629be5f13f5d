// The registry of CDS services: discovery, routing, the detail view and the start-up checks all iterate
// this list (services/README.md: adding a service). Each service declares itself in its folder.
import type { ServiceDefinition } from './define.ts';
import { cirrhosisSarcopenia } from './cirrhosis-sarcopenia/index.ts';
import { cmrCardiacMass } from './cmr-cardiac-mass/index.ts';
import { cmrIhdMacce } from './cmr-ihd-macce/index.ts';

export const SERVICES: readonly ServiceDefinition[] = [cirrhosisSarcopenia, cmrIhdMacce, cmrCardiacMass];
