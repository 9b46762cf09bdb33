/**
 * Runs a background task every `everyMs`, never two at once, never keeping the process
 * alive, and reporting (not throwing) its errors.
 */
export function runEvery(everyMs: number, task: () => Promise<unknown>, onError: (err: unknown) => void): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
