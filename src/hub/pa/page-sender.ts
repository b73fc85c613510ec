// One live page going out: RTP to the zones' multicast groups (and to kiosks
// that need it by unicast), G.722 at 16 kHz or PCMU at 8 kHz after the rate of
// the voice. First the pre-announcement chime, paced on its own drift-free
// 20 ms clock; then the dispatcher's voice, each packet sent on as soon as it
// arrives from the console (re-encoded). Voice that arrives while the chime
// plays is not queued behind it (that would delay the whole page): the
// console shows "speak now" once the chime is over.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { CODECS, type Codec } from '../../audio/codecs/index.js';
import type { AudioChannel, AudioOutput } from '../../audio/types.js';
import { buildRtp } from '../../intercom/media/rtp-packet.js';

export interface Destination {
  host: string;
  port: number;
}

export interface PageSenderOptions {
  /** rate of the voice (the gateway call's codec): 16000 -> G.722, 8000 -> PCMU */
  rate: number;
  /** multicast groups the page goes to */
  groups: Destination[];
  /** chime PCM at `rate` (empty: none) */
  chime: Int16Array;
  multicastInterface?: string;
  ttl?: number;
  /** called once the chime is over and voice goes out */
  onLive?: () => void;
  /** performance.now() of each voice packet sent, for the benchmark */
  onVoicePacket?: (at: number, frame: Int16Array) => void;
}

const PTIME_MS = 20;

export class PageSender {
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  readonly payloadType: number;
  private readonly codec: Codec;
  private readonly socket = dgram.createSocket('udp4');
  private readonly frame: number;
  private seq = randomInt(0, 0xffff);
  private ts = randomInt(0, 2 ** 31);
  private first = true;
  private chimePos = 0;
  private chimeTimer?: NodeJS.Timeout;
  private nextAt = 0;
  live = false;
  closed = false;
  private readonly unicast: Destination[] = [];
  packets = 0;
  /** voice frames sent (after the chime) */
  voiceFrames = 0;

  constructor(private readonly o: PageSenderOptions) {
    if (o.rate !== 16000 && o.rate !== 8000) throw new Error(`a page is sent at 16 or 8 kHz, not ${o.rate}`);
    this.codec = o.rate === 16000 ? CODECS.G722() : CODECS.PCMU();
    this.payloadType = this.codec.payloadType;
    this.frame = (o.rate * PTIME_MS) / 1000;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, this.o.multicastInterface, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.socket.on('error', () => undefined); // an unreachable unicast kiosk must not end the page
    if (this.o.multicastInterface) this.socket.setMulticastInterface(this.o.multicastInterface);
    this.socket.setMulticastTTL(this.o.ttl ?? 8);
    this.socket.setMulticastLoopback(true);
    if (this.o.chime.length === 0) return this.goLive();
    this.nextAt = performance.now();
    this.tickChime();
  }

  /** Adds a kiosk that takes this page by unicast (it missed the multicast). */
  addUnicast(d: Destination): void {
    if (!this.unicast.some((u) => u.host === d.host && u.port === d.port)) this.unicast.push(d);
  }

  /** The gateway call's audio output: each frame it plays is sent. */
  output(): AudioOutput {
    const self = this;
    return {
      rate: this.o.rate,
      openChannel(opts): AudioChannel {
        if (opts.rate !== self.o.rate) throw new Error(`page voice at ${opts.rate} Hz, sender at ${self.o.rate} Hz`);
        return {
          id: opts.id ?? 'page-voice',
          channel: opts.channel,
          write: (s) => self.voice(s),
          end: () => undefined,
          close: () => undefined,
        };
      },
    };
  }

  private tickChime(): void {
    if (this.closed) return;
    const now = performance.now();
    while (this.nextAt <= now && this.chimePos < this.o.chime.length) {
      const f = new Int16Array(this.frame);
      f.set(this.o.chime.subarray(this.chimePos, this.chimePos + this.frame));
      this.chimePos += this.frame;
      this.send(f);
      this.nextAt += PTIME_MS;
    }
    if (this.chimePos >= this.o.chime.length) return this.goLive();
    this.chimeTimer = setTimeout(() => this.tickChime(), Math.max(0, this.nextAt - performance.now()));
  }

  private goLive(): void {
    this.live = true;
    this.o.onLive?.();
  }

  /**
   * Voice to send, as it arrives from the console (usually one 20 ms packet).
   * `lost`: packets missing before it; the page's sequence numbers skip as
   * many, so the kiosks keep the timing (they fill short gaps with silence).
   */
  voice(samples: Int16Array, lost = 0): void {
    if (!this.live || this.closed) return;
    if (lost > 0 && lost <= 5) {
      this.seq = (this.seq + lost) & 0xffff;
      this.ts = (this.ts + 160 * lost) >>> 0;
    }
    for (let o = 0; o + this.frame <= samples.length; o += this.frame) {
      const f = samples.subarray(o, o + this.frame);
      this.send(f);
      this.voiceFrames++;
      this.o.onVoicePacket?.(performance.now(), f);
    }
  }

  private send(frame: Int16Array): void {
    const pkt = buildRtp({ marker: this.first, payloadType: this.payloadType, seq: this.seq, timestamp: this.ts, ssrc: this.ssrc }, this.codec.encode(frame));
    this.first = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 160) >>> 0; // 8 kHz RTP clock for PCMU and (RFC 3551) G.722
    this.packets++;
    for (const d of this.o.groups) this.socket.send(pkt, d.port, d.host);
    for (const d of this.unicast) this.socket.send(pkt, d.port, d.host);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.chimeTimer);
    try {
      this.socket.close();
    } catch {
      /* closed */
    }
  }
}
