// One time budget for all of a call's data (DESIGN.md, Data flow: "in parallel, under one time
// budget"): a single AbortSignal that every source watches — prefetch resolution, our FHIR fetches
// and the imaging reader (hooks/call-data.ts) — so they all stop together when it runs out.
export interface Deadline {
  readonly signal: AbortSignal;
  /** Every source is done: cancel anything still running (nothing should be) and free the timer. */
  end(): void;
}

// A shared reason for the normal end: building a DOMException on every call showed in the
// benchmark profile.
const DONE = new Error('call data resolved');

export function startDeadline(budgetMs: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException('time budget exhausted', 'TimeoutError'));
  }, Math.max(0, budgetMs));
  return {
    signal: controller.signal,
    end() {
      clearTimeout(timer);
      controller.abort(DONE);
    },
  };
}

/** Runs `work` under a deadline of `budgetMs`, ended as soon as the work is done. */
export async function underDeadline<T>(budgetMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = startDeadline(budgetMs);
  try {
    return await work(deadline.signal);
  } finally {
    deadline.end();
  }
}

/** Resolves when the signal aborts (at once if it has), for racing work against the deadline. */
export function whenAborted(signal: AbortSignal): Promise<'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
}
