// The live-page gateway: the hub's SIP endpoint (src/hub/sip) answers a
// console's call and sends the dispatcher's voice to the zones as RTP.
//
//   console: POST /api/pa/live {zones, emergency}  -> a page id and a one-time token (30 s)
//   browser: INVITE sip:<gateway user>@<domain> with X-Helppoint-Page: <token>
//            over WebSocket to the SIP server; rtpengine bridges WebRTC to plain RTP
//   gateway: token known and unused -> 200 OK; the kiosks of the zones are told
//            (`pa.page`: group per zone, SSRC, priority, emergency); once they
//            have the command (or 300 ms), the chime, then the voice, goes to
//            the zones' multicast groups (the emergency groups for an emergency page)
//   release: BYE -> the kiosks are told the page is over -> receipts finish
//
// The token ties the SIP call to a logged-in dispatcher's request (role and
// CSRF checked there); a call without one, or with a used or old one, is
// refused with 403. A kiosk that reports the page missed on multicast gets
// it by unicast from then on.
//
// Zone pages from desk SIP phones (pa.sipPhones, phone-pages.ts): a phone
// dials sip:page-zone-ZONE@domain, sip:page-group-GROUP@domain (every zone of
// a PA zone group) or sip:page-all@domain; the site SIP server authenticates
// it and sends the call to this gateway's registration with the zone or group
// and the caller's identity in headers it sets itself. Such a call carries no
// token: it is taken only when it arrived over the gateway's registration flow
// and the asserted caller is listed for every zone it names, then goes out as
// one live page to those zones, as a console's page to several zones.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import { CODECS } from '../../audio/codecs/index.js';
import { SipEndpoint, type EndpointCall } from '../sip/endpoint.js';
import { chimeAt } from './audio.js';
import type { PaConfig } from './config.js';
import { PageSender, type Destination } from './page-sender.js';
import { newId, unmapped, type PaHub } from './service.js';
import { ALL_ZONES, GROUP_HEADER, phoneGroupPage, phonePage, ZONE_HEADER } from './phone-pages.js';
import { describeArrival } from '../../intercom/trust.js';

export const PAGE_HEADER = 'X-Helppoint-Page';
const TOKEN_TTL_MS = 30_000;
/** how long the gateway waits for the kiosks to have the page's command before the chime goes out */
const DELIVERY_WAIT_MS = 300;

interface PageRequest {
  id: string;
  zones: string[];
  emergency: boolean;
  by: string;
  role: string;
  expires: number;
}

interface LivePage extends PageRequest {
  call: EndpointCall;
  sender?: PageSender;
  unicast: Destination[];
  ssrc: number;
  groups: { zone: string; group: string; port: number }[];
  ended: boolean;
  kiosks: string[];
}

export class LivePages {
  readonly endpoint: SipEndpoint;
  private readonly requests = new Map<string, PageRequest>();
  private readonly pages = new Map<string, LivePage>();
  private chimeMs = 0;
  /** the chime at each rate a page may go out at */
  private readonly chimes = new Map<number, Int16Array>();
  lastError?: string;
  /** benchmark hook: every voice packet of every page */
  onVoicePacket?: (page: string, at: number, frame: Int16Array) => void;

  constructor(
    private readonly pa: PaHub,
    private readonly cfg: PaConfig,
    private readonly log: Logger,
  ) {
    const g = cfg.gateway!;
    this.endpoint = new SipEndpoint({ account: g.account, localHost: g.localHost, localPort: g.localPort, rtpPortRange: g.rtpPortRange, codecs: g.codecs, log });
    this.endpoint.onInvite = (call) => void this.invite(call).catch((err: Error) => log.error({ err: err.message }, 'live page call failed'));
    this.endpoint.onRegistration = (ok, reason) => {
      this.lastError = ok ? undefined : `not registered with the SIP server${reason ? ` (${reason})` : ''}`;
      log[ok ? 'info' : 'warn']({ registered: ok, reason }, 'page gateway registration');
    };
  }

  get ready(): boolean {
    return this.endpoint.registered;
  }

  /** The SIP URI consoles call. */
  get target(): string {
    return this.endpoint.uri;
  }

  async start(): Promise<void> {
    if (this.cfg.chime) for (const rate of [16000, 8000]) this.chimes.set(rate, await chimeAt(rate));
    this.chimeMs = Math.round(((this.chimes.get(16000)?.length ?? 0) / 16000) * 1000);
    try {
      await this.endpoint.start();
    } catch (err) {
      // Registration goes on retrying in the background; live pages say why they cannot start meanwhile.
      this.lastError = (err as Error).message;
      this.log.error({ err: this.lastError }, 'page gateway not registered yet');
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pages.values()) p.sender?.close();
    await this.endpoint.stop();
  }

