// The faults supervision adds, each produced for real on a kiosk process and
// seen at a (protocol-level) hub: screen heartbeat lost, clock off, storage
// not writable, lamp read-back; and the Prometheus endpoint.
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';
import { FakeHub } from '../helpers/fake-hub.js';
import { rig } from './helpers.js';
import { startAnswerer } from './answerer.js';

const TOKEN = 'supervision-test-token-0123456789';

describe('supervision faults and metrics', function () {
  this.timeout(60_000);
  let hub: FakeHub | undefined;
  afterEach(async () => {
    await stopAll();
    await hub?.stop();
    hub = undefined;
  });

  it('a screen page that stops its heartbeat raises the screen fault at the hub; a new heartbeat clears it', async () => {
    hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    const r = await rig({ supervision: { enabled: false, screenHeartbeatS: 2 }, hub: { url: hub.url, token: TOKEN, heartbeatS: 5 } });
    await until(() => hub!.online('conc-north'), 15_000, 'online');
    const page = new WebSocket(r.kiosk.url.replace('http', 'ws') + 'screen/ws', { headers: { origin: r.kiosk.url.replace(/\/$/, '') } });
    await new Promise((res, rej) => (page.once('open', res), page.once('error', rej)));
    page.send(JSON.stringify({ type: 'heartbeat' }));
    const silentFrom = Date.now();
    // The page hangs (no more heartbeats; its socket stays open).
    const raised = await hub.waitEvent('fault.raised', (d) => d.code === 'screen', 10_000);
    assert.match(raised.data.detail, /no heartbeat from the screen page/);
    assert.ok(Date.now() - silentFrom < 10_000);
    page.send(JSON.stringify({ type: 'heartbeat' }));
    await hub.waitEvent('fault.cleared', (d) => d.code === 'screen', 10_000);
    page.close();
  });

  it('a screen page that never connects after start-up raises the screen fault at the hub; its first heartbeat clears it', async () => {
    hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    const r = await rig({ supervision: { enabled: false, screenStartS: 3 }, hub: { url: hub.url, token: TOKEN, heartbeatS: 5 } });
    await until(() => hub!.online('conc-north'), 15_000, 'online');
    const raised = await hub.waitEvent('fault.raised', (d) => d.code === 'screen', 15_000);
    assert.match(raised.data.detail, /no screen page has connected in the 3 s since start-up/);
    const page = new WebSocket(r.kiosk.url.replace('http', 'ws') + 'screen/ws', { headers: { origin: r.kiosk.url.replace(/\/$/, '') } });
    await new Promise((res, rej) => (page.once('open', res), page.once('error', rej)));
    page.send(JSON.stringify({ type: 'heartbeat' }));
    await hub.waitEvent('fault.cleared', (d) => d.code === 'screen', 10_000);
    page.close();
  });

  it('a kiosk without a screen (display off) raises no screen fault when no page connects', async () => {
    hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    await rig({ supervision: { enabled: false, screenStartS: 1 }, display: { enabled: false }, hub: { url: hub.url, token: TOKEN, heartbeatS: 5 } });
    await until(() => hub!.online('conc-north'), 15_000, 'online');
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(hub.events.filter((e) => e.type === 'fault.raised' && e.data.code === 'screen').length, 0);
  });

  it('a kiosk clock 5 s off the hub raises the clock fault at the hub, and the clock step fails', async () => {
    hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    hub.clockSkewMs = 5000;
    const r = await rig({ supervision: { enabled: false, target: 'sip:x@127.0.0.1:9', answerTimeoutMs: 1000 }, hub: { url: hub.url, token: TOKEN, heartbeatS: 5 } });
    const raised = await hub.waitEvent('fault.raised', (d) => d.code === 'clock', 15_000);
    // The kiosk's estimate of the hub clock is off by up to half the hello round trip (100 ms and more on a loaded machine).
    const said = /differs from the hub's by (\d+) ms/.exec(raised.data.detail);
    assert.ok(said && Math.abs(Number(said[1]) - 5000) <= 500, `detail names the 5 s skew: ${raised.data.detail}`);
    const t = (await r.runTest()).body;
    const clock = t.steps.find((s: any) => s.step === 'clock');
    assert.equal(clock.ok, false);
    assert.match(clock.detail, /limit 2000/);
  });

  it('a data folder the storage self-test cannot write: the storage step fails and the store fault reaches the hub', async () => {
    hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    const r = await rig({ supervision: { enabled: false, target: 'sip:x@127.0.0.1:9', answerTimeoutMs: 1000 }, hub: { url: hub.url, token: TOKEN, heartbeatS: 5 } });
    await until(() => hub!.online('conc-north'), 15_000, 'online');
    const probeDir = path.join(r.dir, 'data', 'supervision');
    rmSync(probeDir, { recursive: true, force: true });
    writeFileSync(probeDir, 'a file where the probe folder should be');
    const t = (await r.runTest()).body;
    const storage = t.steps.find((s: any) => s.step === 'storage');
    assert.equal(storage.ok, false);
    assert.match(storage.detail, /data folder not writable: .*(EEXIST|ENOTDIR)/);
    const raised = await hub.waitEvent('fault.raised', (d) => d.code === 'store' && /storage self-test/.test(d.detail), 10_000);
    assert.ok(raised);
  });

  it('a lamp stuck off and a welded door relay fail the read-back steps', async () => {
    const r = await rig({ supervision: { enabled: false, target: 'sip:x@127.0.0.1:9', answerTimeoutMs: 1000 } });
    assert.equal((await r.post('sim/stuck', { output: 'lampGreen', level: false })).status, 200);
    assert.equal((await r.post('sim/stuck', { output: 'doorRelay', level: true })).status, 200);
    const t = (await r.runTest()).body;
    const lamps = t.steps.find((s: any) => s.step === 'lamps');
    const relays = t.steps.find((s: any) => s.step === 'relays');
    assert.equal(lamps.ok, false);
    assert.match(lamps.detail, /lampGreen stays off/);
    assert.equal(relays.ok, false);
    assert.match(relays.detail, /door relay reads on/);
  });

  it('GET /metrics parses as Prometheus text and carries event-loop lag, RSS, call media, test results and faults by code', async () => {
    const answerer = await startAnswerer();
    try {
      const r = await rig({ supervision: { enabled: false, target: answerer.uri } });
      await r.post('sim/acoustic', { broken: true });
      const t = (await r.runTest()).body;
      assert.equal(t.failedStep, 'acoustic-loop');
      const res = await fetch(r.kiosk.url + 'metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const families = parsePrometheusTextFormat(await res.text()) as { name: string; type: string; metrics: { value?: string; labels?: Record<string, string> }[] }[];
      const fam = (n: string) => {
        const f = families.find((x) => x.name === n);
        assert.ok(f, `${n} in ${families.map((x) => x.name).join(' ')}`);
        return f;
      };
      const value = (n: string, labels: Record<string, string> = {}) =>
        Number(fam(n).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
      assert.ok(value('nodejs_eventloop_lag_seconds') >= 0);
      assert.ok(value('process_resident_memory_bytes') > 10e6);
      assert.ok(value('helppoint_kiosk_call_media_packets_total', { direction: 'sent' }) > 10, 'the test call sent RTP');
      assert.ok(value('helppoint_kiosk_call_media_packets_total', { direction: 'received' }) > 10);
      assert.ok(value('helppoint_kiosk_call_media_jitter_seconds') >= 0);
      assert.equal(value('helppoint_kiosk_supervision_tests_total', { result: 'failed' }), 1);
      assert.equal(value('helppoint_kiosk_supervision_last_test_passed'), 0);
      assert.equal(value('helppoint_kiosk_supervision_step_ok', { step: 'acoustic-loop' }), 0);
      assert.equal(value('helppoint_kiosk_supervision_step_ok', { step: 'audio-in' }), 1);
      assert.equal(value('helppoint_kiosk_faults_raised_total', { code: 'test-failed' }), 1);
      assert.equal(value('helppoint_kiosk_fault_active', { code: 'audio' }), 1);
    } finally {
      await answerer.stop();
    }
  });
});
