// The alarm controller (EN 81-28): the one owner of every emergency, from the
// press (button, screen, hold-to-upgrade, an input, a desk's call-back
// request) to a person's reset. It alone decides to place, re-send or end an
// alarm call; the intercom carries out one INVITE at a time for it.
//
//   raised -> calling(target, attempt) -> queued -> talking -> acknowledged -> reset
//
// Every transition is appended to the alarm journal and fdatasync'ed before
// it takes effect outside (the lamps, the screen, the event for the hub); a
// disk that refuses raises the `store` fault and the alarm goes on in memory.
// The INVITE is the one exception: it leaves once the journal's write()
// returned, while the fdatasync runs (see call()).
// Until acknowledged, a call that ends for any reason is re-sent at once to
// the next desk of the hunt list. Acknowledgement is an explicit act of the
// desk (DTMF code, SIP INFO, a dispatcher's hub command) or, where a site
// allows it, talking for a configured time. The alarm then stays open until
// reset by the desk, a dispatcher or the staff reset input.
//
// All work runs on one queue, so transitions never interleave. Nothing on this
// path returns silently: a refusal is an `alarm.refused` event and a log line;
// an exception is an `alarm.error` event, a log line and the `alarm` fault,
// and the alarm is taken up again after a short backoff.
import { randomUUID } from 'node:crypto';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { Faults } from '../health/faults.js';
import type { AlarmCallEvent, AlarmCallHandle, AlarmCallListener, AlarmHooks, CallService } from '../intercom/alarm-call.js';
import type { AlarmState, AlarmStateName } from './events.js';
import type { AlarmJournal, AlarmRecord } from './journal.js';
import { AlarmRefused, type AlarmService } from './service.js';
import { setupTrace } from '../core/setup-trace.js';
import type { SetupDefer } from '../core/setup-window.js';

/** after a whole round of desks without an answer, before starting again (a dead network must not spin) */
const ROUND_PAUSE_MS = 1000;
/** after an exception in the policy, before the alarm is taken up again */
const ERROR_BACKOFF_MS = 500;
/** a journal write that takes longer counts as failed (a dying SD card must not hold the alarm) */
const PERSIST_TIMEOUT_MS = 2000;
/** the INVITE waits at most this long for the journal's write() to return (its fdatasync it does not wait for) */
const WRITE_GATE_MS = 20;
/** without an intercom (SIP not up yet, or failed), how often to try again */
const NO_INTERCOM_RETRY_MS = 1000;

interface Attempt {
  callId: string;
  target: string;
  /** index in sip.targets.emergency; -1 for a desk calling back */
  targetIndex: number;
  incoming: boolean;
  phase: 'calling' | 'queued' | 'talking';
  answered: boolean;
  /** the intercom reported the call over (set before the report is handled) */
  over: boolean;
  handle?: AlarmCallHandle;
  timers: NodeJS.Timeout[];
  /** gives the target up if it shows no sign of life in time (target.unreachableAfterS); cleared by that sign */
  unreachable?: { timer: NodeJS.Timeout; sign: 'response' | 'ringing' };
}

export interface AlarmControllerDeps {
  bus: Bus;
  log: Logger;
  config: () => KioskConfig;
  faults: Faults;
  /** undefined: the journal could not be opened; the alarm works in memory */
  journal?: AlarmJournal;
  /** reports the journal's trouble (undefined: written again) into the store fault */
  storeProblem: (detail: string | undefined) => void;
  /** the intercom, once SIP is up */
  calls: () => CallService | undefined;
  /** how long the INVITE waits at most for the journal's write() (default WRITE_GATE_MS) */
  writeGateMs?: number;
  /** test seam: names of policy steps that throw once (HELPPOINT_ALARM_THROW_ONCE) */
  throwOnce?: string[];
  /** the alarm call's set-up window: the transitions' log lines are written once it closes (src/core/setup-window.ts) */
  setup?: SetupDefer;
}

