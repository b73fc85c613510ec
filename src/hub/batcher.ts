// Write-behind batching: items queued while a write is in flight go together
// in the next one (group commit). enqueue() resolves once its item's write has
// committed, or rejects with the write's error.
export class Batcher<T> {
  private queue: { item: T; resolve: () => void; reject: (err: Error) => void }[] = [];
  private running = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly opts: { delayMs?: number; max?: number; /** on a failed group, write each item alone so one bad item cannot fail the others */ split?: boolean } = {},
  ) {}

  enqueue(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  get size(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.opts.delayMs ?? 0);
  }

  private async run(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const take = this.queue.splice(0, this.opts.max ?? 10_000);
    try {
      await this.write(take.map((t) => t.item));
      for (const t of take) t.resolve();
    } catch (err) {
      if (this.opts.split && take.length > 1) {
        for (const t of take) await this.write([t.item]).then(t.resolve, t.reject);
      } else for (const t of take) t.reject(err as Error);
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
    }
  }

  /** Writes whatever is queued now (shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    if (this.queue.length) await this.run();
  }
}
