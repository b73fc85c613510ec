// Live pages from the hub's gateway, at the kiosk: the page is announced
// (`pa.page`), the kiosk joins its zone's group for it, plays it under the
// page's id and ends it when the hub says so; a page that does not arrive is
// reported missed, and then taken by unicast; a kiosk without multicast says
// so at once. The sender is the hub's own PageSender (G.722). And what an
// emergency page does to what was playing: announcements and music pause and
// carry on afterwards, nothing of them lost.
import { strict as assert } from 'node:assert';
import { Bus } from '../../src/core/bus.js';
import { Mixer } from '../../src/audio/mixer.js';
import { RtpPager } from '../../src/audio/rtp-page.js';
import { PageSender } from '../../src/hub/pa/page-sender.js';
import { freePort } from '../../src/testbed/ports.js';
import { MemorySink, silentLog, tone, level, levels } from './helpers.js';
import { sleep, until } from '../helpers/tmp.js';
import type { AudioEvents } from '../../src/audio/events.js';

const RATE = 16000;

type Ev = { name: string; e: any };

async function talk(sender: PageSender, hz: number, ms: number): Promise<void> {
  const ch = sender.output().openChannel({ channel: 'call', rate: RATE });
  const x = tone(hz, ms, RATE, 0.5);
  const t0 = performance.now();
  for (let i = 0; i * 320 < x.length; i++) {
    ch.write(x.subarray(i * 320, (i + 1) * 320));
    await sleep(Math.max(0, t0 + (i + 1) * 20 - performance.now()));
  }
}

