// What the screen shows, folded from bus events into one snapshot that is
// pushed to the page on every change (the page holds no truth of its own, so
// a restarted browser shows the current call at once).
import type { Bus } from '../core/bus.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { CallKind, CallState } from '../intercom/events.js';
import type { CrowdLevel, LocalText } from './events.js';
import type { Route } from './wayfinding/graph.js';
import type { AlarmState, AlarmStateName } from '../alarm/events.js';

/** The open alarm as the screen shows it ("help is coming" once acknowledged); null once reset. */
export interface ScreenAlarm { alarmId: string; state: AlarmStateName; category?: string; raisedAt: number; since: number; attempt?: number }

export interface Snapshot {
  site: LocalText; zone: LocalText; location?: LocalText;
  languages: string[]; defaultLanguage: string; degradedText?: LocalText;
  call: { callId: string; kind: CallKind; state: CallState; since: number; startedAt: number; target?: string; incoming?: boolean } | null;
  alarm: ScreenAlarm | null;
  callHistory: CallState[];
  rateCallId: string | null;
  desk: { etaMin?: number; responder?: string } | null;
  chat: Array<{ from: 'desk' | 'me'; text: string; at: string }>;
  crowd: CrowdLevel;
  incident: { kind: 'incident' | 'evacuation'; text?: LocalText; blockedExits: string[]; route: Route | null; colour?: CrowdLevel; level?: LocalText } | null;
  /** the PA announcement or live page playing now, with its words when it has any */
  announcement: { id: string; channel: string; text?: LocalText } | null;
  drill: boolean;
  degraded: { hub: boolean; sip: boolean; faults: number };
  now: number;
}

export class ScreenState {
  private s: Snapshot;
  private readonly listeners: Array<(s: Snapshot) => void> = [];
  private readonly offs: Array<() => void> = [];
  private lastEnded: string | null = null;
  /** calls placed or answered for an alarm */
  private readonly alarmCalls = new Set<string>();

