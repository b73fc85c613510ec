// Listen-in on a kiosk's call in progress (desk.listenIn + desk.rtpengine):
// an admin's browser gets a copy of the call's media from rtpengine (ng
// "subscribe request" / "subscribe answer" / "unsubscribe"). The kiosk and
// the answering desk see nothing: no SIP message, no re-INVITE, rtpengine
// only forwards what it already relays to one more WebRTC peer.
//
// Which call: the SIP Call-ID is reported by the session that holds the claim
// on the alarm (its board page knows the call it answers); a Call-ID sent by
// the listener is never used. rtpengine's view of that call then says which
// side is the kiosk (plain RTP) and which the desk (WebRTC).
//
// Nothing on the emergency path depends on this: the hub only asks rtpengine
// for an extra copy, and a failure refuses the listen-in, nothing else.
import { randomBytes } from 'node:crypto';
import type { HubContext } from '../context.js';
import type { SessionInfo } from '../context.js';
import { ngClient, type NgClient, type NgReply } from '../../sipserver/rtpengine-ng.js';

/** Who may listen in: the strictest role that fits a supervisor. */
export const LISTEN_ROLES = ['admin'] as const;
const SWEEP_MS = 2000;
/** alarm states in which the claiming desk may be in the call (acknowledged in the call: it goes on) */
export const IN_CALL_STATES = ['talking', 'acknowledged'];
/** an offer the browser never answered is given up after this */
const ANSWER_WITHIN_MS = 20_000;
/** rtpengine towards a browser: as Kamailio's offers to a desk (src/sipserver/kamailio-cfg.ts RTPENGINE_FLAGS.toBrowser) */
const TO_BROWSER = { 'transport-protocol': 'UDP/TLS/RTP/SAVPF', ICE: 'force', 'rtcp-mux': ['offer'], SDES: ['off'], flags: ['generate-mid'] };

export class ListenInError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Listening {
  id: string;
  session: SessionInfo;
  ip?: string;
  alarmId: string;
  kiosk: string;
  /** the desk whose call this is */
  desk: string;
  sipCallId: string;
  /** rtpengine's tag of the subscription */
  toTag: string;
  offeredAt: number;
  startedAt?: number;
}

export class ListenIn {
  /** alarm id -> the call its claiming desk reported */
  private readonly calls = new Map<string, { desk: string; sipCallId: string }>();
  private readonly live = new Map<string, Listening>();
  private ng?: NgClient;
  private timer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly hub: HubContext,
    private readonly cfg: { listenIn: boolean; rtpengine?: { ng: string } },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  async stopAll(): Promise<void> {
    clearInterval(this.timer);
    for (const l of [...this.live.values()]) await this.end(l, 'hub stopping');
    this.ng?.close();
  }

  /** The claiming desk's page says which SIP call it answers (only the claim holder's report is kept). */
  noteCall(alarmId: string, desk: string, sipCallId: string): void {
    this.calls.set(alarmId, { desk, sipCallId });
  }

  /** Why this session may not listen in at all (undefined: it may). */
  refusal(session: SessionInfo): ListenInError | undefined {
    if (!this.cfg.listenIn) return new ListenInError(403, 'this site does not allow listening in (hub config desk.listenIn)');
    if (!(LISTEN_ROLES as readonly string[]).includes(session.role)) return new ListenInError(403, `listening in to a call is for the role ${LISTEN_ROLES.join(', ')}, not ${session.role}`);
    if (!this.cfg.rtpengine) return new ListenInError(503, 'no media relay to listen through (hub config desk.rtpengine.ng)');
    return undefined;
  }

