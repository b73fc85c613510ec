// The call's jitter buffer after a jump in sequence numbers (a burst after
// the kiosk or the network stalled for more than 200 ms): it skips ahead, and
// a later pause of the sender must not make it drop every packet after.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { RtpStream } from '../../src/intercom/media/rtp-stream.js';
import { needsKind, RTP_KINDS } from './rtp-kinds.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { SilenceInput } from '../../src/audio/input/index.js';
import { mediaClock } from '../../src/audio/media-clock.js';
import { buildRtp } from '../../src/intercom/media/rtp-packet.js';
import type { AudioChannel, AudioOutput } from '../../src/audio/types.js';
import { sleep } from '../helpers/tmp.js';

describe('RTP jitter buffer', function () {
  this.timeout(20_000);

  for (const kind of RTP_KINDS)
    it(`keeps playing after a skip-ahead followed by a pause of the sender (${kind} socket)`, async function () {
      needsKind(this, kind);
      const frames: Int16Array[] = [];
      const output: AudioOutput = {
        rate: 8000,
        openChannel: (o) => ({ id: o.id ?? 'call', channel: o.channel, write: (s) => frames.push(s), end() {}, close() {} }) as AudioChannel,
      };
      // A plain input is started by the call and stopped by its owner (shared-input.ts leaseInput): here the test.
      const tasksBefore = mediaClock.taskCount;
      const input = new SilenceInput(8000);
      const stream = new RtpStream(input, output, () => {}, undefined, false, kind);
      const port = await stream.bind('127.0.0.1');
      const sender = dgram.createSocket('udp4');
      await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
      stream.configure({ codec: CODECS.PCMU(), payloadType: 0, remote: { host: '127.0.0.1', port: sender.address().port }, direction: 'sendrecv' });
      const pcmu = CODECS.PCMU();
      const tone = pcmu.encode(Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000))));
      const send = (seq: number) => sender.send(buildRtp({ marker: false, payloadType: 0, seq, timestamp: seq * 160, ssrc: 42 }, tone), port, '127.0.0.1');
      const loud = (f: Int16Array) => f.some((s) => Math.abs(s) > 1000);
      // Sent on a drift-free 20 ms grid, like a real sender (a sender slower than the playout loses packets anyway).
      const paced = async (from: number, to: number) => {
        const t0 = performance.now();
        for (let seq = from; seq < to; seq++) {
          send(seq);
          await sleep(Math.max(0, t0 + (seq - from + 1) * 20 - performance.now()));
        }
      };
      try {
        for (let seq = 0; seq < 6; seq++) send(seq); // a small burst: some still buffered when the jump comes
        await sleep(5);
        send(40); // 34 ahead: the buffer skips ahead
        await paced(41, 60);
        await sleep(500); // the sender pauses (silence suppression, a network hiccup)
        const before = frames.length;
        await paced(60, 110);
        await sleep(100);
        const after = frames.slice(before);
        const played = after.filter(loud).length;
        assert.ok(played >= 35, `only ${played} of ${after.length} frames after the pause carried the sender's audio`);
      } finally {
        stream.close();
        await input.stop();
        sender.close();
      }
      assert.equal(mediaClock.taskCount, tasksBefore, 'the closed stream and its stopped input left nothing on the media clock');
    });
});
