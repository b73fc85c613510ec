// The PA service on a real-time mixer, with clips served by a hub-like HTTP
// server: what reaches the output, and what happens with bad clips.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Bus } from '../../src/core/bus.js';
import { Mixer } from '../../src/audio/mixer.js';
import { PaService } from '../../src/audio/pa.js';
import { MessageLibrary, findAudioDir } from '../../src/audio/messages.js';
import { ClipCache, digest } from '../../src/audio/clips.js';
import { HubClock } from '../../src/audio/hub-clock.js';
import { encodeWav } from '../../src/audio/wav.js';
import type { AudioEvents } from '../../src/audio/events.js';
import { MemorySink, clipServer, indexOfSamples, noise, silentLog, tone, type ClipServer } from './helpers.js';
import { tmpDir, until } from '../helpers/tmp.js';

const RATE = 16000;

describe('public address: stored clips and bundled messages', function () {
  let server: ClipServer;
  let bus: Bus;
  let sink: MemorySink;
  let mixer: Mixer;
  let pa: PaService;
  let clips: ClipCache;
  let library: MessageLibrary;
  let ended: AudioEvents['pa.ended'][];
  let started: AudioEvents['pa.started'][];

  beforeEach(async () => {
    server = await clipServer();
    bus = new Bus();
    sink = new MemorySink();
    mixer = new Mixer({ rate: RATE, sink }).start();
    library = new MessageLibrary(findAudioDir(), RATE);
    clips = new ClipCache(path.join(tmpDir('hp-clips-'), 'clips'), { baseUrl: server.url, token: server.token });
    pa = new PaService({ mixer, bus, log: silentLog, library, clips, clock: new HubClock(bus), chime: true, languages: ['zh-CN', 'en'] });
    ended = [];
    started = [];
    bus.on('pa.ended', (e) => ended.push(e));
    bus.on('pa.started', (e) => started.push(e));
  });
  afterEach(async () => {
    pa.close();
    mixer.stop();
    await server.close();
  });

  function serveClip(samples: Int16Array): string {
    const wav = encodeWav({ rate: RATE, samples });
    const sha = digest(wav);
    server.set(sha, wav);
    return sha;
  }

  it('plays a clip fetched from the hub bit-exact right after the chime, and caches it by hash', async () => {
    const clip = noise(RATE / 2, 7);
    const sha = serveClip(clip);
    bus.emit('pa.play', { id: 'c1', channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` }, text: { en: 'Test' } });
    await until(() => ended.find((e) => e.id === 'c1'), 10_000, 'pa.ended');
    assert.deepEqual(ended, [{ id: 'c1', channel: 'announcement', reason: 'done' }]);
    assert.deepEqual(started, [{ id: 'c1', channel: 'announcement', text: { en: 'Test' } }]);
    const out = sink.all();
    const chime = await library.chime();
    const at = indexOfSamples(out, chime);
    assert.ok(at >= 0, 'the chime is in the output');
    assert.equal(indexOfSamples(out, clip), at + chime.length, 'the clip follows the chime, sample for sample');
    assert.equal(server.requests[0]!.auth, `Bearer ${server.token}`);
    assert.ok(existsSync(path.join(clips.dir, `${sha}.wav`)), 'cached under its hash');
    // played again: from the cache, the hub is not asked twice
    bus.emit('pa.play', { id: 'c2', channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` }, chime: false });
    await until(() => ended.find((e) => e.id === 'c2'), 10_000, 'second play');
    assert.equal(server.requests.length, 1);
  });

  it('a missing or corrupt clip ends with a clear error and the announcement already playing goes on', async () => {
    const long = tone(440, 1500, RATE, 0.5);
    const goodSha = serveClip(long);
    bus.emit('pa.play', { id: 'running', channel: 'announcement', clip: { sha256: goodSha, url: `/clips/${goodSha}` }, chime: false });
    await until(() => started.find((e) => e.id === 'running'), 5000, 'first announcement');

    const missing = 'a'.repeat(64);
    bus.emit('pa.play', { id: 'missing', channel: 'announcement', clip: { sha256: missing, url: `/clips/${missing}` } });
    const corruptWav = encodeWav({ rate: RATE, samples: noise(800) });
    const claimed = digest(Buffer.from('something else'));
    server.set(claimed, corruptWav); // served under a hash it does not have
    bus.emit('pa.play', { id: 'corrupt', channel: 'announcement', clip: { sha256: claimed, url: `/clips/${claimed}` } });
    const notWav = Buffer.from('this is not audio at all');
    server.set(digest(notWav), notWav);
    bus.emit('pa.play', { id: 'notwav', channel: 'announcement', clip: { sha256: digest(notWav), url: `/clips/${digest(notWav)}` } });
    bus.emit('pa.play', { id: 'bad', channel: 'nowhere' as never, message: 'drill' });

    const err = async (id: string) => (await until(() => ended.find((e) => e.id === id), 5000, id)) as AudioEvents['pa.ended'];
    assert.match((await err('missing')).error!, /HTTP 404/);
    assert.match((await err('corrupt')).error!, /hash mismatch/);
    assert.match((await err('notwav')).error!, /not a playable WAV: not a WAV file/);
    assert.match((await err('bad')).error!, /invalid PA command: \/channel/);
    for (const id of ['missing', 'corrupt', 'notwav', 'bad']) assert.equal(ended.find((e) => e.id === id)!.reason, 'error');
    assert.ok(!existsSync(path.join(clips.dir, `${claimed}.wav`)), 'a corrupt clip is not cached');
    assert.ok(!started.some((e) => e.id !== 'running'), 'nothing else started');

    // the running announcement is untouched: it ends normally, heard in full
    await until(() => ended.find((e) => e.id === 'running'), 5000, 'running ends');
    assert.equal(ended.find((e) => e.id === 'running')!.reason, 'done');
    assert.ok(indexOfSamples(sink.all(), long) >= 0, 'played without a gap or a change');
  });

  it('plays a bundled message with its text for the screen, and stops it on pa.stop', async () => {
    pa.close();
    pa = new PaService({ mixer, bus, log: silentLog, library, clips, clock: new HubClock(bus), chime: true, languages: ['en'] });
    bus.emit('pa.play', { id: 'm1', channel: 'announcement', message: 'drill' });
    await until(() => ended.find((e) => e.id === 'm1'), 10_000, 'message');
    assert.deepEqual(started, [{ id: 'm1', channel: 'announcement', text: library.texts['drill'] }]);
    const chime = await library.chime();
    const body = await library.message('drill', ['en']);
    const out = sink.all();
    assert.equal(indexOfSamples(out, body), indexOfSamples(out, chime) + chime.length, 'chime, then the message');

    bus.emit('pa.play', { id: 'm2', channel: 'emergency', message: 'evacuation' });
    await until(() => started.find((e) => e.id === 'm2'), 5000, 'evacuation starts');
    bus.emit('pa.stop', { id: 'm2' });
    const e = await until(() => ended.find((x) => x.id === 'm2'), 2000, 'stopped');
    assert.equal(e.reason, 'stopped');
    assert.equal(mixer.active().length, 0);
  });

  it('a drill says so first: chime, "这是演习。This is a drill.", then the message; the screen text too', async () => {
    const clip = noise(RATE / 4, 9);
    const sha = serveClip(clip);
    bus.emit('pa.play', { id: 'd1', channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` }, text: { en: 'Please leave by the west exit.', 'zh-CN': '请从西出口离开。' }, drill: true });
    await until(() => ended.find((e) => e.id === 'd1'), 15_000, 'pa.ended');
    assert.deepEqual(started, [{ id: 'd1', channel: 'announcement', text: { en: 'This is a drill. Please leave by the west exit.', 'zh-CN': '这是演习。请从西出口离开。' } }]);
    const out = sink.all();
    const chime = await library.chime();
    const prefix = await library.message('drill-prefix', ['zh-CN', 'en']);
    const c = indexOfSamples(out, chime);
    assert.ok(c >= 0, 'chime');
    assert.equal(indexOfSamples(out, prefix), c + chime.length, 'the drill prefix, in both languages, right after the chime');
    assert.equal(indexOfSamples(out, clip), c + chime.length + prefix.length, 'then the message');
  });

  it('repeats at the given interval, with one pa.started and one pa.ended', async () => {
    const clip = noise(1600, 3);
    const sha = serveClip(clip);
    bus.emit('pa.play', { id: 'r1', channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` }, chime: false, repeat: { times: 3, intervalS: 0.2 } });
    await until(() => ended.find((e) => e.id === 'r1'), 5000, 'repeats');
    const out = sink.all();
    const a = indexOfSamples(out, clip);
    const b = indexOfSamples(out, clip, a + 1);
    const c = indexOfSamples(out, clip, b + 1);
    assert.ok(a >= 0 && b > a && c > b, 'heard three times');
    const gapMs = ((b - a - clip.length) * 1000) / RATE;
    assert.ok(Math.abs(gapMs - 200) < 0.1, `interval ${gapMs} ms`);
    assert.equal(started.length, 1);
    assert.equal(ended.length, 1);
  });

  it('starts at an instant on the hub clock, to the sample', async () => {
    const clock = new HubClock(bus);
    bus.emit('hub.clock', { offsetMs: 12_345, rttMs: 2 });
    const clip = Int16Array.from({ length: 1600 }, () => 3000);
    const sha = serveClip(clip);
    await clips.get(sha, `/clips/${sha}`);
    let firstWrite = 0;
    const off = mixer.onFrame((f, t0) => {
      if (!firstWrite && f.some((v) => v !== 0)) firstWrite = t0 + (f.findIndex((v) => v !== 0) * 1000) / RATE;
    });
    const hubStart = Date.now() + 12_345 + 400;
    const localTarget = performance.now() + (hubStart - 12_345 - Date.now());
    bus.emit('pa.play', { id: 's1', channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` }, chime: false, startAt: hubStart });
    await until(() => ended.find((e) => e.id === 's1'), 5000, 'synced play');
    off();
    // the reference here reads Date.now() plainly (whole ms), hence 1 ms of slack
    assert.ok(Math.abs(firstWrite - localTarget) < 1.05, `first sample at ${(firstWrite - localTarget).toFixed(3)} ms from the target`);
    // two conversions of the same hub instant agree to the microsecond (what keeps a zone together)
    const a = clock.toPerf(hubStart);
    const b = clock.toPerf(hubStart);
    assert.ok(Math.abs(a - b) < 0.02, `conversions differ by ${Math.abs(a - b)} ms`);
  });
});
