// Which hub URL the link tries next, and after how long. `url` first, then the
// backup URLs, round robin: every failed attempt (no connection, or a link that
// dropped) moves on to the next URL. A link that works is kept: there is no
// return to the primary while a backup serves (the instances share one
// database, so nothing is better on the primary); the primary comes again in
// turn when the backup's link drops.
//
// Back-off: each round over the list runs at one step (jittered, half to all of
// 500 ms * 2^round, at most 30 s), so a second instance is tried within half a
// second of losing the first and a fleet whose hubs are all down does not
// hammer them. A welcome resets it.

const FIRST_MS = 500;
const CAP_MS = 30_000;

export class HubUrls {
  private list: string[];
  private index = 0;
  /** failed attempts since the last welcome */
  private failures = 0;

  constructor(
    url: string,
    backupUrls: readonly string[] = [],
    private readonly random: () => number = Math.random,
  ) {
    this.list = [url, ...backupUrls];
  }

  /** the URL to try now */
  get current(): string {
    return this.list[this.index]!;
  }

  get all(): readonly string[] {
    return this.list;
  }

  /** The link was welcomed on `current`: stay there, back-off from the start. */
  connected(): void {
    this.failures = 0;
  }

  /** An attempt failed or the link dropped: moves to the next URL and returns the delay before trying it. */
  failed(): number {
    const round = Math.floor(this.failures++ / this.list.length);
    this.index = (this.index + 1) % this.list.length;
    const base = Math.min(CAP_MS, FIRST_MS * 2 ** Math.min(round, 16));
    return base / 2 + this.random() * (base / 2); // jitter: spread reconnect storms
  }

  /** A new hub section: the new list, staying on `on` (the URL in use) when it is still listed, else from the primary. */
  update(url: string, backupUrls: readonly string[] = [], on?: string): void {
    this.list = [url, ...backupUrls];
    const at = on === undefined ? -1 : this.list.indexOf(on);
    this.index = at >= 0 ? at : 0;
  }
}
