/**
 * A one-shot timer that can be paused: the run's timeout, which does not count the time
 * its agent waits for a person's approval.
 */
export class PausableTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private startedAt = 0;
  private done = false;

  constructor(
    private remainingMs: number,
    private readonly onFire: () => void,
  ) {
    this.resume();
  }

  pause(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.remainingMs = Math.max(0, this.remainingMs - (Date.now() - this.startedAt));
  }

  resume(): void {
    if (this.timer || this.done) return;
    this.startedAt = Date.now();
    this.timer = setTimeout(() => {
      this.done = true;
      this.timer = null;
      this.onFire();
    }, this.remainingMs);
  }

  clear(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
