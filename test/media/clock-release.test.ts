// A call's media leaves nothing on the process's media clock once it is over:
// send, playout and the silence watch are removed by close(), the microphone
// (leased, as the kiosk's is) stops with the last lease, and the mixer leaves
// the clock once its last stream ended. A task left behind would cost a wake-up
// every 20 ms for ever and keep the clock from idling (README, idle figures).
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { RtpSessionDescriptionHandler } from '../../src/intercom/media/handler.js';
import { codecList } from '../../src/intercom/media/index.js';
import { buildRtp } from '../../src/intercom/media/rtp-packet.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { SilenceInput } from '../../src/audio/input/index.js';
import { SharedInput } from '../../src/audio/shared-input.js';
import { Mixer } from '../../src/audio/mixer.js';
import { mediaClock } from '../../src/audio/media-clock.js';
import { MemorySink } from '../audio/helpers.js';
import { sleep, until } from '../helpers/tmp.js';

function sdp(port: number, direction: string, version = 1): string {
  return ['v=0', `o=desk 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', `a=${direction}`, ''].join('\r\n');
}

describe('media clock after a call', function () {
  this.timeout(20_000);
  let desk: dgram.Socket;
  let mixer: Mixer;
  let mic: SharedInput;
  let tasksBefore: number;

  beforeEach(async () => {
    tasksBefore = mediaClock.taskCount;
    desk = dgram.createSocket('udp4');
    await new Promise<void>((r) => desk.bind(0, '127.0.0.1', () => r()));
    // the kiosk's microphone is leased per call; 16 kHz, so a PCMU call resamples it
    mic = new SharedInput(new SilenceInput(16000));
    mixer = new Mixer({ rate: 16000, frameMs: 10, sink: new MemorySink(), idleAfterMs: 50 }).start();
  });

  afterEach(async () => {
    mixer.stop();
    await mic.stop();
    desk.close();
  });

  /** The desk's audio for `n` packets, 20 ms apart, to the kiosk's RTP port. */
  async function talk(port: number, from: number, n: number): Promise<void> {
    const pcmu = CODECS.PCMU();
    for (let seq = from; seq < from + n; seq++) {
      desk.send(buildRtp({ marker: seq === from, payloadType: 0, seq, timestamp: seq * 160, ssrc: 9 }, pcmu.encode(new Int16Array(160).fill(1000))), port, '127.0.0.1');
      await sleep(20);
    }
  }

  async function idleAgain(what: string): Promise<void> {
    await until(() => mediaClock.taskCount === tasksBefore && !mixer.awake, 2000, `${what}: the media clock back to its ${tasksBefore} tasks (has ${mediaClock.taskCount}), the mixer idle`);
    assert.deepEqual(mic.users(), [], 'no lease on the microphone');
    assert.equal(mic.started, false, 'the microphone stopped');
  }

  it('a call (our offer, the answer, RTP both ways, silence watch, hold and resume) leaves no task once closed', async () => {
    const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input: mic, output: mixer, onEvent: () => {}, silenceTimeoutMs: () => 1000 });
    try {
      const port = Number(/m=audio (\d+)/.exec(String((await sdh.getDescription()).body))![1]);
      await sdh.setDescription(sdp(desk.address().port, 'sendrecv'));
      await talk(port, 0, 10);
      // the call runs on the clock: microphone, send, playout, silence watch, mixer
      assert.ok(mediaClock.taskCount >= tasksBefore + 5, `${mediaClock.taskCount - tasksBefore} tasks for the call`);
      assert.ok(sdh.stats().packetsSent > 0 && sdh.stats().packetsReceived === 10);
      // hold and resume by the desk's re-INVITEs
      await sdh.setDescription(sdp(desk.address().port, 'sendonly', 2));
      await sdh.getDescription();
      await sleep(60);
      await sdh.setDescription(sdp(desk.address().port, 'sendrecv', 3));
      await sdh.getDescription();
      await talk(port, 10, 5);
    } finally {
      sdh.close();
    }
    await idleAgain('the call closed');
  });

  it('a call given up before the answer (cancelled while ringing) leaves no task', async () => {
    const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input: mic, output: mixer, onEvent: () => {}, silenceTimeoutMs: () => 1000 });
    await sdh.getDescription();
    sdh.close();
    // an answer that comes after all (a 200 crossing the CANCEL) starts nothing on a closed stream
    await sdh.setDescription(sdp(desk.address().port, 'sendrecv')).catch(() => {});
    await idleAgain('the call given up');
  });

  it('a SIP page (receive only) leaves no task once closed', async () => {
    const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input: mic, output: mixer, onEvent: () => {}, silenceTimeoutMs: () => 1000, receiveOnly: true });
    try {
      await sdh.setDescription(sdp(desk.address().port, 'sendrecv'));
      const port = Number(/m=audio (\d+)/.exec(String((await sdh.getDescription()).body))![1]);
      await talk(port, 0, 10);
      assert.ok(sdh.stats().packetsReceived === 10 && mixer.awake);
    } finally {
      sdh.close();
    }
    await idleAgain('the page closed');
  });
});
