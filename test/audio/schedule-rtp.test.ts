// Scheduled announcements (with a clock standing just before a minute) and
// live RTP pages on multicast groups joined on the loopback interface.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { Bus } from '../../src/core/bus.js';
import { Mixer } from '../../src/audio/mixer.js';
import { PaService } from '../../src/audio/pa.js';
import { MessageLibrary, findAudioDir } from '../../src/audio/messages.js';
import { ClipCache } from '../../src/audio/clips.js';
import { HubClock } from '../../src/audio/hub-clock.js';
import { Scheduler } from '../../src/audio/schedule.js';
import { RtpPager, type PageGroup } from '../../src/audio/rtp-page.js';
import { freePort } from '../../src/testbed/ports.js';
import { MemorySink, silentLog, tone, level, levels } from './helpers.js';
import { tmpDir, until, sleep } from '../helpers/tmp.js';

const RATE = 16000;

describe('scheduled announcements', () => {
  it('plays a scheduled message in its minute (clock set 300 ms before the minute)', async () => {
    const bus = new Bus();
    const mixer = new Mixer({ rate: RATE, sink: new MemorySink() }).start();
    const library = new MessageLibrary(findAudioDir(), RATE);
    const pa = new PaService({ mixer, bus, log: silentLog, library, clips: new ClipCache(tmpDir()), clock: new HubClock(bus), chime: true, languages: ['en'] });
    const real = Date.now();
    const nextMinute = Math.ceil((real + 1000) / 60_000) * 60_000;
    const skew = nextMinute - 300 - real; // fake "now" stands 300 ms before a minute boundary
    const now = () => Date.now() + skew;
    const starts: { id: string; at: number }[] = [];
    const errors: string[] = [];
    bus.on('pa.started', (e) => starts.push({ id: e.id, at: now() }));
    bus.on('pa.ended', (e) => e.error && errors.push(e.error));
    const minute = new Date(nextMinute);
    const cron = `${minute.getUTCMinutes()} ${minute.getUTCHours()} * * *`;
    const sched = new Scheduler(
      [
        { cron: 'not a cron', message: 'drill' }, // a broken entry is skipped, the rest still run
        { cron, message: 'drill', chime: false },
        { cron: `${(minute.getUTCMinutes() + 1) % 60} * * * *`, message: 'all-clear' }, // the next minute: must not play now
      ],
      (p) => bus.emit('pa.play', p),
      silentLog,
      { timezone: 'UTC', now },
    );
    sched.start();
    try {
      const s = await until(() => starts[0], 3000, 'scheduled start');
      assert.match(s.id, /^schedule-1-/);
      assert.ok(s.at >= nextMinute && s.at < nextMinute + 60_000, `started at ${new Date(s.at).toISOString()}, minute ${minute.toISOString()}`);
      await sleep(300);
      assert.equal(starts.length, 1, 'nothing else fired');
      assert.deepEqual(errors, []);
    } finally {
      sched.stop();
      pa.close();
      mixer.stop();
    }
  });
});

function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

