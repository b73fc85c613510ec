// The dispatch desk at the hub: the board of open alarms, desks held by
// dispatchers, claims (exactly one desk takes an alarm), commands from the
// desk to kiosks, and the live feed (push topic "desk").
//
// Kiosk events reach it after they are stored, on the instance that holds the
// kiosk (KioskLink.watch): alarm transitions move claims, information calls
// and screen languages are folded into the desk's tables, and every change is
// published on the push topic by id. Each instance with boards open reads the
// changed row once and sends it (src/hub/push.ts).
import type { HubDesk } from '../../config/schema/hub.js';
import type { Static } from '@sinclair/typebox';
import type { HubContext, SessionInfo } from '../context.js';
import { commandOneKiosk } from '../kiosk-command.js';
import { ConfigComposer } from '../config-compose.js';
import type { IncomingEvent } from '../storage/storage.js';
import { sipUser, type BoardRow, type Claim } from '../storage/desk.js';
import { DeskPasswords } from './sip-passwords.js';

export type DeskConfig = Static<typeof HubDesk>;

/** What the desk needs to know about a kiosk beyond its row: from its composed config. */
export interface KioskFacts {
  /** where a desk calls it (call back, pick up): through the registrar, or its own address */
  sipUri: string;
  doorDtmf: string;
  defaultLanguage: string;
  languages: string[];
  ackDtmf: string;
  resetDtmf: string;
}

export const DEFAULT_QUICK_REPLIES: DeskConfig['quickReplies'] = [
  { id: 'coming', text: { en: 'Help is on the way. Please stay where you are.', 'zh-CN': '救援人员正在赶来，请留在原地。' } },
  { id: 'hear', text: { en: 'We can hear you. Please speak close to the help point.', 'zh-CN': '我们能听到您，请靠近求助点说话。' } },
  { id: 'cannot-hear', text: { en: 'We cannot hear you. Please type your message here.', 'zh-CN': '我们听不到您的声音，请在此输入文字。' } },
  { id: 'injured', text: { en: 'Is anyone injured?', 'zh-CN': '是否有人受伤？' } },
  { id: 'safe', text: { en: 'Are you in a safe place?', 'zh-CN': '您所在的位置安全吗？' } },
  { id: 'wait', text: { en: 'Please wait, we are checking.', 'zh-CN': '请稍候，我们正在核实。' } },
];

/** Event types a kiosk's history shows, besides what dispatchers did. */
export const HISTORY_TYPES = ['alarm.state', 'alarm.refused', 'call.state', 'call.media', 'call.refused', 'call.page', 'call.rating', 'chat.toDesk', 'chat.fromDesk', 'desk.info', 'relay.pulse', 'screen.language', 'kiosk.restart', 'kiosk.reboot', 'kiosk.reboot.refused', 'kiosk.reboot.failed'];

const FACTS_TTL_MS = 10_000;
/** a page that reloads or whose stream reconnects (EventSource retry 2 s) opens a new stream within this */
const PAGE_GONE_GRACE_MS = 3000;

export class DeskService {
  readonly cfg: DeskConfig;
  private readonly facts = new Map<string, { at: number; facts: KioskFacts }>();
  /** category of the last information call request per kiosk (call.state does not carry it) */
  private readonly lastCategory = new Map<string, string>();
  /** per-session SIP passwords (desk.sip.rpc) */
  readonly passwords: DeskPasswords;

  constructor(
    private readonly hub: HubContext,
    cfg: DeskConfig,
  ) {
    this.cfg = { ...cfg, quickReplies: cfg.quickReplies ?? DEFAULT_QUICK_REPLIES };
    this.passwords = new DeskPasswords(hub, this.cfg);
  }