export class AlarmController implements AlarmHooks, AlarmService {
  private alarm?: AlarmRecord;
  private attempt?: Attempt;
  /** the persisted 'calling' attempt has no INVITE yet (no intercom at the time) */
  private unplaced = false;
  private chain: Promise<void> = Promise.resolve();
  /** a scheduled step: round pause, retry after an error, waiting for the intercom */
  private pending?: NodeJS.Timeout;
  private stopped = false;
  private storeFailing = false;
  private readonly throwOnce: Set<string>;
  private readonly offs: (() => void)[] = [];

  constructor(private readonly d: AlarmControllerDeps) {
    this.throwOnce = new Set(d.throwOnce ?? []);
  }

  /** Subscribes to the bus; resumes the alarm the journal says is open. */
  start(open?: AlarmRecord): void {
    const { bus } = this.d;
    const on = this.offs.push.bind(this.offs);
    on(bus.on('call.requested', (e) => {
      if (e.kind !== 'emergency') return;
      const source = e.source === 'tamper' ? 'input:tamper' : e.source === 'hub' && e.category === 'call-back' ? 'callback' : e.source;
      this.request(source, e.source === 'hub' && e.category === 'call-back' ? undefined : e.category);
    }));
    on(bus.on('call.upgrade', (e) => this.request('upgrade', 'upgrade', `information call ${e.callId} upgraded`)));
    on(bus.on('call.cancel', (e) => this.cancelled(e.source)));
    on(bus.on('input.tamper', (e) => e.active && this.input('tamper')));
    on(bus.on('input.door', (e) => e.open && this.input('door')));
    on(bus.on('input.power', (e) => e.onBattery && this.input('powerFail')));
    on(bus.on('input.reset', (e) => e.active && void this.reset(undefined, 'local', 'reset input on site').catch(() => {})));
    on(bus.on('intercom.ready', () => this.kick()));
    if (open) this.resume(open);
  }

  stop(): void {
    this.stopped = true;
    this.offs.forEach((off) => off());
    clearTimeout(this.pending);
    if (this.attempt) this.attempt.timers.forEach(clearTimeout);
  }

  // ---- what others ask ----------------------------------------------------

  isOpen(): boolean {
    return !!this.alarm;
  }

  current(): AlarmState | undefined {
    return this.alarm ? publicState(this.alarm) : undefined;
  }

  /** An emergency request from any source: raises an alarm unless one is open. */
  request(source: string, category?: string, reason?: string): void {
    void this.queue('raise', source, async () => {
      if (this.alarm) throw new AlarmRefused(source, `an alarm is already open (${this.alarm.alarmId}, ${this.alarm.state})`);
      await this.raise(source, category, reason);
    }).catch(() => {});
  }

  ack(alarmId: string | undefined, by: string, reason?: string): Promise<void> {
    return this.queue('ack', by, () => this.acknowledge(this.check(alarmId, by), by, reason));
  }

  reset(alarmId: string | undefined, by: string, reason?: string): Promise<void> {
    return this.queue('reset', by, () => this.close(this.check(alarmId, by), by, reason));
  }

  /**
   * A trusted desk calls during the open alarm: its call becomes the alarm's
   * call (an unanswered attempt of ours is ended). Declined while the alarm
   * is talking to another desk.
   */
  adoptIncoming(call: AlarmCallHandle & { from: string }): AlarmCallListener | undefined {
    const a = this.alarm;
    if (!a || this.stopped) return undefined;
    const cur = this.attempt;
    if (cur && cur.phase === 'talking' && !cur.over) {
      this.d.log.info({ alarmId: a.alarmId, from: call.from }, 'a desk called back while the alarm talks to another desk: not taken');
      return undefined;
    }
    clearTimeout(this.pending);
    this.unplaced = false;
    if (cur) {
      this.drop(cur);
      cur.handle?.end('the desk called back');
    }
    const att: Attempt = { callId: call.callId, target: `sip:${call.from}`, targetIndex: -1, incoming: true, phase: 'calling', answered: false, over: false, handle: call, timers: [] };
    this.attempt = att;
    this.d.log.info({ alarmId: a.alarmId, from: call.from, callId: call.callId }, 'the desk calls back during the alarm: answering');
    return this.listener(att);
  }

