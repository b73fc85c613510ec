// pa: public-address latency, synchronisation and mixer cost.
//  clip_start_p95_ms      pa.play received -> first clip sample handed to the device (cached clip, no chime)
//  rtp_page_start_p95_ms  first RTP packet of a page (multicast, loopback) -> its first sample handed to the device
//                         (pages one after another, nothing else playing: the mixer between them in its idle hang-over)
//  rtp_page_start_music_p95_ms  the same while background music plays throughout, each page 100-120 ms after the last
//                         one ended (the mixer on 20 ms frames: an unannounced page waits behind the 20 ms frame
//                         already handed to the device)
//  rtp_page_start_schedule_p95_ms / rtp_page_start_schedule_music_p95_ms  the same two cases on the mixer's schedule
//                         alone: a fake clock (no timer lateness, no load), 2,000 pages, first packet -> its first
//                         sample on the output timeline; what the wall figures are once the machine's delays are taken out
//  zone_skew_one_process_ms  50 mixers in one process started at random phases, same hub start time: spread of actual starts
//  zone_skew_max_ms       5 kiosk processes, each with its own hub link and hub-clock estimate: spread of actual starts
//  mixer_cpu_pct          three active channels (8 kHz live call, 16 kHz live page, announcement), % of one core,
//                         measured in a process of its own, fed from the media clock (see mixerCpu)
//  mixer_cpu_timer_feeder_pct  the same fed by a timer of its own (the probe's extra wake-ups counted)
//  mixer_cpu_short_frames_pct  mixer_cpu_pct's load with 10 ms frames throughout (callFrameMs 10): the price of
//                         never taking 20 ms frames under PA audio (what an unannounced page's <= 10 ms wait would cost)
// The device is the ALSA file-capture device bench.sh sets up, written as a kiosk writes it (after
// the probe: the addon's direct writes, else `speaker`); without one the null sink is used and the
// note says so.
import dgram from 'node:dgram';
import { pino } from 'pino';
import { Bus } from '../src/core/bus.js';
import { Mixer } from '../src/audio/mixer.js';
import { MediaClock } from '../src/audio/media-clock.js';
import { FakeTime, MemorySink } from '../test/audio/helpers.js';
import { PaService } from '../src/audio/pa.js';
import { MessageLibrary, findAudioDir } from '../src/audio/messages.js';
import { ClipCache, digest } from '../src/audio/clips.js';
import { HubClock } from '../src/audio/hub-clock.js';
import { RtpPager } from '../src/audio/rtp-page.js';
import { AlsaSink, DirectAlsaSink, NullSink, probeDirectAlsa, probeSpeaker, type Sink } from '../src/audio/sinks.js';
import { encodeWav } from '../src/audio/wav.js';
import { freePort } from '../src/testbed/ports.js';
import { start, type Managed } from '../src/testbed/proc.js';
import { FakeHub } from '../test/helpers/fake-hub.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { kioskUnitArgs } from './unit.js';
import { tmpDir } from '../test/helpers/tmp.js';
import { percentile, median } from './stats.js';
import type { Report } from './run.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';

const RATE = 16000;
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The output a kiosk would choose (audio/engine.ts): direct ALSA writes by the addon, else `speaker`, else the null sink. */
async function device(): Promise<{ kind: 'direct' | 'speaker' | 'null'; sink: () => Sink; note: string }> {
  if (!(await probeDirectAlsa('default', RATE))) return { kind: 'direct', sink: () => new DirectAlsaSink('default', RATE), note: 'ALSA default device, direct non-blocking writes (helppoint-dsp AlsaOutput)' };
  const why = await probeSpeaker('default', RATE);
  if (why) return { kind: 'null', sink: () => new NullSink(), note: `null sink (${why.slice(0, 60)})` };
  return { kind: 'speaker', sink: () => new AlsaSink('default', RATE, RATE / 100), note: 'ALSA default device via speaker' };
}

