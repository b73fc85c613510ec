// A small contract caller: places a test call the way a kiosk does
// (docs/supervision.md) from one of the hub's SIP endpoints (the same module),
// so tests and the fleet benchmark drive the test answerer without a kiosk
// process. One endpoint places many calls (each a "light kiosk").
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { CODECS } from '../../src/audio/codecs/index.js';
import { SipEndpoint } from '../../src/hub/sip/endpoint.js';
import { ToneDetector, ToneInput } from '../../src/hub/supervision/tone.js';
import type { TestStep } from '../../src/hub/storage/supervision.js';

export interface CallerResult {
  testId: string;
  kiosk: string;
  passed: boolean;
  failedStep?: string;
  steps: TestStep[];
  /** the final SIP status of a refused INVITE */
  refusedWith?: number;
  ms: number;
}

export const newTestId = (kiosk: string) => `${kiosk}-t-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;

export class ContractCaller {
  readonly endpoint: SipEndpoint;
  private readonly tone = new ToneInput(1000, 8000);

  constructor(opts: { localHost?: string; rtpPortRange?: { min: number; max: number } } = {}) {
    const localHost = opts.localHost ?? '127.0.0.1';
    this.endpoint = new SipEndpoint({
      account: { user: 'contract-caller', domain: localHost, registrars: [], registrationMode: 'serial', expiresS: 300 },
      localHost,
      rtpPortRange: opts.rtpPortRange,
      codecs: ['PCMU'],
      log: pino({ level: 'silent' }),
    });
  }

  start(): Promise<void> {
    return this.endpoint.start();
  }

  stop(): Promise<void> {
    return this.endpoint.stop();
  }

  /**
   * One test call by the contract. `headers` replaces the test headers (to
   * test refusals); `sendTone` false sends silence (the answerer hears no tone).
   */
  async test(target: string, kiosk: string, o: { testId?: string; headers?: string[]; sendTone?: boolean; timeoutMs?: number; holdMs?: number } = {}): Promise<CallerResult> {
    const t0 = performance.now();
    const testId = o.testId ?? newTestId(kiosk);
    const steps: TestStep[] = [];
    const step = (name: string, ok: boolean, since: number, detail = '') => steps.push({ step: name, ok, ms: Math.round(performance.now() - since), detail });
    const timeoutMs = o.timeoutMs ?? 8000;
    const silent = { rate: 8000, onFrame: () => () => undefined, start: async () => undefined, stop: async () => undefined };
    const headers = o.headers ?? [`X-Helppoint-Test: ${testId}`, `X-Helppoint-Kiosk: ${kiosk}`];
    step('registered', true, t0, 'no registrar (direct)');
    const tInvite = performance.now();
    const call = await this.endpoint.call(target, { input: o.sendTone === false ? silent : this.tone, headers });
    let info: string | undefined;
    let toneAt = 0;
    let dtmf2At = 0;
    const established = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      call.once('established', () => (clearTimeout(timer), resolve(true)));
      call.once('ended', () => (clearTimeout(timer), resolve(false)));
    });
    const finish = (failed: string): CallerResult => {
      for (const name of ['invite', 'audio-out', 'audio-in', 'dtmf', 'cleared']) if (!steps.some((s) => s.step === name)) steps.push({ step: name, ok: false, ms: 0, detail: `skipped: ${failed} failed` });
      return { testId, kiosk, passed: false, failedStep: failed, steps, ms: Math.round(performance.now() - t0) };
    };
    if (!established) {
      step('invite', false, tInvite, call.endReason ?? 'no answer');
      await call.hangup().catch(() => undefined);
      const code = Number(/^(\d{3})/.exec(call.endReason ?? '')?.[1]);
      return { ...finish('invite'), ...(code ? { refusedWith: code } : {}) };
    }
    step('invite', true, tInvite, '200 OK');
    const session = call.session;
    const base = session.delegate ?? {};
    session.delegate = {
      ...base,
      onInfo: (req) => {
        const type = (req.request.getHeader('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (type === 'application/x-helppoint-test') {
          info = (req.request.body ?? '').trim();
        }
        void req.accept();
      },
    };
    const stream = call.media?.stream;
    if (stream?.codec) {
      const dec = CODECS[stream.codec.name]();
      const det = new ToneDetector(2000, stream.codec.rate);
      const pcm = new Int16Array(stream.codec.rate / 25);
      stream.onAudioPacket = (p) => {
        if (!det.detected && det.push(pcm.subarray(0, dec.decodeInto(p.payload, 0, p.payload.length, pcm)))) toneAt = performance.now();
      };
    }
    call.on('media', (e: { type: string; digit?: string }) => {
      if (e.type === 'dtmf' && e.digit === '2') dtmf2At = performance.now();
    });
    const tMedia = performance.now();
    const until = (cond: () => boolean, ms: number) =>
      new Promise<boolean>((resolve) => {
        const end = performance.now() + ms;
        const tick = () => (cond() ? resolve(true) : performance.now() > end || call.state === 'ended' ? resolve(false) : setTimeout(tick, 10));
        tick();
      });
    // audio-in (the answerer's tone), then DTMF 1 -> 2; audio-out = the answerer's INFO.
    const heard = await until(() => toneAt > 0, 5000);
    if (heard) call.media?.sendDtmf('1');
    const gotInfo = await until(() => info !== undefined, 6000);
    const gotDtmf = heard && (await until(() => dtmf2At > 0, 3000));
    if (o.holdMs) await new Promise((r) => setTimeout(r, o.holdMs));
    step('audio-out', gotInfo && info === 'audio-out=ok', tMedia, info ?? 'no INFO');
    step('audio-in', heard, tMedia, heard ? `2000 Hz after ${Math.round(toneAt - tMedia)} ms` : 'no 2000 Hz tone');
    step('dtmf', gotDtmf, tMedia, gotDtmf ? 'sent 1, received 2' : 'no digit 2');
    const tBye = performance.now();
    const cleared = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      session
        .bye({ requestDelegate: { onAccept: () => (clearTimeout(timer), resolve(true)), onReject: () => (clearTimeout(timer), resolve(false)) } })
        .catch(() => (clearTimeout(timer), resolve(false)));
    });
    step('cleared', cleared, tBye, cleared ? 'BYE answered 200' : 'BYE not answered');
    const failed = steps.find((s) => !s.ok)?.step;
    return { testId, kiosk, passed: !failed, ...(failed ? { failedStep: failed } : {}), steps, ms: Math.round(performance.now() - t0) };
  }
}