function mulaw(x: number): number {
  // G.711 mu-law encoder (the test's own, independent of the decoder under test)
  const BIAS = 0x84;
  let sign = 0;
  if (x < 0) {
    x = -x;
    sign = 0x80;
  }
  x = Math.min(x + BIAS, 32635 + BIAS);
  let exp = 7;
  for (let m = 0x4000; (x & m) === 0 && exp > 0; m >>= 1) exp--;
  const mant = (x >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

/** Sends `ms` of a tone as a page: 20 ms packets, paced in real time. */
async function sendPage(sock: dgram.Socket, group: string, port: number, codec: 'PCMU' | 'L16', freq: number, ms: number, ssrc: number): Promise<number> {
  const rate = codec === 'PCMU' ? 8000 : 16000;
  const x = tone(freq, ms, rate, 0.5);
  const per = rate / 50;
  const t0 = performance.now();
  for (let i = 0; i * per < x.length; i++) {
    const chunk = x.subarray(i * per, (i + 1) * per);
    const payload = codec === 'PCMU' ? Buffer.from(Array.from(chunk, mulaw)) : Buffer.from(Array.from(chunk).flatMap((v) => [(v >> 8) & 0xff, v & 0xff]));
    sock.send(rtpPacket(codec === 'PCMU' ? 0 : 96, 1000 + i, i * per, ssrc, payload), port, group);
    const due = t0 + (i + 1) * 20;
    await sleep(Math.max(0, due - performance.now()));
  }
  return t0;
}

describe('live paging over RTP multicast', function () {
  let bus: Bus;
  let sink: MemorySink;
  let mixer: Mixer;
  let pager: RtpPager;
  let sender: dgram.Socket;
  let groups: PageGroup[];

  beforeEach(async () => {
    bus = new Bus();
    sink = new MemorySink();
    mixer = new Mixer({ rate: RATE, sink }).start();
    const port = await freePort();
    const base = 1 + Math.floor(Math.random() * 200);
    // twelve zones' groups with different priorities, all joined on loopback
    groups = Array.from({ length: 12 }, (_, i) => ({ group: `239.77.${base}.${i + 1}`, port, priority: 10 + i * 10, interface: '127.0.0.1' }));
    pager = new RtpPager(groups, mixer, bus, silentLog, 200);
    await pager.start();
    sender = dgram.createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
    sender.setMulticastInterface('127.0.0.1');
    sender.setMulticastLoopback(true);
  });
  afterEach(() => {
    pager.stop();
    mixer.stop();
    sender.close();
  });

  it('hears a PCMU page sent to a multicast group, and ends it after silence', async () => {
    const events: string[] = [];
    bus.on('pa.started', (e) => events.push(`started ${e.channel}`));
    bus.on('pa.ended', (e) => events.push(`ended ${e.reason}`));
    const from = sink.frames.length;
    await sendPage(sender, groups[3]!.group, groups[3]!.port, 'PCMU', 1000, 600, 0x1234);
    await until(() => events.includes('ended done'), 3000, 'page end');
    assert.deepEqual(events, ['started page', 'ended done']);
    const out = sink.all().subarray(from * 160);
    const l = levels(out, 1000, RATE, 100).filter((x) => x > 0.3);
    assert.ok(l.length >= 4, `1 kHz heard for ${l.length * 100} ms: ${levels(out, 1000, RATE, 100).map((x) => x.toFixed(2))}`);
  });

  it('a higher-priority group wins over a lower one; the lower is heard again after', async () => {
    const low = groups[1]!;
    const high = groups[10]!;
    const from = sink.frames.length;
    const lowPage = sendPage(sender, low.group, low.port, 'L16', 440, 1600, 1);
    await sleep(400);
    await sendPage(sender, high.group, high.port, 'L16', 1000, 600, 2);
    await lowPage;
    await sleep(100);
    const out = sink.all().subarray(from * 160);
    // Judged on the output itself, in 50 ms blocks, not at fixed offsets: a mixer that stalls over 200 ms on a
    // loaded machine starts a fresh timeline (skips frames), which moves every later block.
    const B = (50 * RATE) / 1000;
    const block = (i: number) => out.subarray(i * B, (i + 1) * B);
    const n = Math.floor(out.length / B);
    const high1k = Array.from({ length: n }, (_, i) => level(block(i), 1000, RATE) > 0.4);
    const firstHigh = high1k.indexOf(true);
    const lastHigh = high1k.lastIndexOf(true);
    assert.ok(firstHigh >= 0 && lastHigh - firstHigh >= 6, `the high-priority page heard (blocks ${firstHigh}..${lastHigh})`);
    // while both talk (the high page's blocks, away from its fades): only the high-priority page
    for (let i = firstHigh + 1; i < lastHigh; i++) assert.ok(level(block(i), 440, RATE) < 0.02, `only the high-priority page while both talk (block ${i})`);
    // after it: the lower page again (it fades back in over about 200 ms), at full level for at least 200 ms
    const lowAfter = Array.from({ length: n }, (_, i) => i > lastHigh + 1 && level(block(i), 440, RATE) > 0.3).filter(Boolean).length;
    const map = Array.from({ length: n }, (_, i) => `${level(block(i), 1000, RATE).toFixed(1)}/${level(block(i), 440, RATE).toFixed(1)}`).join(' ');
    assert.ok(lowAfter >= 4, `the lower page again afterwards (${lowAfter * 50} ms of it): ${map}`);
  });
});
