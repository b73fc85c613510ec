// One call's RTP: a UDP socket, 20 ms packets paced by our own drift-free
// clock, symmetric RTP (we send from the port we receive on and follow the
// peer's actual source address), a small jitter buffer with loss concealment,
// RFC 4733 DTMF both ways, and RFC 3550 statistics.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { CODECS, type Codec } from '../../audio/codecs/index.js';
import type { AudioChannel, AudioInput, AudioOutput } from '../../audio/types.js';
import { createResampler, type Resampler } from '../../audio/resample.js';
import { buildDtmf, buildRtp, DTMF_CHARS, parseDtmf, parseRtp } from './rtp-packet.js';
import type { Direction } from './sdp.js';

const PTIME_MS = 20;
const JITTER_TARGET = 2; // packets buffered before playout starts (40 ms)
const JITTER_MAX = 10; // beyond this the buffer skips ahead (200 ms)

export interface RtpStats {
  codec: string;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  lossPct: number;
  jitterMs: number;
  concealedFrames: number;
  remote?: string;
}

export type MediaEvent = { type: 'first-rtp-in' } | { type: 'first-rtp-out' } | { type: 'dtmf'; digit: string } | { type: 'stats'; stats: RtpStats };

export class RtpStream {
  readonly socket = dgram.createSocket('udp4');
  port = 0;
  remote?: { host: string; port: number };
  codec?: Codec;
  payloadType = 0;
  dtmfPt?: number;
  direction: Direction = 'sendrecv';

  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 0xffff);
  private ts = randomInt(0, 2 ** 31);
  private sendTimer?: NodeJS.Timeout;
  private playTimer?: NodeJS.Timeout;
  private nextSend = 0;
  private nextPlay = 0;
  private micQueue: Int16Array[] = [];
  private micQueued = 0;
  private unsubscribeMic?: () => void;
  private micResampler?: Resampler;
  private channel?: AudioChannel;
  private readonly jitterBuf = new Map<number, Buffer>();
  private expectSeq?: number;
  private lastFrame?: Int16Array;
  private concealRun = 0;
  private dtmfQueue: string[] = [];
  private dtmfActive?: { event: number; start: number; sent: number; endsSent: number };
  private lastDtmf?: { ts: number; event: number };
  private closed = false;
  // statistics (RFC 3550 A.1, A.8)
  private sent = 0;
  private received = 0;
  private baseSeq?: number;
  private maxSeq = 0;
  private cycles = 0;
  private jitter = 0;
  private lastTransit?: number;
  private concealed = 0;
  /** packet send instants (performance.now), for the benchmark */
  readonly sendTimes: number[] = [];
  recordSendTimes = false;
  /**
   * Each received audio packet of the negotiated payload type, as it comes
   * (before the jitter buffer): for relays that forward packets at once, like
   * the hub's page gateway. The jitter buffer and playout go on as usual.
   */
  onAudioPacket?: (p: { seq: number; timestamp: number; payload: Buffer }) => void;

  constructor(
    private readonly input: AudioInput,
    private readonly output: AudioOutput | undefined,
    private readonly onEvent: (e: MediaEvent) => void,
  ) {}

  async bind(host: string, range?: { min: number; max: number }): Promise<number> {
    const tryBind = (port: number) =>
      new Promise<boolean>((resolve) => {
        const onErr = () => resolve(false);
        this.socket.once('error', onErr);
        this.socket.bind(port, host, () => {
          this.socket.off('error', onErr);
          resolve(true);
        });
      });
    if (range) {
      // RTP ports are even (RFC 3550 11); try random even ports in the range.
      for (let i = 0; i < 50 && !this.port; i++) {
        const p = range.min + 2 * randomInt(0, Math.max(1, Math.floor((range.max - range.min) / 2)));
        if (await tryBind(p)) this.port = p;
      }
      if (!this.port) throw new Error(`no free RTP port in ${range.min}-${range.max}`);
    } else {
      if (!(await tryBind(0))) throw new Error('cannot bind an RTP socket');
      this.port = this.socket.address().port;
    }
    this.socket.on('error', () => {});
    this.socket.on('message', (buf, rinfo) => this.receive(buf, rinfo));
    return this.port;
  }

  /** Sets or changes the negotiated parameters (initial answer, re-INVITE). */
  configure(p: { codec: Codec; payloadType: number; dtmfPt?: number; remote: { host: string; port: number }; direction: Direction }): void {
    const codecChanged = this.codec?.name !== p.codec.name;
    // A fresh codec instance per stream: G.722 carries ADPCM state from packet to packet.
    if (codecChanged) this.codec = CODECS[p.codec.name]();
    this.payloadType = p.payloadType;
    this.dtmfPt = p.dtmfPt;
    this.direction = p.direction;
    // Keep a latched source address unless the peer moved its media.
    if (!this.remote || this.remote.port !== p.remote.port || p.remote.host !== '0.0.0.0') this.remote = p.remote;
    if (codecChanged) this.startAudio();
  }

  private startAudio(): void {
    if (!this.codec || this.closed) return;
    const rate = this.codec.rate;
    this.micResampler?.destroy();
    this.micResampler = undefined;
    if (this.input.rate !== rate) void createResampler(this.input.rate, rate).then((r) => (this.closed ? r.destroy() : (this.micResampler = r)));
    this.unsubscribeMic?.();
    this.unsubscribeMic = this.input.onFrame((f) => {
      const s = this.input.rate === rate ? f : this.micResampler?.process(f);
      if (!s || s.length === 0) return;
      this.micQueue.push(s);
      this.micQueued += s.length;
      while (this.micQueued > rate / 5) this.micQueued -= this.micQueue.shift()!.length; // keep <= 200 ms: latency over completeness
    });
    void this.input.start();
    this.channel?.end();
    this.channel = this.output?.openChannel({ channel: 'call', rate, id: `call-${this.ssrc}`, live: true } as never);
    if (!this.sendTimer) {
      this.nextSend = performance.now();
      this.tickSend();
    }
  }

  private takeMic(n: number): Int16Array {
    const out = new Int16Array(n);
    let filled = 0;
    while (filled < n && this.micQueue.length) {
      const head = this.micQueue[0]!;
      const take = Math.min(n - filled, head.length);
      out.set(head.subarray(0, take), filled);
      filled += take;
      this.micQueued -= take;
      if (take === head.length) this.micQueue.shift();
      else this.micQueue[0] = head.subarray(take);
    }
    return out; // zero-padded: silence when the microphone is late
  }

  private tickSend(): void {
    if (this.closed) return;
    const now = performance.now();
    // Drift-free pacing: packets are due on an ideal 20 ms grid; a late timer
    // sends what is due at once rather than slipping the whole stream.
    while (now >= this.nextSend) {
      this.sendFrame();
      this.nextSend += PTIME_MS;
      if (now - this.nextSend > 200) this.nextSend = now; // after a long stall, resynchronise
    }
    this.sendTimer = setTimeout(() => this.tickSend(), Math.max(0, this.nextSend - performance.now() - 0.5));
  }

  private sendFrame(): void {
    const codec = this.codec;
    if (!codec) return;
    const samples = (codec.rate * PTIME_MS) / 1000;
    const rtpStep = 160; // 8 kHz RTP clock for G.711 (and for G.722 by RFC 3551)
    const frame = this.takeMic(samples);
    const canSend = this.remote && (this.direction === 'sendrecv' || this.direction === 'sendonly') && this.remote.host !== '0.0.0.0';
    if (canSend && this.dtmfPt !== undefined && (this.dtmfActive || this.dtmfQueue.length)) this.sendDtmfPacket();
    else if (canSend) this.send(buildRtp({ marker: this.sent === 0, payloadType: this.payloadType, seq: this.seq, timestamp: this.ts, ssrc: this.ssrc }, codec.encode(frame)));
    this.ts = (this.ts + rtpStep) >>> 0;
  }

  private send(packet: Buffer): void {
    if (!this.remote) return;
    this.seq = (this.seq + 1) & 0xffff;
    this.socket.send(packet, this.remote.port, this.remote.host);
    if (this.sent++ === 0) this.onEvent({ type: 'first-rtp-out' });
    if (this.recordSendTimes) this.sendTimes.push(performance.now());
  }

  /** Queues DTMF digits (RFC 4733): each 100 ms of tone, then a 60 ms gap. */
  sendDtmf(tones: string): boolean {
    if (this.dtmfPt === undefined) return false;
    for (const t of tones.toUpperCase()) if (DTMF_CHARS.includes(t)) this.dtmfQueue.push(t);
    return true;
  }

  private sendDtmfPacket(): void {
    if (!this.dtmfActive) {
      const digit = this.dtmfQueue.shift()!;
      this.dtmfActive = { event: DTMF_CHARS.indexOf(digit), start: this.ts, sent: 0, endsSent: 0 };
    }
    const d = this.dtmfActive;
    d.sent++;
    const duration = d.sent * 160;
    const end = d.sent >= 5; // 100 ms
    const pkt = buildDtmf({ event: d.event, end, volume: 10, duration });
    this.send(buildRtp({ marker: d.sent === 1, payloadType: this.dtmfPt!, seq: this.seq, timestamp: d.start, ssrc: this.ssrc }, pkt));
    if (end) {
      // The end packet is sent three times for robustness (RFC 4733 2.5.1.4).
      for (let i = 0; i < 2; i++) this.send(buildRtp({ marker: false, payloadType: this.dtmfPt!, seq: this.seq, timestamp: d.start, ssrc: this.ssrc }, pkt));
      this.dtmfActive = undefined;
    }
  }

  private receive(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const p = parseRtp(buf);
    if (!p || this.closed) return;
    // Symmetric RTP: answer to where the media really comes from.
    if (!this.remote || this.remote.host !== rinfo.address || this.remote.port !== rinfo.port) this.remote = { host: rinfo.address, port: rinfo.port };
    if (this.received++ === 0) this.onEvent({ type: 'first-rtp-in' });
    this.updateStats(p.seq, p.timestamp);
    if (this.dtmfPt !== undefined && p.payloadType === this.dtmfPt) return this.receiveDtmf(p.timestamp, p.payload);
    if (p.payloadType !== this.payloadType || !this.codec) return;
    if (this.direction === 'sendonly' || this.direction === 'inactive') return;
    this.onAudioPacket?.(p);
    if (this.expectSeq === undefined) {
      this.expectSeq = p.seq;
      this.nextPlay = performance.now() + JITTER_TARGET * PTIME_MS;
      this.playTimer = setTimeout(() => this.tickPlay(), JITTER_TARGET * PTIME_MS);
    }
    const ahead = (p.seq - this.expectSeq + 0x10000) & 0xffff;
    if (ahead >= 0x8000) return; // late: already played or concealed
    this.jitterBuf.set(p.seq, p.payload);
    if (ahead > JITTER_MAX) {
      // Far behind: skip ahead, and forget what is now behind. A stale entry would keep the buffer
      // from ever looking empty, so a later pause of the sender would be concealed for ever and
      // every packet after it dropped as late.
      const next = (p.seq - JITTER_TARGET + 0x10000) & 0xffff;
      for (const seq of this.jitterBuf.keys()) if (((seq - next + 0x10000) & 0xffff) >= 0x8000) this.jitterBuf.delete(seq);
      this.expectSeq = next;
    }
  }

  private tickPlay(): void {
    if (this.closed || !this.codec) return;
    const now = performance.now();
    while (now >= this.nextPlay) {
      this.playOne();
      this.nextPlay += PTIME_MS;
    }
    this.playTimer = setTimeout(() => this.tickPlay(), Math.max(0, this.nextPlay - performance.now()));
  }

  private playOne(): void {
    if (this.expectSeq === undefined || !this.codec) return;
    const payload = this.jitterBuf.get(this.expectSeq);
    let frame: Int16Array;
    if (payload) {
      this.jitterBuf.delete(this.expectSeq);
      frame = this.codec.decode(payload);
      this.lastFrame = frame;
      this.concealRun = 0;
    } else if (this.jitterBuf.size === 0 && this.concealRun > 5) {
      return; // the peer is silent (hold, end of talk): do not advance
    } else {
      // Loss concealment: repeat the last frame, fading out over 3 frames.
      this.concealRun++;
      this.concealed++;
      const g = Math.max(0, 1 - this.concealRun / 3);
      frame = this.lastFrame ? Int16Array.from(this.lastFrame, (s) => s * g) : new Int16Array((this.codec.rate * PTIME_MS) / 1000);
    }
    this.expectSeq = (this.expectSeq + 1) & 0xffff;
    this.channel?.write(frame);
  }

  private receiveDtmf(ts: number, payload: Buffer): void {
    const e = parseDtmf(payload);
    if (!e || e.event >= DTMF_CHARS.length) return;
    // One report per event: the first packet of a new (timestamp, event) pair.
    if (this.lastDtmf && this.lastDtmf.ts === ts && this.lastDtmf.event === e.event) return;
    this.lastDtmf = { ts, event: e.event };
    this.onEvent({ type: 'dtmf', digit: DTMF_CHARS[e.event]! });
  }

  private updateStats(seq: number, ts: number): void {
    if (this.baseSeq === undefined) {
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const delta = (seq - this.maxSeq + 0x10000) & 0xffff;
      if (delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    const clock = 8000; // RTP clock of every codec we carry
    const arrival = (performance.now() / 1000) * clock;
    const transit = arrival - ts;
    if (this.lastTransit !== undefined) {
      const d = Math.abs(transit - this.lastTransit);
      if (d < clock) this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  stats(): RtpStats {
    const expected = this.baseSeq === undefined ? 0 : this.cycles + this.maxSeq - this.baseSeq + 1;
    const lost = Math.max(0, expected - this.received);
    return {
      codec: this.codec?.name ?? 'none',
      packetsSent: this.sent,
      packetsReceived: this.received,
      packetsLost: lost,
      lossPct: expected ? Math.round((lost / expected) * 10000) / 100 : 0,
      jitterMs: Math.round((this.jitter / 8) * 100) / 100,
      concealedFrames: this.concealed,
      remote: this.remote ? `${this.remote.host}:${this.remote.port}` : undefined,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.sendTimer);
    clearTimeout(this.playTimer);
    this.unsubscribeMic?.();
    this.micResampler?.destroy();
    this.channel?.end();
    this.onEvent({ type: 'stats', stats: this.stats() });
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }
}
