// Live paging over RTP: one UDP socket per configured multicast group (zones,
// each with a priority), joined on the configured interface. The first packet
// of a page opens a live stream on the mixer ("page", or "emergency" for an
// emergency group) with the group's priority, so the arbiter decides what is
// heard; the page ends after a short silence.
//
// Pages from the hub's gateway are announced first (`pa.page`: group, port,
// SSRC, priority, emergency): the kiosk joins that group for the page if it
// is not a member already, plays the stream under the page's own id (so
// `pa.started` / `pa.ended` are the page's receipts) and ends it when the hub
// says so. A page that does not arrive within `missAfterMs` is reported
// (`pa.missed`, with the port where this kiosk takes unicast RTP): the hub
// then sends it to this kiosk alone. A kiosk that cannot take multicast at all
// (`pa.hubPages.multicast: false`) says so at once. On the unicast socket only streams the
// hub announced are played.
import { parseRtp as parseRtpPacket } from '../intercom/media/rtp-packet.js';
import dgram from 'node:dgram';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { Mixer, MixerStream } from './mixer.js';
import { pageDecoder, type PageDecoder } from './page-decoders.js';
import type { PaPage } from './events.js';

export interface PageGroup {
  group: string;
  port: number;
  priority: number;
  zone?: string;
  emergency?: boolean;
  interface?: string;
  l16Rate?: number;
}

/** How this kiosk takes live pages from the hub (config pa.hubPages). */
export interface HubPageOptions {
  /** local address to join page groups on */
  interface?: string;
  /** false: no multicast here; pages come by unicast only */
  multicast?: boolean;
  /** unicast RTP port for the fallback (0: any free one); absent: no fallback */
  unicastPort?: number;
  unicastHost?: string;
  /** default time a hub page may take to arrive before it is reported missed */
  missAfterMs?: number;
}

export interface PagerOptions {
  /** silence that ends a page (ms) */
  endAfterMs?: number;
  hubPages?: HubPageOptions;
  /** this kiosk's zone: it takes a hub page from its zone's group */
  zone?: string;
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
  /** the hub page this session plays, if announced */
  page?: Expected;
}

/** A page the hub announced and this kiosk waits for or plays. */
interface Expected {
  /** the announcement, with the group this kiosk takes it from */
  page: PaPage & { group: string; port: number; ssrc: number };
  timer?: NodeJS.Timeout;
  /** a socket joined for this page only (closed when it ends) */
  socket?: dgram.Socket;
  session?: string;
  missed: boolean;
  done: boolean;
  /** ms it may take to arrive */
  after: number;
  /** short mixer frames while it is on its way (Mixer.holdShortFrames) */
  releaseShort?: () => void;
}

const MAX_CONCEAL_PACKETS = 5;
/** a hub page plays at most this far behind what arrives (ms) */
export const HUB_PAGE_MAX_LAG_MS = 120;
/** a hub page silent this long is over even without the hub's word (ms) */
export const HUB_PAGE_SILENCE_MS = 10_000;

type Via = 'multicast' | 'unicast';

