// One error type for the whole service; app.ts maps it to HTTP in one place (an OperationOutcome body).
// Where an error crosses a boundary (a use case's result, a thread) it is a value (ErrorValue), and
// becomes an HttpError only where the route hands it to that one place.
// Messages must be safe to show to a client: never include tokens, patient names or identifiers.

export type IssueCode =
  | 'invalid' | 'structure' | 'required' | 'value' | 'security' | 'login' | 'forbidden'
  | 'not-found' | 'too-costly' | 'exception' | 'timeout' | 'transient' | 'incomplete' | 'conflict';

/** An error as plain data (it survives a structured clone, an Error's own fields do not). */
export interface ErrorValue {
  status: number;
  code: IssueCode;
  message: string;
}

export class HttpError extends Error implements ErrorValue {
  readonly status: number;
  readonly code: IssueCode;

  constructor(status: number, code: IssueCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }

  static from(e: ErrorValue): HttpError {
    return new HttpError(e.status, e.code, e.message);
  }
}

/** The plain-data form of an error (of an HttpError, say), for a result that crosses a boundary. */
export function errorValue(e: ErrorValue): ErrorValue {
  return { status: e.status, code: e.code, message: e.message };
}

export const badRequest = (message: string): HttpError => new HttpError(400, 'invalid', message);
export const notFound = (message: string): HttpError => new HttpError(404, 'not-found', message);
/** CDS Hooks 2.0 §"Prefetch": 412 when the service cannot obtain data it requires. */
export const preconditionFailed = (message: string): HttpError => new HttpError(412, 'incomplete', message);
export const unauthorized = (): HttpError => new HttpError(401, 'login', 'Unauthorized');
/** A request body that does not parse (as body-parser or hooks/call-service.ts finds it). */
export const invalidJson = (): HttpError => new HttpError(400, 'structure', 'Request body is not valid JSON');
/** A charset or content encoding the service does not read (RFC 8259 §8.1: JSON is UTF-8). */
export const unsupportedEncoding = (): HttpError => new HttpError(415, 'invalid', 'Unsupported request encoding');
/**
 * The shared JWT replay record (Redis) cannot be consulted: the call is refused, not accepted
 * unverified (DESIGN.md, Several instances). Transient: the client may retry.
 */
export const replayStoreUnavailable = (): HttpError =>
  new HttpError(503, 'transient', 'Service temporarily unavailable: the token replay check cannot be made; retry later');
/** Anything unexpected: the client learns nothing more (the cause goes to the log, without request data). */
export const internalError = (): HttpError => new HttpError(500, 'exception', 'Internal error');

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{ severity: 'error' | 'fatal' | 'warning' | 'information'; code: IssueCode; diagnostics: string }>;
}

export function operationOutcome(code: IssueCode, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}
