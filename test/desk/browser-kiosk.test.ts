// The desk's media path end to end: headless Chromium running the desk phone
// bundle (sip.js, WebRTC) registered over WebSocket with Kamailio, rtpengine
// bridging WebRTC to the plain RTP of a real kiosk process (sim driver, UDP,
// registered with the same Kamailio). The browser's fake microphone plays a
// 1 kHz tone, the kiosk's microphone a 600 Hz WAV; each side must hear the
// other's tone: the kiosk in its audio output (a capture file), the page in
// the received stream (an AnalyserNode behind the call's <audio> element).
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { stopAll } from '../../src/testbed/proc.js';
import { startBaresip } from '../../src/testbed/baresip.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { callRig, type CallRig } from '../intercom/helpers.js';
import { makeTone, soxStat, soxStatFull } from '../intercom/sox.js';
import { launchDeskBrowser, openDesk, registeredContacts, rtpengineLegs, serveDeskPage, startMediaBed, type Desk, type MediaBed } from './helpers.js';
import { quietGaps, windowRms } from './pcm.js';

const USERS = { 'conc-north': 'kiosk-secret', desk: 'desk-secret', desk2: 'desk2-secret' };
type Level = { rms: number; frequencyHz: number };
/** the kiosk's microphone WAV: a sine at 0.3 of full scale */
const KIOSK_RMS = 0.3 / Math.SQRT2;

const RPC_TOKEN = 'browser-kiosk-test-rpc-token-0123456789';

