// Write-behind batching: items queued while a write is in flight go together
// in the next one (group commit). enqueue() resolves once its item's write has
// committed, or rejects with the write's error. With `concurrency` > 1 up to
// that many writes run at once (on PostgreSQL one transaction's commit, the
// fsync, overlaps the next one's work); the default is one at a time.
export class Batcher<T> {
  private queue: { item: T; resolve?: () => void; reject: (err: Error) => void }[] = [];
  private running = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly opts: {
      delayMs?: number;
      max?: number;
      /** on a failed group, write each item alone so one bad item cannot fail the others */
      split?: boolean;
      /** writes in flight at once (default 1) */
      concurrency?: number;
    } = {},
  ) {}

  enqueue(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * As enqueue, without a promise per item (a fan-out's thousands of answers): `failed` hears
   * the write's error for an item that was not stored.
   */
  add(item: T, failed: (err: Error) => void): void {
    this.queue.push({ item, reject: failed });
    this.schedule();
  }

  get size(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.running >= (this.opts.concurrency ?? 1) || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.opts.delayMs ?? 0);
  }

  private async run(): Promise<void> {
    if (this.running >= (this.opts.concurrency ?? 1) || this.queue.length === 0) return;
    this.running++;
    const take = this.queue.splice(0, this.opts.max ?? 10_000);
    try {
      await this.write(take.map((t) => t.item));
      for (const t of take) t.resolve?.();
    } catch (err) {
      if (this.opts.split && take.length > 1) {
        for (const t of take) await this.write([t.item]).then(() => t.resolve?.(), t.reject);
      } else for (const t of take) t.reject(err as Error);
    } finally {
      this.running--;
      if (this.queue.length) this.schedule();
    }
  }

  /** Writes whatever is queued now (shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    while (this.queue.length) await this.run();
  }
}
