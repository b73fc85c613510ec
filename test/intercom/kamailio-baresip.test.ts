// Through Kamailio (registrar and proxy, digest auth) over UDP, TCP and
// WebSocket: the kiosk registers, calls baresip as an auto-answering desk,
// and audio flows both ways. The kiosk plays a 1 kHz tone as its microphone
// and baresip records what it hears; baresip plays a 600 Hz WAV and the
// kiosk's audio output (a capture file) must carry it.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { startBaresip, type Baresip } from '../../src/testbed/baresip.js';
import { stopAll } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { alarmCallToBaresipDesk, callRig } from './helpers.js';
import { makeTone, soxStat, soxStatFull } from './sox.js';

describe('intercom through Kamailio to a baresip desk', function () {
  this.timeout(60_000);
  let kam: Kamailio;
  let deskPhone: Baresip;
  let dir: string;
  let deskWav: string;
  let kioskWav: string;

  before(async () => {
    dir = tmpDir('hp-kam-');
    kioskWav = makeTone(path.join(dir, 'kiosk-1k.wav'), 1000, 30);
    deskWav = makeTone(path.join(dir, 'desk-600.wav'), 600, 30, 8000, 0.25);
    kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret', desk: 'desk-secret' } });
    deskPhone = await startBaresip({ user: 'desk', sourceWav: deskWav, registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: 'desk-secret' } });
    await until(async () => /OK/.test((await deskPhone.command('reginfo')).data), 10_000, 'baresip registered');
  });
  after(() => stopAll());

  for (const transport of ['udp', 'tcp', 'ws'] as const) {
    it(`registers over ${transport.toUpperCase()} with digest auth and talks both ways`, async () => {
      const capture = path.join(dir, `out-${transport}.raw`);
      const registrar =
        transport === 'ws'
          ? { uri: 'sip:127.0.0.1', transport, wsUrl: `ws://127.0.0.1:${kam.wsPort}/` }
          : { uri: `sip:127.0.0.1:${kam.port};transport=${transport}`, transport };
      const before = deskPhone.recordings().length;
      const rig = await callRig({
        sip: {
          account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [registrar] },
          targets: { emergency: [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 10 }], information: [{ uri: 'sip:desk@127.0.0.1' }] },
          codecs: ['PCMU', 'PCMA'], // narrowband here; test/intercom/g722-baresip.test.ts covers G.722
        },
        audio: { input: { source: 'file', file: kioskWav }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1 },
      });
      await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 10_000, 'kiosk registered');
      // the hands-free chain is on (the default): the desk hears the right tone, about 19 dB down, since
      // the noise suppressor takes a steady tone for noise (speech is its job); level: test/dsp
      assert.match(rig.kiosk.proc.output(), /"handsFree":\{"mode":"aec","running":"aec"/);
      // What the desk heard on the first call: the kiosk's tone.
      // sox's "rough frequency" is an estimate: compare with the source measured the same way.
      const heard = soxStatFull(await alarmCallToBaresipDesk(rig, deskPhone, before));
      const sent = soxStatFull(kioskWav);
      assert.ok(Math.abs(heard.freq - sent.freq) / sent.freq <= 0.05, `desk heard ${heard.freq} Hz, the kiosk sent ${sent.freq} Hz`);
      // What the kiosk played: the desk's WAV.
      const src = soxStatFull(deskWav);
      const got = soxStat(capture, { rate: 16000 });
      assert.ok(Math.abs(got.freq - src.freq) / src.freq <= 0.05, `kiosk played ${got.freq} Hz, the desk sent ${src.freq} Hz`);
      assert.ok(Math.abs(got.rms - src.rms) / src.rms <= 0.1, `kiosk output RMS ${got.rms}, desk source RMS ${src.rms}`);
      assert.ok(got.seconds > 2, `only ${got.seconds} s of call audio`);
    });
  }
});