  /** A console asks to talk: the page id and the token its call must carry. */
  open(r: { zones: string[]; emergency: boolean; by: string; role: string }): { id: string; token: string; target: string; chimeMs: number } {
    const token = randomBytes(24).toString('base64url');
    const id = newId('pa-l');
    const now = Date.now();
    for (const [t, q] of this.requests) if (q.expires < now) this.requests.delete(t);
    this.requests.set(token, { id, ...r, expires: now + TOKEN_TTL_MS });
    return { id, token, target: this.target, chimeMs: this.chimeMs };
  }

  private async invite(call: EndpointCall): Promise<void> {
    // No token but the SIP server's zone or group header: a desk phone's zone page (its own checks, below).
    const byServer = call.headers[ZONE_HEADER.toLowerCase()] !== undefined || call.headers[GROUP_HEADER.toLowerCase()] !== undefined;
    if (call.headers[PAGE_HEADER.toLowerCase()] === undefined && byServer) return this.phoneInvite(call);
    const token = call.headers[PAGE_HEADER.toLowerCase()] ?? '';
    const req = this.requests.get(token);
    if (req) this.requests.delete(token); // one call per token
    if (!req || req.expires < Date.now()) {
      this.log.warn({ from: call.remote.uri }, 'live page call refused: unknown or expired page token');
      await call.reject(403, 'Unknown Or Expired Page');
      return;
    }
    await this.onAir(call, req);
  }

  /** A zone, zone group or all-call page dialled on a desk SIP phone: trusted by arrival and the SIP server's assertion, then as a console's page. */
  private async phoneInvite(call: EndpointCall): Promise<void> {
    const via = describeArrival(call.arrival);
    const fromServer = this.endpoint.viaRegistration(call.arrival);
    const o = { fromServer, domain: this.cfg.gateway!.account.domain, phones: this.cfg.sipPhones, zones: this.cfg.zones, site: this.pa.hub.config.site.zones };
    let d: { ok: true; zones: string[]; by: string; emergency: boolean } | { ok: false; reason: string; by?: string };
    let target: string; // what was dialled, for the log and the audit: the zone, "group:GROUP" or "all"
    const byGroup = call.headers[GROUP_HEADER.toLowerCase()] !== undefined;
    if (byGroup) {
      const g = phoneGroupPage(call.headers, o);
      target = g.group === ALL_ZONES ? 'all' : `group:${g.group ?? ''}`;
      d = g;
    } else {
      const z = phonePage(call.headers, o);
      target = z.zone ?? '-';
      d = z.ok ? { ok: true, zones: [z.zone], by: z.by, emergency: z.emergency } : z;
    }
    const audit = (result: string, detail: Record<string, unknown>) =>
      this.pa.hub.storage.audit({ user: d.by ?? '-', role: 'sip-phone', action: 'pa.live', target, result, detail: { ...detail, via }, address: call.arrival?.host }).catch((err: Error) => this.log.error({ err: err.message }, 'audit record not written'));
    if (!d.ok) {
      this.log.warn({ from: call.remote.uri, by: d.by, zone: target, via, reason: d.reason }, 'zone page from a SIP phone refused');
      // Only what came through the SIP server names an authenticated caller worth an audit record, and is told why.
      if (fromServer) await audit('refused', { reason: d.reason });
      await call.reject(403, fromServer ? `Zone Page Not Allowed: ${reasonPhrase(d.reason)}` : 'Zone Page Not Allowed');
      return;
    }
    const req: PageRequest = { id: newId('pa-l'), zones: d.zones, emergency: d.emergency, by: d.by, role: 'sip-phone', expires: Infinity };
    await audit('ok', { id: req.id, emergency: req.emergency, ...(byGroup ? { zones: d.zones } : {}) });
    this.log.info({ page: req.id, by: d.by, zone: target, zones: d.zones, emergency: d.emergency, via }, 'zone page from a SIP phone accepted');
    await this.onAir(call, req);
  }

