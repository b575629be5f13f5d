// Everything the imaging layer keeps between hook calls, built once at start-up and passed into each
// call (DESIGN.md "Dependencies are passed in"): the archive client with the process-wide request
// limit, the QIDO/derived-result cache, the series patterns, the DICOM ConceptMap, the terminology,
// the logger and the clock.
import dcmjs from 'dcmjs';
import type { Terminology } from '../fhir/terminology.ts';
import { createUnitConverter, type UnitConverter } from '../fhir/units.ts';
import { createArchiveClient, type ArchiveClient } from './dicomweb-client.ts';
import { loadDicomConceptMap, type DicomConceptMap } from './dicom-concept-map.ts';
import { loadSeriesPatterns, type SeriesPatterns } from './series-classifier.ts';
import { shareCaches } from './shared-caches.ts';
import { TtlCache } from './ttl-cache.ts';
import type { PatientIndex } from './qido.ts';
import type { SrReading } from './sr-measurements.ts';
import type { ClassifiedSeries, ImagingConfig } from './types.ts';

/** What a SEG and its CT slice gave (instances are immutable, so this is kept like a QIDO answer). */
export interface MuscleReading {
  areaCm2: number;
  date?: string;
  segSopInstanceUid: string;
  ctSopInstanceUid: string;
  ctSeriesInstanceUid: string;
  rule: string;
  segmentLabels: string[];
  musclePixels: number;
  maskPixels: number;
  pixelSpacing: [number, number];
}

export interface ImagingCaches {
  /** Archive PatientID → the patient's MR/CT studies and SR/SEG instances (QIDO). */
  index: TtlCache<PatientIndex>;
  /** Study Instance UID → its classified series (QIDO). */
  series: TtlCache<ClassifiedSeries[]>;
  /** SR SOP Instance UID + its series context → the measurements read. */
  readings: TtlCache<SrReading>;
  /** SEG SOP Instance UID → the L3 muscle area. */
  muscle: TtlCache<MuscleReading>;
}

/** Entries each cache keeps at most (per thread): bounds memory whatever the traffic. */
export const CACHE_MAX_ENTRIES = 10_000;

/** The one log line of an unavailable archive: no URL, no patient identifier. */
export interface ImagingLogger {
  warn(fields: { imaging: 'unavailable'; reason: string; parts: string[] }, message: string): void;
}

export interface ImagingRuntime {
  config: ImagingConfig;
  /** Absent when DICOMWEB_URL is not set. */
  archive?: ArchiveClient;
  /** QIDO answers per patient/study and readings per SOP Instance UID, for DICOMWEB_QIDO_CACHE_TTL_S. */
  caches: ImagingCaches;
  patterns: SeriesPatterns;
  conceptMap: DicomConceptMap;
  terminology: Pick<Terminology, 'valueSetContains'>;
  /** UCUM conversions of SR measurements (the runtime's converter when built by src/runtime.ts). */
  units: Pick<UnitConverter, 'toUnit' | 'meansQuantity'>;
  logger: ImagingLogger;
  now(): number;
  /** Leaves the process's shared cache channel (shared-caches.ts), when it joined one. */
  close(): void;
}

export function createImagingRuntime(
  config: ImagingConfig,
  deps: {
    terminology: Pick<Terminology, 'valueSetContains'>;
    units?: Pick<UnitConverter, 'toUnit' | 'meansQuantity'>;
    logger: ImagingLogger;
    now?: () => number;
    patterns?: SeriesPatterns;
    conceptMap?: DicomConceptMap;
    /** The BroadcastChannel the process's threads share their cache entries on (server.ts). */
    cacheChannel?: string;
  },
): ImagingRuntime {
  const now = deps.now ?? Date.now;
  const cache = <V>(): TtlCache<V> => new TtlCache<V>({ ttlMs: config.qidoCacheTtlS * 1000, maxEntries: CACHE_MAX_ENTRIES, now });
  const caches: ImagingCaches = { index: cache(), series: cache(), readings: cache(), muscle: cache() };
  const leaveChannel = deps.cacheChannel && config.qidoCacheTtlS > 0 ? shareCaches({ ...caches }, deps.cacheChannel) : undefined;
  // dcmjs reports parsing oddities (e.g. "Invalid vr type") on the console, around our logger: the
  // layer turns what matters into values and reasons instead.
  dcmjs.log.setLevel('silent');
  dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
  return {
    config,
    ...(config.dicomWebUrl
      ? {
          archive: createArchiveClient(
            {
              url: config.dicomWebUrl,
              ...(config.authorization ? { authorization: config.authorization } : {}),
              requestTimeoutMs: config.requestTimeoutMs,
              maxResponseBytes: config.maxResponseBytes,
            },
            config.processConcurrency,
          ),
        }
      : {}),
    caches,
    patterns: deps.patterns ?? loadSeriesPatterns(),
    conceptMap: deps.conceptMap ?? loadDicomConceptMap(),
    terminology: deps.terminology,
    units: deps.units ?? createUnitConverter(),
    logger: deps.logger,
    now,
    close: () => leaveChannel?.(),
  };
}
