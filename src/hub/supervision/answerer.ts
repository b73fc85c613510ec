// The test answerer: the hub's SIP endpoint (src/hub/sip/endpoint.ts, the
// module the PA page gateway uses) answering kiosks' test calls by the
// contract (docs/supervision.md):
//
//   INVITE with X-Helppoint-Test: <testId>, X-Helppoint-Kiosk: <kioskId>
//     (no X-Helppoint-Test: 403; a malformed one: 400) -> 200 OK at once
//   media: we send 2000 Hz at -12 dBFS from the answer on; we listen for 1000 Hz
//   INFO application/x-helppoint-test "audio-out=ok" once the kiosk's tone was
//     heard for 300 ms, or "audio-out=fail" toneTimeoutMs after the answer
//   RFC 4733 digit 1 from the kiosk -> we send digit 2
//   the kiosk hangs up; our observations go to storage (supervision_answers)
//
// A test call is never an alarm: it touches no alarm row and no desk. There is
// no limit on calls at once (a refusal would be a false failure of a kiosk):
// each call costs one RTP socket and its media timers; the tone comes from one
// shared clock. Our record is what we observed; the kiosk's own verdict
// arrives over its hub link and the two are joined by testId.
import type { Logger } from '../../core/log.js';
import type { Static } from '@sinclair/typebox';
import type { Account } from '../../config/schema/sip.js';
import { CODECS } from '../../audio/codecs/index.js';
import { SipEndpoint, type EndpointCall } from '../sip/endpoint.js';
import type { AnswerRow } from '../storage/supervision.js';
import { ToneDetector, ToneInput } from './tone.js';

export const TEST_HEADER = 'X-Helppoint-Test';
export const KIOSK_HEADER = 'X-Helppoint-Kiosk';
export const TEST_CONTENT_TYPE = 'application/x-helppoint-test';
export const KIOSK_TONE_HZ = 1000;
export const ANSWERER_TONE_HZ = 2000;
/** testId = <kioskId>-t-<base36 time>-<4 hex> */
export const TEST_ID = /^([A-Za-z0-9._-]{1,64})-t-([0-9a-z]{1,12})-([0-9a-f]{4})$/;
/** a test call longer than this is ended by the answerer (a kiosk that never hangs up) */
const MAX_CALL_MS = 60_000;

export interface AnswererOptions {
  account: Static<typeof Account>;
  localHost: string;
  localPort?: number;
  rtpPortRange?: { min: number; max: number };
  codecs?: string[];
  toneTimeoutMs?: number;
  instanceId: string;
  log: Logger;
  /** each finished call's record (stored by the caller, batched) */
  record: (row: AnswerRow) => void;
}

export interface AnswererStats {
  offered: number;
  answered: number;
  /** test calls we declined (should stay 0: the fleet test counts it) */
  refused: number;
  /** calls without the test header (403) or with a malformed one (400) */
  notTest: number;
  active: number;
  maxActive: number;
  toneHeard: number;
  dtmfReceived: number;
}

interface Live {
  call: EndpointCall;
  testId: string;
  kiosk: string;
  answeredAt?: number;
  toneAt?: number;
  detector?: ToneDetector;
  info?: string;
  infoSent: boolean;
  dtmfReceived: boolean;
  dtmfSent: boolean;
  timers: NodeJS.Timeout[];
}

export class TestAnswerer {
  readonly endpoint: SipEndpoint;
  private readonly tone = new ToneInput(ANSWERER_TONE_HZ, 8000);
  readonly stats: AnswererStats = { offered: 0, answered: 0, refused: 0, notTest: 0, active: 0, maxActive: 0, toneHeard: 0, dtmfReceived: 0 };
  lastError?: string;

  constructor(private readonly o: AnswererOptions) {
    this.endpoint = new SipEndpoint({ account: o.account, localHost: o.localHost, localPort: o.localPort, rtpPortRange: o.rtpPortRange, codecs: o.codecs ?? ['PCMU', 'PCMA', 'G722'], log: o.log, userAgent: 'helppoint-hub-test-answerer/0.1' });
    this.endpoint.onInvite = (call) => void this.invite(call).catch((err: Error) => o.log.error({ err: err.message }, 'test call failed at the answerer'));
    this.endpoint.onRegistration = (ok, reason) => {
      this.lastError = ok ? undefined : `not registered with the SIP server${reason ? ` (${reason})` : ''}`;
      o.log[ok ? 'info' : 'warn']({ registered: ok, reason }, 'test answerer registration');
    };
  }

  /** Where kiosks reach the answerer directly (no registrar): sip:<user>@host:port. */
  get directUri(): string {
    return `sip:${this.o.account.user}@${this.o.localHost}:${this.endpoint.localPort}`;
  }

  get ready(): boolean {
    return this.o.account.registrars.length === 0 ? this.endpoint.localPort > 0 : this.endpoint.registered;
  }

