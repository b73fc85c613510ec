// Real kiosk processes with real ALSA: one plays into its own file-capture
// device (what ALSA was given, bit for bit); one has no usable device at all.
import { strict as assert } from 'node:assert';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { until } from '../helpers/tmp.js';
import { encodeWav, parseWav } from '../../src/audio/wav.js';
import { digest } from '../../src/audio/clips.js';
import { findAudioDir } from '../../src/audio/messages.js';
import { alsaCapture, clipServer, indexOfSamples, noAlsa, noise, type ClipServer } from './helpers.js';

type PaStatus = { sink: string; fault?: string; mixer: { awake: boolean; idleStops: number }; recent: { event: string; id: string; reason?: string; error?: string }[] };

async function paStatus(k: KioskProc): Promise<PaStatus> {
  return (await (await fetch(k.url + 'pa')).json()) as PaStatus;
}

describe('kiosk process: audio output', function () {
  this.timeout(40_000);

  describe('with an ALSA device (file capture)', () => {
    let kiosk: KioskProc;
    let hub: ClipServer;
    let capture: string;
    before(async () => {
      hub = await clipServer();
      const alsa = alsaCapture();
      capture = alsa.capture;
      const c = kioskConfigFile({
        audio: { output: { sink: 'alsa', device: 'default', rate: 16000 }, input: { source: 'silence' }, volume: 1 },
        hub: { url: `${hub.url.replace('http', 'ws')}/kiosk`, token: hub.token, heartbeatS: 5 },
      });
      kiosk = await startKioskProcess(c.file, { XDG_CONFIG_HOME: alsa.xdg });
      await until(async () => (await paStatus(kiosk)).sink === 'alsa', 10_000, 'ALSA sink in use');
    });
    after(async () => {
      await kiosk?.stop();
      await hub?.close();
    });

    it('plays a clip from a PA command bit-exact after the chime', async () => {
      // the idle kiosk's mixer is off the media clock (no 100 Hz wake-ups); the PA below starts it cold
      await until(async () => (await paStatus(kiosk)).mixer.awake === false || undefined, 5000, 'idle mixer off the clock');
      const clip = noise(8000, 11);
      const wav = encodeWav({ rate: 16000, samples: clip });
      const sha = digest(wav);
      hub.set(sha, wav);
      const r = await postJson(kiosk.url + 'pa/play', { id: 'k1', channel: 'announcement', clip: { sha256: sha, url: `/clips/${sha}` } });
      assert.equal(r.status, 202);
      const ended = await until(async () => (await paStatus(kiosk)).recent.find((e) => e.event === 'pa.ended' && e.id === 'k1'), 10_000, 'pa.ended');
      assert.equal(ended.reason, 'done', JSON.stringify(ended));
      const chime = parseWav(readFileSync(path.join(findAudioDir(), 'chimes/chime.wav'))).samples;
      const out = await until(() => {
        if (!existsSync(capture)) return undefined;
        const b = readFileSync(capture);
        const x = new Int16Array(b.buffer, b.byteOffset, b.length >> 1);
        return indexOfSamples(x, clip) >= 0 ? x : undefined;
      }, 5000, 'clip in the capture');
      const at = indexOfSamples(out, chime);
      assert.ok(at >= 0, 'chime captured');
      assert.equal(indexOfSamples(out, clip), at + chime.length, 'clip right after the chime, bit-exact');
      // and off the clock again once it has played out
      const idle = await until(async () => {
        const st = await paStatus(kiosk);
        return st.mixer.awake === false && st.mixer.idleStops >= 1 ? st : undefined;
      }, 5000, 'mixer idle again');
      assert.ok(idle.mixer.idleStops >= 1);
    });

    it('refuses an invalid PA command with a clear error and keeps running', async () => {
      const r = await postJson(kiosk.url + 'pa/play', { id: 'k2', channel: 'announcement', message: 'drill', clip: { sha256: 'x', url: '/' } });
      assert.equal(r.status, 400);
      assert.match((r.body as { error: string }).error, /invalid PA command/);
      const h = (await (await fetch(kiosk.url + 'health')).json()) as { faults: unknown[] };
      assert.deepEqual(h.faults, []);
    });
  });

  describe('with no usable audio device', () => {
    let kiosk: KioskProc;
    before(async () => {
      const c = kioskConfigFile({ audio: { output: { sink: 'alsa', device: 'default', rate: 16000 }, input: { source: 'silence' } } });
      // no ALSA config and no sound card: loading `speaker` here would abort a process
      kiosk = await startKioskProcess(c.file, { XDG_CONFIG_HOME: noAlsa().xdg });
    });
    after(() => kiosk?.stop());

    it('keeps running, reports an audio fault, its IO side answers and PA commands still run', async () => {
      const h = await until(
        async () => {
          const x = (await (await fetch(kiosk.url + 'health')).json()) as { faults: { code: string; detail: string }[] };
          return x.faults.find((f) => f.code === 'audio') ? x : undefined;
        },
        10_000,
        'audio fault',
      );
      assert.match(h.faults.find((f) => f.code === 'audio')!.detail, /ALSA device "default" unusable/);
      assert.equal((await paStatus(kiosk)).sink, 'null');
      const st = await fetch(kiosk.url + 'sim/state');
      assert.equal(st.status, 200, 'the sim/IO side answers');
      const p = await postJson(kiosk.url + 'pa/play', { id: 'n1', channel: 'announcement', message: 'drill', chime: false });
      assert.equal(p.status, 202);
      await until(async () => (await paStatus(kiosk)).recent.find((e) => e.event === 'pa.started' && e.id === 'n1'), 5000, 'PA still runs on the null sink');
      assert.equal(kiosk.proc.child.exitCode, null, 'the process is alive');
      assert.equal(kiosk.proc.child.signalCode, null);
    });
  });
});
