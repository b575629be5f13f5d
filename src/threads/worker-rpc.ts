// Request/reply over one worker thread, used by both of the service's thread kinds: the hook
// evaluation workers (hooks/hook-runner.ts, a pool of these) and the embedded database's thread
// (store/pglite-driver.ts, one of these whose transactions hold it from BEGIN to COMMIT).
//
// What it does: numbers requests and settles each from its reply; hands bytes over by transfer;
// waits for the worker to say it is ready (a worker that cannot start fails the start-up); when the
// worker dies, fails every pending call at once (and every new one until a replacement is ready),
// then starts a replacement with back-off. It has no queue and no load balancing: those differ
// between the two users (a serial session vs. least-busy dispatch).
//
// Why not a pool library: piscina, tinypool and workerpool are task pools of interchangeable,
// stateless workers. The hook pool could use one, but the database thread is a single stateful
// session (ordered statements, a transaction that holds it, reopen-the-folder on restart, a start-up
// that can refuse): two mechanisms for one job is what this file replaces.
//
// Protocol (plain data, structured clone): owner → worker `{ id, request }`; worker → owner
// `{ t: 'ready' }`, `{ t: 'refused', error }` (could not start), `{ t: 'reply', id, value }`,
// `{ t: 'thrown', id, message }` (the handler threw: a bug, not an answer) and `{ t: 'event', event }`
// (messages of the worker's own, e.g. log lines). Answers that can fail are values (`Res`), never
// exceptions, so they keep their shape across the thread boundary.
import { isArrayBuffer } from 'node:util/types';
import { parentPort, Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';

type FromWorker<Res, Ev> =
  | { t: 'ready' }
  | { t: 'refused'; error: unknown }
  | { t: 'reply'; id: number; value: Res }
  | { t: 'thrown'; id: number; message: string }
  | { t: 'event'; event: Ev };

interface ToWorker<Req> {
  id: number;
  request: Req;
}

/**
 * A worker's entry module beside `moduleUrl` (pass `import.meta.url`): `.ts` when the caller runs
 * from source (Node's type stripping), `.js` from a build.
 */
export function workerEntry(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl);
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

export interface RestartBackoff {
  /** Wait before the first restart after the worker died. */
  firstDelayMs: number;
  /** Wait after a restart that failed; doubled after each further failure, up to maxDelayMs. */
  retryDelayMs: number;
  maxDelayMs: number;
}

export interface WorkerRpcOptions<Ev> {
  entry: URL;
  /** For messages and logs: "hook worker", "embedded database thread". */
  name: string;
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  restart: RestartBackoff;
  /** The error every call gets while the worker is down (one instance per outage). */
  stoppedError(): Error;
  /** The error for a worker that refused to start (its `refused` data). Default: a generic one. */
  refusedError?(data: unknown): Error;
  /** A message the worker sent on its own (e.g. a log line). */
  onEvent?(event: Ev): void;
  /** An uncaught exception in the worker (its 'error' event); the worker stops after it. */
  onError?(err: Error): void;
  /** The worker stopped (not by close()); a restart follows. */
  onStopped?(cause: Error): void;
  onRestarted?(): void;
  onRestartFailed?(err: Error): void;
}

interface Pending<Res> {
  resolve(value: Res): void;
  reject(err: Error): void;
}

/**
 * One worker thread that answers requests, restarted when it dies. `Req`, `Res` and `Ev` must survive
 * a structured clone.
 */
export class WorkerRpc<Req, Res, Ev = never> {
  readonly #opts: WorkerRpcOptions<Ev>;
  readonly #pending = new Map<number, Pending<Res>>();
  #worker: Worker | undefined;
  #nextId = 1;
  /** Set while no ready worker serves (after a death, until a replacement is ready; after close). */
  #stopped: Error | undefined;
  #closing = false;
  #restartTimer: NodeJS.Timeout | undefined;

  private constructor(opts: WorkerRpcOptions<Ev>) {
    this.#opts = opts;
  }

  /** Starts the worker; resolves once it is ready, rejects if it refuses or dies first. */
  static async start<Req, Res, Ev = never>(opts: WorkerRpcOptions<Ev>): Promise<WorkerRpc<Req, Res, Ev>> {
    const rpc = new WorkerRpc<Req, Res, Ev>(opts);
    try {
      await rpc.#spawn();
    } catch (err) {
      rpc.#closing = true;
      await rpc.#worker?.terminate();
      throw err;
    }
    return rpc;
  }

  /** The worker serving now; undefined while it is down. */
  get worker(): Worker | undefined {
    return this.#stopped ? undefined : this.#worker;
  }

  /** Calls sent and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Rejects (with stoppedError) only when the worker is down or dies before it answers. */
  call(request: Req, transfer: readonly Transferable[] = []): Promise<Res> {
    const worker = this.#worker;
    if (this.#stopped || !worker) return Promise.reject(this.#stopped ?? this.#opts.stoppedError());
    const id = this.#nextId++;
    return new Promise<Res>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, request } satisfies ToWorker<Req>, transfer);
    });
  }

  /** Stops the worker now (pending calls fail) and for good. Callers drain their own queues first. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#restartTimer);
    try {
      await this.#worker?.terminate();
    } finally {
      this.#down(new Error('closed'));
    }
  }

  #spawn(): Promise<void> {
    const { entry, workerData, resourceLimits, name } = this.#opts;
    const worker = new Worker(entry, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
    this.#worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let uncaught: Error | undefined;
      worker.on('message', (m: FromWorker<Res, Ev>) => {
        switch (m.t) {
          case 'reply': return this.#settle(m.id, (p) => p.resolve(m.value));
          case 'thrown': return this.#settle(m.id, (p) => p.reject(new Error(m.message)));
          case 'event': return this.#opts.onEvent?.(m.event);
          case 'ready':
            ready = true;
            this.#stopped = undefined;
            return resolve();
          case 'refused': return reject(this.#opts.refusedError?.(m.error) ?? new Error(`The ${name} could not start`));
        }
      });
      worker.on('error', (err) => {
        uncaught ??= err;
        this.#opts.onError?.(err);
      });
      worker.on('exit', (code) => {
        const cause = uncaught ?? new Error(`The ${name} exited (code ${code})`);
        if (!ready) return reject(cause);
        if (worker === this.#worker) this.#down(cause);
      });
    });
  }

  #settle(id: number, fn: (p: Pending<Res>) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    fn(p);
  }

  /** The worker is gone: every call, pending or later, fails until a replacement is ready. */
  #down(cause: Error): void {
    if (this.#stopped) return;
    this.#stopped = this.#opts.stoppedError();
    for (const p of this.#pending.values()) p.reject(this.#stopped);
    this.#pending.clear();
    if (this.#closing) return;
    this.#opts.onStopped?.(cause);
    this.#restartAfter(this.#opts.restart.firstDelayMs, this.#opts.restart.retryDelayMs);
  }

  #restartAfter(delayMs: number, nextDelayMs: number): void {
    this.#restartTimer = setTimeout(() => {
      if (this.#closing) return;
      this.#spawn().then(
        () => {
          if (this.#closing) return void this.#worker?.terminate();
          this.#opts.onRestarted?.();
        },
        (err: Error) => {
          void this.#worker?.terminate();
          if (this.#closing) return;
          this.#opts.onRestartFailed?.(err);
          this.#restartAfter(nextDelayMs, Math.min(nextDelayMs * 2, this.#opts.restart.maxDelayMs));
        },
      );
    }, delayMs);
    // A pending restart must not keep a stopping process alive.
    this.#restartTimer.unref();
  }
}