  async start(): Promise<void> {
    try {
      await this.endpoint.start();
    } catch (err) {
      // Registration goes on retrying in the background.
      this.lastError = (err as Error).message;
      this.o.log.error({ err: this.lastError }, 'test answerer not registered yet');
    }
  }

  async stop(): Promise<void> {
    await this.endpoint.stop();
  }

  private async invite(call: EndpointCall): Promise<void> {
    const testId = call.headers[TEST_HEADER.toLowerCase()]?.trim();
    if (testId === undefined) {
      this.stats.notTest++;
      this.o.log.warn({ from: call.remote.uri }, 'call to the test answerer without X-Helppoint-Test: refused');
      await call.reject(403, 'Test Calls Only');
      return;
    }
    const kiosk = call.headers[KIOSK_HEADER.toLowerCase()]?.trim() ?? '';
    const m = TEST_ID.exec(testId);
    if (!m || m[1] !== kiosk) {
      this.stats.notTest++;
      this.o.log.warn({ from: call.remote.uri, testId, kiosk }, 'malformed test call: refused');
      await call.reject(400, 'Bad Test Id');
      return;
    }
    this.stats.offered++;
    const live: Live = { call, testId, kiosk, infoSent: false, dtmfReceived: false, dtmfSent: false, timers: [] };
    call.on('ended', (reason: string) => this.ended(live, reason));
    call.on('media', (e: { type: string; digit?: string }) => {
      if (e.type !== 'dtmf' || e.digit !== '1' || live.dtmfReceived) return;
      live.dtmfReceived = true;
      this.stats.dtmfReceived++;
      live.dtmfSent = call.media?.sendDtmf('2') ?? false;
    });
    call.on('established', () => this.sendInfo(live));
    this.stats.active++;
    this.stats.maxActive = Math.max(this.stats.maxActive, this.stats.active);
    try {
      await call.accept({ input: this.tone }, [`${TEST_HEADER}: ${testId}`]);
    } catch (err) {
      this.stats.refused++;
      this.o.log.error({ testId, err: (err as Error).message }, 'test call could not be answered');
      return;
    }
    this.stats.answered++;
    live.answeredAt = Date.now();
    const stream = call.media?.stream;
    if (stream?.codec) {
      const decoder = CODECS[stream.codec.name]();
      const detector = (live.detector = new ToneDetector(KIOSK_TONE_HZ, stream.codec.rate));
      const pcm = new Int16Array(stream.codec.rate / 25); // 40 ms: room for any packet of ours
      stream.onAudioPacket = (p) => {
        if (detector.detected) return;
        let n: number;
        try {
          n = decoder.decodeInto(p.payload, 0, p.payload.length, pcm);
        } catch {
          return;
        }
        if (detector.push(pcm.subarray(0, n))) {
          live.toneAt = Date.now();
          this.stats.toneHeard++;
          this.setInfo(live, 'audio-out=ok');
        }
      };
    } else this.o.log.warn({ testId }, 'test call without audio');
    live.timers.push(setTimeout(() => this.setInfo(live, 'audio-out=fail'), this.o.toneTimeoutMs ?? 4000));
    live.timers.push(setTimeout(() => void call.hangup().catch(() => undefined), MAX_CALL_MS));
  }

  /** The verdict on the kiosk's tone: decided once, sent once the call is established. */
  private setInfo(live: Live, body: string): void {
    if (live.info) return;
    live.info = body;
    this.sendInfo(live);
  }

  private sendInfo(live: Live): void {
    if (!live.info || live.infoSent || live.call.state !== 'established') return;
    live.infoSent = true;
    live.call.session
      .info({ requestOptions: { body: { contentDisposition: 'render', contentType: TEST_CONTENT_TYPE, content: live.info } } })
      .catch((err: Error) => this.o.log.warn({ testId: live.testId, err: err.message }, 'test INFO not sent'));
  }

  private ended(live: Live, reason: string): void {
    for (const t of live.timers) clearTimeout(t);
    this.stats.active--;
    const rtp = live.call.stats();
    this.o.record({
      testId: live.testId,
      kiosk: live.kiosk,
      callId: live.call.sipCallId,
      instanceId: this.o.instanceId,
      fromUri: live.call.remote.uri,
      answeredAt: live.answeredAt ? new Date(live.answeredAt).toISOString() : null,
      toneHeard: !!live.toneAt,
      toneMs: live.toneAt && live.answeredAt ? live.toneAt - live.answeredAt : null,
      infoSent: live.infoSent ? live.info! : null,
      dtmfReceived: live.dtmfReceived,
      dtmfSent: live.dtmfSent,
      endedAt: new Date().toISOString(),
      endReason: reason,
      rtp: rtp ? { packetsReceived: rtp.packetsReceived, packetsSent: rtp.packetsSent, packetsLost: rtp.packetsLost, jitterMs: rtp.jitterMs } : null,
    });
  }
}