  start(): void {
    const { hub } = this;
    hub.push.define('desk', { roles: ['dispatcher', 'admin'], resolve: (event, data) => this.resolve(event, data), left: (session) => this.pageGone(session) });
    hub.link.watch({ events: (kiosk, events) => void this.onEvents(kiosk, events).catch((err: Error) => hub.log.error({ err: err.message, kiosk }, 'desk: kiosk events not followed')) });
    hub.sessionEnded.push(async (s, why) => {
      await this.leaveDesk(s, why);
    });
    // A session ended on another instance (that one let go of its desk): check the desk accounts again here.
    hub.bus.on((m) => {
      if (m.t === 'session' && m.from !== hub.instanceId) this.passwords.recheck();
    });
    this.passwords.start();
  }

  stop(): void {
    this.passwords.stop();
  }

  // ---- desks --------------------------------------------------------------------

  /** The desks this dispatcher may take, the ones bound to them first. */
  candidates(user: string): string[] {
    const mine = this.cfg.desks.filter((d) => d.users?.includes(user));
    const any = this.cfg.desks.filter((d) => !d.users);
    return [...mine, ...any].map((d) => d.id);
  }

  desk(id: string): DeskConfig['desks'][number] | undefined {
    return this.cfg.desks.find((d) => d.id === id);
  }

  /**
   * A dispatcher's session takes a desk (or keeps the one it has), with the
   * password its browser registers with: with desk.sip.rpc a fresh one, set at
   * the SIP server first (each call: a reloaded page gets a new one); without,
   * the desk's static one. Throws DeskPasswordError, the desk let go again,
   * when the SIP server did not take the new password.
   */
  async takeDesk(s: SessionInfo): Promise<{ desk: string; name: string; password: string } | undefined> {
    const seat = await this.hub.storage.desk.takeSeat(this.candidates(s.user), s.user, s.idSha256);
    if (!seat) return undefined;
    let password = this.desk(seat.desk)?.password ?? '';
    if (this.passwords.enabled) {
      try {
        password = await this.passwords.issue(seat.desk, s.idSha256);
      } catch (err) {
        await this.leaveDesk(s, 'its SIP password was not set');
        throw err;
      }
    }
    await this.publish('seats', {});
    return { desk: seat.desk, name: this.desk(seat.desk)?.name ?? seat.desk, password };
  }

  /**
   * The session's last desk page closed (its board stream ended): unless a
   * page of the session is back within the grace (a reload), its desk is let
   * go at once, not at the session's expiry.
   */
  private pageGone(session: string): void {
    setTimeout(() => {
      if (this.hub.push.following(session, 'desk')) return;
      void this.hub.storage.desk
        .seatOf(session)
        .then((seat) => (seat ? this.leaveDesk({ idSha256: session, user: seat.user }, 'page closed') : undefined))
        .catch((err: Error) => this.hub.log.warn({ err: err.message }, 'desk of a closed page not let go'));
    }, PAGE_GONE_GRACE_MS).unref();
  }

  /**
   * The session lets go of its desk; claims it held end (the alarm goes back
   * to the board). `locked`: with desk.sip.rpc, whether the SIP server took
   * the desk's lock value (false: the session's password works until the next
   * check reaches it; logged).
   */
  async leaveDesk(s: Pick<SessionInfo, 'idSha256' | 'user'>, why: string): Promise<{ desk: string; locked?: boolean } | undefined> {
    const desk = await this.hub.storage.desk.releaseSeat(s.idSha256);
    if (!desk) return undefined;
    // Kiosks must skip this desk from now on: its registration goes at the SIP server too (the browser may still be
    // open), and with per-session passwords the one the browser has stops working.
    let locked: boolean | undefined;
    if (this.passwords.enabled) locked = await this.passwords.lock(desk);
    else await this.forgetRegistration(desk);
    const released = await this.hub.storage.desk.releaseClaimsOfDesk(desk, why);
    for (const alarmId of released) await this.publish('alarm', { ref: alarmId });
    await this.publish('seats', {});
    this.hub.log.info({ desk, user: s.user, why, ...(locked === false ? { sipPasswordReplaced: false } : {}) }, 'desk let go');
    return { desk, locked };
  }

