// A fixed-capacity FIFO of 16-bit samples for live audio (the microphone
// queue in front of the RTP sender): writes copy in and, when full, drop the
// oldest samples (latency over completeness); reads copy out and pad with
// silence when short. No allocation after construction.
export class SampleRing {
  private readonly buf: Int16Array;
  private head = 0;
  size = 0;
  /** samples dropped because the ring was full */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.buf = new Int16Array(capacity);
  }

  write(src: Int16Array, n = src.length): void {
    const cap = this.capacity;
    let from = 0;
    if (n > cap) {
      this.dropped += n - cap;
      from = n - cap;
      n = cap;
    }
    const over = this.size + n - cap;
    if (over > 0) {
      this.head = (this.head + over) % cap;
      this.size -= over;
      this.dropped += over;
    }
    let w = (this.head + this.size) % cap;
    for (let i = 0; i < n; i++) {
      this.buf[w] = src[from + i]!;
      if (++w === cap) w = 0;
    }
    this.size += n;
  }

  /** Fills out[0, n) (default all of out): queued samples first, then zeros. Returns the real samples read. */
  read(out: Int16Array, n = out.length): number {
    const cap = this.capacity;
    const k = Math.min(n, this.size);
    let r = this.head;
    for (let i = 0; i < k; i++) {
      out[i] = this.buf[r]!;
      if (++r === cap) r = 0;
    }
    for (let i = k; i < n; i++) out[i] = 0;
    this.head = r;
    this.size -= k;
    return k;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}