describe('hub pages at the kiosk (announced, joined, unicast fallback)', function () {
  this.timeout(20_000);
  let bus: Bus;
  let sink: MemorySink;
  let mixer: Mixer;
  let pager: RtpPager | undefined;
  let sender: PageSender | undefined;
  let events: Ev[];
  let port: number;
  let group: string;

  beforeEach(async () => {
    bus = new Bus();
    sink = new MemorySink();
    mixer = new Mixer({ rate: RATE, sink }).start();
    events = [];
    for (const name of ['pa.started', 'pa.ended', 'pa.missed'] as const) bus.on(name, (e: AudioEvents[typeof name]) => events.push({ name, e }));
    port = await freePort();
    group = `239.79.${1 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 200)}`;
  });
  afterEach(() => {
    pager?.stop();
    sender?.close();
    mixer.stop();
  });

  async function pagerWith(o: ConstructorParameters<typeof RtpPager>[4]) {
    pager = new RtpPager([], mixer, bus, silentLog, o);
    await pager.start();
    return pager;
  }

  async function senderTo(groups: { host: string; port: number }[]) {
    sender = new PageSender({ rate: RATE, groups, chime: new Int16Array(0), multicastInterface: '127.0.0.1' });
    await sender.start();
    return sender;
  }

  it('joins its zone\'s group for an announced page, plays it under the page id, ends it on the hub\'s word', async () => {
    await pagerWith({ zone: 'concourse', hubPages: { interface: '127.0.0.1' } });
    const s = await senderTo([{ host: group, port }]);
    bus.emit('pa.page', { id: 'pa-l-1', active: true, groups: [{ zone: 'platforms', group: '239.1.2.3', port: 9 }, { zone: 'concourse', group, port }], ssrc: s.ssrc, priority: 100 });
    await sleep(100); // the join
    const from = sink.frames.length;
    await talk(s, 1000, 800);
    bus.emit('pa.page', { id: 'pa-l-1', active: false });
    await until(() => events.some((x) => x.name === 'pa.ended'), 3000, 'the end');
    assert.deepEqual(
      events.map((x) => [x.name, x.e.id, x.e.channel, x.e.via ?? x.e.reason]),
      [
        ['pa.started', 'pa-l-1', 'page', 'multicast'],
        ['pa.ended', 'pa-l-1', 'page', 'done'],
      ],
    );
    const heard = levels(sink.all().subarray(from * 160), 1000, RATE, 100).filter((l) => l > 0.3).length;
    assert.ok(heard >= 6, `1 kHz heard for ${heard * 100} ms`);
  });

  it('keeps the mixer on 10 ms frames from the announcement to the first packet, even under music', async () => {
    await pagerWith({ zone: 'concourse', hubPages: { interface: '127.0.0.1' } });
    const s = await senderTo([{ host: group, port }]);
    mixer.openChannel({ channel: 'music', rate: RATE }).write(new Int16Array(RATE * 5));
    await sleep(150);
    const len = (from: number) => [...new Set(sink.frames.slice(from).map((f) => f.length))];
    assert.deepEqual(len(sink.frames.length - 3), [RATE / 50], 'music alone: 20 ms frames');
    bus.emit('pa.page', { id: 'pa-l-9', active: true, groups: [{ zone: 'concourse', group, port }], ssrc: s.ssrc, priority: 100 });
    await sleep(40);
    const waiting = sink.frames.length;
    await sleep(150);
    assert.deepEqual(len(waiting), [RATE / 100], 'announced, not arrived yet: 10 ms frames');
    const talking = talk(s, 1000, 600);
    await until(() => events.some((x) => x.name === 'pa.started'), 3000, 'the start');
    await sleep(200);
    assert.deepEqual(len(sink.frames.length - 3), [RATE / 50], 'playing: 20 ms frames again');
    await talking;
    bus.emit('pa.page', { id: 'pa-l-9', active: false });
    await until(() => events.some((x) => x.name === 'pa.ended'), 3000, 'the end');
  });

  it('releases the short frames of an announced page that never arrives', async () => {
    await pagerWith({ zone: 'concourse', hubPages: { interface: '127.0.0.1' } });
    mixer.openChannel({ channel: 'music', rate: RATE }).write(new Int16Array(RATE * 5));
    bus.emit('pa.page', { id: 'pa-l-10', active: true, groups: [{ zone: 'concourse', group, port }], ssrc: 1234, priority: 100 });
    await sleep(100);
    assert.equal(sink.frames.at(-1)!.length, RATE / 100, 'announced: 10 ms frames');
    bus.emit('pa.page', { id: 'pa-l-10', active: false });
    await until(() => events.some((x) => x.name === 'pa.ended'), 3000, 'the end');
    await sleep(100);
    assert.deepEqual([...new Set(sink.frames.slice(-3).map((f) => f.length))], [RATE / 50], 'ended before it came: 20 ms frames again');
  });

  it('a stall of the sender mid-page does not end a hub page: what comes after it still plays', async () => {
    await pagerWith({ zone: 'concourse', hubPages: { interface: '127.0.0.1' } });
    const s = await senderTo([{ host: group, port }]);
    bus.emit('pa.page', { id: 'pa-l-5', active: true, groups: [{ zone: 'concourse', group, port }], ssrc: s.ssrc, priority: 100 });
    await sleep(100);
    await talk(s, 500, 300);
    await sleep(1500); // longer than a group page's silence limit (1 s): a hub or console that stalled
    const from = sink.frames.length;
    await talk(s, 1000, 600);
    bus.emit('pa.page', { id: 'pa-l-5', active: false });
    await until(() => events.some((x) => x.name === 'pa.ended'), 3000, 'the end');
    assert.deepEqual(
      events.map((x) => [x.name, x.e.id, x.e.via ?? x.e.reason]),
      [
        ['pa.started', 'pa-l-5', 'multicast'],
        ['pa.ended', 'pa-l-5', 'done'],
      ],
    );
    const heard = levels(sink.all().subarray(from * 160), 1000, RATE, 100).filter((l) => l > 0.3).length;
    assert.ok(heard >= 4, `1 kHz after the stall heard for ${heard * 100} ms`);
  });

  it('an emergency page uses the emergency channel with its priority', async () => {
    await pagerWith({ zone: 'concourse', hubPages: { interface: '127.0.0.1' } });
    const s = await senderTo([{ host: group, port }]);
    bus.emit('pa.page', { id: 'pa-l-2', active: true, groups: [{ group, port }], ssrc: s.ssrc, priority: 250, emergency: true });
    await sleep(100);
    await talk(s, 1000, 200);
    await until(() => events.some((x) => x.name === 'pa.started'), 2000, 'started');
    assert.equal(events[0]!.e.channel, 'emergency');
    assert.equal(mixer.active().find((x) => x.id === 'pa-l-2')?.priority, 250);
  });

  it('a page that does not arrive is reported missed, then taken by unicast', async () => {
    const p = await pagerWith({ zone: 'concourse', hubPages: { interface: '127.0.0.1', unicastPort: 0, missAfterMs: 300 } });
    assert.ok(p.unicastPort > 0);
    // The page goes to another group than the one announced: multicast never arrives here.
    const s = await senderTo([{ host: '239.79.250.250', port }]);
    bus.emit('pa.page', { id: 'pa-l-3', active: true, groups: [{ group, port }], ssrc: s.ssrc, priority: 100 });
    const talking = talk(s, 1000, 1500);
    const missed = await until(() => events.find((x) => x.name === 'pa.missed'), 2000, 'missed');
    assert.equal(missed.e.unicastPort, p.unicastPort);
    assert.match(missed.e.reason, /no RTP from .* within 300 ms/);
    s.addUnicast({ host: '127.0.0.1', port: p.unicastPort });
    await talking;
    bus.emit('pa.page', { id: 'pa-l-3', active: false });
    await until(() => events.some((x) => x.name === 'pa.ended'), 3000, 'the end');
    assert.deepEqual(
      events.map((x) => [x.name, x.e.via ?? x.e.reason ?? '']),
      [
        ['pa.missed', missed.e.reason],
        ['pa.started', 'unicast'],
        ['pa.ended', 'done'],
      ],
    );
  });

  it('a kiosk without multicast says so at once; without a unicast port the page fails with the reason', async () => {
    const p = await pagerWith({ hubPages: { multicast: false, unicastPort: 0 } });
    bus.emit('pa.page', { id: 'pa-l-4', active: true, groups: [{ group, port }], ssrc: 42, priority: 100 });
    const m = await until(() => events.find((x) => x.name === 'pa.missed'), 500, 'missed at once');
    assert.deepEqual(m.e, { id: 'pa-l-4', reason: 'this kiosk takes no multicast', unicastPort: p.unicastPort });
    // Unannounced streams on the unicast port are not played.
    const stranger = await senderTo([]);
    stranger.addUnicast({ host: '127.0.0.1', port: p.unicastPort });
    await talk(stranger, 700, 200);
    assert.ok(!events.some((x) => x.name === 'pa.started'), 'an unannounced stream is dropped');
    pager!.stop();

    events.length = 0;
    await pagerWith({ hubPages: { multicast: false } });
    bus.emit('pa.page', { id: 'pa-l-5', active: true, groups: [{ group, port }], ssrc: 43, priority: 100 });
    await until(() => events.some((x) => x.name === 'pa.ended'), 500, 'failed');
    assert.deepEqual(
      events.map((x) => [x.name, x.e.reason]),
      [
        ['pa.missed', 'this kiosk takes no multicast'],
        ['pa.ended', 'error'],
      ],
    );
    assert.match(events[1]!.e.error, /no unicast port/);
  });
});

