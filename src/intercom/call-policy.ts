// The call policy: an emergency call goes to the first desk; busy (486),
// unavailable (480, 503), timeout (408) or no answer within the ring timeout
// move it to the next desk; 182 Queued keeps it waiting; after the last desk
// it starts again from the first, until a person answers (EN 81-28). An
// information call tries its own desks once each and can be cancelled.
// Every attempt and outcome is a 'call.state' event.
import { randomUUID } from 'node:crypto';
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { CallKind, CallState } from './events.js';
import { callHeaders } from './headers.js';
import { resolveTarget } from './targets.js';

const ROUND_PAUSE_MS = 1000; // between rounds, so a dead network does not spin

export interface CallContext {
  ua: UserAgent;
  bus: Bus;
  log: Logger;
  config: () => KioskConfig;
  /** wires media events, DTMF and INFO of a session */
  attach: (call: OutgoingCall, session: Session) => void;
}

export class OutgoingCall {
  readonly id = randomUUID();
  readonly ref: string;
  attempt = 0;
  state: CallState = 'calling';
  session?: Session;
  target?: string;
  connectedAt?: number;
  /** why the call ended, when the kiosk ended it (media timeout, preempted by an alarm) */
  endReason?: string;
  private cancelled = false;
  /** clears the current attempt's timers; each attempt owns its own, so a late answer to an abandoned one cannot touch them */
  private stopAttemptTimers?: () => void;
  private done!: () => void;
  readonly finished = new Promise<void>((r) => (this.done = r));

  constructor(
    private readonly ctx: CallContext,
    readonly kind: CallKind,
    readonly category: string | undefined,
    readonly source: string,
  ) {
    this.ref = `${ctx.config().id}-${Date.now().toString(36)}-${this.id.slice(0, 4)}`;
  }

  private emit(state: CallState, reason?: string): void {
    this.state = state;
    this.ctx.bus.emit('call.state', { callId: this.id, kind: this.kind, state, target: this.target, attempt: this.attempt, reason });
  }

  /** Runs the policy until answered and hung up, cancelled, or (information) out of desks. */
  async run(): Promise<void> {
    try {
      for (let round = 0; !this.cancelled; round++) {
        const targets = this.ctx.config().sip.targets[this.kind]; // read now: the config may have changed live
        for (const t of targets) {
          if (this.cancelled) break;
          const outcome = await this.tryTarget(t);
          if (outcome === 'answered') {
            this.emit('ended', this.endReason ?? 'hung up');
            return;
          }
        }
        if (this.kind === 'information' || this.cancelled) break;
        this.ctx.log.warn({ callId: this.id, round }, 'no desk answered; trying again from the first');
        await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
      }
      this.emit(this.cancelled ? 'ended' : 'failed', this.cancelled ? (this.endReason ?? 'cancelled') : 'no desk answered');
    } finally {
      this.done();
    }
  }