  // ---- the policy -----------------------------------------------------------

  private async raise(source: string, category: string | undefined, reason: string | undefined): Promise<void> {
    setupTrace.mark('alarm');
    const now = new Date();
    const at = now.toISOString();
    // 4 random hex digits: a v4 UUID's first ones (Node keeps a batch of UUID entropy; randomBytes asks the system each time)
    const alarmId = `${this.d.config().id}-${now.getTime().toString(36)}-${randomUUID().slice(0, 4)}`;
    const raised: AlarmRecord = { alarmId, state: 'raised', kind: 'emergency', ...(category ? { category } : {}), source, raisedAt: at, at, seq: 1, ...(reason ? { reason } : {}) };
    const t = this.target(0);
    const calling = next(raised, 'calling', { attempt: 1, target: t.uri, targetIndex: t.index, callId: randomUUID() });
    await this.call([raised, calling]);
  }

  /** After a restart: an acknowledged alarm stays so; any other calls again at once, the same desk first. */
  private resume(open: AlarmRecord): void {
    this.alarm = open;
    this.d.log.warn({ alarm: publicState(open) }, 'an alarm was open at start-up: resuming');
    void this.queue('resume', 'restart', async () => {
      const a = this.alarm!;
      if (a.state === 'acknowledged') {
        await this.commit([next(a, 'acknowledged', { callId: undefined, reason: 'resumed after a restart' })]);
        return;
      }
      const t = this.target(Math.max(0, a.targetIndex ?? 0));
      await this.call([next(a, 'calling', { attempt: (a.attempt ?? 0) + 1, target: t.uri, targetIndex: t.index, callId: randomUUID(), reason: `resumed after a restart (was ${a.state})` })]);
    }).catch(() => {});
  }

  /**
   * A new attempt: its 'calling' transition is written while the intercom
   * prepares the INVITE (RTP port, SDP). The INVITE leaves once the journal's
   * write() returned (or failed, or WRITE_GATE_MS passed), not after the
   * fdatasync, which runs meanwhile; the transition is announced (lamps,
   * screen, hub) once it is on disk.
   *
   * Why this keeps the guarantee: a power cut inside the fdatasync loses the
   * press whether the INVITE left or not (before, no INVITE and no record;
   * now, maybe a desk that rang once and no record), and the next start finds
   * what reached the disk either way. A crash of the process after the INVITE
   * finds the record, since the write() had returned (the kernel holds the
   * lines). A write or fdatasync that fails is still a log line, the `store`
   * fault and its event (persist()), and the alarm goes on in memory. What it
   * gains: the INVITE no longer waits for the disk, which on a busy or worn
   * SD card takes tens to hundreds of milliseconds (the emergency path must
   * not depend on a writable disk).
   */
  private async call(recs: AlarmRecord[]): Promise<void> {
    let writeDone!: () => void;
    const written = new Promise<void>((r) => (writeDone = r));
    const waitMs = this.d.writeGateMs ?? WRITE_GATE_MS;
    const bound = setTimeout(() => {
      this.d.log.warn({ alarmId: recs[0]!.alarmId, waitedMs: waitMs }, 'the alarm journal\'s write has not returned: the INVITE leaves without it');
      writeDone();
    }, waitMs);
    const gate = written.then(() => clearTimeout(bound));
    const persisted = this.persist(recs, () => writeDone());
    this.alarm = recs.at(-1)!;
    try {
      this.place(gate);
    } finally {
      // Announced even when placing threw: the transition is on disk and the world must hear of it.
      await persisted;
      this.announce(recs);
    }
  }

