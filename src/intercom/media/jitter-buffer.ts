// The receive side's jitter buffer: a fixed ring of packet slots indexed by
// sequence number, payloads copied in (the socket's buffer is not kept), so a
// packet costs no allocation. The playout clock takes one sequence number per
// 20 ms; the slots tag which sequence number they hold, so stale packets from
// before a skip-ahead are simply never asked for.
export class JitterBuffer {
  private readonly tags: Int32Array;
  private readonly lens: Int32Array;
  readonly slots: Buffer[];
  private readonly mask: number;

  /** size: a power of two larger than the widest span kept (the stream skips ahead beyond it) */
  constructor(size = 32, maxPayload = 1500) {
    if (size & (size - 1)) throw new Error('jitter buffer size must be a power of two');
    this.mask = size - 1;
    this.tags = new Int32Array(size).fill(-1);
    this.lens = new Int32Array(size);
    // One allocation cut into slots: it is made on every call's set-up, where 32 buffers of their own cost more than
    // the rest of the stream's construction.
    const mem = Buffer.alloc(size * maxPayload);
    this.slots = Array.from({ length: size }, (_, i) => mem.subarray(i * maxPayload, (i + 1) * maxPayload));
  }

  /** Stores buf[start, end) as packet seq (overwriting whatever that slot held). */
  put(seq: number, buf: Uint8Array, start: number, end: number): void {
    const i = seq & this.mask;
    const slot = this.slots[i]!;
    const n = Math.min(end - start, slot.length);
    for (let k = 0; k < n; k++) slot[k] = buf[start + k]!;
    this.lens[i] = n;
    this.tags[i] = seq;
  }

  /** The payload length of packet seq and frees its slot, or -1 if it is not here; the bytes are in slotOf(seq). */
  take(seq: number): number {
    const i = seq & this.mask;
    if (this.tags[i] !== seq) return -1;
    this.tags[i] = -1;
    return this.lens[i]!;
  }

  slotOf(seq: number): Buffer {
    return this.slots[seq & this.mask]!;
  }

  /** Whether any packet at or after seq (within half the sequence space) is waiting. */
  hasFrom(seq: number): boolean {
    for (let i = 0; i < this.tags.length; i++) {
      const t = this.tags[i]!;
      if (t >= 0 && ((t - seq + 0x10000) & 0xffff) < 0x8000) return true;
    }
    return false;
  }

  clear(): void {
    this.tags.fill(-1);
  }
}
