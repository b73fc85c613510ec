// The mixer and arbiter, driven frame by frame (no real time needed): what
// each rule does to the output samples.
import { strict as assert } from 'node:assert';
import { Mixer, type MixerStream } from '../../src/audio/mixer.js';
import { mediaClock, MediaClock, ORDER } from '../../src/audio/media-clock.js';
import { FakeTime, MemorySink, tone, level, levels } from './helpers.js';
import { sleep } from '../helpers/tmp.js';

const RATE = 16000;

function mixer(opts: Partial<ConstructorParameters<typeof Mixer>[0]> = {}) {
  const sink = new MemorySink();
  const m = new Mixer({ rate: RATE, frameMs: 10, fadeMs: 100, sink, ...opts });
  let t = 0;
  const run = (ms: number) => {
    for (let i = 0; i < ms / 10; i++) m.mixFrame((t += 10));
  };
  return { m, sink, run };
}

describe('audio mixer and arbiter', () => {
  it('plays a stream alone bit-exact at volume 1', () => {
    const { m, sink, run } = mixer();
    const x = tone(440, 200, RATE);
    const s = m.openChannel({ channel: 'announcement', rate: RATE });
    s.write(x);
    s.end();
    let ended = '';
    s.onEnd = (r) => (ended = r);
    run(300);
    assert.deepEqual(sink.all().subarray(0, x.length), x);
    assert.equal(ended, 'done');
    assert.equal(m.active().length, 0);
  });

  it('emergency mutes a running call, which stays up and returns afterwards', () => {
    const { m, sink, run } = mixer();
    const call = m.openChannel({ channel: 'call', rate: RATE, id: 'call' });
    const feedCall = (ms: number) => {
      // the call is live: 10 ms in, 10 ms out, as an RTP stream would
      for (let i = 0; i < ms / 10; i++) {
        call.write(tone(440, 10, RATE).map((v, j) => Math.round(Math.sin((2 * Math.PI * 440 * (i * 160 + j)) / RATE) * 0.4 * 32767)));
        run(10);
      }
    };
    feedCall(500);
    const em = m.openChannel({ channel: 'emergency', rate: RATE });
    em.write(tone(1000, 1000, RATE, 0.5));
    em.end();
    feedCall(1000);
    feedCall(600);
    const out = sink.all();
    const call440 = levels(out, 440, RATE, 50);
    const em1k = levels(out, 1000, RATE, 50);
    // before: call only; during (after the fade): no call at all; after: the call is back
    assert.ok(call440.slice(0, 10).every((l) => l > 0.35), `call before: ${call440.slice(0, 10)}`);
    assert.ok(call440.slice(14, 30).every((l) => l < 0.001), `call during emergency: ${call440.slice(14, 30)}`);
    assert.ok(em1k.slice(11, 29).every((l) => l > 0.45), `emergency heard: ${em1k.slice(11, 29)}`);
    assert.ok(call440.slice(34, 42).every((l) => l > 0.35), `call after: ${call440.slice(34, 42)}`);
    assert.ok(m.active().includes(call), 'the call stream stays open');
  });

  it('ducks a lower announcement with a fade under a page and resumes it', () => {
    const { m, sink, run } = mixer({ duckLevel: 0.2, fadeMs: 100 });
    const ann = m.openChannel({ channel: 'announcement', rate: RATE });
    ann.write(tone(440, 2000, RATE, 0.5));
    ann.end();
    run(400);
    const page = m.openChannel({ channel: 'page', rate: RATE, live: false });
    page.write(tone(1000, 600, RATE, 0.5));
    page.end();
    run(1000);
    const out = sink.all();
    const a = levels(out, 440, RATE, 20);
    // 0-400 ms full, fade over 100 ms (not a cut), ducked to 20 %, page ends at 1000 ms, fades back up
    assert.ok(a.slice(0, 20).every((l) => Math.abs(l - 0.5) < 0.02), `before: ${a.slice(0, 20)}`);
    const fade = a.slice(20, 25);
    assert.ok(fade.some((l) => l > 0.15 && l < 0.45), `a fade, not a cut: ${fade}`);
    assert.ok(a.slice(26, 49).every((l) => Math.abs(l - 0.1) < 0.02), `ducked to 20 %: ${a.slice(26, 49)}`);
    assert.ok(a.slice(56, 70).every((l) => Math.abs(l - 0.5) < 0.02), `resumed: ${a.slice(56, 70)}`);
    // nothing of the announcement was skipped: it is still playing after 1.4 s of a 2 s clip
    assert.ok(m.active().includes(ann));
  });

  it('mixes a page into a call (both heard)', () => {
    const { m, sink, run } = mixer();
    const call = m.openChannel({ channel: 'call', rate: RATE, live: false });
    call.write(tone(440, 500, RATE, 0.3));
    const page = m.openChannel({ channel: 'page', rate: RATE, live: false });
    page.write(tone(1000, 500, RATE, 0.3));
    run(400);
    const out = sink.all().subarray(1600, 6400);
    assert.ok(level(out, 440, RATE) > 0.28 && level(out, 1000, RATE) > 0.28);
  });

  it('keeps a live page within its lag cap: a burst after a stall plays its newest audio, not the backlog', () => {
    // 200 ms of 440 Hz then 100 ms of 1 kHz arrive at once (a sender that stalled and caught up).
    const burst = () => {
      const x = new Int16Array((RATE * 300) / 1000);
      x.set(tone(440, 200, RATE, 0.3));
      x.set(tone(1000, 100, RATE, 0.3), (RATE * 200) / 1000);
      return x;
    };
    const capped = mixer();
    capped.m.openChannel({ channel: 'page', rate: RATE, live: true, maxLagMs: 120 }).write(burst());
    capped.run(100);
    // Over the cap: trimmed to half of it (60 ms), the newest audio.
    const head = capped.sink.all().subarray(0, (RATE * 50) / 1000);
    assert.ok(level(head, 1000, RATE) > 0.25, 'the newest audio plays at once');
    assert.ok(level(head, 440, RATE) < 0.05, 'the backlog is dropped');
    const uncapped = mixer();
    uncapped.m.openChannel({ channel: 'page', rate: RATE, live: true }).write(burst());
    uncapped.run(100);
    assert.ok(level(uncapped.sink.all().subarray(0, (RATE * 50) / 1000), 440, RATE) > 0.25, 'within the default 400 ms all of it plays');
  });

  it('queues equal priorities in order', () => {
    const { m, sink, run } = mixer();
    const a = m.openChannel({ channel: 'announcement', rate: RATE, id: 'a' });
    const b = m.openChannel({ channel: 'announcement', rate: RATE, id: 'b' });
    a.write(tone(440, 300, RATE));
    a.end();
    b.write(tone(1000, 300, RATE));
    b.end();
    run(700);
    const out = sink.all();
    const first = out.subarray(0, 4800);
    const second = out.subarray(4800, 9600);
    assert.ok(level(first, 440, RATE) > 0.45 && level(first, 1000, RATE) < 0.01);
    assert.ok(level(second, 1000, RATE) > 0.45 && level(second, 440, RATE) < 0.01);
  });

  it('a higher-priority page in the same channel is heard, a lower one waits', () => {
    const { m, sink, run } = mixer();
    const low = m.openChannel({ channel: 'page', rate: RATE, priority: 10, live: true });
    const high = m.openChannel({ channel: 'page', rate: RATE, priority: 200, live: true });
    for (let i = 0; i < 30; i++) {
      low.write(tone(440, 10, RATE));
      high.write(tone(1000, 10, RATE));
      run(10);
    }
    const out = sink.all();
    assert.ok(level(out, 1000, RATE) > 0.45 && level(out, 440, RATE) < 0.01);
  });

  it('starts a stream on the exact sample of its start time', () => {
    const { m, sink } = mixer();
    const s = m.openChannel({ channel: 'announcement', rate: RATE, startAt: 53.3 });
    s.write(Int16Array.from({ length: 320 }, () => 1000));
    let at = 0;
    s.onStart = (i) => (at = i.at);
    for (let t = 0; t < 100; t += 10) m.mixFrame(t);
    const out = sink.all();
    const first = out.findIndex((v) => v !== 0);
    assert.equal(first, Math.round(53.3 * 16));
    assert.ok(Math.abs(at - 53.3) < 0.1, `start reported at ${at}`);
  });

  it('resamples other rates (8 kHz call into a 16 kHz output)', async () => {
    const { m, sink, run } = mixer();
    const s = m.openChannel({ channel: 'call', rate: 8000, live: false });
    s.write(tone(1000, 500, 8000, 0.5));
    s.end();
    await sleep(100); // the converter is created asynchronously
    run(600);
    const out = sink.all();
    assert.ok(level(out.subarray(1600, 6400), 1000, RATE) > 0.45, 'the tone keeps its frequency and level');
    assert.ok(out.length >= 8000);
  });

  it('mixes 20 ms frames while no start is pending, 10 ms frames while one is, with no sample lost', async () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, sink }).start();
    const call = m.openChannel({ channel: 'call', rate: RATE, live: false });
    // a ramp: every sample distinct, so a lost or doubled sample shows in the output
    const x = new Int16Array(RATE).map((_, i) => (i % 20000) - 10000);
    call.write(x);
    await sleep(300);
    const callOnly = sink.frames.length;
    const long = sink.frames.filter((f) => f.length === RATE / 50).length;
    // music due to start 250 ms from now: pending until then
    const music = m.openChannel({ channel: 'music', rate: RATE, startAt: performance.now() + 250 });
    music.write(new Int16Array(RATE));
    await sleep(150);
    const pending = sink.frames.slice(callOnly + 2);
    await sleep(300); // music plays from 250 ms on: no start pending any more
    const playing = sink.frames.slice(-8);
    m.stop();
    assert.ok(long >= callOnly - 3, `${long} of ${callOnly} frames while only the call played were 20 ms`);
    assert.ok(music.started, 'the music started');
    assert.ok(pending.length > 5 && pending.every((f) => f.length === RATE / 100), `while the music's start was pending: frames of ${[...new Set(pending.map((f) => f.length))]} samples`);
    assert.ok(playing.every((f) => f.length === RATE / 50), `with call and music playing: frames of ${[...new Set(playing.map((f) => f.length))]} samples`);
    // the call's samples come out in order, none lost or repeated, across both frame lengths (music is silent)
    const out = sink.all();
    const start = out.indexOf(x[0]!);
    assert.ok(start >= 0);
    const played = out.subarray(start, start + Math.min(x.length, out.length - start - RATE / 50));
    assert.deepEqual(played, x.subarray(0, played.length));
  });

  it('keeps 10 ms frames while a start is announced ahead (PA audio being made ready)', async () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, sink }).start();
    const page = m.openChannel({ channel: 'page', rate: RATE, live: false });
    page.write(new Int16Array(RATE));
    await sleep(150);
    const release = m.holdShortFrames();
    const from = sink.frames.length + 1;
    await sleep(150);
    const held = sink.frames.slice(from);
    release();
    release(); // twice is harmless
    const after = sink.frames.length + 2;
    await sleep(150);
    const released = sink.frames.slice(after);
    m.stop();
    assert.ok(held.length > 5 && held.every((f) => f.length === RATE / 100), `held: frames of ${[...new Set(held.map((f) => f.length))]} samples`);
    assert.ok(released.length > 2 && released.every((f) => f.length === RATE / 50), `released: frames of ${[...new Set(released.map((f) => f.length))]} samples`);
  });

  it('leaves the media clock when nothing plays and comes back at once, on the grid, for the next stream', async () => {
    // a task already on the process's clock fixes the grid at an odd phase (as a call would): only if it is the first
    assert.equal(mediaClock.taskCount, 0, "the process's media clock is idle before the test (a task left by an earlier test sets its grid)");
    const epoch = performance.now() + 7.3;
    const other = { order: ORDER.send, due: epoch, tick: (now: number) => now + 20 };
    const remove = mediaClock.add(other);
    try {
      const sink = new MemorySink();
      const m = new Mixer({ rate: RATE, frameMs: 10, sink, idleAfterMs: 100 }).start();
      await sleep(50);
      assert.equal(m.awake, false, 'idle from the start: not on the clock');
      assert.equal(sink.frames.length, 0, 'no silent frames written while idle');
      const a = m.openChannel({ channel: 'emergency', rate: RATE });
      a.write(new Int16Array(RATE / 10).fill(1000));
      a.end();
      const openedAt = performance.now();
      const started = await new Promise<{ frameT0: number; at: number }>((r) => (a.onStart = r));
      assert.ok(started.at - openedAt <= 10.5, `first sample ${(started.at - openedAt).toFixed(2)} ms after the open on the output timeline (at most one 10 ms frame)`);
      const offGrid = (((started.frameT0 - epoch) % 10) + 10) % 10;
      assert.ok(offGrid < 0.01 || offGrid > 9.99, `first frame ${offGrid.toFixed(3)} ms off the clock's 10 ms grid`);
      await new Promise<void>((r) => (a.onEnd = () => r()));
      const atEnd = sink.all().length;
      await sleep(250);
      assert.equal(m.awake, false, 'idle again once the stream ended');
      // silence for idleAfterMs first: the device's buffer plays out its last sound
      const tail = sink.all().subarray(atEnd);
      assert.ok(tail.length >= (RATE / 1000) * 100 && tail.length <= (RATE / 1000) * 140 && tail.every((v) => v === 0), `${tail.length} samples of silence after the end`);
      const written = sink.frames.length;
      await sleep(100);
      assert.equal(sink.frames.length, written, 'nothing written while idle');
      assert.equal(m.idleStops, 1);
      m.stop();
    } finally {
      remove();
    }
  });

  it('after going idle, a stream opened at once continues the timeline the device still holds', async () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, sink, idleAfterMs: 0 }).start();
    const b = m.openChannel({ channel: 'announcement', rate: RATE });
    b.write(new Int16Array(RATE / 10).fill(500));
    b.end();
    // opened just after the frame holding b's end went out, before its time is over
    const c = await new Promise<MixerStream>((r) => (b.onEnd = () => setImmediate(() => r(m.openChannel({ channel: 'announcement', rate: RATE })))));
    assert.equal(m.idleStops, 1, 'the mixer went idle between the two');
    c.write(new Int16Array(RATE / 50).fill(700));
    c.end();
    const i = await new Promise<{ frameT0: number }>((r) => (c.onStart = r));
    m.stop();
    assert.ok(i.frameT0 >= b.endedAt! - 0.01, `the next frame starts at ${(i.frameT0 - b.endedAt!).toFixed(2)} ms from the end of the audio already written`);
  });

  it('stays on the clock while something listens to its frames (the simulated room, the echo reference)', async () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, sink, idleAfterMs: 0 }).start();
    let heard = 0;
    const off = m.onFrame((f) => (heard += f.length));
    await sleep(200);
    assert.ok(m.awake && heard > 0, `${heard} samples heard with nothing playing`);
    off();
    await sleep(50);
    assert.equal(m.awake, false, 'idle once nobody listens');
    m.stop();
  });

  it('lines its frames up with the clock grid another task set first, so a call still gets 20 ms frames', async () => {
    // a task already on the process's clock (a call's sender, a test tone) fixes the grid at an odd phase
    const other = { order: ORDER.send, due: performance.now() + 7.3, tick: (now: number) => now + 20 };
    const remove = mediaClock.add(other);
    try {
      await sleep(30);
      const sink = new MemorySink();
      const m = new Mixer({ rate: RATE, frameMs: 10, sink }).start();
      const call = m.openChannel({ channel: 'call', rate: RATE, live: false });
      call.write(new Int16Array(RATE / 2));
      await sleep(300);
      const frames = sink.frames.length;
      const long = sink.frames.filter((f) => f.length === RATE / 50).length;
      m.stop();
      assert.ok(long >= frames - 3, `${long} of ${frames} frames were 20 ms`);
    } finally {
      remove();
    }
  });

  it('runs on its own real-time clock, not the device pace', async () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, sink }).start();
    m.openChannel({ channel: 'music', rate: RATE }).write(new Int16Array(RATE * 2));
    await sleep(50);
    const n0 = sink.all().length;
    const t0 = performance.now();
    await sleep(500);
    const samples = sink.all().length - n0;
    const elapsed = performance.now() - t0;
    m.stop();
    // the null-like sink takes anything at once; the clock alone sets the pace (to within two 20 ms frames)
    assert.ok(Math.abs(samples - (elapsed * RATE) / 1000) <= (RATE / 1000) * 40, `${samples} samples in ${elapsed.toFixed(0)} ms`);
  });

  describe('start latency on a fake clock (a frame hands the device audio up to its end)', () => {
    const MS = RATE / 1000;
    function onFakeClock(opts: Partial<ConstructorParameters<typeof Mixer>[0]> = {}) {
      const time = new FakeTime(1000);
      const sink = new MemorySink();
      const m = new Mixer({ rate: RATE, frameMs: 10, sink, clock: new MediaClock(time), ...opts }).start();
      return { time, sink, m };
    }
    /** every frame's start and length, while something listens (the mixer then stays on the clock) */
    function timeline(m: Mixer) {
      const frames: { t0: number; n: number }[] = [];
      m.onFrame((f, t0) => frames.push({ t0, n: f.length }));
      return {
        frames,
        /** no gap and no overlap: each frame starts where the one before it ended */
        assertContinuous(what: string) {
          for (let i = 1; i < frames.length; i++) {
            const gap = frames[i]!.t0 - (frames[i - 1]!.t0 + frames[i - 1]!.n / MS);
            assert.ok(Math.abs(gap) < 1e-6, `${what}: frame ${i} at ${frames[i]!.t0.toFixed(3)} leaves a ${gap.toFixed(3)} ms gap after the one before`);
          }
        },
      };
    }
    /** opens a stream of 100 ms at the current instant; resolves its start once time has moved on */
    function openAndStart(m: Mixer, time: FakeTime, channel: 'announcement' | 'page' = 'announcement') {
      const s = m.openChannel({ channel, rate: RATE, live: channel === 'page' });
      let info: { at: number; writtenAt: number; frameT0: number } | undefined;
      s.onStart = (i) => (info = i);
      s.write(new Int16Array(100 * MS).fill(700));
      s.end();
      const openedAt = time.now();
      time.advance(40);
      assert.ok(info, 'the stream started');
      return { openedAt, ...info };
    }
    /** at most 10 ms from the open to the start on the output timeline and to the frame's hand-over */
    function assertNextShortFrame(st: { openedAt: number; at: number; writtenAt: number }, what: string) {
      assert.ok(st.at - st.openedAt <= 10 + 1e-6, `${what}: first sample ${(st.at - st.openedAt).toFixed(2)} ms after the open on the output timeline`);
      assert.ok(st.writtenAt - st.openedAt <= 10 + 1e-6, `${what}: handed to the device ${(st.writtenAt - st.openedAt).toFixed(2)} ms after the open`);
    }

    it('after going idle: the first sample at the next 10 ms boundary at the latest', () => {
      for (let phase = 0; phase < 10; phase += 0.5) {
        const { time, m } = onFakeClock({ idleAfterMs: 50 });
        openAndStart(m, time);
        time.advance(200 + phase);
        assert.equal(m.awake, false, 'asleep before the next stream');
        assertNextShortFrame(openAndStart(m, time), `idle, opened ${phase} ms into the period`);
        m.stop();
      }
    });

    it('right after a stream that played in 20 ms frames ended: the next one waits at most 10 ms, the timeline continuous', () => {
      for (let phase = 0; phase < 20; phase += 0.5) {
        const { time, m, sink } = onFakeClock();
        const line = timeline(m);
        const a = m.openChannel({ channel: 'announcement', rate: RATE });
        a.write(new Int16Array(200 * MS).fill(500));
        a.end();
        let ended = false;
        a.onEnd = () => (ended = true);
        while (!ended) time.advance(1);
        assert.ok(sink.frames.filter((f) => f.length === 20 * MS).length >= 5, 'the announcement played in 20 ms frames');
        time.advance(phase);
        assertNextShortFrame(openAndStart(m, time), `opened ${phase} ms after the frame that ended the first`);
        line.assertContinuous(`phase ${phase}`);
        m.stop();
      }
    });

    it('a live page open after its last packet plays nothing: the next page waits at most 10 ms', () => {
      for (let phase = 0; phase < 20; phase += 1) {
        const { time, m, sink } = onFakeClock();
        const line = timeline(m);
        const first = m.openChannel({ channel: 'page', rate: RATE, live: true });
        for (let i = 0; i < 10; i++) {
          first.write(new Int16Array(20 * MS).fill(300)); // one packet every 20 ms
          time.advance(20);
        }
        assert.ok(sink.frames.filter((f) => f.length === 20 * MS).length >= 5, 'the page played in 20 ms frames');
        time.advance(100 + phase); // no packet any more; the pager has not ended it yet
        first.end(); // a new talker on the group: the pager ends the first page as the second one's first packet comes
        assertNextShortFrame(openAndStart(m, time, 'page'), `opened ${100 + phase} ms after the first page's last packet`);
        line.assertContinuous(`phase ${phase}`);
        m.stop();
      }
    });

    it('under music in 20 ms frames: an announced start waits at most 10 ms; an unannounced one up to one 20 ms frame', () => {
      for (let phase = 0; phase < 20; phase += 1) {
        const { time, m, sink } = onFakeClock();
        const line = timeline(m);
        m.openChannel({ channel: 'music', rate: RATE }).write(new Int16Array(RATE * 2));
        time.advance(200 + phase);
        assert.ok(sink.frames.slice(-5).every((f) => f.length === 20 * MS), 'music alone plays in 20 ms frames');
        // announced (a hub page on its way, PaService preparing a clip): short frames from the next frame on
        const release = m.holdShortFrames();
        time.advance(20);
        const announced = openAndStart(m, time, 'page');
        release();
        assertNextShortFrame(announced, `announced, opened ${phase} ms into the music`);
        time.advance(200 + phase);
        assert.ok(sink.frames.slice(-3).every((f) => f.length === 20 * MS), 'back to 20 ms frames once it played');
        // unannounced: the 20 ms frame already handed to the device goes first
        const sudden = openAndStart(m, time, 'page');
        assert.ok(sudden.at - sudden.openedAt <= 20 + 1e-6 && sudden.writtenAt - sudden.openedAt <= 20 + 1e-6, `unannounced: ${(sudden.at - sudden.openedAt).toFixed(2)} ms`);
        line.assertContinuous(`phase ${phase}`);
        m.stop();
      }
    });
  });
});
