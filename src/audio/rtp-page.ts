// Live paging over RTP: one UDP socket per configured multicast group (zones,
// each with a priority), joined on the configured interface. The first packet
// of a page opens a live stream on the mixer ("page", or "emergency" for an
// emergency group) with the group's priority, so the arbiter decides what is
// heard; the page ends after a short silence.
import { parseRtp as parseRtpPacket } from '../intercom/media/rtp-packet.js';
import dgram from 'node:dgram';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { Mixer, MixerStream } from './mixer.js';
import { pageDecoder, type PageDecoder } from './page-decoders.js';

export interface PageGroup {
  group: string;
  port: number;
  priority: number;
  zone?: string;
  emergency?: boolean;
  interface?: string;
  l16Rate?: number;
}

/** RTP as the pager sees it (parsed by the intercom's RTP parser). */
export interface RtpPacket {
  pt: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function parseRtp(b: Buffer): RtpPacket | undefined {
  const p = parseRtpPacket(b);
  return p && { pt: p.payloadType, seq: p.seq, timestamp: p.timestamp, ssrc: p.ssrc, payload: p.payload };
}

interface Session {
  ssrc: number;
  decoder: PageDecoder;
  stream: MixerStream;
  lastSeq: number;
  lastAt: number;
  samplesPerPacket: number;
  id: string;
}

const MAX_CONCEAL_PACKETS = 5;

export class RtpPager {
  private readonly sockets: dgram.Socket[] = [];
  private readonly sessions = new Map<string, Session>();
  private sweep?: NodeJS.Timeout;
  /** the first packet of each page, for the latency benchmark */
  onFirstPacket?: (id: string, at: number) => void;

  constructor(
    private readonly groups: PageGroup[],
    private readonly mixer: Mixer,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly endAfterMs = 1000,
  ) {}

  async start(): Promise<void> {
    await Promise.all(this.groups.map((g) => this.listen(g)));
    this.sweep = setInterval(() => this.expire(), 100);
    this.sweep.unref();
  }

  private listen(g: PageGroup): Promise<void> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      this.sockets.push(sock);
      sock.on('error', (err) => {
        this.log.error({ group: g.group, port: g.port, err: err.message }, 'paging group socket failed');
        this.bus.emit('audio.fault', { active: true, reason: `paging group ${g.group}:${g.port}: ${err.message}` });
        resolve();
      });
      sock.on('message', (msg) => this.packet(g, msg));
      // bound to the group address: only this group's traffic, even when groups share a port
      sock.bind(g.port, g.group, () => {
        try {
          sock.addMembership(g.group, g.interface);
          this.log.info({ group: g.group, port: g.port, priority: g.priority }, 'joined paging group');
        } catch (err) {
          this.log.error({ group: g.group, err: (err as Error).message }, 'cannot join paging group');
          this.bus.emit('audio.fault', { active: true, reason: `cannot join paging group ${g.group}: ${(err as Error).message}` });
        }
        resolve();
      });
    });
  }

  private packet(g: PageGroup, msg: Buffer): void {
    const now = performance.now();
    const p = parseRtp(msg);
    if (!p) return;
    const key = `${g.group}:${g.port}`;
    let s = this.sessions.get(key);
    if (s && s.ssrc !== p.ssrc) {
      if (now - s.lastAt < 200) return; // another talker on a busy group: first one keeps it
      this.finish(key, s);
      s = undefined;
    }
    if (!s) {
      let decoder: PageDecoder;
      try {
        decoder = pageDecoder(p.pt, g.l16Rate ?? 16000);
      } catch (err) {
        this.log.warn({ group: key, err: (err as Error).message }, 'page refused');
        return;
      }
      const id = `page-${key}-${p.ssrc.toString(16)}`;
      this.onFirstPacket?.(id, now);
      const channel = g.emergency ? 'emergency' : 'page';
      const stream = this.mixer.openChannel({ channel, rate: decoder.rate, id, priority: g.priority, live: true });
      stream.onStart = () => this.bus.emit('pa.started', { id, channel });
      stream.onEnd = (reason, error) => {
        if (this.sessions.get(key)?.stream === stream) this.sessions.delete(key);
        this.bus.emit('pa.ended', { id, channel, reason: reason === 'closed' ? 'stopped' : reason, ...(error ? { error } : {}) });
      };
      s = { ssrc: p.ssrc, decoder, stream, lastSeq: (p.seq - 1) & 0xffff, lastAt: now, samplesPerPacket: 0, id };
      this.sessions.set(key, s);
      this.log.info({ id, group: key, pt: p.pt, priority: g.priority }, 'page started');
    }
    const gap = (p.seq - s.lastSeq) & 0xffff;
    if (gap === 0 || gap > 0x8000) return; // duplicate or late: already played past it
    let pcm: Int16Array;
    try {
      pcm = s.decoder.decode(p.payload);
    } catch {
      return;
    }
    if (gap > 1 && gap <= MAX_CONCEAL_PACKETS && s.samplesPerPacket) s.stream.write(new Int16Array((gap - 1) * s.samplesPerPacket)); // lost packets: silence keeps the timing
    s.samplesPerPacket = pcm.length;
    s.lastSeq = p.seq;
    s.lastAt = now;
    s.stream.write(pcm);
  }

  private expire(): void {
    const now = performance.now();
    for (const [key, s] of this.sessions) if (now - s.lastAt > this.endAfterMs) this.finish(key, s);
  }

  private finish(key: string, s: Session): void {
    this.sessions.delete(key);
    s.stream.end();
    this.log.info({ id: s.id }, 'page ended');
  }

  stop(): void {
    clearInterval(this.sweep);
    for (const [key, s] of this.sessions) this.finish(key, s);
    for (const sock of this.sockets) {
      try {
        sock.close();
      } catch {
        /* closed */
      }
    }
  }
}