describe('desk phone in the browser <-> kiosk through Kamailio and rtpengine', function () {
  this.timeout(90_000);
  let dir: string;
  let bed: MediaBed;
  let site: { url: string; close(): Promise<void> };
  let browser: Browser;
  let browserWav: string;
  let kioskWav: string;
  const open: { desk?: Desk; rig?: CallRig }[] = [];

  before(async () => {
    dir = tmpDir('hp-desk-');
    browserWav = makeTone(path.join(dir, 'desk-1k.wav'), 1000, 10, 48000, 0.3);
    kioskWav = makeTone(path.join(dir, 'kiosk-600.wav'), 600, 30, 8000, 0.3);
    bed = await startMediaBed(USERS, { rpcToken: RPC_TOKEN });
    site = await serveDeskPage();
    browser = await launchDeskBrowser(browserWav);
  });
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.desk?.close().catch(() => {});
      await o.rig?.kiosk.stop();
    }
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await stopAll();
  });

  /** A kiosk registered with Kamailio over UDP; its desk is the browser's SIP user. */
  async function kiosk(capture: string, desk = [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 }]): Promise<CallRig> {
    const rig = await callRig({
      sip: {
        account: { user: 'conc-north', password: USERS['conc-north'], domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${bed.kamailio.port}`, transport: 'udp' }] },
        targets: { emergency: desk, information: desk },
        autoAnswerFrom: ['desk@127.0.0.1'],
      },
      // Hands-free processing off: this test is about the WebRTC bridge, and asserts the level the page hears.
      // With it on, the browser's own tone makes it double talk, which the residual echo suppressor attenuates
      // by design (audio.handsFree.echoSuppressActiveDb, -15 dB), and the noise suppressor takes the steady
      // tone for noise (noiseSuppressDb, -15 dB more): measured in the page, -15 dB with the noise suppressor
      // off and -26 to -32 dB with it on, near the silence threshold. Right for speech over a steady hum; the
      // canceller on a call: test/dsp/room-call.test.ts.
      audio: { input: { source: 'file', file: kioskWav }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1, handsFree: { mode: 'off' } },
    });
    open.push({ rig });
    await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
    return rig;
  }

  async function desk(opts: { microphone?: boolean } = {}): Promise<Desk> {
    const d = await openDesk(browser, site.url, { wsUrl: bed.wsUrl, user: 'desk', password: USERS.desk, ...opts });
    open.push({ desk: d });
    return d;
  }

  const phone = <T>(d: Desk, fn: string, ...args: unknown[]): Promise<T> =>
    d.page.evaluate(([f, a]) => (window as any).phone[f as string](...(a as unknown[])), [fn, args] as const) as Promise<T>;

  /** What the page hears on the call: readings of the meter on the received stream, `every` ms apart. */
  function heard(d: Desk, callId: string, n = 4, every = 700): Promise<Level[]> {
    return d.page.evaluate(
      async ([id, count, ms]) => {
        const meter = await (window as any).phone.meter(id, 'remote');
        const out = [];
        for (let i = 0; i < (count as number); i++) {
          await new Promise((r) => setTimeout(r, ms as number));
          out.push(meter.level());
        }
        meter.close();
        return out;
      },
      [callId, n, every] as const,
    );
  }

  function assertTone(levels: Level[], hz: number, what: string): void {
    // The first window may reach back before the audio started (the meter opens as the call is answered
    // or resumed); every later one must be above silence (about -90 dBFS here), each at the right frequency,
    // and the page must hear the kiosk at the level it sends (hands-free off, volume 1: the WAV's own level).
    for (const l of levels.slice(1)) assert.ok(l.rms > 0.005, `${what}: the received audio is not above silence: ${JSON.stringify(levels)}`);
    for (const l of levels.filter((l) => l.rms > 0.005)) assert.ok(Math.abs(l.frequencyHz - hz) / hz <= 0.05, `${what}: heard ${l.frequencyHz.toFixed(1)} Hz, expected ${hz} Hz`);
    const loudest = Math.max(...levels.map((l) => l.rms));
    const db = (rms: number) => (20 * Math.log10(rms)).toFixed(1);
    assert.ok(Math.abs(20 * Math.log10(loudest / KIOSK_RMS)) <= 3, `${what}: heard at most ${db(loudest)} dBFS, the kiosk sends ${db(KIOSK_RMS)} dBFS: ${JSON.stringify(levels)}`);
  }

  /** The kiosk played the browser's tone: sox's rough frequency, compared with the source measured the same way. */
  function assertKioskHeard(capture: string): void {
    const sent = soxStatFull(browserWav);
    const got = soxStat(capture, { rate: 16000 });
    assert.ok(got.seconds > 1.5, `only ${got.seconds} s of call audio at the kiosk`);
    assert.ok(Math.abs(got.freq - sent.freq) / sent.freq <= 0.05, `kiosk played ${got.freq} Hz, the browser sent ${sent.freq} Hz`);
  }

  it('a kiosk calls the browser desk: the page answers and each side hears the other', async () => {
    const capture = path.join(dir, 'kiosk-calls-desk.raw');
    const d = await desk();
    const rig = await kiosk(capture);
    await rig.press('emergency');
    const incoming = await d.waitEvent('incoming');
    assert.equal(incoming.direction, 'incoming');
    assert.match(incoming.remoteUri, /^sip:conc-north@127\.0\.0\.1/);
    assert.equal(incoming.headers['x-helppoint-kiosk'], 'conc-north', JSON.stringify(incoming.headers));
    assert.equal(incoming.headers['x-helppoint-category'], 'emergency');
    await rig.waitState('ringing', 10_000); // the page's 180 Ringing reached the kiosk
    await phone(d, 'answer', incoming.id);
    const est = await d.waitEvent('established');
    assert.equal(est.id, incoming.id);
    await rig.waitState('connected', 10_000);

    type Stats = { packetsReceived: number; codec: string; totalSamplesDuration: number };
    const played0 = await until(() => phone<Stats | undefined>(d, 'stats', incoming.id), 5000, 'the page receiving audio');
    const t0 = performance.now();
    assertTone(await heard(d, incoming.id), 600, 'the page');
    const stats = await phone<Stats>(d, 'stats', incoming.id);
    assert.ok(stats.packetsReceived > 50, JSON.stringify(stats));
    // The page plays what it receives in real time, as through a sound card (the desk's browser is given a
    // clocked audio output: launchDeskBrowser). An output that takes samples as fast as they come makes the
    // browser's jitter buffer conceal most of what it plays, and every level measured above meaningless.
    const rate = (stats.totalSamplesDuration - played0.totalSamplesDuration) / ((performance.now() - t0) / 1000);
    assert.ok(rate > 0.5 && rate < 2, `the page played ${rate.toFixed(2)} s of received audio per second`);
    // rtpengine bridges DTLS-SRTP with ICE on the browser's side to plain RTP on the kiosk's.
    const legs = await rtpengineLegs(bed, incoming.sipCallId);
    const browserLeg = legs.find((l) => l.protocol === 'RTP/SAVPF');
    const kioskLeg = legs.find((l) => l.protocol === 'RTP/AVP');
    assert.ok(browserLeg && kioskLeg, JSON.stringify(legs));
    assert.ok(browserLeg.flags.includes('ICE') && browserLeg.flags.includes('DTLS fingerprint verified') && browserLeg.crypto, JSON.stringify(browserLeg));
    assert.ok(browserLeg.packets > 50 && kioskLeg.packets > 50, JSON.stringify(legs));

    await phone(d, 'hangup', incoming.id);
    assert.equal((await d.waitEvent('ended')).endReason, 'hung up');
    await rig.waitState('ended', 10_000);
    await rig.kiosk.stop();
    assertKioskHeard(capture);
    // rtpengine was in the path and let go of the call on BYE.
    const log = bed.rtpengine.proc.output();
    assert.match(log, /Received command 'offer'/);
    assert.match(log, /Received command 'answer'/);
    await until(() => /Received command 'delete'/.test(bed.rtpengine.proc.output()), 5000, 'rtpengine delete');
  });

  it('the desk calls a kiosk back: auto-answered on a trusted call, audio both ways, the kiosk hangs up', async () => {
    const capture = path.join(dir, 'desk-calls-kiosk.raw');
    const d = await desk();
    const rig = await kiosk(capture);
    const id = await phone<string>(d, 'dial', 'conc-north', { autoAnswer: true });
    await d.waitEvent('established');
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.state === 'connected' && e.data.incoming), 10_000, 'kiosk connected');
    assertTone(await heard(d, id), 600, 'the page');
    // The visitor ends the call with the kiosk's cancel button: its BYE reaches the page through Kamailio.
    await rig.press('cancel');
    const ended = await d.waitEvent('ended', 10_000);
    assert.equal(ended.endReason, 'remote hung up');
    await rig.kiosk.stop();
    assertKioskHeard(capture);
  });

  it('a call back without auto-answer rings at the kiosk; the desk cancels it', async () => {
    const d = await desk();
    const rig = await kiosk(path.join(dir, 'ring-cancel.raw'));
    const id = await phone<string>(d, 'dial', 'sip:conc-north@127.0.0.1');
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.state === 'ringing' && e.data.incoming), 10_000, 'kiosk ringing');
    await phone(d, 'hangup', id);
    const ended = await d.waitEvent('ended');
    assert.equal(ended.id, id);
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.state === 'failed' && e.data.incoming), 10_000, 'kiosk saw the cancel');
  });

  it('in a call: mute and hold silence the desk, DTMF opens the door (RFC 4733 and SIP INFO), the alarm INFO is accepted', async () => {
    const capture = path.join(dir, 'controls.raw');
    const d = await desk();
    const rig = await kiosk(capture);
    await rig.press('emergency');
    const { id } = await d.waitEvent('incoming');
    await phone(d, 'answer', id);
    await d.waitEvent('established');
    await rig.waitState('connected', 10_000);

    // Devices: the fake microphone is listed; choosing it again and the default speaker mid-call keeps the call going.
    const devices = await phone<{ microphones: { deviceId: string }[] }>(d, 'devices');
    assert.ok(devices.microphones.length >= 1, JSON.stringify(devices));
    await phone(d, 'setMicrophone', devices.microphones[0]!.deviceId);
    await phone(d, 'setSpeaker', 'default');

    await sleep(1500);
    await phone(d, 'mute', id, true);
    assert.equal((await d.waitEvent('updated')).muted, true);
    await sleep(2000);
    await phone(d, 'mute', id, false);
    await sleep(1500);

    // Hold: the kiosk is asked to stop sending (it answers recvonly); nothing reaches the page meanwhile.
    await phone(d, 'hold', id, true);
    assert.equal((await d.waitEvent('updated', 5000, 3)).held, true);
    await sleep(300);
    const { sipCallId } = await phone<{ sipCallId: string }>(d, 'call', id);
    const fromKiosk = async () => (await rtpengineLegs(bed, sipCallId)).find((l) => l.protocol === 'RTP/AVP')!.packets;
    const before = await fromKiosk();
    await sleep(1700);
    const during = await fromKiosk();
    assert.ok(during - before <= 2, `the kiosk kept sending on hold: ${before} -> ${during} packets at rtpengine`);
    await phone(d, 'hold', id, false);
    assert.equal((await d.waitEvent('updated', 5000, 4)).held, false);
    assertTone(await heard(d, id, 3, 500), 600, 'the page after resume');

    // DTMF: the kiosk's door code (*1) in the media, then as SIP INFO.
    const pulses = () => rig.events().filter((e) => e.type === 'relay.pulse').length;
    await phone(d, 'dtmf', id, '*1', 'rfc4733');
    await until(() => pulses() === 1, 5000, 'door pulse from RFC 4733 DTMF');
    await phone(d, 'dtmf', id, '*1', 'info');
    await until(() => pulses() === 2, 5000, 'door pulse from SIP INFO DTMF');

    // The alarm acknowledgement in-band: SIP INFO application/x-helppoint-alarm, action=ack.
    assert.equal(await phone<number>(d, 'alarm', id, 'ack'), 200);
    assert.match(bed.kamailio.proc.output(), /INFO .*application\/x-helppoint-alarm: action=ack/);

    await phone(d, 'hangup', id);
    await rig.waitState('ended', 10_000);
    await rig.kiosk.stop();

    // At the kiosk: tone, then two silent stretches (mute ~2 s, hold ~2 s), tone again after each.
    const gaps = quietGaps(windowRms(capture, 16000, 100)).filter((n) => n >= 12);
    assert.equal(gaps.length, 2, `silent stretches of 100 ms windows at the kiosk: ${JSON.stringify(quietGaps(windowRms(capture, 16000, 100)))}`);
    assertKioskHeard(capture);
  });

  it('without microphone permission, Answer says so clearly and the call keeps ringing', async () => {
    const d = await desk({ microphone: false });
    const rig = await kiosk(path.join(dir, 'no-mic.raw'));
    await rig.press('emergency');
    const { id } = await d.waitEvent('incoming');
    const err = await d.page.evaluate((callId) => (window as any).phone.answer(callId).then(() => null, (e: any) => ({ code: e.code, message: e.message, callId: e.callId })), id);
    assert.ok(err, 'answer() must fail without a microphone');
    assert.equal(err.code, 'microphone-denied');
    assert.match(err.message, /microphone/i);
    assert.equal(err.callId, id);
    const emitted = await d.waitEvent('error');
    assert.equal(emitted.code, 'microphone-denied');
    // Still ringing on both sides: another desk (or this one, once allowed) can answer.
    await sleep(500);
    assert.equal((await phone<{ state: string }>(d, 'call', id)).state, 'ringing');
    assert.ok(!rig.states().some((s) => /^(connected|ended|failed)/.test(s)), rig.states().join(', '));
    // The dispatcher declines: 486, the kiosk goes on hunting.
    await phone(d, 'reject', id);
    await rig.waitState('calling', 10_000, 2);
    assert.ok(rig.events().some((e) => e.type === 'call.state' && /486/.test(e.data.reason ?? '')), rig.states().join(', '));
  });

  it('a desk whose browser went away is skipped at once: the kiosk reaches the next desk', async () => {
    const d = await desk();
    const fallback = await startBaresip({ user: 'desk2', registrar: { uri: `sip:127.0.0.1:${bed.kamailio.port}`, domain: '127.0.0.1', password: 'desk2-secret' } });
    await until(async () => /OK/.test((await fallback.command('reginfo')).data), 10_000, 'fallback desk registered');
    const rig = await kiosk(path.join(dir, 'gone.raw'), [
      { uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 },
      { uri: 'sip:desk2@127.0.0.1', ringTimeoutS: 30 },
    ]);
    // The browser closes without unregistering (tab closed, network lost): its WebSocket is gone.
    await d.context.close();
    // Kamailio drops the contact when it reads the connection's end (usrloc handle_lost_tcp). The press waits for
    // that: an INVITE that overtakes it is relayed into a connection that no longer answers and rings until the
    // ring timeout, which is a different case (the registrar cannot know yet) from the one this test is about.
    await until(async () => (await registeredContacts(bed, RPC_TOKEN, 'desk')).length === 0, 10_000, 'the registrar dropped the closed desk');
    await rig.press('emergency');
    await rig.waitState('connected', 20_000).catch((err: Error) => {
      // what the registrar did with the INVITE (the bed logs every message): the case is unexplained if it recurs
      throw new Error(`${err.message}\n--- Kamailio, last lines:\n${bed.kamailio.proc.output().slice(-6000)}`);
    });
    // The alarm's first attempt ends with the desk's refusal, then the alarm calls the next desk.
    const first = rig.events().find((e) => e.type === 'call.state' && e.data.attempt === 1 && (e.data.state === 'failed' || e.data.state === 'calling') && e.data.reason);
    // Kamailio dropped its contact with the WebSocket (usrloc handle_lost_tcp): 404 at once, no ringing into the void.
    assert.ok(first && /^404 /.test(first.data.reason), `the first desk was not refused at once: ${rig.states().join(', ')}`);
    assert.match(rig.events().find((e) => e.type === 'call.state' && e.data.state === 'connected')!.data.target, /desk2/);
    await fallback.stop();
  });
});