export class RtpPager {
  private readonly sockets: dgram.Socket[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly expected = new Map<string, Expected>();
  private readonly bySsrc = new Map<number, Expected>();
  private unicastSocket?: dgram.Socket;
  /** the bound unicast port (0 until bound) */
  unicastPort = 0;
  private sweep?: NodeJS.Timeout;
  private readonly offs: (() => void)[] = [];
  private readonly endAfterMs: number;
  /** the first packet of each page, for the latency benchmark */
  onFirstPacket?: (id: string, at: number) => void;

  constructor(
    private readonly groups: PageGroup[],
    private readonly mixer: Mixer,
    private readonly bus: Bus,
    private readonly log: Logger,
    opts: number | PagerOptions = {},
  ) {
    this.opts = typeof opts === 'number' ? { endAfterMs: opts } : opts;
    this.endAfterMs = this.opts.endAfterMs ?? 1000;
  }

  private readonly opts: PagerOptions;

  async start(): Promise<void> {
    await Promise.all(this.groups.map((g) => this.listen(g).then((s) => s && this.sockets.push(s))));
    const hp = this.opts.hubPages;
    if (hp?.unicastPort !== undefined) await this.listenUnicast(hp.unicastPort, hp.unicastHost);
    this.offs.push(this.bus.on('pa.page', (p) => this.announce(p)));
  }

  /** Joins a group; resolves with the socket, or undefined when it could not (a fault is raised). */
  private listen(g: PageGroup, fault = true): Promise<dgram.Socket | undefined> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      sock.on('error', (err) => {
        this.log.error({ group: g.group, port: g.port, err: err.message }, 'paging group socket failed');
        if (fault) this.bus.emit('audio.fault', { active: true, reason: `paging group ${g.group}:${g.port}: ${err.message}` });
        try {
          sock.close();
        } catch {
          /* never bound */
        }
        resolve(undefined);
      });
      sock.on('message', (msg) => this.packet(g, msg, 'multicast'));
      // bound to the group address: only this group's traffic, even when groups share a port
      sock.bind(g.port, g.group, () => {
        try {
          sock.addMembership(g.group, g.interface);
          this.log.info({ group: g.group, port: g.port, priority: g.priority }, 'joined paging group');
        } catch (err) {
          this.log.error({ group: g.group, err: (err as Error).message }, 'cannot join paging group');
          if (fault) this.bus.emit('audio.fault', { active: true, reason: `cannot join paging group ${g.group}: ${(err as Error).message}` });
        }
        resolve(sock);
      });
    });
  }

  private listenUnicast(port: number, host?: string): Promise<void> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.on('error', (err) => {
        this.log.error({ port, err: err.message }, 'unicast page socket failed');
        this.bus.emit('audio.fault', { active: true, reason: `unicast page port ${port}: ${err.message}` });
        resolve();
      });
      // Unicast carries only pages the hub announced: an unknown stream here is dropped.
      sock.on('message', (msg) => this.packet(undefined, msg, 'unicast'));
      sock.bind(port, host, () => {
        this.unicastSocket = sock;
        this.unicastPort = sock.address().port;
        this.log.info({ port: this.unicastPort }, 'listening for unicast pages');
        resolve();
      });
    });
  }

  /** The hub announces a page (or ends one). */
  private announce(p: PaPage): void {
    if (!p.active) return this.endPage(p.id);
    if (this.expected.has(p.id)) return; // announced twice (a resent command): one page
    const g = p.groups?.find((x) => x.zone === this.opts.zone) ?? p.groups?.[0];
    if (!g || p.ssrc === undefined) {
      this.bus.emit('pa.ended', { id: p.id, channel: p.emergency ? 'emergency' : 'page', reason: 'error', error: 'page announcement without a group or SSRC' });
      return;
    }
    const after = p.missAfterMs ?? this.opts.hubPages?.missAfterMs ?? 1000;
    const e: Expected = { page: { ...p, group: g.group, port: g.port, ssrc: p.ssrc }, missed: false, done: false, after };
    this.expected.set(p.id, e);
    this.bySsrc.set(p.ssrc, e);
    // A stream with this SSRC may already be playing (it came before the announcement): adopt it.
    for (const [key, s] of this.sessions) {
      if (s.ssrc === p.ssrc && !s.page) {
        s.page = e;
        s.id = p.id;
        e.session = key;
        this.bus.emit('pa.started', { id: p.id, channel: s.stream.channel, ...(p.text ? { text: p.text } : {}), via: 'multicast' });
      }
    }
    if (e.session) return;
    // Until its first packet the mixer keeps 10 ms frames, even under other audio: the page, once it
    // arrives, waits at most one short frame instead of a 20 ms one.
    e.releaseShort = this.mixer.holdShortFrames();
    const hp = this.opts.hubPages ?? {};
    if (hp.multicast === false) {
      this.miss(e, 'this kiosk takes no multicast');
      return;
    }
    const member = this.groups.some((x) => x.group === g.group && x.port === g.port);
    if (!member) {
      const iface = hp.interface ?? this.groups.find((x) => x.interface)?.interface;
      void this.listen({ group: g.group, port: g.port, priority: p.priority ?? 1, interface: iface }, false).then((sock) => {
        if (!sock) return this.miss(e, `cannot join ${g.group}:${g.port}`);
        if (e.done) return closeQuietly(sock);
        e.socket = sock;
      });
    }
    e.timer = setTimeout(() => {
      if (!e.session && !e.done) this.miss(e, `no RTP from ${g.group}:${g.port} within ${after} ms`);
    }, after);
  }

  /** The page did not come by multicast: say so; with a unicast port the hub sends it there. */
  private miss(e: Expected, reason: string): void {
    if (e.missed || e.done) return;
    e.missed = true;
    const port = this.unicastPort || undefined;
    this.log.warn({ id: e.page.id, reason, unicastPort: port }, 'page missed on multicast');
    this.bus.emit('pa.missed', { id: e.page.id, reason, ...(port ? { unicastPort: port } : {}) });
    if (!port) return this.fail(e, `missed: ${reason} (no unicast port for a fallback)`);
    clearTimeout(e.timer);
    e.timer = setTimeout(() => {
      if (!e.session && !e.done) this.fail(e, `missed: ${reason}; no unicast either within ${3 * e.after} ms`);
    }, 3 * e.after);
  }

  private fail(e: Expected, error: string): void {
    this.forget(e);
    this.bus.emit('pa.ended', { id: e.page.id, channel: e.page.emergency ? 'emergency' : 'page', reason: 'error', error });
  }

  private forget(e: Expected): void {
    if (e.done) return;
    e.done = true;
    clearTimeout(e.timer);
    e.releaseShort?.();
    this.expected.delete(e.page.id);
    if (this.bySsrc.get(e.page.ssrc) === e) this.bySsrc.delete(e.page.ssrc);
    if (e.socket) {
      // give the last packets in flight a moment before leaving the group
      const sock = e.socket;
      setTimeout(() => closeQuietly(sock), 200).unref();
    }
  }

  /** The hub ended the page (Talk released): what is queued plays out, then `pa.ended` done. */
  private endPage(id: string): void {
    const e = this.expected.get(id);
    if (!e) return;
    const key = e.session;
    const s = key ? this.sessions.get(key) : undefined;
    if (s && key) {
      this.forget(e);
      this.finish(key, s);
    } else this.fail(e, 'the page ended before any of it arrived');
  }

  private packet(g: PageGroup | undefined, msg: Buffer, via: Via): void {
    const now = performance.now();
    const p = parseRtp(msg);
    if (!p) return;
    const exp = this.bySsrc.get(p.ssrc);
    if (!g && !exp) return; // unicast: announced pages only
    // A hub page has one session whichever way its packets come (duplicates are dropped by sequence number).
    const key = exp ? `hub:${exp.page.id}` : `${g!.group}:${g!.port}`;
    let s = this.sessions.get(key);
    if (s && s.ssrc !== p.ssrc) {
      if (now - s.lastAt < 200) return; // another talker on a busy group: first one keeps it
      this.finish(key, s);
      s = undefined;
    }
    if (!s) {
      let decoder: PageDecoder;
      try {
        decoder = pageDecoder(p.pt, g?.l16Rate ?? 16000);
      } catch (err) {
        this.log.warn({ group: key, err: (err as Error).message }, 'page refused');
        if (exp) this.fail(exp, (err as Error).message);
        return;
      }
      const id = exp ? exp.page.id : `page-${key}-${p.ssrc.toString(16)}`;
      this.onFirstPacket?.(id, now);
      const emergency = exp ? !!exp.page.emergency : !!g!.emergency;
      const channel = emergency ? 'emergency' : 'page';
      const priority = exp?.page.priority ?? g!.priority;
      // A hub page is live speech: kept close to real time (a sender's burst after a stall is trimmed).
      const stream = this.mixer.openChannel({ channel, rate: decoder.rate, id, priority, live: true, ...(exp ? { maxLagMs: HUB_PAGE_MAX_LAG_MS } : {}) });
      const session: Session = { ssrc: p.ssrc, decoder, stream, lastSeq: (p.seq - 1) & 0xffff, lastAt: now, samplesPerPacket: 0, id, page: exp };
      if (exp) {
        clearTimeout(exp.timer);
        exp.session = key;
        exp.releaseShort?.(); // the open stream itself keeps short frames until it starts
      }
      const text = exp?.page.text;
      stream.onStart = () => this.bus.emit('pa.started', { id: session.id, channel, ...(text ? { text } : {}), ...(exp ? { via } : {}) });
      stream.onEnd = (reason, error) => {
        if (this.sessions.get(key)?.stream === stream) this.sessions.delete(key);
        if (session.page) this.forget(session.page);
        this.bus.emit('pa.ended', { id: session.id, channel, reason: reason === 'closed' ? 'stopped' : reason, ...(error ? { error } : {}) });
      };
      s = session;
      this.sessions.set(key, s);
      // the silence sweep runs only while a page plays: an idle kiosk, or one in a call, is not woken 10 times a second
      if (!this.sweep) {
        this.sweep = setInterval(() => this.expire(), 100);
        this.sweep.unref();
      }
      this.log.info({ id, group: key, pt: p.pt, priority, via }, 'page started');
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
    for (const [key, s] of this.sessions) {
      // A hub page ends on the hub's word (pa.page inactive): a stall of the hub or the console's
      // stream must not end it, or the rest of it would be dropped. The long limit covers a hub
      // that went away mid-page.
      const limit = s.page ? Math.max(this.endAfterMs, HUB_PAGE_SILENCE_MS) : this.endAfterMs;
      if (now - s.lastAt > limit) this.finish(key, s);
    }
    if (this.sessions.size === 0) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }

  private finish(key: string, s: Session): void {
    this.sessions.delete(key);
    s.stream.end();
    this.log.info({ id: s.id }, 'page ended');
  }

  /** Pages announced and not yet ended (status, tests). */
  pages(): { id: string; playing: boolean; missed: boolean }[] {
    return [...this.expected.values()].map((e) => ({ id: e.page.id, playing: !!e.session, missed: e.missed }));
  }

  stop(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
    for (const off of this.offs.splice(0)) off();
    for (const e of [...this.expected.values()]) this.forget(e);
    for (const [key, s] of this.sessions) this.finish(key, s);
    for (const sock of this.sockets) closeQuietly(sock);
    if (this.unicastSocket) closeQuietly(this.unicastSocket);
  }
}

function closeQuietly(sock: dgram.Socket): void {
  try {
    sock.close();
  } catch {
    /* closed */
  }
}