  private tryTarget(t: { uri: string; ringTimeoutS: number; unreachableAfterS: number }): Promise<'answered' | 'next'> {
    const { uri } = t;
    const ringTimeoutMs = t.ringTimeoutS * 1000;
    const attempt = ++this.attempt;
    this.target = uri;
    const target = UserAgent.makeURI(resolveTarget(uri, this.ctx.config().sip));
    if (!target) {
      this.ctx.log.error({ uri }, 'invalid target URI');
      return Promise.resolve('next');
    }
    const config = this.ctx.config();
    const inviter = new Inviter(this.ctx.ua, target, {
      extraHeaders: callHeaders(config, { kind: this.kind, category: this.category, ref: this.ref, attempt: this.attempt }),
    });
    this.session = inviter;
    this.ctx.attach(this, inviter);
    this.emit('calling');
    return new Promise((resolve) => {
      let ringTimer: NodeJS.Timeout | undefined;
      // A target with no sign of life in time (target.unreachableAfterS) is given up early: as in the alarm
      // controller, a console desk must ring (the SIP server answers 100 Trying itself), any other target answer.
      let unreachable: { timer: NodeJS.Timeout; sign: 'response' | 'ringing' } | undefined;
      const alive = (sign: 'response' | 'ringing') => {
        if (!unreachable || (unreachable.sign === 'ringing' && sign !== 'ringing')) return;
        clearTimeout(unreachable.timer);
        unreachable = undefined;
      };
      this.stopAttemptTimers = () => (clearTimeout(ringTimer), unreachable && clearTimeout(unreachable.timer));
      let answered = false;
      let queued = false;
      const giveUp = (reason: string) => {
        clearTimeout(ringTimer);
        if (unreachable) clearTimeout(unreachable.timer);
        this.ctx.log.info({ callId: this.id, target: uri, reason }, 'giving up on this desk; next desk');
        this.emitAttempt(reason, attempt, uri);
        inviter.cancel().catch(() => {});
        // A desk that never answered at all gets no CANCEL transaction to finish: move on anyway.
        ringTimer = setTimeout(() => {
          if (inviter.state !== SessionState.Terminated && !answered) {
            void inviter.dispose().catch(() => {});
            resolve('next');
          }
        }, 2000);
      };
      const armRing = () => {
        clearTimeout(ringTimer);
        ringTimer = setTimeout(() => {
          if (queued) return; // a queue keeps us waiting
          giveUp('no answer');
        }, ringTimeoutMs);
      };
      armRing();
      if (t.unreachableAfterS > 0 && t.unreachableAfterS < t.ringTimeoutS) {
        const sign = /^(desk|group):/.test(uri) ? 'ringing' : 'response';
        const s = t.unreachableAfterS;
        unreachable = { sign, timer: setTimeout(() => giveUp(sign === 'ringing' ? `unreachable: the desk did not ring within ${s} s` : `unreachable: no response within ${s} s`), s * 1000) };
      }
      inviter.stateChange.addListener((s) => {
        if (s === SessionState.Established) {
          answered = true;
          alive('ringing');
          clearTimeout(ringTimer);
          this.connectedAt = Date.now();
          this.emit('connected');
        } else if (s === SessionState.Terminated) {
          clearTimeout(ringTimer);
          if (unreachable) clearTimeout(unreachable.timer);
          resolve(answered ? 'answered' : 'next');
        }
      });
      inviter
        .invite({
          requestDelegate: {
            onTrying: () => alive('response'),
            onProgress: (res) => {
              if (this.session !== inviter) return; // a late provisional of an abandoned attempt
              const code = res.message.statusCode ?? 0;
              if (code === 180 || code === 182 || code === 183) alive('ringing');
              if (code === 182) {
                queued = true;
                if (this.state !== 'queued') this.emit('queued');
              } else if (code === 180 || code === 183) {
                if (queued) {
                  queued = false;
                  armRing();
                }
                if (this.state !== 'ringing') this.emit('ringing');
              }
            },
            onReject: (res) => {
              const code = res.message.statusCode ?? 0;
              this.emitAttempt(`${code} ${res.message.reasonPhrase ?? ''}`.trim(), attempt, uri);
            },
          },
        })
        .catch((err: Error) => {
          this.ctx.log.warn({ callId: this.id, target: uri, err: err.message }, 'INVITE could not be sent');
          this.emitAttempt(`not sent: ${err.message}`, attempt, uri);
          clearTimeout(ringTimer);
          resolve('next');
        });
    });
  }

  private emitAttempt(reason: string, attempt: number, target: string): void {
    // An attempt's outcome (named by its own number, even when it comes late): the call goes on (next desk), so the state stays "calling".
    this.ctx.bus.emit('call.state', { callId: this.id, kind: this.kind, state: 'calling', target, attempt, reason });
  }

  /** Ends the call from the kiosk side. Emergency calls refuse unless allowed. */
  cancel(force = false): boolean {
    if (this.kind === 'emergency' && !force && !this.ctx.config().sip.emergencyCancellable) return false;
    this.cancelled = true;
    this.stopAttemptTimers?.();
    const s = this.session;
    if (s?.state === SessionState.Established) void s.bye().catch(() => {});
    else if (s instanceof Inviter && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) {
      void s.cancel().catch(() => {});
      // A desk that has not answered anything yet gets no CANCEL transaction to finish: end the call here anyway.
      setTimeout(() => {
        if (s.state !== SessionState.Terminated) void s.dispose().catch(() => {});
      }, 2000);
    }
    return true;
  }
}
