// Environment -> one typed, validated configuration object (DESIGN.md "Style": validated at start-up).
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_RESPONSE_BYTES } from './fhir/client.ts';
import type { ImagingConfig } from './imaging/types.ts';
import { DEFAULT_SMI_CUTOFF_SET, SMI_CUTOFF_SETS, type SmiCutoffSetName } from './models/smi.ts';
import type { SiteReferenceRanges } from './models/cmr-markers.ts';
import { SMART_LAUNCH_PATH } from './smart/paths.ts';

const csv = z
  .string()
  .optional()
  .transform((s) => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0));


const range = z
  .string()
  .regex(/^\d+(\.\d+)?-\d+(\.\d+)?$/, 'expected "low-high", e.g. "950-1050"')
  .transform((s) => {
    const [low, high] = s.split('-').map(Number) as [number, number];
    return { low, high };
  })
  .refine((r) => r.low < r.high, 'low must be below high');

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** The URL clients call; JWT `aud` is checked against it plus the route path. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** JSON file of trusted CDS clients: [{ iss, jwks?, jwksUri?, fhirServers: [] }]. */
  CDS_CLIENTS_FILE: z.string().optional(),
  CORS_ORIGINS: csv,
  /** PostgreSQL connection string; without it an embedded PGlite database lives in DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  DATA_DIR: z.string().default('./data'),
  /**
   * Redis for the JWT replay record shared by all instances (redis:// or rediss://). Without it each
   * process keeps its own record: right for one instance only (docs/deployment.md).
   */
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, 'expected a redis:// or rediss:// URL').optional(),
  /**
   * Longest wait for the replay check in Redis (ms); beyond it the call is refused with 503. A check
   * takes well under 1 ms; the bound is for a stalled Redis. Not lower: the timer also counts the
   * time this process was starved of CPU (250 ms refused 0.5 % of calls on an overloaded bench VM).
   */
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(10).max(10000).default(1000),
  /**
   * Days a feedback free-text comment is kept: the EHR sends what the clinician typed, which may name
   * the patient. After this many days from receipt the comment is erased; reasons and outcomes stay.
   * Unset: kept (a site policy decision).
   */
  FEEDBACK_COMMENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).optional(),
  /**
   * Days an issued card is kept (the override-rate denominators, and what feedback is checked
   * against): older ones are purged at start and hourly, with the feedback on them once it is as old.
   * Feedback on a purged card is refused (404), and the override-rate report covers at most this
   * many days. A year by default, so that the table is bounded and a yearly review still fits.
   */
  ISSUED_CARD_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(365),
  /** One time budget for all backend fetches of one hook call (ms). */
  FETCH_BUDGET_MS: z.coerce.number().int().min(100).max(60000).default(3000),
  /**
   * Largest answer read from the EHR's FHIR server per HTTP response (bytes, after decompression);
   * a larger one is abandoned while it streams (src/fhir/client.ts). Default 4 MiB.
   */
  FHIR_RESPONSE_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(DEFAULT_MAX_RESPONSE_BYTES),
  /** MODELS.md: labs for the MELD family, most recent within 30 days by default. */
  LAB_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Look-back for body measurements (height, weight) and CT body composition. */
  BODY_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(36500).default(365),
  SMI_CUTOFF_SET: z.enum(Object.keys(SMI_CUTOFF_SETS) as [SmiCutoffSetName, ...SmiCutoffSetName[]]).default(DEFAULT_SMI_CUTOFF_SET),
  /**
   * Acute MI window for GRACE/TIMI: days since onset. ICD-10 calls an MI acute for 4 weeks (28 days,
   * MODELS.md 4); beyond it GRACE and TIMI are admission scores of a past event, not the current risk.
   */
  ACUTE_MI_WINDOW_DAYS: z.coerce.number().int().min(1).max(3650).default(28),
  /** Site reference ranges for CMR native T1 / T2 (ms, "low-high"); no universal cut-off exists (MODELS.md 1d). */
  CMR_T1_REFERENCE_MS: range.optional(),
  CMR_T2_REFERENCE_MS: range.optional(),
  /** Extra ValueSets and ConceptMaps of this site (e.g. local lab codes mapped to LOINC). */
  TERMINOLOGY_SITE_DIR: z.string().optional(),
  BODY_LIMIT: z.string().default('1mb'),
  /**
   * The embedded demo (in-process FHIR server, demo EHR page, demo client key). On by default so
   * `npm start` works with no configuration; off by default once real clients are configured.
   */
  DEMO: z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** CSP frame-ancestors for the SMART app (the EHR may frame it). */
  FRAME_ANCESTORS: csv,
  /** The SMART detail app's client id as registered with the EHR's authorization server. */
  SMART_CLIENT_ID: z.string().min(1).max(256).default('imaging-cds-detail'),
  /**
   * Set for a confidential client (client_secret_basic): it stays on the server, which then makes the
   * token request (POST /smart/token); without it the app is a public client (PKCE only).
   */
  SMART_CLIENT_SECRET: z.string().min(16, 'SMART_CLIENT_SECRET must be at least 16 characters').optional(),
  /**
   * Set: GET /metrics answers only `Authorization: Bearer <this>` (Prometheus `authorization` in its
   * scrape config). Unset: /metrics is open like /healthz, for a listener only the platform reaches.
   */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** Allowed clock skew for JWT exp/nbf/iat, seconds. */
  JWT_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(30),
  /**
   * Worker threads that evaluate hook calls (src/hooks/hook-runner.ts); 0 = on the main thread.
   * Default: one per core, at most 8 (each holds its own copy of the services and terminology).
   */
  HOOK_WORKERS: z.coerce.number().int().min(0).max(64).default(Math.min(availableParallelism(), 8)),
  // --- Imaging (src/imaging/, README "Imaging") ---
  /** DICOMweb base URL of the archive (QIDO-RS / WADO-RS root); unset = imaging off. */
  DICOMWEB_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The embedded demo's private Orthanc (src/demo/imaging/orthanc-process.ts), when DICOMWEB_URL is unset. */
  DEMO_ORTHANC_BINARY: z.string().min(1).default('/usr/sbin/Orthanc'),
  /** Authorization header value for the archive (e.g. "Bearer …", "Basic …"); never logged. */
  DICOMWEB_AUTHORIZATION: z.string().min(1).optional(),
  /** Patient.identifier system whose value is the archive's PatientID; unset = the FHIR Patient id. */
  DICOMWEB_PATIENT_ID_SYSTEM: z.string().min(1).optional(),
  /** "Open images" link, e.g. https://ohif.example.org/viewer?StudyInstanceUIDs={StudyInstanceUID}. */
  IMAGING_VIEWER_URL: z.string().regex(/^https?:\/\/\S*\{StudyInstanceUID\}\S*$/, 'expected an http(s) URL containing {StudyInstanceUID}').optional(),
  /** Seconds QIDO answers are cached per patient (per instance); 0 = no cache. */
  DICOMWEB_QIDO_CACHE_TTL_S: z.coerce.number().int().min(0).max(3600).default(60),
  /** Per-request timeout (ms); the hook's FETCH_BUDGET_MS bounds the whole imaging read as well. */
  DICOMWEB_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(2500),
  /** Largest archive response accepted (bytes): a SEG or a CT frame beyond it makes imaging unavailable. */
  DICOMWEB_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(64 * 1024 * 1024),
  /** Concurrent archive requests per hook call, and per process. */
  DICOMWEB_CALL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(6),
  DICOMWEB_PROCESS_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  /** SEG segment labels read as skeletal muscle besides SNOMED CT 127954009 (TotalSegmentator: skeletal_muscle). */
  IMAGING_MUSCLE_SEGMENT_LABELS: csv.default(['skeletal_muscle']),
  /** SEG segment labels read as the L3 vertebra besides SNOMED CT 36470004 (TotalSegmentator: vertebrae_L3). */
  IMAGING_L3_SEGMENT_LABELS: csv.default(['vertebrae_L3']),
});

