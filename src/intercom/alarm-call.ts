// The narrow interface between the alarm controller (src/alarm/) and the
// intercom: "place this call to this target", "end it". The controller decides
// every placement, re-send and end of an alarm call; the intercom only carries
// one INVITE at a time out and reports what happened to it. Each attempt owns
// its own session and timers: nothing an abandoned attempt does later (a late
// 408, a BYE) can reach the current one, because the controller ignores
// reports of any attempt that is not its current one.
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { callHeaders } from './headers.js';
import { resolveTarget } from './targets.js';
import type { TestCallHandle, TestCallListener, TestCallRequest } from './test-call.js';

/** What happened to one alarm call, reported to the controller. */
export type AlarmCallEvent =
  /** the first response to the INVITE (100 Trying from the target or a proxy on the way) */
  | { type: 'trying' }
  | { type: 'ringing' }
  | { type: 'queued' }
  | { type: 'connected' }
  /** the desk's DTMF so far on this call (last digits, RFC 4733 or INFO dtmf-relay) */
  | { type: 'dtmf'; digits: string }
  /** SIP INFO application/x-helppoint-alarm from the desk, body as sent */
  | { type: 'info'; body: string }
  /** no RTP from the desk for this long (the media layer's report) */
  | { type: 'media-silent'; silentMs: number }
  | { type: 'ended'; reason: string; answered: boolean };

export type AlarmCallListener = (e: AlarmCallEvent) => void;

export interface AlarmCallRequest {
  /** chosen by the controller, so its 'calling' transition can name it before the INVITE leaves */
  callId: string;
  alarmId: string;
  attempt: number;
  target: string;
  category?: string;
  /** the INVITE is prepared at once but leaves only when this settles (the controller's write of the attempt) */
  gate?: Promise<unknown>;
}

export interface AlarmCallHandle {
  readonly callId: string;
  /** Ends the call from the kiosk side (CANCEL before an answer, BYE after). */
  end(reason: string): void;
}

/** The intercom as the alarm sees it (ctx.services.calls). */
export interface CallService {
  /** Places one INVITE now; an information call or a ringing call is ended first. Never throws for a bad target: reports 'ended'. */
  placeAlarmCall(req: AlarmCallRequest, listener: AlarmCallListener): AlarmCallHandle;
  /** A supervision test call (src/intercom/test-call.ts); throws when a call is in progress or an alarm is open. */
  placeTestCall?(req: TestCallRequest, listener: TestCallListener): TestCallHandle;
  /** the call in progress, if any */
  activeCall?(): unknown;
  /** the registrars the user agent is registered with now */
  registeredWith?(): string[];
}

/** The alarm as the intercom sees it (ctx.services.alarm). */
export interface AlarmHooks {
  /** an alarm is open (not reset): information calls are refused, a trusted desk's call-back is answered */
  isOpen(): boolean;
  /**
   * A trusted incoming call during an open alarm: the controller takes it as
   * the alarm's call (returns its listener) or declines (undefined: the call
   * is handled like any other incoming call).
   */
  adoptIncoming(call: AlarmCallHandle & { from: string }): AlarmCallListener | undefined;
}

export interface AlarmCallContext {
  ua: UserAgent;
  bus: Bus;
  log: Logger;
  config: () => KioskConfig;
  /** registers the session as the intercom's active call (media, DTMF, INFO, time limit) */
  activate: (callId: string, session: Session, listener: AlarmCallListener) => void;
  /** the call is over: the intercom forgets it if it is still the active one */
  release: (callId: string) => void;
}

/** A CANCEL to a desk that never sent a provisional response has no transaction to finish: give up on it after this. */
const CANCEL_GRACE_MS = 2000;

