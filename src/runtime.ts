// Everything an evaluation needs that is built once, at start-up: the configuration, the clock, the
// terminology (profiles/ plus the site's), the UCUM converter and its cache, the CDS services with
// their checked wording and built prefetch templates, and the imaging layer's runtime (DESIGN.md
// "Dependencies are passed in"). The server builds one for the main thread (server.ts); each hook
// worker thread builds its own from the same config (hooks/hook-worker.ts). A broken profile,
// wording file or missing CodeSystem concept fails here, naming what is wrong, not on a request.
import type { AppConfig } from './config.ts';
import { DEFAULT_PROFILES_DIR, loadProjectTerminology, type Terminology } from './fhir/terminology.ts';
import { createUnitConverter, type UnitConverter } from './fhir/units.ts';
import { createImagingRuntime, type ImagingLogger, type ImagingRuntime } from './imaging/imaging-runtime.ts';
import { wordingCodes, WordingError } from './services/card-wording.ts';
import { checkServices, ServiceCheckError } from './services/checks.ts';
import type { ServiceDefinition } from './services/define.ts';
import { SERVICES } from './services/registry.ts';
import type { CdsService, ServiceRuntime } from './services/types.ts';

export interface Runtime extends ServiceRuntime {
  readonly config: AppConfig;
  /** The clock: each evaluation takes its `now` from it. */
  readonly now: () => Date;
  readonly terminology: Terminology;
  readonly units: UnitConverter;
  /** The CDS services, bound: wording loaded and checked, prefetch templates built. */
  readonly services: readonly CdsService[];
  readonly imaging: ImagingRuntime;
}

export interface RuntimeOptions {
  now?: () => Date;
  /** Where the imaging layer writes its one line when the archive is unavailable (default: nowhere). */
  logger?: ImagingLogger;
  /** Default: the repository's profiles/. */
  profilesDir?: string;
  /** Default: the repository's cards/. */
  cardsDir?: string;
  /** Default: every service of the registry (services/registry.ts). */
  definitions?: readonly ServiceDefinition[];
  /** The channel the process's threads share imaging cache entries on (imaging/shared-caches.ts). */
  imagingCacheChannel?: string;
}

const SILENT: ImagingLogger = { warn: () => undefined };

export function createRuntime(config: AppConfig, options: RuntimeOptions = {}): Runtime {
  const profilesDir = options.profilesDir ?? DEFAULT_PROFILES_DIR;
  const terminology = loadProjectTerminology({ profilesDir, siteDir: config.terminologySiteDir });
  const units = createUnitConverter();
  const definitions = options.definitions ?? SERVICES;
  const problems = checkServices(definitions, { terminology, profilesDir });
  const codes = wordingCodes(profilesDir);
  const wordingDirs = { profilesDir, ...(options.cardsDir ? { cardsDir: options.cardsDir } : {}) };
  const services: CdsService[] = [];
  for (const d of definitions) {
    try {
      // With a ValueSet missing the prefetch templates cannot be built: the wording is still checked.
      if (problems.length === 0) services.push(d.bind({ terminology, wordingDirs, codes }));
      else d.loadWording(wordingDirs, codes);
    } catch (err) {
      if (!(err instanceof WordingError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new ServiceCheckError(problems);
  return {
    config,
    now: options.now ?? (() => new Date()),
    terminology,
    units,
    services,
    imaging: createImagingRuntime(config.imaging, {
      terminology, units, logger: options.logger ?? SILENT,
      ...(options.imagingCacheChannel ? { cacheChannel: options.imagingCacheChannel } : {}),
    }),
  };
}