  constructor(bus: Bus, config: KioskConfig, evacRoute: (blocked: string[]) => Route | null, alarmNow?: () => AlarmState | undefined) {
    this.s = {
      ...fromConfig(config),
      call: null, alarm: null, callHistory: [], rateCallId: null, desk: null, chat: [], crowd: 'none', incident: null, announcement: null, drill: false,
      degraded: { hub: false, sip: false, faults: 0 }, now: Date.now(),
    };
    const on = this.offs.push.bind(this.offs);
    const alarm = (e: AlarmState) => {
      const prev = this.s.alarm;
      if (e.state === 'reset') {
        this.s.alarm = null;
        // The alarm's calls leave the screen with it, unless one is still connected (it goes on as a plain call).
        const c = this.s.call;
        if (c && this.alarmCalls.has(c.callId) && c.state !== 'connected' && c.state !== 'held') this.s.call = null;
        return;
      }
      if (!prev || prev.alarmId !== e.alarmId) { this.s.chat = []; this.s.desk = null; }
      // The alarm's first INVITE may be reported before the alarm itself (it leaves while the journal's
      // fdatasync runs; the alarm is announced after it): an emergency call in progress is the alarm's.
      const c = this.s.call;
      if (c && c.kind === 'emergency' && c.state !== 'ended' && c.state !== 'failed') this.alarmCalls.add(c.callId);
      const since = prev?.alarmId === e.alarmId && prev.state === e.state ? prev.since : Date.now();
      this.s.alarm = { alarmId: e.alarmId, state: e.state, category: e.category, raisedAt: Date.parse(e.raisedAt), since, attempt: e.attempt };
    };
    const open = alarmNow?.();
    if (open) alarm(open);
    on(bus.on('alarm.state', (e) => { alarm(e); this.changed(); }));
    on(bus.on('call.state', (e) => {
      if (this.s.alarm && e.kind === 'emergency') this.alarmCalls.add(e.callId);
      // A late report of a call of an alarm already reset (its withdrawn attempt) shows nothing.
      else if (!this.s.alarm && this.alarmCalls.has(e.callId) && this.s.call?.callId !== e.callId) return;
      if (this.alarmCalls.size > 100) this.alarmCalls.delete(this.alarmCalls.values().next().value!);
      const prev = this.s.call;
      const fresh = !prev || prev.callId !== e.callId;
      // A late end of an earlier call (ended for an alarm, a slow CANCEL) must not take over the screen.
      if (fresh && (e.state === 'ended' || e.state === 'failed') && !e.incoming) return;
      // The calls of one alarm (re-sends, a desk calling back) share its chat and desk information.
      if (fresh && !(this.s.alarm && e.kind === 'emergency')) { this.s.chat = []; this.s.desk = null; this.s.callHistory = []; }
      this.s.callHistory = [...this.s.callHistory, e.state];
      const startedAt = fresh ? Date.now() : prev.startedAt;
      const since = e.state === 'connected' && prev?.state !== 'connected' ? Date.now() : (prev && !fresh ? prev.since : Date.now());
      this.s.call = { callId: e.callId, kind: e.kind, state: e.state, since, startedAt, target: e.target, ...(e.incoming ? { incoming: true } : {}) };
      if (e.state === 'ended' || e.state === 'failed') { this.lastEnded = e.callId; this.s.rateCallId = e.state === 'ended' ? e.callId : null; }
      this.changed();
    }));
    on(bus.on('desk.info', (e) => { this.s.desk = { etaMin: e.etaMin, responder: e.responder }; this.changed(); }));
    on(bus.on('chat.fromDesk', (e) => { this.s.chat = [...this.s.chat, { from: 'desk' as const, text: e.text, at: e.at }].slice(-50); this.changed(); }));
    on(bus.on('chat.toDesk', (e) => { this.s.chat = [...this.s.chat, { from: 'me' as const, text: e.text, at: e.at }].slice(-50); this.changed(); }));
    on(bus.on('crowd.level', (e) => { this.s.crowd = e.level; this.changed(); }));
    on(bus.on('drill.mode', (e) => { this.s.drill = e.active; this.changed(); }));
    on(bus.on('incident.mode', (e) => {
      const blocked = e.blockedExits ?? [];
      const colour = e.colour as CrowdLevel | undefined;
      this.s.incident = e.active
        ? { kind: e.kind, text: e.text ?? this.s.incident?.text, blockedExits: blocked, route: evacRoute(blocked), ...(colour ? { colour } : {}), ...(e.level ? { level: e.level } : {}) }
        : null;
      this.changed();
    }));
    on(bus.on('pa.started', (e) => {
      if (this.s.incident && e.text) this.s.incident = { ...this.s.incident, text: e.text };
      this.s.announcement = { id: e.id, channel: e.channel, ...(e.text ? { text: e.text } : {}) };
      this.changed();
    }));
    on(bus.on('pa.ended', (e) => { if (this.s.announcement?.id === e.id) { this.s.announcement = null; this.changed(); } }));
    on(bus.on('hub.link', (e) => { this.s.degraded = { ...this.s.degraded, hub: !e.connected }; this.changed(); }));
    on(bus.on('sip.registration', (e) => { this.s.degraded = { ...this.s.degraded, sip: !e.registered }; this.changed(); }));
  }

  /** A new config: names, languages and wording change on the page at once. */
  setConfig(config: KioskConfig): void {
    this.s = { ...this.s, ...fromConfig(config) };
    this.changed();
  }

  /** faults count comes from the kiosk's fault list (called on fault events). */
  setFaults(n: number): void { if (n !== this.s.degraded.faults) { this.s.degraded = { ...this.s.degraded, faults: n }; this.changed(); } }
  /** The incoming call that rings now, if any (the screen's answer button). */
  ringingCallId(): string | undefined { const c = this.s.call; return c?.incoming && c.state === 'ringing' ? c.callId : undefined; }
  callId(): string | undefined { const c = this.s.call; return c && c.state !== 'ended' && c.state !== 'failed' ? c.callId : undefined; }
  lastCallId(): string | null { return this.s.rateCallId ?? this.lastEnded; }
  rated(): void { this.s.rateCallId = null; this.s.call = null; this.changed(); }
  snapshot(): Snapshot { return { ...this.s, now: Date.now() }; }
  onChange(fn: (s: Snapshot) => void): void { this.listeners.push(fn); }
  close(): void { for (const off of this.offs) off(); }
  private changed(): void { const snap = this.snapshot(); for (const l of this.listeners) l(snap); }
}

/** The parts of the snapshot that come from the config. */
function fromConfig(config: KioskConfig): Pick<Snapshot, 'site' | 'zone' | 'location' | 'languages' | 'defaultLanguage' | 'degradedText'> {
  const zone = config.site.zones.find((z) => z.id === config.zone);
  return {
    site: config.site.name, zone: zone?.name ?? { en: config.zone }, location: config.location?.text,
    languages: config.display.languages, defaultLanguage: config.display.defaultLanguage,
    degradedText: config.display.degradedText,
  };
}
