// The test call's steps, in the contract's order: registered, invite,
// audio-out, audio-in, dtmf, cleared. A failed step skips the later call steps
// (the call is ended); a real press ends the test at once ('interrupted').
import type { CallService } from '../intercom/alarm-call.js';
import type { TestCallEvent, TestCallHandle } from '../intercom/test-call.js';
import { ANSWERER_TONE_HZ, DetectorOutput, KIOSK_TONE_HZ, ToneDetector, ToneInput } from './tone.js';
import { CALL_STEPS, type StepName, type SupervisionStep } from './events.js';

export interface CallTestOptions {
  calls?: CallService;
  testId: string;
  callId: string;
  target: string;
  /** registrars configured, and which of them the kiosk is registered with now */
  registrars: string[];
  registeredWith: string[];
  answerTimeoutMs: number;
  toneTimeoutMs: number;
  dtmfTimeoutMs: number;
  /** the live call, for metrics */
  onCall?: (h: TestCallHandle | undefined) => void;
}

export interface CallTestResult {
  steps: SupervisionStep[];
  interrupted: boolean;
}

class Interrupted extends Error {}

export async function runCallTest(o: CallTestOptions): Promise<CallTestResult> {
  const steps: SupervisionStep[] = [];
  const done = new Set<StepName>();
  const push = (s: SupervisionStep) => {
    steps.push(s);
    done.add(s.step);
  };
  const skipRest = (why: string) => {
    for (const name of CALL_STEPS) if (!done.has(name)) push({ step: name, ok: false, ms: 0, detail: `skipped: ${why}` });
  };

  // registered
  if (o.registrars.length === 0) push({ step: 'registered', ok: true, ms: 0, detail: 'no registrar configured: the call goes directly to the target' });
  else if (o.registeredWith.length) push({ step: 'registered', ok: true, ms: 0, detail: `registered with ${o.registeredWith.join(', ')}` });
  else {
    push({ step: 'registered', ok: false, ms: 0, detail: `not registered with any of ${o.registrars.join(', ')}` });
    skipRest('registered failed');
    return { steps, interrupted: false };
  }

  const calls = o.calls;
  if (!calls?.placeTestCall) {
    push({ step: 'invite', ok: false, ms: 0, detail: 'the intercom is not running' });
    skipRest('invite failed');
    return { steps, interrupted: false };
  }

  const heard = new ToneDetector(ANSWERER_TONE_HZ);
  const tone = new ToneInput(8000, KIOSK_TONE_HZ);
  let interrupt!: (reason: string) => void;
  const interrupted = new Promise<never>((_, reject) => (interrupt = (r) => reject(new Interrupted(r))));
  interrupted.catch(() => {});
  let onEvent: (e: TestCallEvent) => void = () => {};
  let ended: { reason: string } | undefined;
  const endWaiters: ((r: string) => void)[] = [];
  const t0 = performance.now();
  const handle = calls.placeTestCall({ callId: o.callId, testId: o.testId, target: o.target, input: tone, output: new DetectorOutput(heard) }, (e) => {
    if (e.type === 'ended') {
      ended = { reason: e.reason };
      if (e.preempted) interrupt(e.reason);
      for (const w of endWaiters.splice(0)) w(e.reason);
    }
    onEvent(e);
  });
  o.onCall?.(handle);
  const whenEnded = () => new Promise<string>((r) => (ended ? r(ended.reason) : endWaiters.push(r)));
  const within = <T>(p: Promise<T>, ms: number, onTimeout: T) => Promise.race([p, interrupted, new Promise<T>((r) => setTimeout(() => r(onTimeout), ms).unref())]);
  const failAndEnd = (s: SupervisionStep) => {
    push(s);
    skipRest(`${s.step} failed`);
    handle.end(`test failed at ${s.step}`);
  };

  try {
    // invite: answered?
    const answer = await within(
      new Promise<{ ok: boolean; detail: string }>((resolve) => {
        onEvent = (e) => {
          if (e.type === 'connected') resolve({ ok: true, detail: `answered by ${o.target}` });
        };
        void whenEnded().then((reason) => resolve({ ok: false, detail: `${o.target}: ${reason}` }));
      }),
      o.answerTimeoutMs,
      { ok: false, detail: `${o.target}: no answer within ${o.answerTimeoutMs} ms` },
    );
    const answeredAt = performance.now();
    const inviteStep: SupervisionStep = { step: 'invite', ok: answer.ok, ms: Math.round(answeredAt - t0), detail: answer.detail };
    if (!answer.ok) {
      failAndEnd(inviteStep);
      return { steps, interrupted: false };
    }
    push(inviteStep);

    // audio-out (the answerer's INFO) and audio-in (its tone, here) run side by side from the answer.
    let report: ((body: string) => void) | undefined;
    let digit: ((d: string) => void) | undefined;
    onEvent = (e) => {
      if (e.type === 'info') report?.(e.body);
      if (e.type === 'dtmf') digit?.(e.digit);
    };
    const hangupBeforeEnd = whenEnded().then((reason) => ({ ok: false, detail: `call ended: ${reason}` }));
    const outP = within(
      Promise.race([
        new Promise<{ ok: boolean; detail: string }>((resolve) => {
          report = (body) => {
            const m = /audio-out\s*=\s*(ok|fail)/i.exec(body);
            if (m) resolve({ ok: m[1]!.toLowerCase() === 'ok', detail: `the answerer reports audio-out=${m[1]!.toLowerCase()} (${KIOSK_TONE_HZ} Hz ${m[1]!.toLowerCase() === 'ok' ? 'heard' : 'not heard'} there)` });
          };
        }),
        hangupBeforeEnd,
      ]),
      o.toneTimeoutMs,
      { ok: false, detail: `no audio-out report from the answerer within ${o.toneTimeoutMs} ms` },
    ).then((r) => ({ ...r, ms: Math.round(performance.now() - answeredAt) }));
    const inP = within(
      Promise.race([heard.wait(o.toneTimeoutMs).then((ok) => ({ ok, detail: heard.describe() })), hangupBeforeEnd]),
      o.toneTimeoutMs + 100,
      { ok: false, detail: heard.describe() },
    ).then((r) => ({ ...r, ms: Math.round(performance.now() - answeredAt) }));
    const [out, inn] = await Promise.all([outP, inP]);
    if (!out.ok) {
      failAndEnd({ step: 'audio-out', ...out });
      return { steps, interrupted: false };
    }
    push({ step: 'audio-out', ...out });
    if (!inn.ok) {
      failAndEnd({ step: 'audio-in', ...inn });
      return { steps, interrupted: false };
    }
    push({ step: 'audio-in', ...inn });

    // dtmf: our 1 out, the answerer's 2 back.
    const d0 = performance.now();
    const got = new Promise<{ ok: boolean; detail: string }>((resolve) => {
      digit = (d) => {
        if (d === '2') resolve({ ok: true, detail: 'sent 1 (RFC 4733), received 2' });
      };
    });
    const sent = handle.sendDtmf('1');
    const dt = sent
      ? await within(Promise.race([got, hangupBeforeEnd]), o.dtmfTimeoutMs, { ok: false, detail: `sent 1 (RFC 4733), no 2 back within ${o.dtmfTimeoutMs} ms` })
      : { ok: false, detail: 'the answerer did not offer telephone-event (RFC 4733)' };
    const dtmfStep: SupervisionStep = { step: 'dtmf', ...dt, ms: Math.round(performance.now() - d0) };
    if (!dt.ok) {
      failAndEnd(dtmfStep);
      return { steps, interrupted: false };
    }
    push(dtmfStep);

    // cleared: BYE answered with 200.
    const c0 = performance.now();
    const cleared = await Promise.race([handle.hangUp(4000), interrupted]);
    push({ step: 'cleared', ok: cleared.ok, ms: Math.round(performance.now() - c0), detail: cleared.detail });
    if (!cleared.ok) handle.end('test failed at cleared');
    return { steps, interrupted: false };
  } catch (err) {
    if (!(err instanceof Interrupted)) {
      handle.end('test error');
      throw err;
    }
    skipRest(`interrupted: ${err.message}`);
    return { steps, interrupted: true };
  } finally {
    o.onCall?.(undefined);
    void tone.stop();
  }
}