export class ConfigError extends Error {}

/**
 * The environment schema and its transformation into the configuration object: AppConfig is this
 * schema's output type, so each setting is written once (DESIGN.md "Types come from their schema").
 */
const ConfigSchema = EnvSchema.transform((e, ctx) => {
  const demo = e.DEMO === undefined ? e.CDS_CLIENTS_FILE === undefined : ['true', '1', 'yes'].includes(e.DEMO);
  if (!demo && !e.CDS_CLIENTS_FILE) {
    ctx.addIssue({ code: 'custom', message: 'CDS_CLIENTS_FILE is required when DEMO=false', input: e, path: [] });
    return z.NEVER;
  }
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl,
    /** Where the cards' `smart` links point (the SMART app's launch route, src/smart/routes.ts). */
    smartLaunchUrl: `${publicBaseUrl}${SMART_LAUNCH_PATH}`,
    cdsClientsFile: e.CDS_CLIENTS_FILE,
    corsOrigins: e.CORS_ORIGINS,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    /** Never logged: it may carry a password. */
    redisUrl: e.REDIS_URL,
    redisTimeoutMs: e.REDIS_TIMEOUT_MS,
    fetchBudgetMs: e.FETCH_BUDGET_MS,
    /** FHIR_RESPONSE_MAX_BYTES: per-response size cap for FHIR answers. */
    fhirResponseMaxBytes: e.FHIR_RESPONSE_MAX_BYTES,
    labLookbackDays: e.LAB_LOOKBACK_DAYS,
    bodyLookbackDays: e.BODY_LOOKBACK_DAYS,
    smiCutoffSet: e.SMI_CUTOFF_SET,
    acuteMiWindowDays: e.ACUTE_MI_WINDOW_DAYS,
    /** Site reference ranges (ms) for CMR native T1 and T2; absent = values shown without a flag. */
    cmrReferenceRanges: {
      ...(e.CMR_T1_REFERENCE_MS ? { nativeT1: e.CMR_T1_REFERENCE_MS } : {}),
      ...(e.CMR_T2_REFERENCE_MS ? { t2: e.CMR_T2_REFERENCE_MS } : {}),
    } satisfies SiteReferenceRanges,
    terminologySiteDir: e.TERMINOLOGY_SITE_DIR,
    bodyLimit: e.BODY_LIMIT,
    demo,
    /** The Orthanc the demo starts for its imaging when DICOMWEB_URL is unset. */
    demoOrthancBinary: e.DEMO_ORTHANC_BINARY,
    logLevel: e.LOG_LEVEL,
    frameAncestors: e.FRAME_ANCESTORS,
    smartClientId: e.SMART_CLIENT_ID,
    /** Never sent to a browser; see src/smart/token-exchange.ts. */
    smartClientSecret: e.SMART_CLIENT_SECRET,
    /** Never logged, nor in the config fingerprint (a secret). */
    metricsToken: e.METRICS_TOKEN,
    jwtClockSkewS: e.JWT_CLOCK_SKEW_S,
    /** Evaluation worker threads; 0 = evaluate on the main thread. */
    hookWorkers: e.HOOK_WORKERS,
    feedbackCommentRetentionDays: e.FEEDBACK_COMMENT_RETENTION_DAYS,
    issuedCardRetentionDays: e.ISSUED_CARD_RETENTION_DAYS,
    /** The DICOMweb archive and the imaging layer's limits (src/imaging/types.ts). */
    imaging: {
      ...(e.DICOMWEB_URL ? { dicomWebUrl: e.DICOMWEB_URL } : {}),
      ...(e.DICOMWEB_AUTHORIZATION ? { authorization: e.DICOMWEB_AUTHORIZATION } : {}),
      ...(e.DICOMWEB_PATIENT_ID_SYSTEM ? { patientIdSystem: e.DICOMWEB_PATIENT_ID_SYSTEM } : {}),
      ...(e.IMAGING_VIEWER_URL ? { viewerUrlTemplate: e.IMAGING_VIEWER_URL } : {}),
      qidoCacheTtlS: e.DICOMWEB_QIDO_CACHE_TTL_S,
      requestTimeoutMs: e.DICOMWEB_TIMEOUT_MS,
      maxResponseBytes: e.DICOMWEB_MAX_RESPONSE_BYTES,
      callConcurrency: e.DICOMWEB_CALL_CONCURRENCY,
      processConcurrency: e.DICOMWEB_PROCESS_CONCURRENCY,
      muscleSegmentLabels: e.IMAGING_MUSCLE_SEGMENT_LABELS,
      l3SegmentLabels: e.IMAGING_L3_SEGMENT_LABELS,
    } satisfies ImagingConfig,
  };
});

/** The validated configuration: the output of the environment schema (one definition per field). */
export type AppConfig = z.output<typeof ConfigSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** Config for tests: defaults plus overrides, no environment read. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  const base = loadConfig({ DEMO: 'true', LOG_LEVEL: 'silent' });
  // The launch URL follows an overridden base URL, as loadConfig derives it.
  const smartLaunchUrl = `${overrides.publicBaseUrl ?? base.publicBaseUrl}${SMART_LAUNCH_PATH}`;
  return { ...base, smartLaunchUrl, ...overrides };
}

/**
 * The configuration of one of `parties` threads that each build an archive client (the main thread,
 * for the SMART detail view, and every hook worker): DICOMWEB_PROCESS_CONCURRENCY is the process's
 * limit, so each gets its share of it, at least one request.
 */
export function withArchiveShare(config: AppConfig, parties: number): AppConfig {
  const processConcurrency = Math.max(1, Math.floor(config.imaging.processConcurrency / parties));
  return { ...config, imaging: { ...config.imaging, processConcurrency } };
}