  /** Places the 'calling' attempt of the alarm; the INVITE waits for `gate` (its transition on disk). */
  private place(gate?: Promise<void>): void {
    const a = this.alarm;
    if (!a || a.state !== 'calling' || this.attempt) return;
    const calls = this.d.calls();
    if (!calls) {
      this.unplaced = true;
      this.d.log.warn({ alarmId: a.alarmId }, 'no intercom to place the alarm call yet; waiting for it');
      this.schedule(NO_INTERCOM_RETRY_MS, () => this.kick());
      return;
    }
    this.unplaced = false;
    this.inject('place');
    const att: Attempt = { callId: a.callId!, target: a.target!, targetIndex: a.targetIndex ?? 0, incoming: false, phase: 'calling', answered: false, over: false, timers: [] };
    this.attempt = att;
    att.handle = calls.placeAlarmCall({ callId: att.callId, alarmId: a.alarmId, attempt: a.attempt ?? 1, target: att.target, category: a.category, gate }, this.listener(att));
    this.armRing(att);
    this.armUnreachable(att);
  }

  /** The intercom is up (or a retry is due): place the attempt that is waiting for it. */
  private kick(): void {
    if (!this.unplaced) return;
    void this.queue('place', 'intercom', async () => this.place()).catch(() => {});
  }

  private listener(att: Attempt): AlarmCallListener {
    return (e) => {
      if (e.type === 'ended') att.over = true;
      void this.queue(`call ${e.type}`, 'intercom', () => this.onCall(att, e)).catch(() => {});
    };
  }

  private async onCall(att: Attempt, e: AlarmCallEvent): Promise<void> {
    const a = this.alarm;
    if (att !== this.attempt || !a) {
      if (e.type !== 'dtmf') this.d.log.debug({ callId: att.callId, event: e.type }, 'report of an earlier alarm call ignored');
      return;
    }
    const cfg = this.d.config().sip.alarm;
    if (e.type === 'trying') this.signOfLife(att, 'response');
    else if (e.type === 'ringing' || e.type === 'queued' || e.type === 'connected') this.signOfLife(att, 'ringing');
    switch (e.type) {
      case 'trying':
        return;
      case 'queued':
        if (att.phase !== 'calling') return;
        att.phase = 'queued';
        this.clearTimers(att);
        att.timers.push(this.timer(cfg.queueMaxWaitS * 1000, 'queue wait over', att, () => this.giveUp(att, `queue wait over (${cfg.queueMaxWaitS} s)`)));
        return this.commit([next(a, 'queued', { reason: '182 Queued' })]);
      case 'ringing':
        if (att.phase !== 'queued') return;
        att.phase = 'calling';
        this.clearTimers(att);
        this.armRing(att);
        return this.commit([next(a, 'calling', { reason: 'ringing after the queue' })]);
      case 'connected': {
        att.phase = 'talking';
        att.answered = true;
        this.clearTimers(att);
        if (a.state === 'acknowledged') return this.d.log.info({ alarmId: a.alarmId, callId: att.callId }, 'talking with the desk; the alarm stays acknowledged');
        await this.commit([next(a, 'talking', { callId: att.callId, target: att.target, ...(att.incoming ? { reason: 'the desk called back' } : {}) })]);
        const after = cfg.talkAcknowledgesAfterS;
        if (after > 0) att.timers.push(this.timer(after * 1000, 'talk acknowledges', att, async () => this.alarm && this.acknowledge(this.alarm, 'talk-timeout', `talked ${after} s`)));
        return;
      }
      case 'dtmf':
        if (e.digits.endsWith(cfg.resetDtmf)) return this.close(a, 'dtmf', `reset code ${cfg.resetDtmf} from the desk`);
        if (e.digits.endsWith(cfg.ackDtmf)) return this.acknowledge(a, 'dtmf', `acknowledgement code ${cfg.ackDtmf} from the desk`);
        return;
      case 'info': {
        const body = parseInfo(e.body);
        if (body.alarm && body.alarm !== a.alarmId) throw new AlarmRefused('info', `INFO for alarm ${body.alarm}, the open alarm is ${a.alarmId}`);
        if (body.action === 'ack') return this.acknowledge(a, 'info', 'SIP INFO from the desk');
        if (body.action === 'reset') return this.close(a, 'info', 'SIP INFO from the desk');
        throw new AlarmRefused('info', `INFO action "${body.action ?? ''}" is not ack or reset`);
      }
      case 'media-silent': {
        if (att.phase !== 'talking') return;
        const reason = `media timeout: no RTP from the desk for ${Math.round(e.silentMs / 1000)} s`;
        att.handle?.end(reason);
        return this.over(att, reason);
      }
      case 'ended':
        return this.over(att, e.reason);
    }
  }

