// One CDS service call from request bytes to response bytes. The same code runs on the main thread
// (HOOK_WORKERS=0) and in the evaluation worker threads (hook-workers.ts), so both answer alike:
// JSON parsing, the request schema, prefetch and FHIR fetches, the models and the cards all happen
// here; HTTP, the client's JWT and the store (issued cards, feedback) stay with the main thread (app.ts).
import { isArrayBuffer } from 'node:util/types';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { CdsService } from '../services/types.ts';
import type { HookCaller } from './auth.ts';
import { invokeService, type HookObservation } from './invoke.ts';
import type { CdsResponse, IssuedCardRow } from './types.ts';
import { HttpError, invalidJson, notFound } from '../errors.ts';

export interface HookCall {
  serviceId: string;
  /** The request body as received (UTF-8 JSON). */
  body: Uint8Array;
  caller: HookCaller;
}

export interface HookAnswer {
  /** The CdsResponse, UTF-8 JSON. */
  body: Uint8Array;
  issuedCards: IssuedCardRow[];
  /** Metric observations, applied by the main thread to its registry. */
  observations: HookObservation[];
}

export interface HookCallContext {
  services: ReadonlyMap<string, CdsService>;
  config: AppConfig;
  logger: Logger;
  now: () => Date;
}

// `fatal`: bytes that are not UTF-8 are a bad request, not silently replaced. The BOM, which some
// clients send, is skipped (ignoreBOM: false), as body-parser did.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export async function evaluateHookCall(call: HookCall, ctx: HookCallContext): Promise<HookAnswer> {
  const service = ctx.services.get(call.serviceId);
  if (!service) throw notFound(`Unknown CDS service '${call.serviceId}'`);
  const body = parseJson(call.body);
  const issuedCards: IssuedCardRow[] = [];
  const observations: HookObservation[] = [];
  let response: CdsResponse;
  try {
    response = await invokeService(service, body, call.caller, {
      config: ctx.config,
      logger: ctx.logger,
      now: ctx.now,
      observe: (o) => observations.push(o),
      recordIssuedCards: (rows) => issuedCards.push(...rows),
    });
  } catch (err) {
    // A 412 is where the metrics matter most (which keys were unavailable, what was dropped).
    if (err instanceof HttpError && observations.length > 0) throw new HookCallError(err, observations);
    throw err;
  }
  // Buffer.from encodes faster than TextEncoder; a worker hands the bytes over with movable().
  return { body: Buffer.from(JSON.stringify(response)), issuedCards, observations };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw invalidJson();
  }
}

/**
 * Bytes to hand to another thread with postMessage's transfer list: the same bytes when they own
 * their whole ArrayBuffer, else an exact copy that does. A structured clone copies a view's whole
 * ArrayBuffer, and Node 24 cuts every Buffer under 32 kB (half of Buffer.poolSize) from a shared
 * 64 kB pool: cloning a 10 kB answer would copy 64 kB twice and leave the receiver holding 64 kB.
 * After the transfer the original view is detached (its bytes are not read again).
 */
export function movable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer } = bytes;
  // isArrayBuffer, not instanceof: the bytes may come from another realm (a SharedArrayBuffer never moves).
  if (isArrayBuffer(buffer) && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}

/** A call that ended in an HttpError after it had observations to report (e.g. a 412). */
export class HookCallError extends HttpError {
  readonly observations: HookObservation[];
  constructor(err: HttpError, observations: HookObservation[]) {
    super(err.status, err.code, err.message);
    this.observations = observations;
  }
}

/** An HttpError as plain data (structured clone drops an Error's own fields) and back. */
export interface HttpErrorData {
  status: number;
  code: HttpError['code'];
  message: string;
  observations?: HookObservation[];
}

export function toHttpErrorData(err: HttpError): HttpErrorData {
  const data: HttpErrorData = { status: err.status, code: err.code, message: err.message };
  if (err instanceof HookCallError) data.observations = err.observations;
  return data;
}

export function fromHttpErrorData(e: HttpErrorData): HttpError {
  const err = new HttpError(e.status, e.code, e.message);
  return e.observations ? new HookCallError(err, e.observations) : err;
}