export function placeAlarmCall(ctx: AlarmCallContext, req: AlarmCallRequest, listener: AlarmCallListener): AlarmCallHandle {
  const { bus, log } = ctx;
  const { callId, attempt } = req;
  let state: 'calling' | 'ringing' | 'queued' | 'connected' = 'calling';
  let answered = false;
  let over = false;
  let endReason: string | undefined;
  let ending = false;
  let grace: NodeJS.Timeout | undefined;
  let session: Inviter | undefined;
  const emit = (s: 'calling' | 'ringing' | 'queued' | 'connected' | 'ended' | 'failed', reason?: string) =>
    bus.emit('call.state', { callId, kind: 'emergency', state: s, target: req.target, attempt, ...(reason ? { reason } : {}) });
  const report = (e: AlarmCallEvent) => {
    try {
      listener(e);
    } catch (err) {
      log.error({ err, callId, event: e.type }, 'alarm call listener failed');
    }
  };
  const finish = (reason: string) => {
    if (over) return;
    over = true;
    clearTimeout(grace);
    ctx.release(callId);
    emit(answered ? 'ended' : 'failed', reason);
    report({ type: 'ended', reason, answered });
  };

  const handle: AlarmCallHandle = {
    callId,
    end(reason: string) {
      if (over || ending) return;
      ending = true;
      endReason ??= reason;
      const s = session;
      if (!s) return finish(reason);
      log.info({ callId, reason }, 'ending alarm call');
      if (s.state === SessionState.Established) void s.bye().catch(() => {});
      else if (s.state === SessionState.Initial || s.state === SessionState.Establishing) void s.cancel().catch(() => {});
      grace = setTimeout(() => {
        if (s.state !== SessionState.Terminated) void s.dispose().catch(() => {});
        finish(reason);
      }, CANCEL_GRACE_MS);
    },
  };

  const uri = UserAgent.makeURI(resolveTarget(req.target, ctx.config().sip));
  if (!uri) {
    log.error({ callId, target: req.target }, 'invalid target URI for an alarm call');
    emit('calling');
    queueMicrotask(() => finish(`invalid target URI ${req.target}`));
    return handle;
  }
  const config = ctx.config();
  const inviter = new Inviter(ctx.ua, uri, {
    extraHeaders: [
      ...callHeaders(config, { kind: 'emergency', category: req.category, ref: req.alarmId, attempt }),
      `X-Helppoint-Alarm-Ack: dtmf=${config.sip.alarm.ackDtmf};reset=${config.sip.alarm.resetDtmf};info=application/x-helppoint-alarm`,
    ],
  });
  session = inviter;
  ctx.activate(callId, inviter, report);
  const gate = req.gate ?? Promise.resolve();
  void gate.then(() => !over && emit('calling'));
  inviter.stateChange.addListener((s) => {
    if (s === SessionState.Established && !answered) {
      answered = true;
      state = 'connected';
      emit('connected');
      report({ type: 'connected' });
    } else if (s === SessionState.Terminated) {
      // sip.js terminates the session before it hands us the final response (onReject): let that name the reason first.
      queueMicrotask(() => finish(endReason ?? (answered ? 'hung up' : 'not answered')));
    }
  });
  inviter
    .invite({
      // Our media handler builds the offer, then waits for the gate before sip.js sends the INVITE.
      sessionDescriptionHandlerOptions: { gate } as object,
      requestDelegate: {
        onTrying: () => report({ type: 'trying' }),
        onProgress: (res) => {
          const code = res.message.statusCode ?? 0;
          if (code === 182 && state !== 'queued') {
            state = 'queued';
            emit('queued');
            report({ type: 'queued' });
          } else if ((code === 180 || code === 183) && state !== 'ringing' && state !== 'connected') {
            state = 'ringing';
            emit('ringing');
            report({ type: 'ringing' });
          }
        },
        onReject: (res) => {
          endReason ??= `${res.message.statusCode ?? 0} ${res.message.reasonPhrase ?? ''}`.trim();
        },
      },
    })
    .catch((err: Error) => {
      log.warn({ callId, target: req.target, err: err.message }, 'alarm INVITE could not be sent');
      endReason ??= `not sent: ${err.message}`;
      void inviter.dispose().catch(() => {});
      finish(endReason);
    });
  return handle;
}