  /** The current attempt is over (ended, or given up by us): re-send unless acknowledged. */
  private async over(att: Attempt, reason: string): Promise<void> {
    this.drop(att);
    const a = this.alarm;
    if (!a) return;
    if (a.state === 'acknowledged') {
      this.d.log.info({ alarmId: a.alarmId, callId: att.callId, reason }, 'alarm call ended; the alarm stays acknowledged until reset');
      return;
    }
    const targets = this.d.config().sip.targets.emergency;
    const from = att.incoming ? (a.targetIndex ?? -1) : att.targetIndex;
    const wrapped = from + 1 >= targets.length;
    const index = wrapped ? 0 : from + 1;
    const resend = () => this.callNext(index, att.answered ? `re-sent: ${reason}` : reason);
    if (wrapped && !att.answered) {
      this.d.log.warn({ alarmId: a.alarmId, reason }, 'no desk answered this round; starting again from the first');
      this.schedule(ROUND_PAUSE_MS, () => void this.queue('resend', 'round', resend).catch(() => {}));
      return;
    }
    return resend();
  }

  private async callNext(index: number, reason: string): Promise<void> {
    const a = this.alarm;
    if (!a || a.state === 'acknowledged' || this.attempt) return;
    const t = this.target(index);
    await this.call([next(a, 'calling', { attempt: (a.attempt ?? 0) + 1, target: t.uri, targetIndex: t.index, callId: randomUUID(), reason })]);
  }

  /** Ring timeout or queue wait over: end our attempt and move on. */
  private async giveUp(att: Attempt, reason: string): Promise<void> {
    if (att !== this.attempt || att.phase === 'talking') return;
    att.handle?.end(reason);
    return this.over(att, reason);
  }

  private armRing(att: Attempt): void {
    const t = this.d.config().sip.targets.emergency[att.targetIndex];
    const s = t?.ringTimeoutS ?? 15;
    att.timers.push(this.timer(s * 1000, 'ring timeout', att, () => this.giveUp(att, `no answer in ${s} s`)));
  }

  /**
   * A desk whose network died without closing its connection stays registered: its INVITE goes nowhere and,
   * without this, the alarm waited the whole ring timeout before the next desk. A console desk rings at once (the
   * site SIP server's own 100 Trying says nothing of the desk); any other target must at least answer.
   */
  private armUnreachable(att: Attempt): void {
    const t = this.d.config().sip.targets.emergency[att.targetIndex];
    const s = t?.unreachableAfterS ?? 0;
    if (!t || s <= 0 || s >= t.ringTimeoutS) return;
    const sign = /^(desk|group):/.test(t.uri) ? 'ringing' : 'response';
    const timer = this.timer(s * 1000, 'unreachable', att, () => this.giveUp(att, sign === 'ringing' ? `unreachable: the desk did not ring within ${s} s` : `unreachable: no response within ${s} s`));
    att.unreachable = { timer, sign };
  }

  private signOfLife(att: Attempt, sign: 'response' | 'ringing'): void {
    const u = att.unreachable;
    if (!u || (u.sign === 'ringing' && sign !== 'ringing')) return;
    clearTimeout(u.timer);
    att.unreachable = undefined;
  }

  private async acknowledge(a: AlarmRecord, by: string, reason?: string): Promise<void> {
    if (a.state === 'acknowledged') return void this.d.log.info({ alarmId: a.alarmId, by }, 'alarm already acknowledged');
    const att = this.attempt;
    await this.commit([next(a, 'acknowledged', { by, ...(reason ? { reason } : {}) })]);
    // Talking goes on; only the "talk counts as acknowledged" timer has nothing left to do.
    if (att?.phase === 'talking') this.clearTimers(att);
  }

