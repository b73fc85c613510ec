// Call set-up ends with our first RTP packet at the desk: it leaves as soon as
// the desk's answer is applied (sip.js then sends the ACK), not at the next
// tick of the media clock, and the later packets follow on the clock's 20 ms grid.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { RtpSessionDescriptionHandler } from '../../src/intercom/media/handler.js';
import { codecList } from '../../src/intercom/media/index.js';
import { createInput } from '../../src/audio/input/index.js';
import { sleep } from '../helpers/tmp.js';

function answer(port: number): string {
  return ['v=0', 'o=desk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
}

describe('first RTP packet of a call', () => {
  it('is sent when the answer is applied, before any media clock tick; the next ones follow on the clock', async () => {
    const desk = dgram.createSocket('udp4');
    await new Promise<void>((r) => desk.bind(0, '127.0.0.1', () => r()));
    const got: Buffer[] = [];
    desk.on('message', (m) => got.push(m));
    const input = createInput({ source: 'silence', device: 'default' } as never, 8000);
    const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input, onEvent: () => {} });
    try {
      await sdh.getDescription();
      await sdh.setDescription(answer(desk.address().port));
      // Synchronously after the answer: no timer or clock tick has run yet.
      assert.equal(sdh.stats().packetsSent, 1, 'the first packet left with the answer');
      await sleep(200);
      assert.ok(sdh.stats().packetsSent >= 3, `later packets on the clock (sent ${sdh.stats().packetsSent})`);
      assert.ok(got.length >= 1, 'the desk received it');
      assert.equal(got[0]![1]! & 0x80, 0x80, 'the first packet carries the marker bit');
    } finally {
      sdh.close();
      await input.stop();
      desk.close();
    }
  });
});