  /**
   * Removes a desk's registration at the SIP server (Kamailio's ul.rm over
   * JSON-RPC), so an alarm that hunts for it gets 404 at once. Without
   * desk.sip.rpc only the browser's own unregistering or its lost WebSocket
   * do this. Never throws: a failure is logged (the page unregisters too).
   */
  forgetRegistration(desk: string): Promise<boolean> {
    return this.passwords.forget(desk);
  }

  // ---- claims ---------------------------------------------------------------------

  async claim(s: SessionInfo, desk: string, row: BoardRow, mode: Claim['mode']): Promise<{ ok: true; claim: Claim } | { ok: false; holder: Claim }> {
    const r = await this.hub.storage.desk.claim({ alarmId: row.ref, kiosk: row.kiosk, user: s.user, desk, mode });
    if (r.ok) {
      await this.hub.storage.desk.action({ kiosk: row.kiosk, alarmId: row.ref, user: s.user, desk, action: mode === 'answer' ? 'answer' : mode === 'pickup' ? 'pick up' : 'listen in' });
      await this.publish('alarm', { ref: row.ref });
    }
    return r;
  }

  async release(s: SessionInfo, desk: string, row: { ref: string; kiosk: string }, why: string): Promise<boolean> {
    const ok = await this.hub.storage.desk.releaseClaim(row.ref, desk, why);
    if (ok) {
      await this.hub.storage.desk.action({ kiosk: row.kiosk, alarmId: row.ref, user: s.user, desk, action: 'hang up', detail: { why } });
      await this.publish('alarm', { ref: row.ref });
    }
    return ok;
  }

  // ---- kiosks -------------------------------------------------------------------------

  /** A kiosk's facts from its composed config (cached for a few seconds). */
  async kioskFacts(id: string): Promise<KioskFacts | undefined> {
    const hit = this.facts.get(id);
    if (hit && Date.now() - hit.at < FACTS_TTL_MS) return hit.facts;
    const row = await this.hub.storage.getKiosk(id);
    if (!row) return undefined;
    const doc = (await this.hub.composer.compose(row, ConfigComposer.refFor(row, await this.hub.storage.currentLayers())).catch(() => undefined)) as
      | { sip?: { account?: { user?: string; domain?: string; registrars?: unknown[] }; localHost?: string; localPort?: number; doorDtmf?: string; alarm?: { ackDtmf?: string; resetDtmf?: string } }; display?: { defaultLanguage?: string; languages?: string[] } }
      | undefined;
    const sip = doc?.sip;
    const user = sip?.account?.user ?? id;
    // Registered: found through the registrar by its user. Not registered: its own SIP address (the SIP server relays to it).
    const sipUri = sip?.account?.registrars?.length || !sip?.localPort ? `sip:${user}@${sip?.account?.domain ?? this.cfg.sip.domain}` : `sip:${user}@${sip.localHost ?? '127.0.0.1'}:${sip.localPort}`;
    const facts: KioskFacts = {
      sipUri,
      doorDtmf: sip?.doorDtmf ?? '*1',
      ackDtmf: sip?.alarm?.ackDtmf ?? '*5',
      resetDtmf: sip?.alarm?.resetDtmf ?? '*9',
      defaultLanguage: doc?.display?.defaultLanguage ?? 'zh-CN',
      languages: doc?.display?.languages ?? ['zh-CN', 'en'],
    };
    this.facts.set(id, { at: Date.now(), facts });
    return facts;
  }

  /**
   * A command to one kiosk (as POST /api/commands sends it), waiting up to
   * waitMs for its result: a desk action says what happened, or that the
   * kiosk has not answered yet.
   */
  async command(s: SessionInfo, ip: string, kiosk: string, command: string, args: Record<string, unknown>, waitMs = 3000): Promise<{ id?: string; ok: boolean; pending?: boolean; error?: string }> {
    const { offline: _, ...r } = await commandOneKiosk(this.hub, { session: s, ip }, kiosk, command, args, { waitMs, audit: { desk: true } });
    return r;
  }

  // ---- the board ----------------------------------------------------------------------------

