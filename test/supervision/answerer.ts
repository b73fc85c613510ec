// A test answerer that follows the supervision contract (docs/supervision.md),
// built on the hub's own SIP endpoint and the intercom's media: answers only
// INVITEs with X-Helppoint-Test (others 403), sends 2000 Hz, listens for the
// kiosk's 1000 Hz and reports it with INFO application/x-helppoint-test
// "audio-out=ok|fail", answers DTMF 1 with 2. Options break it on purpose.
import { SipEndpoint, type EndpointCall } from '../../src/hub/sip/endpoint.js';
import { createLogger } from '../../src/core/log.js';
import { ANSWERER_TONE_HZ, DetectorOutput, KIOSK_TONE_HZ, ToneDetector, ToneInput } from '../../src/supervision/tone.js';

export interface AnswererCall {
  headers: Record<string, string>;
  heardKioskTone: boolean;
  gotDigit1: boolean;
  establishedAt?: number;
  endedAt?: number;
  endReason?: string;
}

export interface Answerer {
  uri: string;
  port: number;
  calls: AnswererCall[];
  refused: number;
  stop(): Promise<void>;
}

export async function startAnswerer(opts: { silent?: boolean; acceptAll?: number; /** on plain calls (acceptAll), also send this tone */ replyHz?: number; noInfo?: boolean; reportFail?: boolean; noDtmf?: boolean; registrar?: { uri: string; password: string } } = {}): Promise<Answerer> {
  const log = createLogger({ name: 'hub', id: 'test-answerer', level: 'error' });
  const ep = new SipEndpoint({ account: { user: 'test-answerer', domain: '127.0.0.1', password: opts.registrar?.password, registrars: opts.registrar ? [{ uri: opts.registrar.uri }] : [] } as never, localHost: '127.0.0.1', localPort: 0, codecs: ['PCMU', 'PCMA'], log });
  const a: Answerer = { uri: '', port: 0, calls: [], refused: 0, stop: async () => ep.stop() };
  ep.onInvite = (call: EndpointCall) => {
    if (!call.headers['x-helppoint-test'] && opts.acceptAll) {
      // A plain call (an alarm), for tests that check the kiosk's microphone: listens for acceptAll Hz.
      const det = new ToneDetector(opts.acceptAll);
      const rec: AnswererCall = { headers: call.headers, heardKioskTone: false, gotDigit1: false };
      a.calls.push(rec);
      call.on('established', () => {
        rec.establishedAt = Date.now();
        void det.wait(4000).then((ok) => (rec.heardKioskTone = ok));
      });
      // the call's stream starts its input but, an input being its owner's, does not stop it: stopped here
      const reply = opts.replyHz ? new ToneInput(8000, opts.replyHz) : undefined;
      call.on('ended', (reason: string) => ((rec.endedAt = Date.now()), (rec.endReason = reason), void reply?.stop()));
      void call.accept({ output: new DetectorOutput(det), ...(reply ? { input: reply } : {}) }).catch(() => {});
      return;
    }
    if (!call.headers['x-helppoint-test']) {
      a.refused++;
      void call.reject(403, 'Only test calls');
      return;
    }
    const rec: AnswererCall = { headers: call.headers, heardKioskTone: false, gotDigit1: false };
    a.calls.push(rec);
    const det = new ToneDetector(KIOSK_TONE_HZ);
    const tone = new ToneInput(8000, ANSWERER_TONE_HZ);
    call.on('media', (e: { type: string; digit?: string }) => {
      if (e.type === 'dtmf' && e.digit === '1') {
        rec.gotDigit1 = true;
        if (!opts.noDtmf) call.media?.sendDtmf('2');
      }
    });
    call.on('established', () => {
      rec.establishedAt = Date.now();
      if (opts.noInfo) return;
      void det.wait(4000).then((ok) => {
        rec.heardKioskTone = ok;
        if (call.state !== 'established') return;
        void call.session.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/x-helppoint-test', content: `audio-out=${ok && !opts.reportFail ? 'ok' : 'fail'}` } } }).catch(() => {});
      });
    });
    call.on('ended', (reason: string) => {
      rec.endedAt = Date.now();
      rec.endReason = reason;
      void tone.stop();
    });
    void call.accept({ input: opts.silent ? undefined : tone, output: new DetectorOutput(det) }).catch(() => {});
  };
  await ep.start();
  a.port = ep.localPort;
  a.uri = `sip:test-answerer@127.0.0.1:${ep.localPort}`;
  return a;
}