  /**
   * Asks rtpengine for a copy of the alarm's call: one stream per side (the
   * kiosk first, then the answering desk). Resolves with the SDP offer for
   * the browser; throws ListenInError with the reason.
   */
  async offer(session: SessionInfo, ip: string | undefined, alarmId: string, mySeat: string | null): Promise<{ id: string; sdp: string; desk: string; kiosk: string }> {
    const no = this.refusal(session);
    if (no) throw no;
    const row = (await this.hub.storage.desk.board({ alarmId }))[0];
    if (!row) throw new ListenInError(404, `no open alarm ${alarmId}`);
    const claim = row.claim;
    // rtpengine's query below says whether the call is still up (an acknowledged alarm's call may be over).
    if (!claim?.confirmed || !IN_CALL_STATES.includes(row.state)) throw new ListenInError(409, `no desk is talking to ${row.kiosk} on this alarm (state ${row.state})`);
    if (claim.desk === mySeat) throw new ListenInError(409, 'this desk is the one in the call');
    const call = this.calls.get(alarmId);
    if (!call || call.desk !== claim.desk) throw new ListenInError(409, `desk ${claim.desk} has not reported its call to the hub (a page from before listen-in, or another hub instance)`);
    const q = await this.request('query', { 'call-id': call.sipCallId });
    const sides = sidesOf(q);
    if (!sides) throw new ListenInError(409, 'rtpengine does not relay this call between a kiosk and a browser desk');
    const r = await this.request('subscribe request', { 'call-id': call.sipCallId, 'from-tags': [sides.kiosk, sides.desk], ...TO_BROWSER });
    if (typeof r.sdp !== 'string' || typeof r['to-tag'] !== 'string') throw new ListenInError(502, 'rtpengine answered the subscription without an SDP offer');
    const l: Listening = { id: randomBytes(12).toString('base64url'), session, ip, alarmId, kiosk: row.kiosk, desk: claim.desk, sipCallId: call.sipCallId, toTag: r['to-tag'], offeredAt: Date.now() };
    this.live.set(l.id, l);
    return { id: l.id, sdp: browserOffer(r.sdp), desk: claim.desk, kiosk: row.kiosk };
  }

  /** The browser's answer: media flows from here on. Only the session that asked may answer. */
  async answer(session: SessionInfo, id: string, sdp: string, mySeat: string | null): Promise<Listening> {
    const l = this.live.get(id);
    if (!l || l.session.idSha256 !== session.idSha256) throw new ListenInError(404, `no listen-in ${id} of this session`);
    if (l.startedAt) throw new ListenInError(409, 'already answered');
    try {
      // Without the mids this page made unique (browserOffer): rtpengine then pairs the answer's streams with its own by order.
      await this.request('subscribe answer', { 'call-id': l.sipCallId, 'to-tag': l.toTag, sdp: sdp.replace(/^a=mid:.*\r?\n/gm, '') });
    } catch (err) {
      await this.drop(l);
      throw err;
    }
    l.startedAt = Date.now();
    await this.hub.storage.desk.action({ kiosk: l.kiosk, alarmId: l.alarmId, user: session.user, desk: mySeat, action: 'listen to call', detail: { answeredBy: l.desk } });
    await this.hub.audit({ session, ip: l.ip }, 'desk.listen.start', l.kiosk, 'ok', { alarmId: l.alarmId, answeredBy: l.desk });
    this.hub.log.info({ kiosk: l.kiosk, alarmId: l.alarmId, user: session.user, answeredBy: l.desk }, 'listening in');
    return l;
  }

  /** Stop by the listener's own request. */
  async stop(session: SessionInfo, id: string): Promise<{ seconds: number }> {
    const l = this.live.get(id);
    if (!l || l.session.idSha256 !== session.idSha256) throw new ListenInError(404, `no listen-in ${id} of this session`);
    return this.end(l, 'stopped');
  }

  /** Every listen-in of a session ends (log-out). */
  async endSession(idSha256: string, why: string): Promise<void> {
    for (const l of [...this.live.values()]) if (l.session.idSha256 === idSha256) await this.end(l, why);
  }

  listening(idSha256: string): { id: string; alarmId: string; kiosk: string }[] {
    return [...this.live.values()].filter((l) => l.session.idSha256 === idSha256 && l.startedAt).map((l) => ({ id: l.id, alarmId: l.alarmId, kiosk: l.kiosk }));
  }