  async row(ref: string, type: 'alarm' | 'call' = 'alarm'): Promise<BoardRow | undefined> {
    return (await this.hub.storage.desk.board(type === 'alarm' ? { alarmId: ref } : { callId: ref }))[0];
  }

  /** Publishes a change on the desk topic (every instance's boards). */
  async publish(event: string, data: Record<string, unknown>): Promise<void> {
    await this.hub.push.publish('desk', event, data);
  }

  /** What boards get for a published change: the row itself (read once per instance). */
  private async resolve(event: string, data: unknown): Promise<{ event: string; data: unknown } | undefined> {
    const d = data as { ref?: string; kiosk?: string };
    if (event === 'alarm' || event === 'call') {
      const row = await this.row(d.ref!, event);
      return row ? { event: 'row', data: row } : { event: 'gone', data: { ref: d.ref } };
    }
    if (event === 'kiosk') return { event: 'rows', data: await this.hub.storage.desk.board({ kiosk: d.kiosk }) };
    if (event === 'seats') return { event: 'seats', data: await this.seats() };
    return { event, data };
  }

  async seats(): Promise<{ desk: string; name: string; user: string }[]> {
    return (await this.hub.storage.desk.seats()).map((s) => ({ desk: s.desk, name: this.desk(s.desk)?.name ?? s.desk, user: s.user }));
  }

  private async onEvents(kiosk: string, events: IncomingEvent[]): Promise<void> {
    const { storage } = this.hub;
    for (const e of events) {
      const data = (e.data ?? {}) as Record<string, unknown>;
      switch (e.type) {
        case 'alarm.state': {
          const alarmId = String(data.alarmId);
          // Only the alarm's latest transition moves claims (a re-sent old event must not).
          const row = await this.row(alarmId);
          const latest = !row ? data.state === 'reset' : row.state === data.state && row.at === data.at;
          if (latest) await storage.desk.followAlarm(alarmId, String(data.state), String(data.at), typeof data.target === 'string' ? data.target : undefined, this.cfg.claimLapseS);
          await this.publish('alarm', { ref: alarmId });
          break;
        }
        case 'call.requested':
          if (data.kind === 'information' && typeof data.category === 'string') this.lastCategory.set(kiosk, data.category);
          break;
        case 'call.state': {
          if (data.kind !== 'information' || data.incoming) break;
          const callId = String(data.callId);
          const boot = e.id.split(':')[1] ?? '';
          await storage.desk.foldCall(kiosk, boot, {
            callId,
            state: String(data.state),
            category: data.state === 'calling' ? this.lastCategory.get(kiosk) : undefined,
            target: typeof data.target === 'string' ? data.target : undefined,
            attempt: typeof data.attempt === 'number' ? data.attempt : undefined,
          });
          await this.publish('call', { ref: callId });
          break;
        }
        case 'screen.language':
          if (typeof data.lang === 'string') {
            await storage.desk.setLanguage(kiosk, data.lang);
            await this.publish('kiosk', { kiosk });
          }
          break;
        case 'chat.toDesk':
          if (typeof data.lang === 'string') await storage.desk.setLanguage(kiosk, data.lang);
          await this.publish('chat', { kiosk, from: 'caller', text: String(data.text ?? '').slice(0, 500), lang: data.lang ?? null, at: data.at ?? e.at, callId: data.callId ?? null });
          break;
        case 'chat.fromDesk':
          // The kiosk's receipt: the line is on its screen.
          await this.publish('chat', { kiosk, from: 'desk', shown: true, text: String(data.text ?? '').slice(0, 500), at: data.at ?? e.at });
          break;
        case 'desk.info':
          await this.publish('info', { kiosk, etaMin: data.etaMin ?? null, responder: data.responder ?? null, at: e.at });
          break;
        case 'relay.pulse':
          await this.publish('door', { kiosk, output: data.output ?? null, source: data.source ?? null, at: e.at });
          break;
      }
    }
  }

  /** The desk (SIP user) a board row is ringing or talking to, if it is a console desk. */
  deskOf(target: string | null): string | null {
    const u = sipUser(target);
    return u && this.desk(u) ? u : null;
  }
}
