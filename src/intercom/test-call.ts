// The supervision test call (issue 15): one INVITE over the alarm's own path
// (same user agent, transports and registrar), marked as a test in its
// headers, carrying a test tone instead of the microphone and handing what it
// receives to a detector instead of the loudspeaker. The intercom keeps it as
// its active call, so a real press ends it at once (preempt) and the alarm's
// INVITE leaves without waiting. Never a door code, never shown to the public.
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { AudioInput, AudioOutput } from '../audio/types.js';
import { callHeaders } from './headers.js';
import { RtpSessionDescriptionHandler } from './media/handler.js';
import { resolveTarget } from './targets.js';

export const TEST_INFO_TYPE = 'application/x-helppoint-test';

export type TestCallEvent =
  | { type: 'connected' }
  /** SIP INFO application/x-helppoint-test from the answerer (body as sent) */
  | { type: 'info'; body: string }
  /** a DTMF digit from the answerer (RFC 4733 or INFO dtmf-relay) */
  | { type: 'dtmf'; digit: string }
  /** preempted: ended by a real call (a press) */
  | { type: 'ended'; reason: string; answered: boolean; preempted: boolean };

export type TestCallListener = (e: TestCallEvent) => void;

export interface TestCallRequest {
  callId: string;
  testId: string;
  target: string;
  /** what the call sends (the test tone) */
  input: AudioInput;
  /** where what the call receives goes (the detector) */
  output: AudioOutput;
}

export interface TestCallHandle {
  readonly callId: string;
  /** RFC 4733 digits into the call; false when no telephone-event was negotiated */
  sendDtmf(digits: string): boolean;
  /** BYE; resolves with the answer to it ("cleared" = 200) */
  hangUp(timeoutMs?: number): Promise<{ ok: boolean; detail: string }>;
  /** ends the call now (CANCEL or BYE), without waiting */
  end(reason: string, preempted?: boolean): void;
  /** the media statistics of the call */
  stats(): ReturnType<RtpSessionDescriptionHandler['stats']> | undefined;
}

export interface TestCallContext {
  ua: UserAgent;
  log: Logger;
  config: () => KioskConfig;
  /** the media the factory must give this session */
  media: (session: Session, m: { input: AudioInput; output: AudioOutput } | undefined) => void;
  activate: (callId: string, session: Session, listener: TestCallListener, handle: TestCallHandle) => void;
  release: (callId: string) => void;
}

export function placeTestCall(ctx: TestCallContext, req: TestCallRequest, listener: TestCallListener): TestCallHandle {
  const { log } = ctx;
  let answered = false;
  let over = false;
  let preempted = false;
  let endReason: string | undefined;
  let session: Inviter | undefined;
  const report = (e: TestCallEvent) => {
    try {
      listener(e);
    } catch (err) {
      log.error({ err, callId: req.callId, event: e.type }, 'test call listener failed');
    }
  };
  const finish = (reason: string) => {
    if (over) return;
    over = true;
    ctx.release(req.callId);
    if (session) ctx.media(session, undefined);
    report({ type: 'ended', reason, answered, preempted });
  };
  const handle: TestCallHandle = {
    callId: req.callId,
    sendDtmf: (d) => {
      const sdh = session?.sessionDescriptionHandler;
      return sdh instanceof RtpSessionDescriptionHandler ? sdh.sendDtmf(d) : false;
    },
    stats: () => {
      const sdh = session?.sessionDescriptionHandler;
      return sdh instanceof RtpSessionDescriptionHandler ? sdh.stats() : undefined;
    },
    hangUp: (timeoutMs = 4000) =>
      new Promise((resolve) => {
        const s = session;
        if (!s || s.state !== SessionState.Established) return resolve({ ok: false, detail: `no call to clear (${s?.state ?? 'never placed'})` });
        endReason ??= 'test over';
        const t0 = performance.now();
        const timer = setTimeout(() => resolve({ ok: false, detail: `no answer to BYE within ${timeoutMs} ms` }), timeoutMs);
        void s
          .bye({
            requestDelegate: {
              onAccept: (res) => {
                clearTimeout(timer);
                resolve({ ok: true, detail: `BYE answered ${res.message.statusCode} in ${Math.round(performance.now() - t0)} ms` });
              },
              onReject: (res) => {
                clearTimeout(timer);
                resolve({ ok: false, detail: `BYE answered ${res.message.statusCode} ${res.message.reasonPhrase ?? ''}`.trim() });
              },
            },
          })
          .catch((err: Error) => {
            clearTimeout(timer);
            resolve({ ok: false, detail: `BYE not sent: ${err.message}` });
          });
      }),
    end: (reason, byPress = false) => {
      if (over) return;
      preempted ||= byPress;
      endReason ??= reason;
      const s = session;
      if (!s) return finish(reason);
      if (s.state === SessionState.Established) void s.bye().catch(() => {});
      else if (s.state === SessionState.Initial || s.state === SessionState.Establishing) void s.cancel().catch(() => {});
      // The call is the kiosk's no longer, whatever the far end does with the CANCEL/BYE.
      finish(reason);
      if (s.state !== SessionState.Terminated) setTimeout(() => s.state !== SessionState.Terminated && void s.dispose().catch(() => {}), 2000).unref();
    },
  };

  const uri = UserAgent.makeURI(resolveTarget(req.target, ctx.config().sip));
  if (!uri) {
    queueMicrotask(() => finish(`invalid target URI ${req.target}`));
    return handle;
  }
  const config = ctx.config();
  const headers = callHeaders(config, { kind: 'information', category: 'test', ref: req.testId, attempt: 1 }).filter((h) => !h.startsWith('Subject:'));
  const inviter = new Inviter(ctx.ua, uri, {
    extraHeaders: [`X-Helppoint-Test: ${req.testId}`, ...headers, `Subject: TEST call (supervision) from ${config.id}`],
  });
  session = inviter;
  ctx.media(inviter, { input: req.input, output: req.output });
  ctx.activate(req.callId, inviter, report, handle);
  inviter.stateChange.addListener((s) => {
    if (s === SessionState.Established && !answered) {
      answered = true;
      report({ type: 'connected' });
    } else if (s === SessionState.Terminated) {
      queueMicrotask(() => finish(endReason ?? (answered ? 'the answerer hung up' : 'not answered')));
    }
  });
  inviter
    .invite({
      requestDelegate: {
        onReject: (res) => {
          endReason ??= `${res.message.statusCode ?? 0} ${res.message.reasonPhrase ?? ''}`.trim();
        },
      },
    })
    .catch((err: Error) => {
      endReason ??= `not sent: ${err.message}`;
      void inviter.dispose().catch(() => {});
      finish(endReason);
    });
  return handle;
}
