// The calls' RTP sockets (rtp-socket.ts): the addon's polled socket gives
// each packet its source and the kernel's arrival time (read up to a tick
// later, still timed when it came), skips what it cannot take, and the kind
// falls back to Node's dgram where the poll socket cannot serve.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { createRtpSocket, preferredRtpSocketKind, type RtpSocket } from '../../src/intercom/media/rtp-socket.js';
import { dspOrUndefined } from '../../src/dsp/native.js';
import { RtpStream } from '../../src/intercom/media/rtp-stream.js';
import { SilenceInput } from '../../src/audio/input/index.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { buildRtp } from '../../src/intercom/media/rtp-packet.js';
import { mediaClock } from '../../src/audio/media-clock.js';
import { sleep } from '../helpers/tmp.js';

interface Got {
  bytes: string;
  host: string;
  port: number;
  arrival: number;
}

async function peer(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

describe('RTP sockets', function () {
  this.timeout(10_000);
  before(function () {
    if (!dspOrUndefined()?.UdpSocket) this.skip();
  });

  it('a poll socket hands over each waiting packet with its source and its arrival time, not the time it was read', async () => {
    const sock = createRtpSocket('poll', '127.0.0.1');
    assert.equal(sock.kind, 'poll');
    const other = await peer();
    try {
      assert.ok(await sock.bind('127.0.0.1', 0));
      // Linux turns receive timestamps on a moment after the first socket of the host asks for them (deferred work);
      // a packet that came before is stamped when read. A call's socket is bound well before its first packet.
      await sleep(50);
      const port = sock.localPort();
      const got: Got[] = [];
      sock.listen((buf, len, host, p, arrival) => got.push({ bytes: buf.subarray(0, len).toString(), host, port: p, arrival }));
      sock.poll(performance.now());
      assert.equal(got.length, 0, 'nothing waits yet');
      const sentAt = performance.now();
      other.send('first', port, '127.0.0.1');
      other.send('second', port, '127.0.0.1');
      await sleep(80);
      const readAt = performance.now();
      sock.poll(readAt);
      assert.deepEqual(
        got.map((g) => [g.bytes, g.host, g.port]),
        [
          ['first', '127.0.0.1', other.address().port],
          ['second', '127.0.0.1', other.address().port],
        ],
      );
      for (const g of got) {
        assert.ok(g.arrival >= sentAt - 2 && g.arrival <= sentAt + 20, `arrival ${(g.arrival - sentAt).toFixed(1)} ms after the send, read ${(readAt - sentAt).toFixed(1)} ms after it`);
      }
      sock.poll(performance.now());
      assert.equal(got.length, 2, 'each packet is handed over once');
    } finally {
      sock.close();
      other.close();
    }
  });

  it('a poll socket sends from its own port, skips a packet longer than any RTP packet, and reads nothing once closed', async () => {
    const sock = createRtpSocket('poll', '127.0.0.1');
    const other = await peer();
    try {
      await sock.bind('127.0.0.1', 0);
      const heard: { text: string; port: number }[] = [];
      other.on('message', (m, r) => heard.push({ text: m.toString(), port: r.port }));
      sock.send(Buffer.from('hello there'), other.address().port, '127.0.0.1', 5);
      await sleep(30);
      assert.deepEqual(heard, [{ text: 'hello', port: sock.localPort() }], 'bytes [0, len) from the bound port');
      const got: string[] = [];
      sock.listen((buf, len) => got.push(buf.subarray(0, len).toString()));
      other.send(Buffer.alloc(4000, 1), sock.localPort(), '127.0.0.1');
      other.send('after', sock.localPort(), '127.0.0.1');
      await sleep(30);
      sock.poll(performance.now());
      assert.deepEqual(got, ['after']);
      other.send('late', sock.localPort(), '127.0.0.1');
      await sleep(30);
      sock.close();
      sock.poll(performance.now());
      sock.send(Buffer.from('x'), other.address().port, '127.0.0.1');
      assert.deepEqual(got, ['after']);
    } finally {
      sock.close();
      other.close();
    }
  });

  it('a port in use is refused (the caller tries another), like a node socket', async () => {
    const a = createRtpSocket('poll', '127.0.0.1');
    const b = createRtpSocket('poll', '127.0.0.1');
    const c = createRtpSocket('node');
    try {
      await a.bind('127.0.0.1', 0);
      assert.equal(await b.bind('127.0.0.1', a.localPort()), false);
      assert.equal(await c.bind('127.0.0.1', a.localPort()), false);
    } finally {
      for (const s of [a, b, c]) s.close();
    }
  });

  it('the kind falls back to a node socket for a host that is not an IPv4 literal, and HELPPOINT_RTP_SOCKET=node forces it', () => {
    assert.equal(createRtpSocket('poll', 'localhost').kind, 'node');
    assert.equal(createRtpSocket('poll', '::1').kind, 'node');
    assert.equal(createRtpSocket('node', '127.0.0.1').kind, 'node');
    const was = process.env.HELPPOINT_RTP_SOCKET;
    try {
      delete process.env.HELPPOINT_RTP_SOCKET;
      assert.equal(preferredRtpSocketKind(), 'poll');
      process.env.HELPPOINT_RTP_SOCKET = 'node';
      assert.equal(preferredRtpSocketKind(), 'node');
    } finally {
      if (was === undefined) delete process.env.HELPPOINT_RTP_SOCKET;
      else process.env.HELPPOINT_RTP_SOCKET = was;
    }
  });

  /** A call on a poll socket fed `count` packets from the desk every `everyMs` (stamped so), and a stranger's every 10th. */
  async function pollCall(everyMs: number, count: number) {
    const frames: Int16Array[] = [];
    const tasksBefore = mediaClock.taskCount;
    const input = new SilenceInput(8000);
    const stream = new RtpStream(
      input,
      { rate: 8000, openChannel: (o) => ({ id: o.id ?? 'call', channel: o.channel, write: (s: Int16Array) => frames.push(s.slice()), end() {}, close() {} }) as never },
      () => {},
      undefined,
      false,
      'poll',
    );
    const desk = await peer();
    const stranger = await peer();
    let heard = 0;
    desk.on('message', () => heard++);
    try {
      const port = await stream.bind('127.0.0.1');
      assert.equal((stream.socket as RtpSocket).kind, 'poll');
      stream.configure({ codec: CODECS.PCMU(), payloadType: 0, remote: { host: '127.0.0.1', port: desk.address().port }, direction: 'sendrecv' });
      const tone = CODECS.PCMU().encode(Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000))));
      const step = everyMs * 8;
      const t0 = performance.now();
      for (let seq = 0; seq < count; seq++) {
        desk.send(buildRtp({ marker: seq === 0, payloadType: 0, seq, timestamp: seq * step, ssrc: 9 }, tone), port, '127.0.0.1');
        if (seq % 10 === 5) stranger.send(buildRtp({ marker: false, payloadType: 0, seq, timestamp: seq * step, ssrc: 10 }, tone), port, '127.0.0.1');
        await sleep(Math.max(0, t0 + (seq + 1) * everyMs - performance.now()));
      }
      await sleep(120);
      return { stats: stream.stats(), loud: frames.filter((f) => f.some((s) => Math.abs(s) > 1000)).length, heard };
    } finally {
      stream.close();
      await input.stop();
      desk.close();
      stranger.close();
      assert.equal(mediaClock.taskCount, tasksBefore, 'the closed stream left nothing on the media clock');
    }
  }

  it('a call on a poll socket reads on the media clock: the latched peer played, a stranger counted and dropped', async () => {
    const { stats, loud, heard } = await pollCall(20, 50);
    assert.equal(stats.packetsReceived, 50);
    assert.equal(stats.packetsRejected, 5);
    assert.ok(loud >= 45, `the desk is played: ${loud} loud frames`);
    assert.ok(heard >= 45, `the desk heard ${heard} packets`);
  });

  it('a call on a poll socket takes its jitter from arrival times, not from the 20 ms reads', async () => {
    // Every 25 ms, stamped so: no jitter on arrival, while 20 ms reads see a phase that moves (about 5 ms of jitter).
    const { stats } = await pollCall(25, 40);
    assert.equal(stats.packetsReceived, 40);
    assert.ok(stats.jitterMs < 2.5, `jitter ${stats.jitterMs} ms`);
  });
});