  private async close(a: AlarmRecord, by: string, reason?: string): Promise<void> {
    await this.commit([next(a, 'reset', { by, ...(reason ? { reason } : {}) })]);
    clearTimeout(this.pending);
    this.unplaced = false;
    const att = this.attempt;
    if (att) {
      this.drop(att);
      // The alarm's call ends with it, except when the desk reset it on that very call: the desk hangs up when it is done talking.
      const inBand = by === 'dtmf' || by === 'info';
      if (!att.answered || !inBand) att.handle?.end('alarm reset');
    }
    this.d.faults.clear('alarm');
  }

  /** call.cancel during an alarm: allowed only where the site allows the caller to cancel, and never once acknowledged. */
  private cancelled(source: string): void {
    if (!this.alarm) return;
    void this.queue('cancel', source, async () => {
      const a = this.alarm;
      if (!a) return;
      if (!this.d.config().sip.emergencyCancellable) throw new AlarmRefused(source, 'an alarm is reset only by the desk, a dispatcher or staff on site');
      if (a.state === 'acknowledged') throw new AlarmRefused(source, 'the alarm is acknowledged: only a reset closes it');
      await this.close(a, 'local', `cancelled at the kiosk (${source}; sip.emergencyCancellable)`);
    }).catch(() => {});
  }

  private input(input: 'tamper' | 'door' | 'powerFail'): void {
    const c = this.d.config();
    const rule = c.sip.alarm.raiseOn.find((r) => r.input === input) ?? (input === 'tamper' && c.io.tamper?.callDesk ? { input, category: 'tamper' } : undefined);
    if (rule) this.request(`input:${input}`, rule.category ?? input);
  }

  // ---- helpers ------------------------------------------------------------

  private check(alarmId: string | undefined, source: string): AlarmRecord {
    const a = this.alarm;
    if (!a) throw new AlarmRefused(source, alarmId ? `alarm ${alarmId} is not open` : 'no open alarm');
    if (alarmId && alarmId !== a.alarmId) throw new AlarmRefused(source, `alarm ${alarmId} is not the open alarm (${a.alarmId})`);
    return a;
  }

  private target(index: number): { uri: string; index: number } {
    const targets = this.d.config().sip.targets.emergency;
    const i = index % targets.length;
    return { uri: targets[i]!.uri, index: i };
  }

  /** Persist, then let the world know. */
  private async commit(recs: AlarmRecord[]): Promise<void> {
    await this.persist(recs);
    const last = recs.at(-1)!;
    this.alarm = last.state === 'reset' ? undefined : last;
    this.announce(recs);
  }

  private announce(recs: AlarmRecord[]): void {
    setupTrace.mark('announce');
    for (const r of recs) {
      const pub = publicState(r);
      // The world hears at once (lamps, screen, hub); the log line, a diagnosis, waits for the call's first RTP packet.
      const line = () => this.d.log.info({ alarm: pub }, `alarm ${r.state}`);
      if (this.d.setup) this.d.setup.afterSetup(line);
      else line();
      this.d.bus.emit('alarm.state', pub);
    }
    setupTrace.mark('announced');
  }

