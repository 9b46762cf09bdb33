/**
 * The procedure calls this process is answering. Closing the API waits for them (up to a
 * bound) before it closes the database: a long-poll woken by the shutdown, or a mutation
 * half-way through, finishes its last statements on an open pool instead of failing with
 * "Cannot use a pool after calling end on the pool" (and a half-answered client).
 */
export interface CallTracker {
  /** A call starts; the function returned ends it (once, however often it is called). */
  begin(): () => void;
  /** Resolves true when no call is in progress, or false when `timeoutMs` passes first. */
  settled(timeoutMs: number): Promise<boolean>;
  readonly active: number;
}

export function createCallTracker(): CallTracker {
  let active = 0;
  const waiters = new Set<() => void>();
  return {
    begin() {
      active++;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        active--;
        if (active === 0) for (const wake of waiters) wake();
      };
    },
    settled(timeoutMs) {
      if (active === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (idle: boolean) => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(idle);
        };
        const wake = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        waiters.add(wake);
      });
    },
    get active() {
      return active;
    },
  };
}