describe('an emergency pre-empts announcements and music (mixer rules)', () => {
  it('pauses them while it plays; they carry on afterwards where they were', () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, fadeMs: 50, sink });
    let t = 0;
    const run = (ms: number) => {
      for (let i = 0; i < ms / 10; i++) m.mixFrame((t += 10));
    };
    const music = m.openChannel({ channel: 'music', rate: RATE, live: false, volume: 0.6 });
    music.write(tone(300, 4000, RATE, 0.5));
    const ann = m.openChannel({ channel: 'announcement', rate: RATE });
    ann.write(tone(500, 1000, RATE, 0.5));
    ann.end();
    run(400);
    const em = m.openChannel({ channel: 'emergency', rate: RATE });
    em.write(tone(1000, 1000, RATE, 0.5));
    em.end();
    run(1000);
    run(1200);
    const out = sink.all();
    const at = (ms0: number, ms1: number) => out.subarray((ms0 * RATE) / 1000, (ms1 * RATE) / 1000);
    // before: the announcement, the music ducked under it
    assert.ok(level(at(100, 400), 500, RATE) > 0.45);
    assert.ok(level(at(100, 400), 300, RATE) > 0.02);
    // during the emergency: nothing else
    const during = at(450, 1380);
    assert.ok(level(during, 1000, RATE) > 0.45, 'the emergency is heard');
    assert.ok(level(during, 500, RATE) < 0.005 && level(during, 300, RATE) < 0.005, `announcement ${level(during, 500, RATE)}, music ${level(during, 300, RATE)} during the emergency`);
    // after: the announcement carries on with the 600 ms it had left, then the music comes back up
    const a500 = levels(out, 500, RATE, 20);
    const loud = a500.filter((l) => l > 0.3).length * 20;
    assert.ok(loud >= 900 && loud <= 1020, `the whole second of the announcement was heard: ${loud} ms`);
    assert.ok(level(at(1450, 1950), 500, RATE) > 0.45, 'the announcement resumed');
    assert.ok(level(at(2200, 2600), 300, RATE) > 0.2, 'the music resumed');
    assert.ok(m.active().includes(music), 'the music stream is still there');
  });
});