  /** Ends what no request ends: the session gone, the alarm over, the call ended or handed on, an offer never answered. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const alarmId of [...this.calls.keys()]) if (!(await this.hub.storage.desk.board({ alarmId }))[0]) this.calls.delete(alarmId);
      for (const l of [...this.live.values()]) {
        const why = await this.over(l).catch(() => undefined);
        if (why) await this.end(l, why);
      }
    } catch (err) {
      this.hub.log.warn({ err: (err as Error).message }, 'listen-in check failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async over(l: Listening): Promise<string | undefined> {
    if (!l.startedAt && Date.now() - l.offeredAt > ANSWER_WITHIN_MS) return 'not answered by the browser';
    if (!(await this.hub.storage.getSession(l.session.idSha256))) return 'session ended';
    const row = (await this.hub.storage.desk.board({ alarmId: l.alarmId }))[0];
    if (!row) return 'alarm over';
    if (!IN_CALL_STATES.includes(row.state) || !row.claim?.confirmed || row.claim.desk !== l.desk) return 'call ended';
    if (this.calls.get(l.alarmId)?.sipCallId !== l.sipCallId) return 'call ended'; // answered again: another call
    const q = await this.request('query', { 'call-id': l.sipCallId }).catch((e: ListenInError) => e);
    if (q instanceof ListenInError && q.status === 409) return 'call ended';
    return undefined;
  }

  private async end(l: Listening, why: string): Promise<{ seconds: number }> {
    if (!this.live.has(l.id)) return { seconds: 0 }; // ended meanwhile (Stop and the check at once): recorded once
    await this.drop(l);
    const seconds = l.startedAt ? Math.round((Date.now() - l.startedAt) / 100) / 10 : 0;
    if (l.startedAt) {
      await this.hub.storage.desk.action({ kiosk: l.kiosk, alarmId: l.alarmId, user: l.session.user, desk: null, action: 'stop listening', detail: { why, from: new Date(l.startedAt).toISOString(), seconds } });
      await this.hub.audit({ session: l.session, ip: l.ip }, 'desk.listen.stop', l.kiosk, 'ok', { alarmId: l.alarmId, why, from: new Date(l.startedAt).toISOString(), seconds });
      this.hub.log.info({ kiosk: l.kiosk, alarmId: l.alarmId, user: l.session.user, why, seconds }, 'listening in ended');
    }
    return { seconds };
  }

  /** Forgets the listen-in and unsubscribes at rtpengine (the call may be gone already: nothing to undo then). */
  private async drop(l: Listening): Promise<void> {
    this.live.delete(l.id);
    await this.request('unsubscribe', { 'call-id': l.sipCallId, 'to-tag': l.toTag }).catch((err: Error) =>
      this.hub.log.debug({ err: err.message, alarmId: l.alarmId }, 'listen-in: rtpengine unsubscribe refused (call gone?)'),
    );
  }

  private async request(command: string, args: Record<string, unknown>): Promise<NgReply> {
    if (!this.cfg.rtpengine) throw new ListenInError(503, 'no media relay to listen through (hub config desk.rtpengine.ng)');
    if (!this.ng) {
      const [host, port] = splitHostPort(this.cfg.rtpengine.ng);
      this.ng = ngClient(host, port);
    }
    let r: NgReply;
    try {
      r = await this.ng.request(command, args, 2000);
    } catch (err) {
      throw new ListenInError(503, `rtpengine unreachable: ${(err as Error).message}`);
    }
    if (r.result !== 'ok') {
      const reason = r['error-reason'] ?? r.result;
      throw new ListenInError(/unknown call|not found/i.test(String(reason)) ? 409 : 502, `rtpengine refused "${command}": ${reason}`);
    }
    return r;
  }
}

/**
 * The offer as a browser takes it. One a=mid per stream, each its own:
 * rtpengine 10.5 copies each side's mid (both "1" here: each leg is a call
 * of one stream), which browsers refuse. And a=ice-lite: rtpengine marks
 * itself neither controlling nor controlled on a subscription, so with the
 * browser controlled too the connectivity checks of a stream sometimes never
 * got nominated (about one listen-in in five, silent); a lite peer makes the
 * browser the controlling agent that nominates, and rtpengine still answers
 * its checks.
 */
export function browserOffer(sdp: string): string {
  const [head, ...media] = sdp.split(/(?=^m=)/m);
  return (
    head!.replace(/^a=ice-lite\r\n/m, '').replace(/^(t=.*\r\n)/m, '$1a=ice-lite\r\n') +
    media
      .map((m, i) => {
        const lines = m.split('\r\n').filter((l) => !l.startsWith('a=mid:'));
        lines.splice(1, 0, `a=mid:${i}`);
        return lines.join('\r\n');
      })
      .join('')
  );
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

/** The kiosk's tag (its leg is plain RTP) and the desk's (WebRTC) in rtpengine's view of a call; undefined unless exactly one of each. */
export function sidesOf(q: NgReply): { kiosk: string; desk: string } | undefined {
  // Only the call's own two sides (offer/answer), not earlier listeners' subscriptions (pub/sub).
  const tags = Object.values((q.tags ?? {}) as Record<string, { tag?: string; medias?: { protocol?: string }[]; subscriptions?: { type?: string }[] }>).filter((t) =>
    t.subscriptions?.some((s) => s.type === 'offer/answer'),
  );
  const plain = tags.filter((t) => t.medias?.some((m) => m.protocol === 'RTP/AVP'));
  const browser = tags.filter((t) => t.medias?.some((m) => /SAVPF$/.test(m.protocol ?? '')));
  if (plain.length !== 1 || browser.length !== 1 || !plain[0]!.tag || !browser[0]!.tag) return undefined;
  return { kiosk: plain[0]!.tag, desk: browser[0]!.tag };
}