  /** The page's call is accepted and its voice goes to the zones: the same for a console's and a phone's page. */
  private async onAir(call: EndpointCall, req: PageRequest): Promise<void> {
    const zones = this.cfg.zones;
    const groups = req.zones.map((z) => ({ zone: z, group: req.emergency ? zones[z]!.emergencyGroup : zones[z]!.group, port: req.emergency ? zones[z]!.emergencyPort : zones[z]!.port }));
    const priority = Math.max(...req.zones.map((z) => (req.emergency ? zones[z]!.emergencyPriority : zones[z]!.priority)));
    const page: LivePage = { ...req, call, unicast: [], ssrc: 0, groups, ended: false, kiosks: [] };
    this.pages.set(req.id, page);
    call.on('ended', (reason: string) => void this.end(page, reason));
    // No output: the voice is forwarded packet by packet as it arrives (below), not through the call's
    // jitter buffer and playout clock, which would add their delay and pass on their bursts.
    await call.accept({}, [`${PAGE_HEADER}-Id: ${req.id}`]);
    const stream = call.media?.stream;
    if (!stream?.codec) throw new Error('the page call has no audio');
    page.sender = this.makeSender(page, stream.codec.rate);
    const decoder = CODECS[stream.codec.name]();
    let last: number | undefined;
    stream.onAudioPacket = (p) => {
      const ahead = last === undefined ? 1 : (p.seq - last + 0x10000) & 0xffff;
      if (ahead === 0 || ahead >= 0x8000) return; // duplicate or late
      last = p.seq;
      let pcm: Int16Array;
      try {
        pcm = decoder.decode(p.payload);
      } catch {
        return;
      }
      page.sender?.voice(pcm, ahead - 1);
    };
    page.ssrc = page.sender.ssrc;
    const sent = await this.pa.send({
      kind: 'live',
      command: 'pa.page',
      id: req.id,
      args: { id: req.id, active: true, groups, ssrc: page.ssrc, priority, emergency: req.emergency, missAfterMs: this.cfg.missAfterMs },
      zones: req.zones,
      channel: req.emergency ? 'emergency' : 'page',
      drill: false,
      by: req.by,
      role: req.role,
    });
    page.kiosks = sent.sent;
    // Kiosks that said in their hello that they take no multicast get the page by unicast from its first packet.
    const link = this.pa.hub.link;
    for (const k of sent.sent) {
      const caps = link.capabilitiesOf(k);
      const port = Number(caps.find((c) => c.startsWith('pa-unicast:'))?.slice(11));
      const host = unmapped(link.remoteOf(k));
      if (caps.includes('pa-no-multicast') && port && host) page.unicast.push({ host, port });
    }
    for (const u of page.unicast) page.sender.addUnicast(u);
    await this.waitDelivered(req.id, sent.sent.length);
    if (page.ended) return;
    await page.sender.start();
    if (!page.sender.live) await this.pa.hub.bus.publish({ t: 'pa', ev: 'page', id: req.id, state: 'chime' });
    this.log.info({ page: req.id, zones: req.zones, emergency: req.emergency, kiosks: sent.sent.length, offline: sent.offline.length }, 'live page on air');
  }

  private makeSender(page: LivePage, rate: number): PageSender {
    return new PageSender({
      rate,
      groups: page.groups.map((g) => ({ host: g.group, port: g.port })),
      chime: this.chimes.get(rate) ?? new Int16Array(0),
      multicastInterface: this.cfg.multicastInterface,
      ttl: this.cfg.multicastTtl,
      onLive: () => void this.pa.hub.bus.publish({ t: 'pa', ev: 'page', id: page.id, state: 'live' }),
      onVoicePacket: (at, frame) => this.onVoicePacket?.(page.id, at, frame),
    });
  }

  /** Waits until every kiosk sent the page has its command (or the limit). */
  private async waitDelivered(id: string, n: number): Promise<void> {
    if (n === 0) return;
    const until = Date.now() + DELIVERY_WAIT_MS;
    while (Date.now() < until) {
      const c = (await this.pa.hub.storage.pa.counts([id])).get(id)!;
      if (c.total - c.pending >= c.total) return;
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  private async end(page: LivePage, reason: string): Promise<void> {
    if (page.ended) return;
    page.ended = true;
    page.sender?.close();
    this.pages.delete(page.id);
    this.log.info({ page: page.id, reason, packetsSent: page.sender?.packets ?? 0, voiceFrames: page.sender?.voiceFrames ?? 0, rtpFromConsole: page.call.stats() }, 'live page ended');
    // The last packets are on their way: the kiosks are told the page is over just after them.
    await new Promise((r) => setTimeout(r, 200));
    if (page.kiosks.length) await this.pa.command('pa.page', { id: page.id, active: false }, page.kiosks, page.by, page.role);
    await this.pa.hub.storage.pa.endAction(page.id).catch(() => undefined);
    await this.pa.hub.bus.publish({ t: 'pa', ev: 'page', id: page.id, state: 'ended', reason });
  }

  /** A kiosk missed the page on multicast: it gets it by unicast from now on. */
  addUnicast(id: string, kiosk: string, d: Destination): void {
    const page = this.pages.get(id);
    if (!page) return;
    this.log.info({ page: id, kiosk, to: `${d.host}:${d.port}` }, 'page to a kiosk by unicast');
    page.unicast.push(d);
    page.sender?.addUnicast(d);
  }

  /** Pages on air now (console, status). */
  list(): { id: string; zones: string[]; emergency: boolean; by: string; live: boolean; unicast: number }[] {
    return [...this.pages.values()].map((p) => ({ id: p.id, zones: p.zones, emergency: p.emergency, by: p.by, live: !!p.sender?.live, unicast: p.unicast.length }));
  }
}

/** A refusal's reason as a SIP reason phrase (RFC 3261 25.1: no quotes, brackets or line breaks), not too long. */
function reasonPhrase(reason: string): string {
  return reason
    .replace(/"/g, "'")
    .replace(/[^A-Za-z0-9 ;/?:@&=+$,\-_.!~*'()]/g, '')
    .slice(0, 200);
}
