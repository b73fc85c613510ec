// A call's RTP across hold and resume, as a desk's re-INVITEs drive it: the
// desk offers sendonly (the kiosk answers recvonly and stops sending), then
// sendrecv. The kiosk must send again at once, from the same source with the
// same SSRC, the next sequence number, a timestamp that ran on through the
// pause, and the marker bit on the first packet of the new talkspurt
// (RFC 3551 4.1), to the peer it latched to.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { RtpStream } from '../../src/intercom/media/rtp-stream.js';
import { needsKind, RTP_KINDS } from './rtp-kinds.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { SilenceInput } from '../../src/audio/input/index.js';
import { mediaClock } from '../../src/audio/media-clock.js';
import { buildRtp, parseRtp } from '../../src/intercom/media/rtp-packet.js';
import { sleep, until } from '../helpers/tmp.js';

interface Got {
  seq: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payloadType: number;
  from: number;
}

describe('RTP stream across hold and resume', function () {
  this.timeout(20_000);

  for (const kind of RTP_KINDS)
    it(`stops on hold and sends again on resume: same SSRC and source, next sequence number, timestamp ran on, marker set (${kind} socket)`, async function () {
      needsKind(this, kind);
      const peer = dgram.createSocket('udp4');
      await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
      const got: Got[] = [];
      peer.on('message', (buf, rinfo) => {
        const p = parseRtp(buf);
        if (p) got.push({ seq: p.seq, timestamp: p.timestamp, ssrc: p.ssrc, marker: p.marker, payloadType: p.payloadType, from: rinfo.port });
      });
      // A plain input is started by the call and stopped by its owner (shared-input.ts leaseInput): here the test.
      const tasksBefore = mediaClock.taskCount;
      const input = new SilenceInput(8000);
      const stream = new RtpStream(input, undefined, () => {}, undefined, false, kind);
      const port = await stream.bind('127.0.0.1');
      const sdpPort = peer.address().port;
      const configure = (direction: 'sendrecv' | 'recvonly') =>
        stream.configure({ codec: CODECS.PCMU(), payloadType: 0, dtmfPt: 101, remote: { host: '127.0.0.1', port: sdpPort }, direction });
      const talk = (seq: number) => peer.send(buildRtp({ marker: seq === 0, payloadType: 0, seq, timestamp: seq * 160, ssrc: 7 }, Buffer.alloc(160, 0xff)), port, '127.0.0.1');
      try {
        configure('sendrecv');
        talk(0);
        await until(() => got.length >= 10, 5000, '10 packets before hold');
        talk(1);

        // Hold: the desk's re-INVITE offers sendonly; the kiosk answers recvonly and sends nothing.
        configure('recvonly');
        await sleep(60); // a packet already handed to the socket may still arrive
        const held = got.length;
        const pauseStart = performance.now();
        await sleep(400);
        assert.equal(got.length, held, `${got.length - held} packets sent on hold`);
        talk(2); // the desk still talks on hold (sendonly)

        // Resume: sendrecv again, with the same SDP (rtpengine keeps its port).
        configure('sendrecv');
        await until(() => got.length >= held + 10, 5000, '10 packets after resume');
        const pauseMs = performance.now() - pauseStart;
        const before = got[held - 1]!;
        const after = got.slice(held);

        assert.ok(got.every((p) => p.ssrc === before.ssrc && p.payloadType === 0), 'one SSRC and payload type throughout');
        assert.equal(got.filter((p) => p.from !== got[0]!.from).length, 0, 'one source port throughout (symmetric RTP)');
        assert.equal(after[0]!.seq, (before.seq + 1) & 0xffff, 'the sequence number goes on with no gap');
        for (let i = 1; i < after.length; i++) assert.equal(after[i]!.seq, (after[i - 1]!.seq + 1) & 0xffff);
        // The timestamp ran on through the pause (the RTP clock is the sampling clock), in whole 20 ms frames.
        const jump = (after[0]!.timestamp - before.timestamp) >>> 0;
        assert.equal(jump % 160, 0, `timestamp jump ${jump}`);
        assert.ok(jump >= 400 * 8 && jump <= (pauseMs + 100) * 8, `timestamp jump ${jump} (${jump / 8} ms) for a pause of about ${Math.round(pauseMs)} ms`);
        // A new talkspurt: marked, like the call's first packet; the packets within it are not.
        assert.equal(got[0]!.marker, true, 'the first packet is marked');
        assert.equal(after[0]!.marker, true, 'the first packet after resume is marked');
        assert.deepEqual(
          got.filter((p) => p.marker).map((p) => p.seq),
          [got[0]!.seq, after[0]!.seq],
          'only the first packet of each talkspurt is marked',
        );
        // Still latched to the peer: its packets were taken before, during and after the hold.
        assert.equal(stream.stats().remote, `127.0.0.1:${peer.address().port}`);
        assert.equal(stream.stats().packetsRejected, 0);
        assert.equal(stream.stats().packetsReceived, 3);
      } finally {
        stream.close();
        await input.stop();
        peer.close();
      }
      assert.equal(mediaClock.taskCount, tasksBefore, 'the closed stream and its stopped input left nothing on the media clock');
    });
});
