// A SIP page's media (sip.paging): the session description handler in
// receive-only mode says recvonly in its answer and in an offer of its own (a
// page without SDP in its INVITE), keeps to it through a re-INVITE, never
// takes the microphone and never sends a packet; what arrives still plays.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { RtpSessionDescriptionHandler } from '../../src/intercom/media/handler.js';
import { codecList } from '../../src/intercom/media/index.js';
import { buildRtp } from '../../src/intercom/media/rtp-packet.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import type { AudioChannel, AudioInput, AudioOutput } from '../../src/audio/types.js';
import { sleep } from '../helpers/tmp.js';

function sdp(port: number, direction: string): string {
  return ['v=0', 'o=pager 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', `a=${direction}`, ''].join('\r\n');
}

/** A microphone that counts who listens and whether it was started. */
function watchedInput(): AudioInput & { listeners: number; started: boolean } {
  const m = {
    rate: 8000,
    listeners: 0,
    started: false,
    onFrame: () => {
      m.listeners++;
      return () => void m.listeners--;
    },
    start: async () => void (m.started = true),
    stop: async () => void (m.started = false),
  };
  return m;
}

/** An output that keeps what each channel is given. */
function keepingOutput(): AudioOutput & { samples: number; channels: string[] } {
  const o = {
    rate: 8000,
    samples: 0,
    channels: [] as string[],
    openChannel: (opts: { channel: string; id?: string }): AudioChannel => {
      o.channels.push(opts.channel);
      return { id: opts.id ?? 'x', channel: opts.channel as never, write: (s: Int16Array) => void (o.samples += s.length), end: () => {}, close: () => {} };
    },
  };
  return o;
}

async function pagerSocket(): Promise<{ sock: dgram.Socket; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  return { sock, got };
}

describe('RTP receive-only (a SIP page)', () => {
  it('answers a sendrecv offer recvonly, keeps recvonly through a re-INVITE, sends nothing, takes no microphone, plays what arrives', async () => {
    const { sock, got } = await pagerSocket();
    const input = watchedInput();
    const output = keepingOutput();
    const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input, output, onEvent: () => {}, receiveOnly: true });
    try {
      await sdh.setDescription(sdp(sock.address().port, 'sendrecv'));
      const ours = (await sdh.getDescription()).body;
      assert.match(ours, /a=recvonly\r\n/);
      const port = Number(/m=audio (\d+)/.exec(ours)![1]);
      const pcmu = CODECS.PCMU();
      for (let i = 0; i < 20; i++) {
        sock.send(buildRtp({ marker: i === 0, payloadType: 0, seq: i, timestamp: i * 160, ssrc: 7 }, pcmu.encode(new Int16Array(160).fill(1000))), port, '127.0.0.1');
        await sleep(20);
      }
      // A re-INVITE asking for sendrecv again: still recvonly.
      await sdh.setDescription(sdp(sock.address().port, 'sendrecv'));
      assert.match((await sdh.getDescription()).body, /a=recvonly\r\n/);
      await sleep(200);
      assert.equal(sdh.stats().packetsSent, 0);
      assert.equal(got.length, 0, 'the kiosk sent RTP on a page');
      assert.equal(input.listeners, 0, 'the microphone was listened to');
      assert.equal(input.started, false, 'the microphone was started');
      assert.ok(sdh.stats().packetsReceived >= 18, `received ${sdh.stats().packetsReceived}`);
      assert.ok(output.samples >= 160 * 10, `played ${output.samples} samples`);
      assert.deepEqual([...new Set(output.channels)], ['call'], 'the stream opens the call channel (the page output maps it)');
    } finally {
      sdh.close();
      sock.close();
    }
  });

  it('a page without SDP: our offer says recvonly; an offer that sends nothing is answered inactive', async () => {
    const { sock } = await pagerSocket();
    const input = watchedInput();
    const late = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input, onEvent: () => {}, receiveOnly: true });
    const quiet = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input, onEvent: () => {}, receiveOnly: true });
    try {
      assert.match((await late.getDescription()).body, /a=recvonly\r\n/);
      await late.setDescription(sdp(sock.address().port, 'sendonly'));
      await quiet.setDescription(sdp(sock.address().port, 'recvonly'));
      assert.match((await quiet.getDescription()).body, /a=inactive\r\n/);
      await sleep(100);
      assert.equal(late.stats().packetsSent + quiet.stats().packetsSent, 0);
      assert.equal(input.listeners, 0);
    } finally {
      late.close();
      quiet.close();
      sock.close();
    }
  });
});