  /** Appends and fdatasyncs; `onWritten` hears when the write() returned (or the append failed, or there is no journal). */
  private async persist(recs: AlarmRecord[], onWritten?: () => void): Promise<void> {
    const j = this.d.journal;
    if (!j) return onWritten?.();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        j.append(recs, onWritten && (() => onWritten())),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no fsync within ${PERSIST_TIMEOUT_MS} ms`)), PERSIST_TIMEOUT_MS))),
      ]);
      if (this.storeFailing) {
        this.storeFailing = false;
        this.d.storeProblem(undefined);
      }
    } catch (err) {
      this.d.log.error({ err, file: j.file }, 'alarm journal write failed; the alarm goes on in memory');
      this.storeFailing = true;
      this.d.storeProblem(`alarm journal not written (${(err as Error).message}); the alarm goes on in memory`);
    } finally {
      clearTimeout(timer);
      onWritten?.();
    }
  }

  /** Runs one step of the policy on the queue; refusals and exceptions are never silent. */
  private queue<T>(where: string, source: string, fn: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(async () => {
      if (this.stopped) throw new AlarmRefused(source, 'the kiosk is stopping');
      this.inject(where);
      return fn();
    });
    this.chain = run.then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof AlarmRefused) {
          this.d.log.info({ source: err.source, reason: err.message, alarmId: this.alarm?.alarmId }, 'alarm request refused');
          this.d.bus.emit('alarm.refused', { source: err.source, reason: err.message, ...(this.alarm ? { alarmId: this.alarm.alarmId } : {}) });
        } else this.failed(where, err);
      },
    );
    return run;
  }

  /** An exception in the policy: an event, a log line, a fault; the alarm is taken up again after a short backoff. */
  private failed(where: string, err: unknown): void {
    const error = (err as Error)?.message ?? String(err);
    this.d.log.error({ err, where, alarmId: this.alarm?.alarmId }, 'alarm policy failed; retrying after a short backoff');
    this.d.bus.emit('alarm.error', { where, error, ...(this.alarm ? { alarmId: this.alarm.alarmId } : {}) });
    this.d.faults.raise('alarm', `${where}: ${error}`);
    this.schedule(ERROR_BACKOFF_MS, () => void this.queue('recover', 'retry', () => this.recover(where)).catch(() => {}));
  }

  /** After an exception: an unacknowledged alarm must have a call going, else one is placed. */
  private async recover(where: string): Promise<void> {
    const a = this.alarm;
    if (!a || a.state === 'acknowledged') return;
    const att = this.attempt;
    if (att && !att.over) return; // its call goes on; its reports drive the alarm
    if (att) this.drop(att);
    // A call that was placed and is over: the next desk; an attempt that never left: the same desk again.
    const index = att ? (att.incoming ? (a.targetIndex ?? -1) : att.targetIndex) + 1 : Math.max(0, a.targetIndex ?? 0);
    await this.callNext(index, `retry after an error in ${where}`);
  }

  private inject(where: string): void {
    if (this.throwOnce.delete(where)) throw new Error(`injected failure at "${where}" (test seam HELPPOINT_ALARM_THROW_ONCE)`);
  }

  private schedule(ms: number, fn: () => void): void {
    clearTimeout(this.pending);
    if (this.stopped) return;
    this.pending = setTimeout(fn, ms);
  }

  private timer(ms: number, where: string, att: Attempt, fn: () => Promise<void>): NodeJS.Timeout {
    return setTimeout(() => {
      if (att === this.attempt) void this.queue(where, 'timer', fn).catch(() => {});
    }, ms);
  }

  private clearTimers(att: Attempt): void {
    att.timers.forEach(clearTimeout);
    att.timers.length = 0;
    if (att.unreachable) clearTimeout(att.unreachable.timer);
    att.unreachable = undefined;
  }

  /** Forgets an attempt: nothing it reports later counts. */
  private drop(att: Attempt): void {
    this.clearTimers(att);
    if (this.attempt === att) this.attempt = undefined;
  }
}

/** The next record: the alarm's identity and current call carry over, `by` and `reason` belong to this transition only. */
function next(a: AlarmRecord, state: AlarmStateName, patch: Partial<AlarmRecord> = {}): AlarmRecord {
  const { by: _by, reason: _reason, ...keep } = a;
  const r = { ...keep, ...patch, state, at: new Date().toISOString(), seq: a.seq + 1 } as AlarmRecord;
  for (const k of Object.keys(r) as (keyof AlarmRecord)[]) if (r[k] === undefined) delete r[k];
  return r;
}

function publicState(r: AlarmRecord): AlarmState {
  const { targetIndex: _t, ...pub } = r;
  return pub;
}

/** `action=ack` or `action=reset`, optionally `alarm=<alarmId>`; lines or `;`/`&` separated. */
function parseInfo(body: string): { action?: string; alarm?: string } {
  const out: Record<string, string> = {};
  for (const part of body.split(/[\r\n;&]+/)) {
    const m = /^\s*([a-z-]+)\s*=\s*(\S*)\s*$/i.exec(part);
    if (m) out[m[1]!.toLowerCase()] = m[2]!;
  }
  return { action: out.action?.toLowerCase(), alarm: out.alarm };
}