// ---------------------------------------------------------------------------------------------------
// The worker's side

/** A reply: its value, and what in it to move rather than copy (e.g. a body's ArrayBuffer, made movable()). */
export interface Reply<Res> {
  value: Res;
  transfer?: readonly Transferable[];
}

function port(): NonNullable<typeof parentPort> {
  if (!parentPort) throw new Error('worker-rpc: the worker side runs only in a worker thread');
  return parentPort;
}

/**
 * In the worker, once it is ready to serve: answers every request with `handle`, and tells the owner
 * it is ready. `handle` should return failures as values; one that throws is reported as `thrown`.
 */
export function serveRequests<Req, Res>(handle: (request: Req) => Promise<Reply<Res>>): void {
  const p = port();
  p.on('message', ({ id, request }: ToWorker<Req>) => {
    handle(request).then(
      (reply) => p.postMessage({ t: 'reply', id, value: reply.value } satisfies FromWorker<Res, never>, reply.transfer ?? []),
      (err: unknown) => p.postMessage({ t: 'thrown', id, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker<Res, never>),
    );
  });
  p.postMessage({ t: 'ready' } satisfies FromWorker<Res, never>);
}

/** In the worker: it cannot start (`error` as plain data); the thread then ends. */
export function refuseToStart(error: unknown): void {
  const p = port();
  p.postMessage({ t: 'refused', error } satisfies FromWorker<never, never>);
  p.close(); // nothing else keeps the thread alive: it ends
}

/** In the worker: a message of its own to the owner (WorkerRpcOptions.onEvent). */
export function emitEvent<Ev>(event: Ev): void {
  port().postMessage({ t: 'event', event } satisfies FromWorker<never, Ev>);
}
