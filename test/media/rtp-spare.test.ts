// The next call's RTP socket is bound ahead (src/intercom/media/rtp-spare.ts):
// a call's offer then names a port that was already bound before the call
// began, the call owns that socket until it ends, a new spare is bound after
// each call, and without a spare (its bind failed) a call binds its own and
// fails as before when that bind fails too.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { RtpSessionDescriptionHandler } from '../../src/intercom/media/handler.js';
import { codecList } from '../../src/intercom/media/index.js';
import { bindRtpSocket, RtpSpare, rtpSocket, SPARE_REFILL_MS } from '../../src/intercom/media/rtp-spare.js';
import { evenPorts } from '../../src/intercom/media/rtp-ports.js';
import { freePortRun } from '../../src/testbed/ports.js';
import { createInput } from '../../src/audio/input/index.js';
import { sleep } from '../helpers/tmp.js';

const offerPort = (sdp: string) => Number(/\r\nm=audio (\d+) /.exec(sdp)?.[1]);

/** Resolves true when `port` on 127.0.0.1 is free (a bind to it succeeds). */
async function free(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  s.close();
  return ok;
}

function handler(spare: RtpSpare | undefined, input: ReturnType<typeof createInput>, range?: { min: number; max: number }) {
  return new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input, onEvent: () => {}, spare, rtpPortRange: range });
}

describe('RTP socket bound ahead of the call', () => {
  const input = createInput({ source: 'silence', device: 'default' } as never, 8000);
  after(() => input.stop());

  it('is bound before the call, used by its offer, kept by the call, and a new one is bound after each call', async () => {
    const spare = new RtpSpare('127.0.0.1', undefined);
    try {
      await spare.fill();
      const first = spare.port;
      assert.ok(first, 'a socket is bound before any call');
      assert.equal(await free(first), false, 'its port is taken (bound) before the press');
      const a = handler(spare, input);
      assert.equal(spare.port, undefined, 'the call took the spare');
      const offer = String((await a.getDescription()).body);
      assert.equal(offerPort(offer), first, 'the offer names the port bound ahead');
      await sleep(SPARE_REFILL_MS + 200);
      const second = spare.port;
      assert.ok(second && second !== first, `a new spare after the call took one (${first} -> ${second})`);
      a.close();
      assert.equal(await free(first), true, 'the call closed its socket at its end');
      const b = handler(spare, input);
      assert.equal(offerPort(String((await b.getDescription()).body)), second, 'the next call uses the new spare');
      b.close();
      assert.deepEqual(spare.stats, { bound: 2, failed: 0, taken: 2 });
    } finally {
      spare.close();
    }
  });

  it('receives the desk\'s RTP on the socket bound ahead', async () => {
    const spare = new RtpSpare('127.0.0.1', undefined);
    await spare.fill();
    const desk = dgram.createSocket('udp4');
    await new Promise<void>((r) => desk.bind(0, '127.0.0.1', () => r()));
    const h = handler(spare, input);
    try {
      const port = offerPort(String((await h.getDescription()).body));
      const answer = ['v=0', 'o=desk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${desk.address().port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
      await h.setDescription(answer);
      assert.equal(h.stats().packetsSent, 1, 'the first packet left with the answer');
      const pkt = Buffer.alloc(172);
      pkt[0] = 0x80;
      pkt.writeUInt16BE(1, 2);
      pkt.writeUInt32BE(1234, 8);
      desk.send(pkt, port, '127.0.0.1');
      const t0 = Date.now();
      while (h.stats().packetsReceived === 0 && Date.now() - t0 < 2000) await sleep(10);
      assert.equal(h.stats().packetsReceived, 1, 'the call hears the desk on the adopted socket');
    } finally {
      h.close();
      desk.close();
      spare.close();
    }
  });

  it('without a spare (its bind failed) the call binds its own and reports the same error when that fails too', async () => {
    // a range of one even port, held by someone else: every bind fails
    const holder = dgram.createSocket('udp4');
    let port = 0;
    for (let p = 40000 + 2 * Math.floor(Math.random() * 5000); !port; p += 2) {
      const ok = await new Promise<boolean>((resolve) => {
        holder.once('error', () => resolve(false));
        holder.bind(p, '127.0.0.1', () => resolve(true));
      });
      if (ok) port = p;
    }
    const range = { min: port, max: port + 1 };
    const warnings: string[] = [];
    const spare = new RtpSpare('127.0.0.1', range, (m) => warnings.push(m));
    try {
      await spare.fill();
      assert.equal(spare.port, undefined, 'no spare');
      assert.equal(spare.stats.failed, 1);
      assert.match(warnings[0] ?? '', /no RTP socket bound ahead of the next call: no free RTP port/);
      const h = handler(spare, input, range);
      await assert.rejects(h.getDescription(), /no free RTP port in/, 'the offer fails as without a spare: the INVITE is not sent');
      h.close();
    } finally {
      spare.close();
      holder.close();
    }
  });

  it('takes every even port of a range, both ends included, and no odd one', async () => {
    assert.deepEqual(evenPorts({ min: 10000, max: 10004 }), { first: 10000, count: 3 });
    assert.deepEqual(evenPorts({ min: 10001, max: 10004 }), { first: 10002, count: 2 });
    assert.deepEqual(evenPorts({ min: 10001, max: 10001 }), { first: 10002, count: 0 });
    // a range of two even ports (the second one its last port): two sockets take both (before, the last even port
    // of a range was never picked, and the second bind failed 50 times on the first port)
    const run = await freePortRun(5); // run..run+4 free
    const base = run + (run % 2 ? 1 : 2); // the first even port after run
    const range = { min: base - 1, max: base + 2 }; // starts on an odd port, ends on an even one
    const a = rtpSocket();
    const b = rtpSocket();
    try {
      const pa = await bindRtpSocket(a, '127.0.0.1', range);
      const pb = await bindRtpSocket(b, '127.0.0.1', range);
      assert.deepEqual([pa, pb].sort(), [base, base + 2]);
    } finally {
      a.close();
      b.close();
    }
    await assert.rejects(bindRtpSocket(rtpSocket(), '127.0.0.1', { min: 20001, max: 20001 }), /holds no even port/);
  });

  it('binds nothing more once closed', async () => {
    const spare = new RtpSpare('127.0.0.1', undefined);
    await spare.fill();
    const port = spare.port!;
    spare.close();
    assert.equal(await free(port), true, 'the spare\'s socket is closed');
    await spare.fill();
    assert.equal(spare.port, undefined);
  });
});