async function clipStart(sink: Sink): Promise<number[]> {
  const bus = new Bus();
  const mixer = new Mixer({ rate: RATE, sink }).start();
  const clips = new ClipCache(path.join(tmpDir('hp-bench-clips-'), 'clips'));
  // a cached clip: on disk under its hash, as after a first fetch
  const wav = encodeWav({ rate: RATE, samples: Int16Array.from({ length: RATE / 5 }, (_, i) => (i % 50) * 100 + 1) });
  const sha = digest(wav);
  mkdirSync(clips.dir, { recursive: true });
  writeFileSync(path.join(clips.dir, `${sha}.wav`), wav);
  const pa = new PaService({ mixer, bus, log, library: new MessageLibrary(findAudioDir(), RATE), clips, clock: new HubClock(bus), chime: false, languages: ['en'] });
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    const done = new Promise<number>((resolve) => {
      const off = bus.on('pa.started', () => {
        off();
        resolve(performance.now());
      });
    });
    const t0 = performance.now();
    bus.emit('pa.play', { id: `b${i}`, channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` } });
    times.push((await done) - t0);
    bus.emit('pa.stop', { id: `b${i}` });
    await sleep(20 + Math.random() * 30); // random phase against the frame clock
  }
  pa.close();
  mixer.stop();
  return times.slice(5); // the first plays warm up the JIT and load the clip into memory
}

async function rtpStart(sink: Sink, music = false): Promise<number[]> {
  const bus = new Bus();
  const mixer = new Mixer({ rate: RATE, sink }).start();
  // background music under the pages (ducked by them), for the whole run
  if (music) mixer.openChannel({ channel: 'music', rate: RATE, id: 'music', volume: 0.3 }).write(Int16Array.from({ length: RATE * 60 }, (_, i) => Math.round(Math.sin(i / 9) * 4000)));
  const port = await freePort();
  const group = `239.78.${1 + Math.floor(Math.random() * 200)}.1`;
  const pager = new RtpPager([{ group, port, priority: 100, interface: '127.0.0.1' }], mixer, bus, log, 100);
  await pager.start();
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
  tx.setMulticastInterface('127.0.0.1');
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    const ssrc = 1000 + i;
    const started = new Promise<number>((resolve) => {
      const off = bus.on('pa.started', () => {
        off();
        resolve(performance.now());
      });
    });
    const ended = new Promise<void>((resolve) => {
      const off = bus.on('pa.ended', () => {
        off();
        resolve();
      });
    });
    let t0 = 0;
    for (let k = 0; k < 8; k++) {
      const h = Buffer.alloc(12 + 160, 0x55); // PCMU, 20 ms
      h[0] = 0x80;
      h[1] = 0;
      h.writeUInt16BE(k, 2);
      h.writeUInt32BE(k * 160, 4);
      h.writeUInt32BE(ssrc, 8);
      if (k === 0) t0 = performance.now();
      tx.send(h, port, group);
      await sleep(20);
    }
    times.push((await started) - t0);
    await ended;
    // Under music, past the short frames around the last page's end first (the mixer back on steady 20 ms frames):
    // the next page comes at a random moment, not within 20 ms of the last one's end.
    await sleep((music ? 100 : 0) + Math.random() * 20);
  }
  tx.close();
  pager.stop();
  mixer.stop();
  return times.slice(3);
}

/**
 * rtpStart's pages on a fake clock: the wait a page's first packet has on the mixer's schedule alone (where its first
 * sample lands on the output timeline; on the fake clock a frame is handed over exactly when due). A page: 8 packets of
 * 20 ms, then silence until the pager ends it (100 ms, seen by its 100 ms sweep), the next page `gap` to `gap` + 20 ms
 * after the end; with music under them all the while or nothing else.
 */
function pageStartSchedule(music: boolean, gap: number, pages = 2000): number[] {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const time = new FakeTime(1000.37);
  const mixer = new Mixer({ rate: RATE, sink: new MemorySink(), clock: new MediaClock(time) }).start();
  if (music) mixer.openChannel({ channel: 'music', rate: RATE, volume: 0.3 }).write(new Int16Array(RATE * 1000));
  const packet = new Int16Array(RATE / 50).fill(100);
  const waits: number[] = [];
  for (let p = 0; p < pages; p++) {
    const s = mixer.openChannel({ channel: 'page', rate: RATE, live: true });
    const arrival = time.now();
    let at = NaN;
    let ended = false;
    s.onStart = (i) => (at = i.at);
    s.onEnd = () => (ended = true);
    for (let k = 0; k < 8; k++) {
      s.write(packet);
      time.advance(20);
    }
    time.advance(100 + rnd() * 100);
    s.end();
    while (!ended) time.advance(0.25);
    waits.push(at - arrival);
    time.advance(gap + rnd() * 20);
  }
  mixer.stop();
  return waits;
}

async function zoneSkew(): Promise<{ actual: number; timeline: number }> {
  // 50 kiosks' mixers, each started at its own moment (their frame clocks out of phase)
  const mixers: Mixer[] = [];
  for (let i = 0; i < 50; i++) {
    mixers.push(new Mixer({ rate: RATE, sink: new NullSink() }).start());
    await sleep(Math.random() * 10);
  }
  const clock = new HubClock();
  clock.update(-1234, 1); // all kiosks agree on the hub clock; estimating it is the hub link's job
  const hubStart = Date.now() - 1234 + 300;
  const starts: { at: number; actual: number }[] = [];
  await Promise.all(
    mixers.map(
      (m) =>
        new Promise<void>((resolve) => {
          const s = m.openChannel({ channel: 'emergency', rate: RATE, startAt: clock.toPerf(hubStart) });
          s.write(new Int16Array(1600).fill(1000));
          s.end();
          // actual start: the sample's place in its frame, shifted by how late that frame really went out
          s.onStart = (i) => {
            starts.push({ at: i.at, actual: i.at + (i.writtenAt - i.frameT0) });
            resolve();
          };
        }),
    ),
  );
  for (const m of mixers) m.stop();
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
  return { actual: spread(starts.map((s) => s.actual)), timeline: spread(starts.map((s) => s.at)) };
}

/**
 * Zone skew across kiosk processes: KIOSKS compiled kiosks started as the
 * systemd unit starts them, each linked to one hub (the protocol-level test
 * hub) over its own WebSocket, each estimating the hub's clock from its own
 * clock samples over that link (protocol 4: NTP-style, the sample with the
 * smallest round trip; src/hublink/clock-sync.ts). The hub sends each an announcement to start at
 * one instant on its clock (1.5 s ahead); each kiosk logs where the first
 * sample landed on the host's monotonic clock (shared by all processes on
 * the machine), its frame's lateness to the device included. The spread of
 * those instants is the skew: it includes each kiosk's hub-clock estimation
 * error (on one machine the true offset is 0, so every estimated offset is
 * error), the conversion to its own timeline and its mixer's timing.
 */
async function zoneSkewProcesses(): Promise<{ spreads: number[]; maxOffset: number }> {
  const KIOSKS = 5;
  const ROUNDS = 5;
  const tokens = Object.fromEntries(Array.from({ length: KIOSKS }, (_, i) => [`skew-bench-token-${i}`, `skew-${i}`]));
  const hub = await FakeHub.start(tokens);
  const kiosks: Managed[] = [];
  // each kiosk's "pa synchronised start" log lines
  const starts = () =>
    kiosks.map((p) =>
      p
        .output()
        .split('\n')
        .filter((l) => l.includes('pa synchronised start'))
        .map((l) => JSON.parse(l) as { id: string; startMonoMs: number; hubOffsetMs: number }),
    );
  try {
    for (const [token, id] of Object.entries(tokens)) {
      const { file } = kioskConfigFile({ id, hub: { url: hub.url, token, heartbeatS: 5 }, audio: { output: { sink: 'null' }, input: { source: 'silence' } } });
      const p = start(id, process.execPath, kioskUnitArgs(file), { cwd: REPO });
      kiosks.push(p);
    }
    await Promise.all(kiosks.map((p) => p.waitFor(/"msg":"ready"/, 30_000)));
    const deadline = Date.now() + 30_000;
    while (!Object.values(tokens).every((id) => hub.online(id))) {
      if (Date.now() > deadline) throw new Error('kiosks did not all connect to the hub');
      await sleep(100);
    }
    await sleep(2000); // bundled messages checked, start-up settled
    const spreads: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const playId = `skew-${r}`;
      const startAt = Date.now() + 1500;
      for (const id of Object.values(tokens)) hub.command(id, 'pa.play', { id: playId, channel: 'announcement', message: 'please-wait', chime: false, startAt });
      const until = Date.now() + 10_000;
      const got = () => starts().map((l) => l.find((s) => s.id === playId)).filter((s) => s !== undefined);
      while (got().length < KIOSKS && Date.now() < until) await sleep(50);
      const monos = got().map((s) => s.startMonoMs);
      if (monos.length < KIOSKS) throw new Error(`round ${r}: only ${monos.length} of ${KIOSKS} kiosks reported their start`);
      spreads.push(Math.max(...monos) - Math.min(...monos));
      for (const id of Object.values(tokens)) hub.command(id, 'pa.stop', { id: playId });
      await sleep(500);
    }
    const maxOffset = Math.max(...starts().flat().map((s) => Math.abs(s.hubOffsetMs)));
    return { spreads, maxOffset };
  } finally {
    await Promise.all(kiosks.map((p) => p.stop()));
    await hub.stop();
  }
}

// The mixer's CPU in a process of its own running the compiled kiosk modules (dist/): the mixer on the media clock,
// the sink, and a feeder writing a live call (8 kHz, resampled) and a live page every 20 ms; an announcement queued
// ahead. Its own process so that nothing else the bench did (other benchmarks' sockets, timers and garbage, the
// TypeScript loader) is counted. The feeder is either a task on the media clock (feeder "clock": as a call's
// playout feeds the mixer in a kiosk, in the mixer's own wake-up; the figure) or a timer of its own (feeder
// "timer": 50 more wake-ups a second that are the probe's, not the mixer's; the figure before 30 Nov).
const MIXER_CPU_SCRIPT = `
const [dist, kind, seconds, rate, feed, callFrameMs] = process.argv.slice(1);
const { Mixer } = await import(dist + '/src/audio/mixer.js');
const sinks = await import(dist + '/src/audio/sinks.js');
const RATE = Number(rate);
const sink = kind === 'direct' ? new sinks.DirectAlsaSink('default', RATE) : kind === 'speaker' ? new sinks.AlsaSink('default', RATE, RATE / 100) : new sinks.NullSink();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mixer = new Mixer({ rate: RATE, sink, callFrameMs: Number(callFrameMs) }).start();
const call = mixer.openChannel({ channel: 'call', rate: 8000, live: true });
const page = mixer.openChannel({ channel: 'page', rate: RATE, live: true });
const ann = mixer.openChannel({ channel: 'announcement', rate: RATE });
ann.write(Int16Array.from({ length: RATE * (Number(seconds) + 2) }, (_, i) => Math.round(Math.sin(i / 7) * 8000)));
const c20 = Int16Array.from({ length: 160 }, (_, i) => Math.round(Math.sin(i / 3) * 8000));
const p20 = Int16Array.from({ length: RATE / 50 }, (_, i) => Math.round(Math.sin(i / 5) * 8000));
const { mediaClock, ORDER } = await import(dist + '/src/audio/media-clock.js');
let feeder, removeFeed;
if (feed === 'clock') {
  // on the mixer's 20 ms grid, before the mixer in the same wake-up (ORDER.play, as a call's playout)
  const task = { order: ORDER.play, due: mediaClock.alignUp(performance.now(), 20), tick(now) { let due = task.due; while (due <= now) { call.write(c20); page.write(p20); due += 20; } return due; } };
  removeFeed = mediaClock.add(task);
} else feeder = setInterval(() => { call.write(c20); page.write(p20); }, 20);
await sleep(1000);
const c0 = process.cpuUsage();
const t0 = performance.now();
const f0 = mixer.framesMixed;
await sleep(Number(seconds) * 1000);
const c = process.cpuUsage(c0);
const wall = performance.now() - t0;
const frames = mixer.framesMixed - f0;
clearInterval(feeder);
removeFeed?.();
mixer.stop();
console.log(JSON.stringify({ pct: ((c.user + c.system) / 1000 / wall) * 100, frames, long: mixer.callFramesMixed, dropped: sink.dropped ?? 0 }));
process.exit(0);
`;

async function mixerCpu(kind: 'direct' | 'speaker' | 'null', feed: 'clock' | 'timer', seconds = 10, callFrameMs = 20): Promise<{ pct: number; frames: number; dropped: number }> {
  const p = start('mixer-cpu', process.execPath, ['--input-type=module', '-e', MIXER_CPU_SCRIPT, path.join(REPO, 'dist'), kind, String(seconds), String(RATE), feed, String(callFrameMs)]);
  const line = await p.waitFor(/"pct":/, (seconds + 30) * 1000);
  await p.stop();
  return JSON.parse(line) as { pct: number; frames: number; dropped: number };
}

export async function run(report: Report): Promise<void> {
  const dev = await device();
  const clip = await clipStart(dev.sink());
  report('clip_start_p95_ms', percentile(clip, 95), 'ms', `${dev.note}; median ${median(clip).toFixed(1)} ms over ${clip.length}`);
  const rtp = await rtpStart(dev.sink());
  report('rtp_page_start_p95_ms', percentile(rtp, 95), 'ms', `PCMU 8 kHz resampled to 16 kHz; pages one after another (0-20 ms apart after each end), nothing else playing; median ${median(rtp).toFixed(1)} ms over ${rtp.length}; load ${os.loadavg()[0]!.toFixed(1)}`);
  const rtpMusic = await rtpStart(dev.sink(), true);
  report('rtp_page_start_music_p95_ms', percentile(rtpMusic, 95), 'ms', `as rtp_page_start_p95_ms, with background music playing throughout and each page 100-120 ms after the last one ended (the mixer on steady 20 ms frames: an unannounced page waits for the 20 ms frame already handed to the device, 0-20 ms; a hub page, announced ahead, gets 10 ms frames until it arrives, not measured here); median ${median(rtpMusic).toFixed(1)} ms over ${rtpMusic.length}; load ${os.loadavg()[0]!.toFixed(1)}`);
  const sched = pageStartSchedule(false, 0);
  report('rtp_page_start_schedule_p95_ms', percentile(sched, 95), 'ms', `rtp_page_start_p95_ms's pages on a fake clock (the mixer's schedule alone, no timer lateness or load): first packet -> its first sample on the output timeline; median ${median(sched).toFixed(2)}, max ${Math.max(...sched).toFixed(2)} ms over ${sched.length}`);
  const schedMusic = pageStartSchedule(true, 100);
  report('rtp_page_start_schedule_music_p95_ms', percentile(schedMusic, 95), 'ms', `rtp_page_start_music_p95_ms's pages on a fake clock (music throughout, each page 100-120 ms after the last one ended); median ${median(schedMusic).toFixed(2)}, max ${Math.max(...schedMusic).toFixed(2)} ms over ${schedMusic.length}`);
  const skew = await zoneSkew();
  report('zone_skew_one_process_ms', skew.actual, 'ms', `50 mixers in one process, write lateness included; on the output timeline ${skew.timeline.toFixed(3)} ms; hub-clock estimation error excluded`);
  const multi = await zoneSkewProcesses();
  report(
    'zone_skew_max_ms',
    Math.max(...multi.spreads),
    'ms',
    `worst of ${multi.spreads.length} synchronised starts over 5 kiosk processes (compiled, started as the systemd unit), each with its own hub link and hub-clock estimate (NTP-style samples over the link, minimum round trip; largest estimated offset ${multi.maxOffset.toFixed(2)} ms, true offset 0: all on one host); start instants on the host's monotonic clock, device write lateness included; median ${median(multi.spreads).toFixed(2)} ms`,
  );
  // three runs of each feeder, alternated, median: one 10 s window is at the mercy of the other work on a shared machine
  const runs: Record<'clock' | 'timer' | 'short', { pct: number; frames: number; dropped: number }[]> = { clock: [], timer: [], short: [] };
  for (let i = 0; i < 3; i++) {
    for (const feed of ['clock', 'timer'] as const) runs[feed].push(await mixerCpu(dev.kind, feed));
    runs.short.push(await mixerCpu(dev.kind, 'clock', 10, 10));
  }
  const load = os.loadavg()[0]!.toFixed(1);
  const what = `${dev.note}, 16 kHz output, 20 ms frames (10 ms while a start is pending); a process of its own (compiled modules): mixer, media clock, sink, a live 8 kHz call (resampled), a live page and an announcement`;
  const pcts = (feed: 'clock' | 'timer' | 'short') => runs[feed].map((r) => r.pct);
  report(
    'mixer_cpu_pct',
    median(pcts('clock')),
    '%',
    `${what}, fed every 20 ms by a task on the media clock (as a call's playout feeds it); median of 3 runs of 10 s (${pcts('clock').map((x) => x.toFixed(2)).join('/')}), ${runs.clock[0]!.frames} frames per run, ${runs.clock.reduce((a, r) => a + r.dropped, 0)} dropped; load ${load}`,
  );
  report(
    'mixer_cpu_timer_feeder_pct',
    median(pcts('timer')),
    '%',
    `the same, fed by a 20 ms timer of the probe's own (50 more wake-ups a second; how mixer_cpu_pct was measured before 30 Nov); median of 3 runs of 10 s alternated with the above (${pcts('timer').map((x) => x.toFixed(2)).join('/')}); load ${load}`,
  );
  report(
    'mixer_cpu_short_frames_pct',
    median(pcts('short')),
    '%',
    `mixer_cpu_pct's load with 10 ms frames throughout (callFrameMs 10: what keeping every start's wait under 10 ms while PA audio plays would cost); median of 3 runs of 10 s alternated with the above (${pcts('short').map((x) => x.toFixed(2)).join('/')}), ${runs.short[0]!.frames} frames per run; ratio to mixer_cpu_pct in the same minutes ${(median(pcts('short')) / median(pcts('clock'))).toFixed(2)}; load ${load}`,
  );
}
